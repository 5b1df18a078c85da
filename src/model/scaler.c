/* scaler.c: running standardization, bit-equal to scikit-learn 1.2's
 * StandardScaler.partial_fit / transform fed one dense sample per call.
 *
 * Design: plain arrays of n_features doubles, no allocation after create.
 * Every expression below is the one numpy evaluates, in the same order and
 * association, so the state matches sklearn bit for bit (docs/MODEL.md
 * walks through the derivation). The sources, sklearn 1.2.1:
 *   utils/extmath.py   _incremental_mean_and_var      (lines 967-1090)
 *   preprocessing/_data.py  StandardScaler.partial_fit (826-972),
 *                           _is_constant_feature (74-87),
 *                           _handle_zeros_in_scale (90-120),
 *                           StandardScaler.transform (974-1014).
 * With a single sample X = [x] and n = n_samples_seen_ before the call:
 *   last_sum = mean * n;  new_sum = x;  T = x / 1;  temp = x - T = 0
 *   correction = 0, new_unnormalized_variance = 0 - 0**2 / 1 = 0
 *   mean' = (last_sum + x) / (n + 1)
 *   var'  = (var * n + 0 + n / 1 / (n + 1) * (last_sum / (n / 1) - x)**2) / (n + 1)
 *           (for n == 0 the unnormalized variance is replaced by 0)
 *   constant = var' <= (n+1) * eps * var' + ((n+1) * mean' * eps)**2
 *   scale' = constant ? 1.0 : sqrt(var')
 * Note last_sum / n is not always mean again: the round trip is kept.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "model/model.h"

#if defined(__FAST_MATH__) || (defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0)
#error "model/ needs strict IEEE binary64 arithmetic to match sklearn (no -ffast-math, no x87)"
#endif
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* gcc: off already under -std=c17 */
#endif

struct qw_scaler {
    size_t nf;
    uint64_t n_seen; /* n_samples_seen_ (the same for every feature: no NaN) */
    double mean[QW_MODEL_MAX_FEATURES];
    double var[QW_MODEL_MAX_FEATURES];
    double scale[QW_MODEL_MAX_FEATURES];
};

qw_err qw_scaler_create(qw_scaler **out, size_t n_features)
{
    *out = NULL;
    if (n_features < 1 || n_features > QW_MODEL_MAX_FEATURES)
        return QW_INVAL;
    qw_scaler *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->nf = n_features;
    for (size_t j = 0; j < n_features; j++)
        s->scale[j] = 1.0;
    *out = s;
    return QW_OK;
}

void qw_scaler_destroy(qw_scaler *s)
{
    qw_free(s);
}

/* _is_constant_feature + _handle_zeros_in_scale(np.sqrt(var_), constant_mask=...):
 * near-constant features (variance within the error bound of the two-pass
 * algorithm) get scale 1 instead of a tiny or zero divisor. */
static void update_scale(qw_scaler *s)
{
    const double eps = DBL_EPSILON; /* np.finfo(np.float64).eps */
    const double n = (double)s->n_seen;
    for (size_t j = 0; j < s->nf; j++) {
        double v = s->var[j];
        double m = n * s->mean[j] * eps;
        double upper = n * eps * v + m * m;
        s->scale[j] = v <= upper ? 1.0 : sqrt(v);
    }
}

static bool all_finite(const double *x, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (!isfinite(x[j]))
            return false;
    return true;
}

qw_err qw_scaler_partial_fit(qw_scaler *s, const double *x)
{
    return qw_scaler_partial_fit_from(s, s, x);
}

qw_err qw_scaler_partial_fit_from(qw_scaler *dst, const qw_scaler *src, const double *x)
{
    /* sklearn would accept NaN (ignored per feature) and inf; the model
     * never feeds either, and rejecting keeps n_samples_seen_ a scalar. */
    if (dst->nf != src->nf || !all_finite(x, src->nf))
        return QW_INVAL;
    const uint64_t n0 = src->n_seen;
    const double n = (double)n0;        /* last_sample_count (int64 -> float64) */
    const double n1 = (double)(n0 + 1); /* updated_sample_count */
    for (size_t j = 0; j < src->nf; j++) {
        double last_sum = src->mean[j] * n;
        double mean = (last_sum + x[j]) / n1;
        double unnorm;
        if (n0 == 0) {
            unnorm = 0.0; /* updated_unnormalized_variance[zeros] = new_... */
        } else {
            double last_over_new = n / 1.0;
            double d = last_sum / last_over_new - x[j];
            unnorm = src->var[j] * n + 0.0 + last_over_new / n1 * (d * d);
        }
        dst->mean[j] = mean; /* src->mean[j], var[j] read above: dst may be src */
        dst->var[j] = unnorm / n1;
    }
    dst->n_seen = n0 + 1;
    update_scale(dst);
    return QW_OK;
}

qw_err qw_scaler_transform(const qw_scaler *s, const double *x, double *out)
{
    if (s->n_seen == 0)
        return QW_INVAL;
    for (size_t j = 0; j < s->nf; j++) {
        double v = x[j] - s->mean[j]; /* X -= mean_ */
        out[j] = v / s->scale[j];     /* X /= scale_ */
    }
    return QW_OK;
}

uint64_t qw_scaler_n_seen(const qw_scaler *s)
{
    return s->n_seen;
}

const double *qw_scaler_mean(const qw_scaler *s)
{
    return s->mean;
}

const double *qw_scaler_var(const qw_scaler *s)
{
    return s->var;
}

const double *qw_scaler_scale(const qw_scaler *s)
{
    return s->scale;
}

qw_err qw_scaler_restore(qw_scaler *s, uint64_t n_seen, const double *mean, const double *var)
{
    for (size_t j = 0; j < s->nf; j++) {
        if (!isfinite(mean[j]) || !isfinite(var[j]) || !(var[j] >= 0.0))
            return QW_INVAL;
        if (n_seen == 0 && (mean[j] != 0.0 || var[j] != 0.0))
            return QW_INVAL;
    }
    s->n_seen = n_seen;
    memcpy(s->mean, mean, s->nf * sizeof *mean);
    memcpy(s->var, var, s->nf * sizeof *var);
    if (n_seen == 0) {
        for (size_t j = 0; j < s->nf; j++)
            s->scale[j] = 1.0;
    } else {
        update_scale(s);
    }
    return QW_OK;
}

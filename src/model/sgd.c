/* sgd.c: binary logistic-regression SGD, bit-equal to scikit-learn 1.2's
 * SGDClassifier(loss="log_loss", penalty="l2", learning_rate="optimal",
 * fit_intercept=True, average=False).partial_fit(X, [y], classes=[0, 1])
 * called with one dense sample per call.
 *
 * Design: the weights are a plain array (coef_[0]) plus the intercept and
 * t_; one call runs one iteration of sklearn's _plain_sgd epoch loop on a
 * stack copy and commits it only if everything stayed finite. Sources,
 * sklearn 1.2.1 (docs/MODEL.md has the full derivation):
 *   linear_model/_stochastic_gradient.py
 *     _partial_fit: t_ = 1.0 on the first call; _fit_binary: t_ += 1 per
 *     sample; _prepare_fit_binary: y -> +1 if y == classes_[1] else -1.
 *   linear_model/_sgd_fast.pyx  _plain_sgd
 *     typw = sqrt(1 / sqrt(alpha)); initial_eta0 = typw / max(1, dloss(-typw, 1))
 *     optimal_init = 1 / (initial_eta0 * alpha)
 *     per sample: p = w.x * wscale + b;  eta = 1 / (alpha * (optimal_init + t - 1))
 *       update = -eta * clip(dloss(p, y), +-1e12) * class_weight * sample_weight
 *       w.scale(max(0, 1 - (1 - l1_ratio) * eta * alpha))   (l1_ratio = 0 for L2)
 *       if update != 0: w.add(x, update); b += update * intercept_decay (1)
 *     end of call: w.reset_wscale()
 *   Log._dloss(p, y): z = p*y; z > 18: exp(-z) * -y; z < -18: -y;
 *                      else -y / (exp(z) + 1)
 *   utils/_weight_vector.pyx  WeightVector: wscale starts at 1.0 for every
 *     call; scale(c): wscale *= c, and if wscale < 1e-9 reset_wscale();
 *     add(x, c): w[i] += x[i] * (c / wscale); reset_wscale: w *= wscale,
 *     wscale = 1. dot(x): sum_i w[i] * x[i] in index order, times wscale.
 * Predictions: sklearn's decision_function is X @ coef_.T + intercept_ and
 * predict_proba[:, 1] is scipy's expit, 1 / (1 + exp(-z)). Our dot product
 * runs in index order; BLAS may associate differently, so probabilities
 * can differ from sklearn's in the last bit (~1e-16 relative).
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

#define MAX_DLOSS 1e12        /* _sgd_fast.pyx: MAX_DLOSS */
#define WSCALE_THRESHOLD 1e-9 /* _weight_vector.pyx: rescale below this */
#define LOG_CLIP 18.0         /* Log._dloss: asymptotes beyond |z| > 18 */

struct qw_sgd {
    size_t nf;
    double alpha;
    double optimal_init; /* t0 of the "optimal" schedule, from alpha */
    double t;            /* t_: 1.0 before the first sample */
    double intercept;
    double coef[QW_MODEL_MAX_FEATURES];
};

/* Log._dloss: derivative of log(1 + exp(-p*y)) with respect to p. */
static double log_dloss(double p, double y)
{
    double z = p * y;
    if (z > LOG_CLIP)
        return exp(-z) * -y;
    if (z < -LOG_CLIP)
        return -y;
    return -y / (exp(z) + 1.0);
}

/* The "optimal" schedule's t0 (Bottou's heuristic, as _plain_sgd does it). */
static double optimal_init_for(double alpha)
{
    double typw = sqrt(1.0 / sqrt(alpha));
    double d = log_dloss(-typw, 1.0);
    double initial_eta0 = typw / (d > 1.0 ? d : 1.0); /* Python max(1.0, d) */
    return 1.0 / (initial_eta0 * alpha);
}

qw_err qw_sgd_create(qw_sgd **out, size_t n_features, double alpha)
{
    *out = NULL;
    if (n_features < 1 || n_features > QW_MODEL_MAX_FEATURES)
        return QW_INVAL;
    if (!isfinite(alpha) || !(alpha > 0.0))
        return QW_INVAL;
    qw_sgd *m = qw_calloc(1, sizeof *m);
    if (!m)
        return QW_NOMEM;
    m->nf = n_features;
    m->alpha = alpha;
    m->optimal_init = optimal_init_for(alpha);
    m->t = 1.0;
    *out = m;
    return QW_OK;
}

void qw_sgd_destroy(qw_sgd *m)
{
    qw_free(m);
}

/* WeightVector.dot without the wscale factor. */
static double dot(const double *w, const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += w[i] * x[i];
    return s;
}

/* w *= c (BLAS dscal in reset_wscale). */
static void scal(double *w, size_t n, double c)
{
    for (size_t i = 0; i < n; i++)
        w[i] = c * w[i];
}

qw_err qw_sgd_partial_fit(qw_sgd *m, const double *x, int y01)
{
    if (y01 != 0 && y01 != 1)
        return QW_INVAL;
    for (size_t i = 0; i < m->nf; i++)
        if (!isfinite(x[i]))
            return QW_INVAL;
    const size_t n = m->nf;
    const double alpha = m->alpha;
    const double y = y01 == 1 ? 1.0 : -1.0;
    const double l1_ratio = 0.0; /* penalty == L2 */
    double w[QW_MODEL_MAX_FEATURES];
    memcpy(w, m->coef, n * sizeof *w);
    double wscale = 1.0; /* a fresh WeightVector per partial_fit call */
    double b = m->intercept;
    double t = m->t;

    double p = dot(w, x, n) * wscale + b;
    double eta = 1.0 / (alpha * (m->optimal_init + t - 1.0));
    double dloss = log_dloss(p, y);
    if (dloss < -MAX_DLOSS)
        dloss = -MAX_DLOSS;
    else if (dloss > MAX_DLOSS)
        dloss = MAX_DLOSS;
    double update = -eta * dloss;
    update *= 1.0 * 1.0; /* class_weight * sample_weight (both 1) */

    /* L2 shrink first, as a scale of the whole vector; never negative. */
    double c = 1.0 - ((1.0 - l1_ratio) * eta * alpha);
    wscale *= c > 0.0 ? c : 0.0;
    if (wscale < WSCALE_THRESHOLD) {
        scal(w, n, wscale);
        wscale = 1.0;
    }
    if (update != 0.0) {
        double step = update / wscale;
        for (size_t i = 0; i < n; i++)
            w[i] += x[i] * step;
        b += update * 1.0; /* intercept_decay is 1 for dense input */
    }
    scal(w, n, wscale); /* reset_wscale() at the end of _plain_sgd */

    /* _plain_sgd raises on a non-finite intercept or weight. */
    if (!isfinite(b))
        return QW_BAD_NUMBER;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return QW_BAD_NUMBER;
    memcpy(m->coef, w, n * sizeof *w);
    m->intercept = b;
    m->t = t + 1.0; /* _fit_binary: t_ += n_iter_ * n_samples */
    return QW_OK;
}

double qw_sgd_decision(const qw_sgd *m, const double *x)
{
    return dot(m->coef, x, m->nf) + m->intercept;
}

double qw_sgd_predict_proba(const qw_sgd *m, const double *x)
{
    double z = qw_sgd_decision(m, x);
    return 1.0 / (1.0 + exp(-z)); /* scipy.special.expit */
}

size_t qw_sgd_n_features(const qw_sgd *m)
{
    return m->nf;
}

double qw_sgd_alpha(const qw_sgd *m)
{
    return m->alpha;
}

const double *qw_sgd_coef(const qw_sgd *m)
{
    return m->coef;
}

double qw_sgd_intercept(const qw_sgd *m)
{
    return m->intercept;
}

double qw_sgd_t(const qw_sgd *m)
{
    return m->t;
}

qw_err qw_sgd_restore(qw_sgd *m, const double *coef, double intercept, double t)
{
    if (!isfinite(intercept) || !isfinite(t) || !(t >= 1.0) || t != floor(t) || t > 0x1p53)
        return QW_INVAL;
    for (size_t i = 0; i < m->nf; i++)
        if (!isfinite(coef[i]))
            return QW_INVAL;
    memcpy(m->coef, coef, m->nf * sizeof *coef);
    m->intercept = intercept;
    m->t = t;
    return QW_OK;
}

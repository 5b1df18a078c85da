/* classifier.c: the per-product online classifier -- a running scaler, the
 * SGD model, label counters, readiness and rolling outcome statistics.
 *
 * Design: learn() is the original pipeline's
 *     scaler.partial_fit(x); clf.partial_fit(scaler.transform(x), [y], classes=[0, 1])
 * made all-or-nothing: the scaler update is staged in a spare scaler that
 * is swapped in only after the SGD step succeeded, so a rejected sample
 * (non-finite input, numeric overflow) leaves no trace. Both scalers are
 * allocated at create; learn() and predict() never allocate.
 *
 * Readiness: predictions are made only after at least min_per_class
 * labeled samples of EACH class (default 100), which keeps early, noisy
 * models off the dashboard and out of the accuracy figures.
 *
 * Invariants (checked by restore, relied on by checkpoints):
 *   scaler.n_seen == labeled == n_class[0] + n_class[1] == sgd.t - 1
 *   rolling.labels == labeled, rolling.positives == n_class[1]
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "model/model.h"

struct qw_classifier {
    size_t nf;
    uint32_t min_per_class;
    qw_scaler *scaler;
    qw_scaler *stage; /* spare for the staged scaler update */
    qw_sgd *sgd;
    qw_rolling *rolling;
    uint64_t n_class[2];
};

qw_err qw_classifier_create(qw_classifier **out, const qw_classifier_opts *opts)
{
    qw_classifier_opts o = opts ? *opts : (qw_classifier_opts){0};
    *out = NULL;
    if (o.n_features == 0)
        o.n_features = QW_MODEL_DEFAULT_FEATURES;
    if (o.alpha == 0.0)
        o.alpha = QW_SGD_DEFAULT_ALPHA;
    if (o.window == 0)
        o.window = QW_ROLLING_DEFAULT_WINDOW;
    if (o.min_per_class == 0)
        o.min_per_class = QW_MODEL_DEFAULT_MIN_PER_CLASS;
    if (o.n_features > QW_MODEL_MAX_FEATURES || o.window > QW_ROLLING_MAX_WINDOW ||
        !isfinite(o.alpha) || !(o.alpha > 0.0))
        return QW_INVAL;

    qw_classifier *c = qw_calloc(1, sizeof *c);
    if (!c)
        return QW_NOMEM;
    c->nf = o.n_features;
    c->min_per_class = o.min_per_class;
    qw_err e;
    if ((e = qw_scaler_create(&c->scaler, c->nf)) != QW_OK ||
        (e = qw_scaler_create(&c->stage, c->nf)) != QW_OK ||
        (e = qw_sgd_create(&c->sgd, c->nf, o.alpha)) != QW_OK ||
        (e = qw_rolling_create(&c->rolling, o.window)) != QW_OK)
        goto fail;
    *out = c;
    return QW_OK;
fail:
    qw_classifier_destroy(c);
    return e;
}

void qw_classifier_destroy(qw_classifier *c)
{
    if (!c)
        return;
    qw_scaler_destroy(c->scaler);
    qw_scaler_destroy(c->stage);
    qw_sgd_destroy(c->sgd);
    qw_rolling_destroy(c->rolling);
    qw_free(c);
}

static uint64_t labeled(const qw_classifier *c)
{
    return c->n_class[0] + c->n_class[1];
}

bool qw_classifier_ready(const qw_classifier *c)
{
    return labeled(c) > 0 && c->n_class[0] >= c->min_per_class && c->n_class[1] >= c->min_per_class;
}

qw_err qw_classifier_predict(const qw_classifier *c, const double *x, double *p_out)
{
    double xs[QW_MODEL_MAX_FEATURES];
    *p_out = NAN;
    for (size_t j = 0; j < c->nf; j++)
        if (!isfinite(x[j]))
            return QW_INVAL;
    if (!qw_classifier_ready(c))
        return QW_OK;
    qw_err e = qw_scaler_transform(c->scaler, x, xs);
    if (e != QW_OK)
        return e;
    *p_out = qw_sgd_predict_proba(c->sgd, xs);
    return QW_OK;
}

qw_err qw_classifier_learn(qw_classifier *c, const double *x, int y, double p_made)
{
    double xs[QW_MODEL_MAX_FEATURES];
    if (y != 0 && y != 1)
        return QW_INVAL;
    if (!isnan(p_made) && !(p_made >= 0.0 && p_made <= 1.0))
        return QW_INVAL;
    /* the staged update is computed from the scaler straight into the
     * spare (no copy of the state first: restore's checks and sqrts were
     * ~2 % of a backtest) */
    qw_err e = qw_scaler_partial_fit_from(c->stage, c->scaler, x);
    if (e != QW_OK)
        return e;
    /* |x| beyond ~1e154 overflows the variance; sklearn would carry an
     * infinite var_ on, we refuse the sample instead. */
    const double *mean = qw_scaler_mean(c->stage), *var = qw_scaler_var(c->stage);
    for (size_t j = 0; j < c->nf; j++)
        if (!isfinite(mean[j]) || !isfinite(var[j]))
            return QW_BAD_NUMBER;
    if ((e = qw_scaler_transform(c->stage, x, xs)) != QW_OK)
        return e;
    /* (x - mean) can overflow for |x| near DBL_MAX: sgd rejects non-finite */
    if ((e = qw_sgd_partial_fit(c->sgd, xs, y)) != QW_OK)
        return e == QW_INVAL ? QW_BAD_NUMBER : e;
    qw_scaler *t = c->scaler;
    c->scaler = c->stage;
    c->stage = t;
    c->n_class[y]++;
    e = qw_rolling_add(c->rolling, y, p_made); /* arguments checked above */
    return e;
}

uint64_t qw_classifier_labeled(const qw_classifier *c)
{
    return labeled(c);
}

size_t qw_classifier_n_features(const qw_classifier *c)
{
    return c->nf;
}

void qw_classifier_stats_get(const qw_classifier *c, qw_classifier_stats *out)
{
    memset(out, 0, sizeof *out);
    out->labeled = labeled(c);
    out->positives = c->n_class[1];
    out->n_class[0] = c->n_class[0];
    out->n_class[1] = c->n_class[1];
    out->scored = qw_rolling_scored(c->rolling);
    out->ready = qw_classifier_ready(c);
    out->rolling_accuracy = qw_rolling_accuracy(c->rolling);
    out->base_rate_window = qw_rolling_base_rate(c->rolling);
    out->base_rate_all = qw_rolling_base_rate_all(c->rolling);
    out->window_fill = qw_rolling_fill(c->rolling);
    out->window = qw_rolling_window(c->rolling);
    out->min_per_class = c->min_per_class;
}

const qw_scaler *qw_classifier_scaler(const qw_classifier *c)
{
    return c->scaler;
}

const qw_sgd *qw_classifier_sgd(const qw_classifier *c)
{
    return c->sgd;
}

void qw_classifier_state_get(const qw_classifier *c, qw_classifier_state *out)
{
    memset(out, 0, sizeof *out);
    out->n_features = (uint32_t)c->nf;
    out->window = (uint32_t)qw_rolling_window(c->rolling);
    out->alpha = qw_sgd_alpha(c->sgd);
    out->n_class[0] = c->n_class[0];
    out->n_class[1] = c->n_class[1];
    out->scored = qw_rolling_scored(c->rolling);
    out->scaler_n_seen = qw_scaler_n_seen(c->scaler);
    memcpy(out->mean, qw_scaler_mean(c->scaler), c->nf * sizeof(double));
    memcpy(out->var, qw_scaler_var(c->scaler), c->nf * sizeof(double));
    memcpy(out->scale, qw_scaler_scale(c->scaler), c->nf * sizeof(double));
    memcpy(out->coef, qw_sgd_coef(c->sgd), c->nf * sizeof(double));
    out->intercept = qw_sgd_intercept(c->sgd);
    out->t = qw_sgd_t(c->sgd);
    out->ring_fill = (uint32_t)qw_rolling_entries(c->rolling, out->ring);
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        if (errbuf && errlen)                                                                      \
            snprintf(errbuf, errlen, __VA_ARGS__);                                                 \
        return QW_INVAL;                                                                           \
    } while (0)

/* Everything restore needs, checked before anything is changed. */
static qw_err check_state(const qw_classifier *c, const qw_classifier_state *st, char *errbuf,
                          size_t errlen)
{
    uint64_t n = st->n_class[0] + st->n_class[1];
    if (st->n_features != c->nf)
        FAIL("state has %u features, the model %zu", (unsigned)st->n_features, c->nf);
    if (st->window != qw_rolling_window(c->rolling))
        FAIL("state has a rolling window of %u, the model %zu", (unsigned)st->window,
             qw_rolling_window(c->rolling));
    /* bit-equal: alpha fixes the learning-rate schedule the state was built on */
    if (memcmp(&st->alpha, &(double){qw_sgd_alpha(c->sgd)}, sizeof(double)) != 0)
        FAIL("state has alpha %.17g, the model %.17g", st->alpha, qw_sgd_alpha(c->sgd));
    if (n < st->n_class[0] || n > ((uint64_t)1 << 53))
        FAIL("label counts out of range");
    if (st->scaler_n_seen != n)
        FAIL("scaler saw %llu samples but %llu were labeled", (unsigned long long)st->scaler_n_seen,
             (unsigned long long)n);
    if (st->t != (double)n + 1.0)
        FAIL("sgd t_ %.17g does not follow %llu labeled samples", st->t, (unsigned long long)n);
    if (n == 0 && st->intercept != 0.0)
        FAIL("unfitted model with a non-zero intercept");
    for (size_t j = 0; j < c->nf; j++) {
        if (!isfinite(st->mean[j]) || !isfinite(st->var[j]) || !(st->var[j] >= 0.0))
            FAIL("scaler feature %zu: bad mean/variance", j);
        if (!isfinite(st->coef[j]) ||
            (n == 0 && (st->coef[j] != 0.0 || st->mean[j] != 0.0 || st->var[j] != 0.0)))
            FAIL("feature %zu: bad coefficient or unfitted state", j);
    }
    if (!isfinite(st->intercept))
        FAIL("non-finite intercept");
    if (st->ring_fill > st->window || st->ring_fill > st->scored || st->scored > n)
        FAIL("rolling window counts out of range");
    uint64_t pos = 0;
    for (uint32_t i = 0; i < st->ring_fill; i++) {
        if (st->ring[i] > 3)
            FAIL("rolling window entry %u is %u", (unsigned)i, (unsigned)st->ring[i]);
        pos += (st->ring[i] & 2u) != 0;
    }
    if (pos > st->n_class[1] || st->ring_fill - pos > st->n_class[0])
        FAIL("rolling window labels exceed the label counts");
    return QW_OK;
}

qw_err qw_classifier_restore(qw_classifier *c, const qw_classifier_state *st, char *errbuf,
                             size_t errlen)
{
    qw_err e = check_state(c, st, errbuf, errlen);
    if (e != QW_OK)
        return e;
    /* check_state covered every condition of the three restores below, so
     * none of them can fail half-way. */
    uint64_t n = st->n_class[0] + st->n_class[1];
    if (qw_scaler_restore(c->scaler, st->scaler_n_seen, st->mean, st->var) != QW_OK ||
        qw_sgd_restore(c->sgd, st->coef, st->intercept, st->t) != QW_OK ||
        qw_rolling_restore(c->rolling, st->ring, st->ring_fill, st->scored, n, st->n_class[1]) !=
            QW_OK)
        FAIL("internal: restore rejected a checked state"); /* not reached */
    c->n_class[0] = st->n_class[0];
    c->n_class[1] = st->n_class[1];
    return QW_OK;
}

/* model.h: the online model of one product -- a running StandardScaler, a
 * logistic-loss SGD classifier, rolling accuracy, readiness and versioned
 * checkpoints. Pure computation plus checkpoint file I/O; no JSON, no books.
 *
 * Numerically this is scikit-learn 1.2 fed one labeled sample at a time:
 *     scaler.partial_fit(x)
 *     clf.partial_fit(scaler.transform(x), [y], classes=[0, 1])
 *     p = clf.predict_proba(scaler.transform(x))[0][1]
 * with StandardScaler() and SGDClassifier(loss="log_loss") at default
 * hyper-parameters (alpha = 1e-4, L2, learning_rate "optimal", intercept,
 * no averaging). The update order is the one of sklearn's Cython code, so
 * states match it bit for bit on IEEE binary64 without FMA contraction; the
 * derivation and its sklearn source references are in docs/MODEL.md.
 *
 * Threading: every object is owned by one thread (the loop thread for live
 * models); nothing here is thread-safe. Arguments are borrowed. Feature
 * vectors are `n_features` doubles. Only create and qw_checkpoint_save
 * allocate (learn and predict never do), and every function that can fail
 * leaves its object unchanged when it does.
 */
#ifndef QW_MODEL_MODEL_H
#define QW_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_MODEL_MAX_FEATURES 16
#define QW_MODEL_DEFAULT_FEATURES 4
#define QW_SGD_DEFAULT_ALPHA 1e-4
#define QW_ROLLING_DEFAULT_WINDOW 100
#define QW_ROLLING_MAX_WINDOW 1024
#define QW_MODEL_DEFAULT_MIN_PER_CLASS 100

/* ---- running standardization: sklearn StandardScaler.partial_fit ---- */
typedef struct qw_scaler qw_scaler;

/* n_features in 1..QW_MODEL_MAX_FEATURES, else QW_INVAL. */
qw_err qw_scaler_create(qw_scaler **out, size_t n_features);
void qw_scaler_destroy(qw_scaler *s); /* NULL is a no-op */
/* Update mean_/var_ with one sample. QW_INVAL if x has a non-finite value. */
qw_err qw_scaler_partial_fit(qw_scaler *s, const double *x);
/* dst = src after partial_fit(x), src unchanged (dst may be src): the
 * same arithmetic, without copying src first. Same n_features, else
 * QW_INVAL; on error dst is unchanged. */
qw_err qw_scaler_partial_fit_from(qw_scaler *dst, const qw_scaler *src, const double *x);
/* out = (x - mean_) / scale_. out may alias x. QW_INVAL before the first
 * partial_fit (sklearn: NotFittedError). */
qw_err qw_scaler_transform(const qw_scaler *s, const double *x, double *out);
uint64_t qw_scaler_n_seen(const qw_scaler *s); /* n_samples_seen_ */
/* n_features values each, valid until destroy; updated in place by
 * partial_fit/restore. scale_ is 1.0 for (near-)constant features. */
const double *qw_scaler_mean(const qw_scaler *s);
const double *qw_scaler_var(const qw_scaler *s);
const double *qw_scaler_scale(const qw_scaler *s);
/* Replace the state (checkpoint load); scale_ is recomputed. QW_INVAL
 * (state unchanged) unless mean/var are finite, var >= 0 and, when
 * n_seen == 0, both all zero. */
qw_err qw_scaler_restore(qw_scaler *s, uint64_t n_seen, const double *mean, const double *var);

/* ---- SGDClassifier(loss="log_loss"), binary, classes {0, 1} ---- */
typedef struct qw_sgd qw_sgd;

/* alpha: L2 strength, finite and > 0 (QW_SGD_DEFAULT_ALPHA matches sklearn). */
qw_err qw_sgd_create(qw_sgd **out, size_t n_features, double alpha);
void qw_sgd_destroy(qw_sgd *m); /* NULL is a no-op */
/* One partial_fit call on one (already scaled) sample, y in {0, 1}.
 * QW_INVAL: bad y or non-finite x. QW_BAD_NUMBER: the update over- or
 * underflowed (sklearn raises ValueError); the model is unchanged. */
qw_err qw_sgd_partial_fit(qw_sgd *m, const double *x, int y);
/* w.x + b and P(y = 1 | x) = 1 / (1 + exp(-(w.x + b))). An unfitted model
 * has w = 0, b = 0 and answers 0.5 (sklearn raises NotFittedError). */
double qw_sgd_decision(const qw_sgd *m, const double *x);
double qw_sgd_predict_proba(const qw_sgd *m, const double *x);
size_t qw_sgd_n_features(const qw_sgd *m);
double qw_sgd_alpha(const qw_sgd *m);
const double *qw_sgd_coef(const qw_sgd *m); /* coef_[0]; valid until destroy */
double qw_sgd_intercept(const qw_sgd *m);   /* intercept_[0] */
double qw_sgd_t(const qw_sgd *m);           /* t_: 1 + samples learned */
/* Replace the state (checkpoint load). QW_INVAL (unchanged) unless coef
 * and intercept are finite and t is an integer >= 1. */
qw_err qw_sgd_restore(qw_sgd *m, const double *coef, double intercept, double t);

/* ---- rolling outcome statistics ----
 * The window holds the last `window` labeled samples that carried a
 * prediction; each entry keeps the predicted class (p >= 0.5) and the
 * label. All-time label counts include samples without a prediction. */
typedef struct qw_rolling qw_rolling;

/* window in 1..QW_ROLLING_MAX_WINDOW (0 = QW_ROLLING_DEFAULT_WINDOW). */
qw_err qw_rolling_create(qw_rolling **out, size_t window);
void qw_rolling_destroy(qw_rolling *r); /* NULL is a no-op */
/* One labeled sample: y in {0, 1}; p = the probability predicted for it,
 * or NaN when no prediction was made. QW_INVAL for a bad y or p outside
 * [0, 1]. */
qw_err qw_rolling_add(qw_rolling *r, int y, double p);
size_t qw_rolling_window(const qw_rolling *r);
size_t qw_rolling_fill(const qw_rolling *r);     /* entries in the window */
uint64_t qw_rolling_scored(const qw_rolling *r); /* all-time samples with a prediction */
uint64_t qw_rolling_labels(const qw_rolling *r); /* all-time labeled samples */
uint64_t qw_rolling_positives(const qw_rolling *r);
/* Fractions in [0, 1]; NaN when undefined (empty window / no labels). */
double qw_rolling_accuracy(const qw_rolling *r);      /* over the window */
double qw_rolling_base_rate(const qw_rolling *r);     /* positives, window */
double qw_rolling_base_rate_all(const qw_rolling *r); /* positives, all labels */
/* Window entries oldest first, bit 0 = predicted class, bit 1 = label.
 * out holds qw_rolling_window(r) bytes; returns the fill. */
size_t qw_rolling_entries(const qw_rolling *r, uint8_t *out);
/* Replace the state. QW_INVAL (unchanged) unless fill <= window, every
 * entry <= 3, fill <= scored <= labels, positives <= labels and the
 * window's positive labels fit in both. */
qw_err qw_rolling_restore(qw_rolling *r, const uint8_t *entries, size_t fill, uint64_t scored,
                          uint64_t labels, uint64_t positives);

/* ---- per-product online classifier: scaler + sgd + counters ---- */
typedef struct qw_classifier qw_classifier;

typedef struct qw_classifier_opts {
    size_t n_features;      /* 1..QW_MODEL_MAX_FEATURES; 0 = QW_MODEL_DEFAULT_FEATURES */
    double alpha;           /* 0 = QW_SGD_DEFAULT_ALPHA */
    size_t window;          /* rolling window; 0 = QW_ROLLING_DEFAULT_WINDOW */
    uint32_t min_per_class; /* readiness; 0 = QW_MODEL_DEFAULT_MIN_PER_CLASS */
} qw_classifier_opts;

/* Everything a checkpoint holds (plain data, no pointers). scale is filled
 * by state_get and ignored by restore, which recomputes it. labeled =
 * n_class[0] + n_class[1], positives = n_class[1]. */
typedef struct qw_classifier_state {
    uint32_t n_features, window;
    double alpha;
    uint64_t n_class[2]; /* labeled samples per class */
    uint64_t scored;     /* labeled samples that carried a prediction */
    uint64_t scaler_n_seen;
    double mean[QW_MODEL_MAX_FEATURES], var[QW_MODEL_MAX_FEATURES];
    double scale[QW_MODEL_MAX_FEATURES];
    double coef[QW_MODEL_MAX_FEATURES], intercept, t;
    uint32_t ring_fill;
    uint8_t ring[QW_ROLLING_MAX_WINDOW]; /* oldest first, see qw_rolling_entries */
} qw_classifier_state;

typedef struct qw_classifier_stats {
    uint64_t labeled, positives, n_class[2], scored;
    bool ready;
    double rolling_accuracy; /* NaN until a labeled prediction exists */
    double base_rate_window; /* NaN until a labeled prediction exists */
    double base_rate_all;    /* NaN until a label exists */
    size_t window_fill;
    size_t window;          /* rolling window size */
    uint32_t min_per_class; /* readiness threshold (qw_classifier_ready) */
} qw_classifier_stats;

/* opts NULL = all defaults; QW_INVAL for out-of-range options. */
qw_err qw_classifier_create(qw_classifier **out, const qw_classifier_opts *opts);
void qw_classifier_destroy(qw_classifier *c); /* NULL is a no-op */
/* Ready once it has learned at least min_per_class samples of EACH class
 * (and at least one sample). */
bool qw_classifier_ready(const qw_classifier *c);
/* QW_OK: *p_out = P(y = 1 | x) when ready, NaN when not (no prediction).
 * QW_INVAL: x has a non-finite value (*p_out = NaN). */
qw_err qw_classifier_predict(const qw_classifier *c, const double *x, double *p_out);
/* Learn one labeled sample (scaler then SGD, as sklearn above) and score
 * the prediction that had been made for it: p_made is that probability or
 * NaN if none was made (it feeds the rolling statistics only).
 * QW_INVAL: bad y / x / p_made. QW_BAD_NUMBER: numeric overflow. On any
 * error nothing changes. */
qw_err qw_classifier_learn(qw_classifier *c, const double *x, int y, double p_made);
uint64_t qw_classifier_labeled(const qw_classifier *c);
size_t qw_classifier_n_features(const qw_classifier *c);
void qw_classifier_stats_get(const qw_classifier *c, qw_classifier_stats *out);
/* The parts, for coef/intercept/mean/var; valid until destroy. */
const qw_scaler *qw_classifier_scaler(const qw_classifier *c);
const qw_sgd *qw_classifier_sgd(const qw_classifier *c);
void qw_classifier_state_get(const qw_classifier *c, qw_classifier_state *out);
/* Replace the whole state, all or nothing. QW_INVAL when the state does not
 * fit this classifier (n_features, window, alpha) or is inconsistent
 * (scaler_n_seen and t - 1 must equal the labeled count, ...); when errbuf
 * is not NULL it receives the reason. */
qw_err qw_classifier_restore(qw_classifier *c, const qw_classifier_state *st, char *errbuf,
                             size_t errlen);

/* ---- checkpoints: versioned little-endian binary, CRC-32 ----
 * Layout in docs/MODEL.md. Errors: QW_IO (the OS refused; errno text in
 * errbuf), QW_CORRUPT (not a checkpoint, bad checksum, truncated, other
 * version, or a state that does not fit the classifier), QW_NOMEM. On
 * error the classifier is untouched. errbuf may be NULL. */
#define QW_CHECKPOINT_VERSION 1
#define QW_CHECKPOINT_ERRLEN 256

/* CRC-32 (IEEE 802.3, as zlib's crc32) of n bytes: checkpoints, model files. */
uint32_t qw_model_crc32(const uint8_t *p, size_t n);
/* Encoded size of c's checkpoint in bytes. */
size_t qw_checkpoint_size(const qw_classifier *c);
/* Encode into buf (cap >= qw_checkpoint_size, else QW_INVAL); *len_out
 * receives the length. */
qw_err qw_checkpoint_encode(const qw_classifier *c, uint8_t *buf, size_t cap, size_t *len_out);
qw_err qw_checkpoint_decode(qw_classifier *c, const uint8_t *buf, size_t len, char *errbuf,
                            size_t errlen);
/* Write path atomically: a temp file in the same directory, fsync, rename,
 * fsync of the directory. A crash leaves the old file or the new one. */
qw_err qw_checkpoint_save(const qw_classifier *c, const char *path, char *errbuf, size_t errlen);
qw_err qw_checkpoint_load(qw_classifier *c, const char *path, char *errbuf, size_t errlen);

#endif

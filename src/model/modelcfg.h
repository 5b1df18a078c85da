/* modelcfg.h: the configuration a trained model belongs to -- feature set,
 * label horizon Δ and threshold τ, SGD options -- as recorded in model
 * files (format v2, docs/MODEL.md) and checked when a file is loaded into
 * a pipeline: a model learned with other features, another Δ or τ, or other
 * SGD options predicts something else, so loading it is refused with the
 * name of the first field that differs.
 *
 * Pure data and bytes; no I/O, no allocation. Encoding (little-endian):
 *   u32 n_features, then per feature u8 len + name bytes,
 *   i64 horizon_ns, f64 tau, f64 alpha, u8 len + learning-rate schedule,
 *   u8 len + class weighting, u32 window, u32 min_per_class
 */
#ifndef QW_MODEL_MODELCFG_H
#define QW_MODEL_MODELCFG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/model.h"

#define QW_MODELCFG_NAME_MAX 32 /* feature / schedule names, with the NUL */
/* largest encoding: every field at its longest */
#define QW_MODELCFG_MAX_LEN                                                                        \
    (4 + QW_MODEL_MAX_FEATURES * QW_MODELCFG_NAME_MAX + 8 + 8 + 8 + 2 * QW_MODELCFG_NAME_MAX + 8)

typedef struct qw_modelcfg {
    uint32_t n_features; /* 1..QW_MODEL_MAX_FEATURES */
    char features[QW_MODEL_MAX_FEATURES][QW_MODELCFG_NAME_MAX];
    int64_t horizon_ns;                      /* Δ */
    double tau;                              /* label threshold */
    double alpha;                            /* SGD L2 strength */
    char schedule[QW_MODELCFG_NAME_MAX];     /* learning rate: "optimal" (sklearn) */
    char class_weight[QW_MODELCFG_NAME_MAX]; /* "none" */
    uint32_t window;                         /* rolling accuracy window */
    uint32_t min_per_class;                  /* readiness threshold */
} qw_modelcfg;

/* Fill *out from the effective options (defaults already applied):
 * names[n] are the feature names; schedule "optimal", class weight "none".
 * QW_INVAL when n is out of range or a name is too long/empty. */
qw_err qw_modelcfg_make(qw_modelcfg *out, const char *const *names, size_t n, int64_t horizon_ns,
                        double tau, double alpha, uint32_t window, uint32_t min_per_class);
/* Encoded length (<= QW_MODELCFG_MAX_LEN). */
size_t qw_modelcfg_size(const qw_modelcfg *c);
/* QW_INVAL when cap < qw_modelcfg_size. */
qw_err qw_modelcfg_encode(const qw_modelcfg *c, uint8_t *buf, size_t cap, size_t *len_out);
/* Decode from buf[0..len); *used = bytes consumed. QW_CORRUPT (errbuf says
 * why) when truncated or out of range; *out is then unspecified. */
qw_err qw_modelcfg_decode(qw_modelcfg *out, const uint8_t *buf, size_t len, size_t *used,
                          char *errbuf, size_t errlen);
/* 0 when equal (doubles bit for bit); else 1 and errbuf names the first
 * differing field: "horizon_ms: the file has 250, this pipeline uses 500". */
int qw_modelcfg_compare(const qw_modelcfg *file, const qw_modelcfg *want, char *errbuf,
                        size_t errlen);
/* One line: "features=a,b,c horizon_ms=500 tau=0.0001 alpha=0.0001
 * schedule=optimal class_weight=none window=100 min_per_class=100". */
void qw_modelcfg_summary(const qw_modelcfg *c, char *buf, size_t cap);

#endif

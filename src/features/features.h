/* features.h: per-product features, the Δ-horizon labeler and the legacy
 * stability heuristic. Pure computation, no I/O; loop thread only.
 *
 * Definitions (docs/FEATURES.md):
 *   mid        = (best_bid + best_ask) / 2
 *   spread_bps = (best_ask - best_bid) / mid * 1e4
 *   imbalance  = (bid_vol - ask_vol) / (bid_vol + ask_vol), top 10 levels
 *   depth      = bid_vol + ask_vol, top 10 levels, in base units
 *   volatility = population std-dev of the log-returns of mid between
 *                consecutive book updates whose feed time lies in the last
 *                `vol_window_ns` (default 5 s), maintained incrementally
 */
#ifndef QW_FEATURES_FEATURES_H
#define QW_FEATURES_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/err.h"

#define QW_NFEATURES 4      /* the seed set: x[0..3] */
#define QW_NFEATURES_ALL 12 /* with the opt-in ones (docs/FEATURES.md) */
#define QW_TOP_LEVELS 10

/* Indices into qw_features.x. */
enum {
    QW_F_SPREAD_BPS,
    QW_F_IMBALANCE,
    QW_F_DEPTH,
    QW_F_VOLATILITY,
    QW_F_MICROPRICE_BPS, /* microprice - mid, bps */
    QW_F_OFI,            /* order-flow imbalance at the best level over 1 s, normalized */
    QW_F_DEPTH_IMB_1,    /* depth imbalance of the best level */
    QW_F_DEPTH_IMB_5,    /* ... of the top 5 levels */
    QW_F_TRADE_IMB,      /* aggressor buy - sell volume over 1 s, normalized */
    QW_F_RET_1S_BPS,     /* mid return over the last 1 s, bps */
    QW_F_SINCE_TRADE_S,  /* seconds since the last trade (capped at 3600) */
    QW_F_SPREAD_TICKS,   /* spread in price increments */
};

typedef struct qw_features {
    int64_t t_ns;
    int64_t best_bid, best_ask; /* e8 */
    double mid;
    double x[QW_NFEATURES_ALL]; /* x[4..] are 0 unless the extractor is extended */
} qw_features;

extern const char *const qw_feature_names[QW_NFEATURES_ALL];

/* ---- feature sets: which x a model sees, in that order ---- */
typedef struct qw_featset {
    uint8_t n; /* 1..QW_NFEATURES_ALL; 0 = the seed set */
    uint8_t idx[QW_NFEATURES_ALL];
} qw_featset;

/* "seed" (the original four), "book" (seed + microprice, OFI, depth imbalance
 * 1 and 5, spread in ticks), "rich" (all twelve), or feature names joined by
 * '+' ("imbalance+ofi"). QW_INVAL for anything else (out unchanged). */
qw_err qw_featset_parse(const char *s, qw_featset *out);
/* The canonical text: the set's name when it is a named set, else names
 * joined by '+'. Returns the length (snprintf semantics). */
size_t qw_featset_format(const qw_featset *s, char *buf, size_t cap);
size_t qw_featset_size(const qw_featset *s); /* n, or 4 for the zero set */
/* The set a spec names, or the seed set (zero) when it does not parse
 * (for specs checked at start-up). */
qw_featset qw_featset_of(const char *spec);
/* out[i] = x[idx[i]] for the set's features; returns their count. */
size_t qw_featset_gather(const qw_featset *s, const double *x, double *out);
/* The name of the set's i-th feature (i < qw_featset_size). */
const char *qw_featset_name(const qw_featset *s, size_t i);
/* 1 when the set needs the extended extractor (any index >= 4). */
int qw_featset_extended(const qw_featset *s);

/* ---- extractor: owns the volatility window ---- */
typedef struct qw_extractor qw_extractor;

typedef struct qw_extractor_opts {
    int64_t vol_window_ns;  /* 0 = 5 s */
    size_t vol_capacity;    /* returns kept at most; 0 = 65536 (older ones age out early) */
    int extended;           /* also compute x[4..] (windows of 1 s: flow_window_ns) */
    int64_t flow_window_ns; /* OFI, trade flow and return window; 0 = 1 s */
} qw_extractor_opts;

qw_err qw_extractor_create(qw_extractor **out, const qw_extractor_opts *opts);
void qw_extractor_destroy(qw_extractor *x);
/* Forget the return history (after a resync: returns across it are not real). */
void qw_extractor_reset(qw_extractor *x);
/* Compute the features of the book as of feed time t_ns. Returns 0 (and
 * leaves out untouched) when either side is empty or the book is crossed. */
int qw_extractor_update(qw_extractor *x, const qw_book *b, int64_t t_ns, qw_features *out);
/* A trade at feed time t_ns (extended features: trade flow, time since the
 * last trade). aggressor: QW_BID = the buyer took liquidity. Snapshot trades
 * (history replayed after a connect) are not passed. */
void qw_extractor_trade(qw_extractor *x, int64_t t_ns, int aggressor_bid, qw_sz sz);

/* ---- labeler: pending samples waiting for t + Δ ---- */
typedef struct qw_sample {
    qw_features f;
    double p;           /* model probability at t, or NaN when none was made */
    double stability;   /* heuristic score at t */
    uint64_t n_learned; /* samples the model had learned when p was made */
} qw_sample;

typedef struct qw_labeled {
    qw_sample s;
    double mid_future; /* mid in force at t + Δ */
    int label;         /* |mid_future - mid| > tau * mid */
} qw_labeled;

typedef struct qw_labeler_opts {
    int64_t horizon_ns; /* Δ; 0 = 500 ms */
    double tau;         /* relative threshold; 0 = 1e-4 */
    size_t capacity;    /* pending samples; 0 = 65536 */
} qw_labeler_opts;

typedef struct qw_labeler_stats {
    uint64_t pushed, labeled, positives;
    uint64_t overflow; /* pending ring full: the oldest sample was dropped */
    uint64_t dropped;  /* dropped because their window spanned a resync/gap */
} qw_labeler_stats;

typedef struct qw_labeler qw_labeler;

qw_err qw_labeler_create(qw_labeler **out, const qw_labeler_opts *opts);
void qw_labeler_destroy(qw_labeler *l);
/* Feed time advanced to now_ns while `mid_in_force` was the mid: every
 * pending sample with t + Δ < now_ns is labeled with it, oldest first, and
 * passed to emit. Call BEFORE applying a new update at now_ns. */
size_t qw_labeler_advance(qw_labeler *l, int64_t now_ns, double mid_in_force,
                          void (*emit)(void *ctx, const qw_labeled *s), void *ctx);
/* Queue a sample (after its update was applied). */
void qw_labeler_push(qw_labeler *l, const qw_sample *s);
/* Drop every pending sample (book resync, gap, reconnect); counted. */
void qw_labeler_drop_all(qw_labeler *l);
size_t qw_labeler_pending(const qw_labeler *l);
const qw_labeler_stats *qw_labeler_get_stats(const qw_labeler *l);

/* ---- stability heuristic (the original design's legacy fallback) ----
 * 1 = calm (tight spread, low volatility), 0 = about to move. */
double qw_stability_score(const qw_features *f);

#endif

/* pipeline.h: one chain per product (book -> trades -> features ->
 * classifier.predict -> labeler -> learn) and the router that feeds parsed
 * messages to the right chain. Replay, the lake replay and live all enter
 * through qw_pipeline_ingest; hooks (on_sample, on_labeled) let the
 * storage writer and the dashboard see samples without the pipeline
 * knowing them.
 *
 * Loop thread only. Resync rule: a chain whose book can no longer be
 * trusted (sequence gap, reconnect, crossed/locked book, a rejected
 * message for its product, a server error) is flagged `needs_resync`; it
 * keeps applying updates best-effort but is not "valid" until a snapshot
 * replaces its book. Live mode reacts to the flag by resubscribing.
 */
#ifndef QW_PIPELINE_PIPELINE_H
#define QW_PIPELINE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/err.h"
#include "features/features.h"
#include "feed/feed.h"
#include "model/model.h"

typedef enum {
    QW_RESYNC_GAP = 0,   /* Advanced sequence gap */
    QW_RESYNC_RECONNECT, /* new connection / sequence restart */
    QW_RESYNC_CROSSED,   /* crossed or locked after a complete update */
    QW_RESYNC_REJECTED,  /* a message for this product was rejected */
    QW_RESYNC_ERROR,     /* server error message */
    QW_RESYNC_BOOK,      /* the book refused an update (limit, bad level) */
    QW__RESYNC_COUNT
} qw_resync_reason;

typedef struct qw_chain_stats {
    uint64_t book_updates; /* update groups applied (Exchange l2update, Advanced update event) */
    uint64_t changes;      /* level changes applied */
    uint64_t snapshots;
    uint64_t trades; /* trade records (incl. last_match / trade snapshots) */
    uint64_t heartbeats;
    uint64_t resyncs; /* times the book was flagged as needing a resync */
    uint64_t resyncs_by[QW__RESYNC_COUNT];
    uint64_t gaps;     /* sequence gaps that hit this product */
    uint64_t crossed;  /* complete updates that left the book crossed/locked */
    uint64_t rejected; /* rejected messages attributed to this product */
    uint64_t updates_while_invalid;
} qw_chain_stats;

/* One product's chain. Fields are read-only outside src/pipeline/. */
typedef struct qw_chain {
    char product[QW_PRODUCT_MAX];
    qw_book *book;
    qw_trades *trades;
    int has_snapshot;
    int needs_resync;
    int64_t last_t_ns; /* feed time of the last applied book message */
    qw_chain_stats st;
    /* prediction chain (docs/FEATURES.md, docs/MODEL.md) */
    qw_extractor *ex;
    qw_labeler *lab;
    qw_classifier *clf;
    int has_features; /* feat holds the features of the current book */
    qw_features feat;
    double p;         /* last model probability, NaN when not ready */
    double stability; /* last heuristic score */
    uint64_t predictions;
} qw_chain;

struct qw_pipeline;
/* Called for every labeled sample, after the model learned it. */
typedef void (*qw_labeled_fn)(void *ctx, const qw_chain *c, const qw_labeled *s);

/* Called for every prediction-chain step on a valid book (one per book
 * update with known feed time): the features, p (NaN before ready),
 * stability and n_learned. */
typedef void (*qw_sample_fn)(void *ctx, const qw_chain *c, const qw_sample *s);

/* Prediction heads supplied by the caller instead of each chain's own
 * extractor, labeler and model (backtest: one book per product shared by
 * every configuration of a grid, research/backtest.c). When opts.heads is
 * set, chains create no ex/lab/clf (they stay NULL, p and stability NaN),
 * on_labeled/on_sample are not called, and the pipeline calls the hooks at
 * exactly the points where it runs its own prediction chain; `chain` is
 * the chain's index (creation order). */
typedef struct qw_heads {
    void *ctx;
    qw_err (*add)(void *ctx, size_t chain); /* a chain is being created; an error refuses it */
    /* the book can no longer be trusted: drop pending labels, forget returns */
    void (*flag)(void *ctx, size_t chain);
    /* feed time reached t before a group is applied (label with the mid in force) */
    void (*advance)(void *ctx, size_t chain, int64_t t);
    /* after a group: b is the chain's book when it is valid, else NULL */
    void (*observe)(void *ctx, size_t chain, const qw_book *b, int64_t t);
    /* a trade that is not a snapshot trade */
    void (*trade)(void *ctx, size_t chain, int64_t t_ns, int aggressor_bid, qw_sz sz);
} qw_heads;

typedef struct qw_pipeline_opts {
    size_t max_products; /* 0 = 4096 */
    size_t trades_ring;  /* recent trades kept per product; 0 = 1024 */
    int auto_add;        /* create chains for products seen on the wire (replay) */
    /* With auto_add: when nonly > 0, only these products get chains; other
     * products' messages count as unknown_product (replay --products). */
    const char (*only)[32];
    size_t nonly;
    qw_book_opts book;
    int books_only; /* skip features/model (benchmarks: parse + books) */
    /* Per-chain labeler and model options (backtest grids: Δ, τ, alpha).
     * Zero fields are the defaults (Δ 500 ms, τ 1e-4, alpha 1e-4), so a
     * zero-initialised qw_pipeline_opts is the seed configuration. */
    qw_labeler_opts labeler;
    qw_classifier_opts model; /* n_features is taken from `features` */
    qw_featset features;      /* what the model sees; zero = the seed set */
    qw_labeled_fn on_labeled; /* optional */
    void *on_labeled_ctx;
    qw_sample_fn on_sample; /* optional */
    void *on_sample_ctx;
    const qw_heads *heads; /* optional, borrowed for the pipeline's life: see qw_heads */
} qw_pipeline_opts;

typedef struct qw_pipeline_stats {
    uint64_t messages, book_msgs, trade_msgs, heartbeats, subscriptions, errors, ignored;
    uint64_t unknown_types, unknown_product, gaps, seq_restarts, times_repaired;
    uint64_t rejected;                   /* messages refused by the parser (or too large) */
    uint64_t predictions;                /* model predictions made, all products */
    uint64_t rejected_by[QW__ERR_COUNT]; /* by qw_err reason */
    char last_error[QW_FEED_TEXT_MAX];
} qw_pipeline_stats;

typedef struct qw_pipeline qw_pipeline; /* opaque */

qw_err qw_pipeline_create(qw_pipeline **out, const qw_pipeline_opts *opts);
void qw_pipeline_destroy(qw_pipeline *p);

/* Find or (auto_add) create the chain for a product. *idx set on success;
 * QW_NOT_FOUND when unknown and !auto_add; QW_TOO_MANY_PRODUCTS when full. */
qw_err qw_pipeline_product(qw_pipeline *p, const char *product, size_t len, size_t *idx);

/* Create the chain for product even when !auto_add (live: the configured
 * products). QW_OK if it exists already. */
qw_err qw_pipeline_add_product(qw_pipeline *p, const char *product);
/* Feed time has reached now_ns for every chain (live mode's label timer):
 * label pending samples whose horizon has passed, with the mid in force.
 * Deterministic replays never call it; live calls it with a conservative
 * estimate of feed time (docs/LIVE.md). */
void qw_pipeline_advance_time(qw_pipeline *p, int64_t now_ns);
/* Apply one parsed message; recv_ns is the local receive time (0 if none). */
void qw_pipeline_on_msg(qw_pipeline *p, const qw_msg *m, int64_t recv_ns);
/* A rejected message; product may be NULL/"" when it could not be told.
 * Counts it (rejected, rejected_by) and flags that product's chain. */
void qw_pipeline_on_reject(qw_pipeline *p, qw_err reason, const char *product);
/* Parse one raw message with f and apply it (or count its rejection).
 * Returns the parser's verdict; *out (may be NULL) gets the message. */
qw_err qw_pipeline_ingest(qw_pipeline *p, qw_feed *f, const char *buf, size_t len, int64_t recv_ns,
                          const qw_msg **out);
/* Flag every chain (disconnect, reconnect). */
void qw_pipeline_invalidate_all(qw_pipeline *p, qw_resync_reason why);

size_t qw_pipeline_count(const qw_pipeline *p);
const qw_chain *qw_pipeline_chain(const qw_pipeline *p, size_t idx);
const qw_pipeline_stats *qw_pipeline_get_stats(const qw_pipeline *p);
/* The feature set the models see (the seed set unless configured). */
const qw_featset *qw_pipeline_featset(const qw_pipeline *p);
const char *qw_resync_reason_name(qw_resync_reason r);

/* Model files for every product (format and reload: pipeline/models.h,
 * docs/MODEL.md). Save is atomic. Load validates the whole file (checksum,
 * configuration against this pipeline's, every product's state) before it
 * changes any model, creating chains for products it names; on error
 * nothing changes and errbuf says why. Implemented in models.c. */
qw_err qw_pipeline_save_models(const qw_pipeline *p, const char *path, char *errbuf, size_t errlen);
qw_err qw_pipeline_load_models(qw_pipeline *p, const char *path, char *errbuf, size_t errlen);

/* Where the models came from (the last file loaded) and the reload
 * counters; written by pipeline/models.c on the loop thread, read by the
 * dashboard's state builder on the same thread. */
typedef struct qw_model_origin {
    int loaded;  /* a model file has been loaded */
    int version; /* its format version (1 or 2) */
    char path[512];
    uint32_t crc;             /* v2: the CRC-32 stored in the file; v1: of the whole file */
    char config[512];         /* qw_modelcfg_summary, "" for v1 files */
    int64_t loaded_at_ns;     /* wall clock */
    uint64_t learned_at_load; /* sum of labeled samples over chains right after the load */
    uint64_t reloads_ok, reloads_error;
} qw_model_origin;

/* Hand-over for pipeline/models.c: replace chain idx's classifier with clf
 * (the pipeline takes it) and return the previous one (the caller frees it). */
qw_classifier *qw_pipeline_swap_model(qw_pipeline *p, size_t idx, qw_classifier *clf);
const qw_pipeline_opts *qw_pipeline_get_opts(const qw_pipeline *p);
qw_model_origin *qw_pipeline_origin(qw_pipeline *p);
const qw_model_origin *qw_pipeline_get_origin(const qw_pipeline *p);

#endif

/* backtest.h: offline prequential evaluation of the online model -- the
 * logic of `quotewatch backtest FILE...` (docs/BACKTEST.md).
 *
 * Captures are read once (ingest/msgsrc: every format replay reads) and
 * parsed once (one qw_feed); every parsed message is applied once to one
 * pipeline: one book per product, whose chains carry one model head per
 * configuration of the grid (Δ x τ x alpha x feature set: its own labeler
 * and model) over one feature extractor per feature group (pipeline.h
 * qw_heads; backtest.c). Each head behaves exactly as a `replay` pipeline's
 * chain (it predicts, then learns when the label arrives), so each
 * configuration gives what a one-configuration run gives, and
 * configuration 0 with the seed values reproduces `replay --samples` bit
 * for bit.
 *
 * Every labeled sample that carried a prediction is stored as a qw_bt_pt
 * (24 bytes) per configuration; metrics are computed after the run
 * (qw_backtest_results: sorted in place, with one scratch array of the
 * largest configuration's points, 24 bytes per prediction more; 48 when
 * the windows must be sorted by time). Single thread.
 */
#ifndef QW_RESEARCH_BACKTEST_H
#define QW_RESEARCH_BACKTEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "features/features.h"
#include "feed/feed.h"
#include "research/metrics.h"

#define QW_BT_MAX_CONFIGS 64
#define QW_BT_ROC_POINTS 101

/* One configuration; zero fields are the seed values (Δ 500 ms, τ 1e-4,
 * alpha 1e-4: docs/FEATURES.md, docs/MODEL.md). */
typedef struct qw_bt_config {
    int64_t horizon_ns;
    double tau;
    double alpha;
    qw_featset features; /* zero = the seed set */
} qw_bt_config;

/* A source of parsed messages instead of files (backtest --lake): QW_OK
 * with *m valid until the next call (*connect = 1: a new-connection
 * marker), QW_NOT_FOUND at the end. */
typedef qw_err (*qw_bt_next_fn)(void *src, qw_msg *m, int64_t *recv_ns, int *connect);

typedef struct qw_bt_opts {
    const char *const *files; /* "-" = stdin; borrowed for the run */
    size_t nfiles;
    qw_bt_next_fn next; /* when set: messages from next(next_src), files ignored */
    void *next_src;
    size_t max_line;             /* 0 = 64 MiB */
    const char *const *products; /* only these (NULL: every product seen) */
    size_t nproducts;
    const qw_bt_config *configs; /* 1..QW_BT_MAX_CONFIGS */
    size_t nconfigs;
    int64_t window_ns;                 /* time windows of the drift table; 0 = 60 s */
    uint64_t max_predictions;          /* per configuration; 0 = 2^27 (3 GiB); more are counted */
    int progress;                      /* progress bar on stderr */
    const volatile sig_atomic_t *stop; /* optional: stop after the current line */
} qw_bt_opts;

typedef struct qw_bt_input {
    uint64_t messages, rejected, bytes, connects, input_errors;
    int failed; /* an input could not be opened or read */
} qw_bt_input;

/* Results of one configuration, computed by qw_backtest_results. */
typedef struct qw_bt_window {
    int64_t start_ns; /* aligned: a multiple of window_ns since the epoch */
    qw_bt_metrics m;
} qw_bt_window;

typedef struct qw_bt_result {
    qw_bt_config cfg; /* effective values (defaults filled in) */
    uint64_t labeled; /* labeled samples, with or without a prediction */
    uint64_t scored;  /* ... of which with a prediction (= pooled.n unless capped) */
    uint64_t dropped; /* predictions not stored: max_predictions reached */
    qw_bt_metrics pooled;
    size_t nproducts;
    const char *const *product_names; /* nproducts, valid until destroy */
    const qw_bt_metrics *products;    /* nproducts */
    size_t nwindows;
    const qw_bt_window *windows;
    size_t nroc;
    const double *roc_fpr, *roc_tpr; /* pooled ROC, nroc points */
} qw_bt_result;

typedef struct qw_backtest qw_backtest;

/* QW_INVAL (errbuf says why) for a bad option, QW_NOMEM. */
qw_err qw_backtest_create(qw_backtest **out, const qw_bt_opts *o, char *errbuf, size_t errlen);
void qw_backtest_destroy(qw_backtest *bt); /* NULL is a no-op */
/* Reads every input through every pipeline. Open/read errors are logged,
 * counted and set input->failed; the run goes on. QW_NOMEM only. */
qw_err qw_backtest_run(qw_backtest *bt);
const qw_bt_input *qw_backtest_input(const qw_backtest *bt);
/* Computes the metrics (once). It reorders the stored predictions (sorted
 * in place by p): qw_backtest_write_predictions must come first. Scratch:
 * 24 bytes per prediction of the largest configuration (48 when the
 * windows are sorted by time), freed after. QW_NOMEM. */
qw_err qw_backtest_results(qw_backtest *bt);
size_t qw_backtest_nconfigs(const qw_backtest *bt);
/* Valid after qw_backtest_results, until destroy. */
const qw_bt_result *qw_backtest_result(const qw_backtest *bt, size_t i);
int64_t qw_backtest_window_ns(const qw_backtest *bt);
/* Bytes held for stored predictions (all configurations). */
uint64_t qw_backtest_memory(const qw_backtest *bt);

/* --predictions-csv: config,product,t_ns,p,y per stored prediction in
 * learning order (%.17g); "-" = stdout. After the run, before
 * qw_backtest_results (then QW_INVAL: the order is gone). */
qw_err qw_backtest_write_predictions(const qw_backtest *bt, const char *path, char *errbuf,
                                     size_t errlen);
/* Reports (report.c); after qw_backtest_results. Written atomically. */
qw_err qw_backtest_write_json(const qw_backtest *bt, const char *path, char *errbuf, size_t errlen);
qw_err qw_backtest_write_html(const qw_backtest *bt, const char *path, char *errbuf, size_t errlen);
/* --save-model: write configuration i's models (every product) as a model
 * file (pipeline/models.h, v2: records the configuration), atomically.
 * Any time after the run. QW_INVAL when i is not in the grid. */
qw_err qw_backtest_save_model(const qw_backtest *bt, size_t i, const char *path, char *errbuf,
                              size_t errlen);
/* "h500ms_t0.0001_a0.0001": the configuration's id in reports. */
void qw_bt_config_id(const qw_bt_config *c, char *buf, size_t cap);

#endif

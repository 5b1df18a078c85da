/* backtest.c: the backtest run (backtest.h): one message source, one
 * parser and one pipeline (one book per product) whose chains carry one
 * model head per configuration; the collection of scored predictions, and
 * the metrics per configuration, product and time window.
 *
 * The input loop mirrors ingest/replay.c event for event (a new input or a
 * connection marker resets the parser; a connection flags every chain; a
 * too-long or undecodable line is a rejection), so the pipeline sees
 * exactly what `replay` would show it.
 *
 * Shared books, model heads (pipeline.h qw_heads): the pipeline applies
 * every message to one book per product and calls the hooks below where
 * its own prediction chain would run. Per chain there is one extractor per
 * feature group (configurations whose feature sets need the same extractor
 * options: seed-only sets, or extended sets) and one head per configuration
 * (labeler with its Δ and τ, scaler + SGD with its alpha and feature set).
 * The hooks do, per head, what pipeline.c does for its one chain, in the
 * same order (label what Δ has passed with the mid in force, then learn;
 * after the group: features, predict, push), and each head's state depends
 * only on the shared book, its group's extractor and its own labeler and
 * model, so every configuration computes exactly what a one-configuration
 * run computes (tests/e2e/test_backtest_grid.sh compares them bit for bit).
 *
 * Predictions are appended to a per-configuration array that doubles up to
 * max_predictions (warm-up growth; amortised, not per message), in place
 * in a reservation of address space where possible (ptstore.h: no copies,
 * no pages faulted only to be thrown away). The array, and the metrics'
 * scratch, are advised to transparent huge pages before their first touch:
 * first-touch faults of the stored predictions were ~5 % of a run.
 */
#define QW_MODULE "backtest"
#include "research/backtest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "feed/feed.h"
#include "ingest/msgsrc.h"
#include "ingest/progress.h"
#include "pipeline/pipeline.h"
#include "research/ptstore.h"

typedef struct cfg_run {
    qw_backtest *bt;
    size_t grp; /* feature group (extractor) this configuration reads */
    qw_labeler_opts lab_opts;
    qw_classifier_opts model_opts;
    qw_bt_store st; /* the stored predictions: st.pts[0..n) */
    uint64_t n, labeled, dropped;
    qw_bt_result res;
    qw_bt_metrics *prod_m;
    const char **prod_names;
    qw_bt_window *win;
    double roc_fpr[QW_BT_ROC_POINTS], roc_tpr[QW_BT_ROC_POINTS];
} cfg_run;

/* Per chain and feature group: the extractor and the current features. */
typedef struct grp_state {
    qw_extractor *ex;
    int has_features; /* feat holds the features of the current book */
    qw_features feat;
} grp_state;

/* Per chain and configuration: one model head. */
typedef struct head_state {
    qw_labeler *lab;
    qw_classifier *clf;
} head_state;

struct qw_backtest {
    qw_bt_opts o;
    cfg_run *runs;
    size_t nruns;
    qw_pipeline *pl; /* one book per product, shared by every configuration */
    qw_heads heads;
    int grp_extended[QW_BT_MAX_CONFIGS]; /* extractor option of each feature group */
    size_t ngrps;
    grp_state *gs;  /* [chain * ngrps + group] */
    head_state *hs; /* [chain * nruns + configuration] */
    size_t nchains, chains_cap;
    qw_bt_input in;
    int have_results;
    int pts_sorted; /* qw_backtest_results reordered the stored points (write them first) */
};

static void on_labeled(cfg_run *r, size_t chain, const qw_labeled *s)
{
    r->labeled++;
    if (isnan(s->s.p))
        return;
    if (r->n == r->st.cap) {
        uint64_t max = r->bt->o.max_predictions, ncap = r->st.cap ? r->st.cap * 2 : 4096;
        if (ncap > max)
            ncap = max;
        /* in place where the address space was reserved (ptstore.h) */
        if (ncap <= r->st.cap || qw_bt_store_grow(&r->st, r->n, ncap, max) != 0) {
            r->dropped++; /* at the cap, or out of memory: counted, reported */
            return;
        }
    }
    qw_bt_pt *pt = &r->st.pts[r->n++];
    pt->p = s->s.p;
    pt->t_ns = s->s.f.t_ns;
    pt->prod = (uint32_t)chain;
    pt->y = s->label != 0;
}

/* ---- the model heads (qw_heads hooks; see the file comment) ---- */

static qw_err heads_add(void *ctx, size_t chain)
{
    qw_backtest *bt = ctx;
    if (chain >= bt->chains_cap) {
        size_t cap = bt->chains_cap ? bt->chains_cap * 2 : 16;
        grp_state *gs = qw_realloc(bt->gs, cap * bt->ngrps * sizeof *gs);
        if (!gs)
            return QW_NOMEM;
        bt->gs = gs;
        head_state *hs = qw_realloc(bt->hs, cap * bt->nruns * sizeof *hs);
        if (!hs)
            return QW_NOMEM;
        bt->hs = hs;
        bt->chains_cap = cap;
    }
    grp_state *gs = &bt->gs[chain * bt->ngrps];
    head_state *hs = &bt->hs[chain * bt->nruns];
    memset(gs, 0, bt->ngrps * sizeof *gs);
    memset(hs, 0, bt->nruns * sizeof *hs);
    qw_err e = QW_OK;
    for (size_t g = 0; g < bt->ngrps && e == QW_OK; g++)
        e = qw_extractor_create(&gs[g].ex, &(qw_extractor_opts){.extended = bt->grp_extended[g]});
    for (size_t i = 0; i < bt->nruns && e == QW_OK; i++) {
        e = qw_labeler_create(&hs[i].lab, &bt->runs[i].lab_opts);
        if (e == QW_OK)
            e = qw_classifier_create(&hs[i].clf, &bt->runs[i].model_opts);
    }
    if (e != QW_OK) {
        for (size_t g = 0; g < bt->ngrps; g++)
            qw_extractor_destroy(gs[g].ex);
        for (size_t i = 0; i < bt->nruns; i++) {
            qw_labeler_destroy(hs[i].lab);
            qw_classifier_destroy(hs[i].clf);
        }
        return e;
    }
    bt->nchains = chain + 1;
    return QW_OK;
}

static void heads_flag(void *ctx, size_t chain)
{
    qw_backtest *bt = ctx;
    for (size_t i = 0; i < bt->nruns; i++)
        qw_labeler_drop_all(bt->hs[chain * bt->nruns + i].lab);
    for (size_t g = 0; g < bt->ngrps; g++) {
        grp_state *gs = &bt->gs[chain * bt->ngrps + g];
        qw_extractor_reset(gs->ex);
        gs->has_features = 0;
    }
}

typedef struct learn_ctx {
    cfg_run *r;
    qw_classifier *clf;
    size_t chain;
} learn_ctx;

static void learn(void *ctx, const qw_labeled *s)
{
    learn_ctx *l = ctx;
    /* scaler.partial_fit(x) then clf.partial_fit(...): inside learn() */
    double x[QW_NFEATURES_ALL];
    qw_featset_gather(&l->r->res.cfg.features, s->s.f.x, x);
    if (qw_classifier_learn(l->clf, x, s->label, s->s.p) != QW_OK)
        QW_LOG(DEBUG, "%s: sample not learned (non-finite features)",
               qw_pipeline_chain(l->r->bt->pl, l->chain)->product);
    on_labeled(l->r, l->chain, s);
}

static void heads_advance(void *ctx, size_t chain, int64_t t)
{
    qw_backtest *bt = ctx;
    const grp_state *gs = &bt->gs[chain * bt->ngrps];
    head_state *hs = &bt->hs[chain * bt->nruns];
    for (size_t i = 0; i < bt->nruns; i++) {
        cfg_run *r = &bt->runs[i];
        if (!gs[r->grp].has_features || !qw_labeler_pending(hs[i].lab))
            continue;
        learn_ctx l = {r, hs[i].clf, chain};
        qw_labeler_advance(hs[i].lab, t, gs[r->grp].feat.mid, learn, &l);
    }
}

static void heads_observe(void *ctx, size_t chain, const qw_book *b, int64_t t)
{
    qw_backtest *bt = ctx;
    grp_state *gs = &bt->gs[chain * bt->ngrps];
    head_state *hs = &bt->hs[chain * bt->nruns];
    for (size_t g = 0; g < bt->ngrps; g++) {
        grp_state *s = &gs[g];
        s->has_features = b && qw_extractor_update(s->ex, b, t, &s->feat);
        if (!s->has_features || t <= 0)
            continue; /* t <= 0: feed time unknown (an Exchange snapshot before any update) */
        qw_sample smp;
        smp.f = s->feat;
        smp.stability = NAN; /* the legacy heuristic: no backtest output reads it (its two
                                tanh were ~1.7 % of a run) */
        for (size_t i = 0; i < bt->nruns; i++) {
            cfg_run *r = &bt->runs[i];
            if (r->grp != g)
                continue;
            double x[QW_NFEATURES_ALL];
            qw_featset_gather(&r->res.cfg.features, s->feat.x, x);
            smp.n_learned = qw_classifier_labeled(hs[i].clf);
            if (qw_classifier_predict(hs[i].clf, x, &smp.p) != QW_OK)
                smp.p = NAN;
            qw_labeler_push(hs[i].lab, &smp);
        }
    }
}

static void heads_trade(void *ctx, size_t chain, int64_t t_ns, int aggressor_bid, qw_sz sz)
{
    qw_backtest *bt = ctx;
    for (size_t g = 0; g < bt->ngrps; g++)
        qw_extractor_trade(bt->gs[chain * bt->ngrps + g].ex, t_ns, aggressor_bid, sz);
}

void qw_bt_config_id(const qw_bt_config *c, char *buf, size_t cap)
{
    int64_t h = c->horizon_ns;
    int n;
    if (h % QW_NS_PER_SEC == 0)
        n = snprintf(buf, cap, "h%llds_t%g_a%g", (long long)(h / QW_NS_PER_SEC), c->tau, c->alpha);
    else if (h % QW_NS_PER_MS == 0)
        n = snprintf(buf, cap, "h%lldms_t%g_a%g", (long long)(h / QW_NS_PER_MS), c->tau, c->alpha);
    else
        n = snprintf(buf, cap, "h%lldns_t%g_a%g", (long long)h, c->tau, c->alpha);
    if (c->features.n && n > 0 && (size_t)n + 2 < cap) { /* the seed set keeps the old ids */
        char fs[192];
        qw_featset_format(&c->features, fs, sizeof fs);
        if (strcmp(fs, "seed") != 0)
            snprintf(buf + n, cap - (size_t)n, "_f%s", fs);
    }
}

void qw_backtest_destroy(qw_backtest *bt)
{
    if (!bt)
        return;
    qw_pipeline_destroy(bt->pl);
    for (size_t c = 0; c < bt->nchains; c++) {
        for (size_t g = 0; g < bt->ngrps; g++)
            qw_extractor_destroy(bt->gs[c * bt->ngrps + g].ex);
        for (size_t i = 0; i < bt->nruns; i++) {
            qw_labeler_destroy(bt->hs[c * bt->nruns + i].lab);
            qw_classifier_destroy(bt->hs[c * bt->nruns + i].clf);
        }
    }
    qw_free(bt->gs);
    qw_free(bt->hs);
    for (size_t i = 0; i < bt->nruns; i++) {
        cfg_run *r = &bt->runs[i];
        qw_bt_store_free(&r->st);
        qw_free(r->prod_m);
        qw_free(r->prod_names);
        qw_free(r->win);
    }
    qw_free(bt->runs);
    qw_free(bt);
}

qw_err qw_backtest_create(qw_backtest **out, const qw_bt_opts *o, char *errbuf, size_t errlen)
{
    if (!o->nconfigs || o->nconfigs > QW_BT_MAX_CONFIGS || !o->configs) {
        snprintf(errbuf, errlen, "between 1 and %d configurations, got %zu", QW_BT_MAX_CONFIGS,
                 o->nconfigs);
        return QW_INVAL;
    }
    for (size_t i = 0; i < o->nconfigs; i++) {
        const qw_bt_config *c = &o->configs[i];
        if (c->horizon_ns < 0 || !(c->tau >= 0 && c->tau < 1) || !(c->alpha >= 0) ||
            !isfinite(c->alpha)) {
            snprintf(errbuf, errlen, "configuration %zu: bad horizon, threshold or alpha", i);
            return QW_INVAL;
        }
    }
    qw_backtest *bt = qw_calloc(1, sizeof *bt);
    if (!bt)
        return QW_NOMEM;
    bt->o = *o;
    if (!bt->o.window_ns)
        bt->o.window_ns = 60 * QW_NS_PER_SEC;
    if (!bt->o.max_predictions)
        bt->o.max_predictions = (uint64_t)1 << 27;
    bt->runs = qw_calloc(o->nconfigs, sizeof *bt->runs);
    if (!bt->runs)
        goto nomem;
    for (size_t i = 0; i < o->nconfigs; i++) {
        cfg_run *r = &bt->runs[bt->nruns++];
        r->bt = bt;
        r->res.cfg = o->configs[i];
        if (!r->res.cfg.horizon_ns)
            r->res.cfg.horizon_ns = 500 * QW_NS_PER_MS;
        if (!r->res.cfg.tau)
            r->res.cfg.tau = 1e-4;
        if (!r->res.cfg.alpha)
            r->res.cfg.alpha = QW_SGD_DEFAULT_ALPHA;
        /* the options pipeline.c would give this configuration's chains */
        r->lab_opts = (qw_labeler_opts){.horizon_ns = r->res.cfg.horizon_ns, .tau = r->res.cfg.tau};
        r->model_opts = (qw_classifier_opts){.alpha = r->res.cfg.alpha,
                                             .n_features = qw_featset_size(&r->res.cfg.features)};
        int ext = qw_featset_extended(&r->res.cfg.features);
        for (r->grp = 0; r->grp < bt->ngrps && bt->grp_extended[r->grp] != ext; r->grp++)
            ;
        if (r->grp == bt->ngrps)
            bt->grp_extended[bt->ngrps++] = ext;
    }
    bt->heads = (qw_heads){.ctx = bt,
                           .add = heads_add,
                           .flag = heads_flag,
                           .advance = heads_advance,
                           .observe = heads_observe,
                           .trade = heads_trade};
    qw_pipeline_opts po = {.auto_add = o->products == NULL, .heads = &bt->heads};
    if (qw_pipeline_create(&bt->pl, &po) != QW_OK)
        goto nomem;
    for (size_t k = 0; o->products && k < o->nproducts; k++) {
        qw_err e = qw_pipeline_add_product(bt->pl, o->products[k]);
        if (e != QW_OK) {
            snprintf(errbuf, errlen, "product %s: %s", o->products[k], qw_strerror(e));
            qw_backtest_destroy(bt);
            return e;
        }
    }
    *out = bt;
    return QW_OK;
nomem:
    snprintf(errbuf, errlen, "out of memory");
    qw_backtest_destroy(bt);
    return QW_NOMEM;
}

/* ---- the input loop ---- */

static void reject_all(qw_backtest *bt, qw_err why, const char *product)
{
    qw_pipeline_on_reject(bt->pl, why, product);
}

/* Parsed messages from o.next (the lake): as replay --lake does. */
static qw_err run_parsed(qw_backtest *bt)
{
    qw_msg m;
    int64_t recv = 0;
    int conn = 0;
    while ((!bt->o.stop || !*bt->o.stop) && bt->o.next(bt->o.next_src, &m, &recv, &conn) == QW_OK) {
        if (conn) {
            bt->in.connects++;
            qw_pipeline_invalidate_all(bt->pl, QW_RESYNC_RECONNECT);
            if (!m.ngroups && !m.ntrades)
                continue;
        }
        bt->in.messages++;
        qw_pipeline_on_msg(bt->pl, &m, recv);
    }
    return QW_OK;
}

qw_err qw_backtest_run(qw_backtest *bt)
{
    if (bt->o.next)
        return run_parsed(bt);
    qw_msgsrc *src = NULL;
    qw_feed *feed = NULL;
    if (qw_msgsrc_open(&src, bt->o.files, bt->o.nfiles, bt->o.max_line) != QW_OK ||
        qw_feed_create(&feed, NULL) != QW_OK) {
        qw_msgsrc_close(src);
        return QW_NOMEM;
    }
    qw_ratelimit rl = {.first = 5, .every = 10000};
    qw_progress pg;
    qw_progress_start(&pg);
    qw_msgsrc_item it;
    uint64_t n = 0;
    while ((!bt->o.stop || !*bt->o.stop) && qw_msgsrc_next(src, &it) == QW_OK) {
        switch (it.kind) {
        case QW_MSGSRC_MSG: {
            const qw_msg *m = NULL;
            bt->in.messages++;
            qw_err e = qw_feed_parse(feed, it.msg, it.len, &m);
            if (e == QW_OK) {
                qw_pipeline_on_msg(bt->pl, m, it.recv_ns);
            } else {
                char prod[QW_PRODUCT_MAX];
                size_t pn = qw_feed_guess_product(it.msg, it.len, prod);
                bt->in.rejected++;
                reject_all(bt, e, pn ? prod : NULL);
                if (qw_log_ratelimit(&rl))
                    QW_LOG(WARN, "%s: rejected line (%s): %s", it.path, qw_err_name(e),
                           qw_feed_errmsg(feed));
            }
            if (bt->o.progress && (++n & 4095) == 0)
                qw_progress_draw(&pg, qw_msgsrc_progress(src), bt->in.messages, 0, 0);
            break;
        }
        case QW_MSGSRC_CONNECT:
            qw_feed_reset(feed);
            qw_pipeline_invalidate_all(bt->pl, QW_RESYNC_RECONNECT);
            break;
        case QW_MSGSRC_INPUT: qw_feed_reset(feed); break;
        case QW_MSGSRC_TOO_LONG:
            bt->in.rejected++;
            reject_all(bt, QW_TOO_LARGE, NULL);
            break;
        case QW_MSGSRC_DROPPED:
            bt->in.rejected++;
            reject_all(bt, it.err, NULL);
            break;
        case QW_MSGSRC_OPEN_FAILED:
            QW_LOG(ERROR, "cannot open %s: %s", it.path, qw_strerror(it.err));
            bt->in.failed = 1;
            break;
        case QW_MSGSRC_READ_FAILED:
            QW_LOG(ERROR, "%s: %s", it.path, qw_msgsrc_errmsg(src));
            if (it.err == QW_IO)
                bt->in.failed = 1;
            break;
        }
    }
    qw_msgsrc_stats ss;
    qw_msgsrc_get_stats(src, &ss);
    bt->in.bytes = ss.bytes;
    bt->in.connects = ss.connects;
    bt->in.input_errors = ss.input_errors;
    if (bt->o.progress)
        qw_progress_draw(&pg, 1, bt->in.messages, 0, 1);
    qw_feed_destroy(feed);
    qw_msgsrc_close(src);
    return QW_OK;
}

const qw_bt_input *qw_backtest_input(const qw_backtest *bt)
{
    return &bt->in;
}

size_t qw_backtest_nconfigs(const qw_backtest *bt)
{
    return bt->nruns;
}

int64_t qw_backtest_window_ns(const qw_backtest *bt)
{
    return bt->o.window_ns;
}

uint64_t qw_backtest_memory(const qw_backtest *bt)
{
    uint64_t b = 0;
    for (size_t i = 0; i < bt->nruns; i++)
        b += bt->runs[i].st.cap * sizeof(qw_bt_pt);
    return b;
}

const qw_bt_result *qw_backtest_result(const qw_backtest *bt, size_t i)
{
    return bt->have_results && i < bt->nruns ? &bt->runs[i].res : NULL;
}

/* ---- metrics ---- */

static int64_t window_of(int64_t t, int64_t w)
{
    int64_t q = t / w;
    if (t % w < 0)
        q--;
    return q * w;
}

/* Stable counting partition of src into dst by bucket(src[i]) < nb, with
 * cnt a scratch of nb counts; end[b] of each bucket is left in cnt. */
#define PARTITION(src, dst, n, cnt, nb, BUCKET)                                                    \
    do {                                                                                           \
        memset(cnt, 0, (nb) * sizeof *(cnt));                                                      \
        for (size_t i_ = 0; i_ < (n); i_++)                                                        \
            (cnt)[BUCKET(&(src)[i_])]++;                                                           \
        for (size_t b_ = 0, s_ = 0; b_ < (nb); b_++) {                                             \
            size_t c_ = (cnt)[b_];                                                                 \
            (cnt)[b_] = s_;                                                                        \
            s_ += c_;                                                                              \
        }                                                                                          \
        for (size_t i_ = 0; i_ < (n); i_++)                                                        \
            (dst)[(cnt)[BUCKET(&(src)[i_])]++] = (src)[i_];                                        \
    } while (0)

#define BY_PROD(x) ((x)->prod)
#define BY_WIN(x) ((size_t)((uint64_t)((x)->t_ns - w0) / (uint64_t)w))

/* Windows from the points sorted by time, each then sorted by p: what a
 * window holds and its order when the windows cannot be bucketed. */
static qw_err windows_by_time(qw_backtest *bt, cfg_run *r, qw_bt_pt *scratch, qw_bt_pt *tmp)
{
    size_t n = (size_t)r->n;
    qw_bt_sort_from(r->st.pts, n, scratch, tmp, QW_BT_BY_T);
    int64_t w = bt->o.window_ns;
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        nw += i == 0 || window_of(scratch[i].t_ns, w) != window_of(scratch[i - 1].t_ns, w);
    r->win = qw_calloc(nw ? nw : 1, sizeof *r->win);
    if (!r->win)
        return QW_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int64_t ws = window_of(scratch[i].t_ns, w);
        size_t j = i;
        while (j < n && window_of(scratch[j].t_ns, w) == ws)
            j++;
        r->win[k].start_ns = ws;
        qw_bt_score_tmp(scratch + i, j - i, tmp, &r->win[k].m);
        k++;
        i = j;
    }
    r->res.nwindows = nw;
    return QW_OK;
}

/* Results of one configuration. The reference orders (what sorting a copy
 * of the points gives; the metrics' sums run in that order, so it must be
 * kept exactly): pooled by p, ties in learning order; a product's by p,
 * ties in learning order; a window's by p, ties by time, then learning
 * order (the window's points were sorted by time first). One radix sort by
 * p serves all three: counting partitions of it by product and by window
 * keep the p order within each bucket, and a window's tied p run whose
 * times decrease (learning order is only nearly time order: products
 * label at different moments) is sorted by time, stably. */
static qw_err results_one(qw_backtest *bt, cfg_run *r, qw_bt_pt **scratch, uint64_t most,
                          qw_bt_pt *tmp)
{
    size_t n = (size_t)r->n, np = qw_pipeline_count(bt->pl);
    qw_bt_result *res = &r->res;
    res->labeled = r->labeled;
    res->scored = r->n + r->dropped;
    res->dropped = r->dropped;
    r->prod_m = qw_calloc(np ? np : 1, sizeof *r->prod_m);
    r->prod_names = qw_calloc(np ? np : 1, sizeof *r->prod_names);
    if (!r->prod_m || !r->prod_names)
        return QW_NOMEM;
    /* windows: buckets of w from the first point's window, when there are
     * not many more buckets than points (else sorted by time, from the
     * learning order) */
    int64_t w = bt->o.window_ns, tmin = INT64_MAX, tmax = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        tmin = r->st.pts[i].t_ns < tmin ? r->st.pts[i].t_ns : tmin;
        tmax = r->st.pts[i].t_ns > tmax ? r->st.pts[i].t_ns : tmax;
    }
    int64_t w0 = n && tmin >= 0 ? window_of(tmin, w) : 0;
    uint64_t nb = n && tmin >= 0 ? (uint64_t)(tmax - w0) / (uint64_t)w + 1 : 0;
    int by_time = n && (tmin < 0 || nb > (uint64_t)n + 4096);
    /* The p order goes into the stored points themselves (they are not
     * read again: qw_backtest_write_predictions comes first), unless the
     * windows need their learning order: then into a scratch array.
     * Fresh pages cost their first-touch zeroing (~3 % of a seed run per
     * 24 bytes x points), so the common case allocates none. */
    qw_bt_pt *ps = r->st.pts;
    if (by_time) {
        if (!*scratch) {
            if (!(*scratch = qw_malloc((size_t)most * sizeof **scratch)))
                return QW_NOMEM;
            qw_bt_huge_pages(*scratch, (size_t)most * sizeof **scratch);
        }
        ps = *scratch;
    }
    bt->pts_sorted = 1;
    /* pooled */
    qw_bt_sort_from(r->st.pts, n, ps, tmp, QW_BT_BY_P);
    qw_bt_score_sorted(ps, n, &res->pooled);
    res->nroc = qw_bt_roc(ps, n, r->roc_fpr, r->roc_tpr, QW_BT_ROC_POINTS);
    res->roc_fpr = r->roc_fpr;
    res->roc_tpr = r->roc_tpr;
    /* per product */
    size_t *cnt = qw_malloc((np ? np : 1) * sizeof *cnt);
    if (!cnt)
        return QW_NOMEM;
    PARTITION(ps, tmp, n, cnt, np, BY_PROD);
    for (size_t k = 0, i = 0; k < np; k++) {
        qw_bt_score_sorted(tmp + i, cnt[k] - i, &r->prod_m[k]);
        r->prod_names[k] = qw_pipeline_chain(bt->pl, k)->product;
        i = cnt[k];
    }
    qw_free(cnt);
    res->nproducts = np;
    res->products = r->prod_m;
    res->product_names = r->prod_names;
    if (by_time) {
        qw_err e = windows_by_time(bt, r, *scratch, tmp);
        res->windows = r->win;
        return e;
    }
    cnt = qw_malloc((nb ? nb : 1) * sizeof *cnt);
    if (!cnt)
        return QW_NOMEM;
    PARTITION(ps, tmp, n, cnt, nb, BY_WIN);
    size_t nw = 0;
    for (size_t b = 0; b < nb; b++)
        nw += cnt[b] != (b ? cnt[b - 1] : 0);
    r->win = qw_calloc(nw ? nw : 1, sizeof *r->win);
    if (!r->win) {
        qw_free(cnt);
        return QW_NOMEM;
    }
    for (size_t b = 0, k = 0, i = 0; b < nb; b++) {
        size_t j = cnt[b];
        if (j == i)
            continue;
        for (size_t a = i; a + 1 < j;) { /* tied p runs: by time, stably (ps is free now) */
            size_t e = a + 1, dec = 0;
            while (e < j && tmp[e].p == tmp[a].p) {
                dec |= tmp[e].t_ns < tmp[e - 1].t_ns;
                e++;
            }
            if (dec)
                qw_bt_sort(tmp + a, e - a, ps, QW_BT_BY_T);
            a = e;
        }
        r->win[k].start_ns = w0 + (int64_t)b * w;
        qw_bt_score_sorted(tmp + i, j - i, &r->win[k].m);
        k++;
        i = j;
    }
    qw_free(cnt);
    res->nwindows = nw;
    res->windows = r->win;
    return QW_OK;
}

qw_err qw_backtest_results(qw_backtest *bt)
{
    if (bt->have_results)
        return QW_OK;
    uint64_t most = 1;
    for (size_t i = 0; i < bt->nruns; i++)
        if (bt->runs[i].n > most)
            most = bt->runs[i].n;
    qw_bt_pt *scratch = NULL; /* only for windows sorted by time (results_one) */
    qw_bt_pt *tmp = qw_malloc((size_t)most * sizeof *tmp); /* the radix sorts' other half */
    qw_err e = tmp ? QW_OK : QW_NOMEM;
    if (e == QW_OK)
        qw_bt_huge_pages(tmp, (size_t)most * sizeof *tmp);
    for (size_t i = 0; i < bt->nruns && e == QW_OK; i++)
        e = results_one(bt, &bt->runs[i], &scratch, most, tmp);
    qw_free(scratch);
    qw_free(tmp);
    if (e == QW_OK)
        bt->have_results = 1;
    return e;
}

qw_err qw_backtest_write_predictions(const qw_backtest *bt, const char *path, char *errbuf,
                                     size_t errlen)
{
    if (bt->pts_sorted) { /* qw_backtest_results reordered them */
        snprintf(errbuf, errlen, "the predictions are written before the metrics are computed");
        return QW_INVAL;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        snprintf(errbuf, errlen, "cannot create %s", path);
        return QW_IO;
    }
    fputs("config,product,t_ns,p,y\n", f);
    for (size_t c = 0; c < bt->nruns; c++) {
        const cfg_run *r = &bt->runs[c];
        for (uint64_t i = 0; i < r->n; i++) {
            const qw_bt_pt *pt = &r->st.pts[i];
            fprintf(f, "%zu,%s,%lld,%.17g,%u\n", c, qw_pipeline_chain(bt->pl, pt->prod)->product,
                    (long long)pt->t_ns, pt->p, (unsigned)pt->y);
        }
    }
    int bad = ferror(f);
    bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (bad) {
        snprintf(errbuf, errlen, "write error on %s", path);
        return QW_IO;
    }
    return QW_OK;
}

qw_err qw_backtest_save_model(const qw_backtest *bt, size_t i, const char *path, char *errbuf,
                              size_t errlen)
{
    if (i >= bt->nruns) {
        QW_SETERR(errbuf, errlen, "configuration %zu does not exist (the grid has %zu)", i,
                  bt->nruns);
        return QW_INVAL;
    }
    /* a pipeline with configuration i's options and this run's products,
     * lent the heads' models for the write (pipeline/models.c writes them
     * as a pipeline's, configuration included), then given its own back */
    const qw_bt_config *c = &bt->runs[i].res.cfg;
    qw_pipeline_opts po = {
        .labeler = bt->runs[i].lab_opts, .model = {.alpha = c->alpha}, .features = c->features};
    qw_pipeline *p = NULL;
    qw_err e = qw_pipeline_create(&p, &po);
    size_t n = qw_pipeline_count(bt->pl);
    for (size_t k = 0; e == QW_OK && k < n; k++)
        e = qw_pipeline_add_product(p, qw_pipeline_chain(bt->pl, k)->product);
    if (e != QW_OK) {
        qw_pipeline_destroy(p);
        QW_SETERR(errbuf, errlen, "save model: %s", qw_strerror(e));
        return e;
    }
    for (size_t k = 0; k < n; k++)
        bt->hs[k * bt->nruns + i].clf = qw_pipeline_swap_model(p, k, bt->hs[k * bt->nruns + i].clf);
    e = qw_pipeline_save_models(p, path, errbuf, errlen);
    for (size_t k = 0; k < n; k++)
        bt->hs[k * bt->nruns + i].clf = qw_pipeline_swap_model(p, k, bt->hs[k * bt->nruns + i].clf);
    qw_pipeline_destroy(p);
    return e;
}

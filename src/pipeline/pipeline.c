/* pipeline.c: the multi-product router and each product's chain.
 *
 * Products live in a flat array in order of first appearance (so output
 * order is stable) with an open-addressing hash (FNV-1a, linear probing,
 * power-of-two table at most half full) from product id to index.
 *
 * Applying a book group is all-or-nothing per product: every level is
 * checked (price > 0) and room is reserved before the first change lands,
 * so a refused group leaves the book exactly as it was (and flagged).
 * Snapshot levels are split into bid/ask arrays in scratch space owned by
 * the pipeline, grown on demand (warm-up only).
 */
#include "pipeline/pipeline.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file.h"
#include "core/log.h"

#undef QW_MODULE
#define QW_MODULE "pipeline"

struct qw_pipeline {
    qw_pipeline_opts opts;
    qw_pipeline_stats st;
    qw_chain *chains;
    size_t nchains;
    uint32_t *slots; /* index + 1; 0 = empty */
    size_t nslots;
    qw_level *snap[2];
    size_t snap_cap[2];
    int64_t last_t_ns;
    qw_model_origin origin; /* pipeline/models.c */
};

static const char *const resync_names[QW__RESYNC_COUNT] = {"gap",      "reconnect", "crossed",
                                                           "rejected", "error",     "book"};

const char *qw_resync_reason_name(qw_resync_reason r)
{
    return (unsigned)r < QW__RESYNC_COUNT ? resync_names[r] : "unknown";
}

/* Whether auto_add may create a chain for this product (opts.only). */
static int wanted(const qw_pipeline *p, const char *product, size_t len)
{
    for (size_t i = 0; i < p->opts.nonly; i++)
        if (strlen(p->opts.only[i]) == len && memcmp(p->opts.only[i], product, len) == 0)
            return 1;
    return p->opts.nonly == 0;
}

qw_err qw_pipeline_create(qw_pipeline **out, const qw_pipeline_opts *opts)
{
    qw_pipeline *p = qw_calloc(1, sizeof *p);
    if (!p)
        return QW_NOMEM;
    if (opts)
        p->opts = *opts;
    if (!p->opts.max_products)
        p->opts.max_products = 4096;
    if (!p->opts.trades_ring)
        p->opts.trades_ring = 1024;
    p->opts.model.n_features = qw_featset_size(&p->opts.features);
    p->nslots = 16;
    while (p->nslots < p->opts.max_products * 2)
        p->nslots *= 2;
    p->slots = qw_calloc(p->nslots, sizeof *p->slots);
    p->chains = qw_calloc(p->opts.max_products, sizeof *p->chains);
    if (!p->slots || !p->chains) {
        qw_pipeline_destroy(p);
        return QW_NOMEM;
    }
    *out = p;
    return QW_OK;
}

void qw_pipeline_destroy(qw_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nchains; i++) {
        qw_book_destroy(p->chains[i].book);
        qw_trades_destroy(p->chains[i].trades);
        qw_extractor_destroy(p->chains[i].ex);
        qw_labeler_destroy(p->chains[i].lab);
        qw_classifier_destroy(p->chains[i].clf);
    }
    qw_free(p->chains);
    qw_free(p->slots);
    qw_free(p->snap[0]);
    qw_free(p->snap[1]);
    qw_free(p);
}

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

qw_err qw_pipeline_product(qw_pipeline *p, const char *product, size_t len, size_t *idx)
{
    size_t mask = p->nslots - 1, i = fnv1a(product, len) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t s = p->slots[i];
        if (!s)
            break;
        qw_chain *c = &p->chains[s - 1];
        if (strlen(c->product) == len && memcmp(c->product, product, len) == 0) {
            *idx = s - 1;
            return QW_OK;
        }
    }
    if (!p->opts.auto_add || !wanted(p, product, len))
        return QW_NOT_FOUND;
    if (p->nchains >= p->opts.max_products || !qw_feed_product_ok(product, len))
        return p->nchains >= p->opts.max_products ? QW_TOO_MANY_PRODUCTS : QW_BAD_PRODUCT;
    qw_chain *c = &p->chains[p->nchains];
    memset(c, 0, sizeof *c);
    memcpy(c->product, product, len);
    c->product[len] = '\0';
    const qw_heads *h = p->opts.heads;
    qw_err e = qw_book_create(&c->book, &p->opts.book);
    if (e == QW_OK)
        e = qw_trades_create(&c->trades, p->opts.trades_ring);
    if (e == QW_OK && h)
        e = h->add(h->ctx, p->nchains);
    else if (e == QW_OK)
        e = qw_extractor_create(
            &c->ex, &(qw_extractor_opts){.extended = qw_featset_extended(&p->opts.features)});
    if (e == QW_OK && !h)
        e = qw_labeler_create(&c->lab, &p->opts.labeler);
    if (e == QW_OK && !h)
        e = qw_classifier_create(&c->clf, &p->opts.model);
    if (e != QW_OK) {
        qw_book_destroy(c->book);
        qw_trades_destroy(c->trades);
        qw_extractor_destroy(c->ex);
        qw_labeler_destroy(c->lab);
        qw_classifier_destroy(c->clf);
        memset(c, 0, sizeof *c);
        return e;
    }
    c->p = NAN;
    c->stability = NAN;
    c->needs_resync = 1; /* no snapshot yet */
    p->slots[i] = (uint32_t)(p->nchains + 1);
    *idx = p->nchains++;
    return QW_OK;
}

static void flag(qw_pipeline *p, qw_chain *c, qw_resync_reason why)
{
    /* no label may span an untrusted book; returns across it are not real */
    if (p->opts.heads) {
        p->opts.heads->flag(p->opts.heads->ctx, (size_t)(c - p->chains));
    } else {
        qw_labeler_drop_all(c->lab);
        qw_extractor_reset(c->ex);
    }
    c->has_features = 0;
    if (!c->needs_resync) { /* count transitions, not repeats */
        c->st.resyncs++;
        c->st.resyncs_by[why]++;
    }
    c->needs_resync = 1;
}

void qw_pipeline_invalidate_all(qw_pipeline *p, qw_resync_reason why)
{
    for (size_t i = 0; i < p->nchains; i++) {
        if (why == QW_RESYNC_GAP)
            p->chains[i].st.gaps++;
        flag(p, &p->chains[i], why);
    }
}

static qw_err grow_snap(qw_pipeline *p, int side, size_t n)
{
    if (n <= p->snap_cap[side])
        return QW_OK;
    size_t cap = p->snap_cap[side] ? p->snap_cap[side] : 1024;
    while (cap < n)
        cap *= 2;
    qw_level *a = qw_realloc(p->snap[side], cap * sizeof *a);
    if (!a)
        return QW_NOMEM;
    p->snap[side] = a;
    p->snap_cap[side] = cap;
    return QW_OK;
}

typedef struct emit_ctx {
    qw_pipeline *p;
    qw_chain *c;
} emit_ctx;

static void learn(void *ctx, const qw_labeled *s)
{
    emit_ctx *e = ctx;
    /* scaler.partial_fit(x) then clf.partial_fit(...): inside learn() */
    double x[QW_NFEATURES_ALL];
    qw_featset_gather(&e->p->opts.features, s->s.f.x, x);
    if (qw_classifier_learn(e->c->clf, x, s->label, s->s.p) != QW_OK)
        QW_LOG(DEBUG, "%s: sample not learned (non-finite features)", e->c->product);
    if (e->p->opts.on_labeled)
        e->p->opts.on_labeled(e->p->opts.on_labeled_ctx, e->c, s);
}

/* Feed time reached t: label what Δ has passed, with the mid in force. */
static void advance(qw_pipeline *p, qw_chain *c, int64_t t)
{
    if (p->opts.heads) {
        p->opts.heads->advance(p->opts.heads->ctx, (size_t)(c - p->chains), t);
        return;
    }
    if (!c->has_features || !qw_labeler_pending(c->lab))
        return;
    emit_ctx e = {p, c};
    qw_labeler_advance(c->lab, t, c->feat.mid, learn, &e);
}

void qw_pipeline_advance_time(qw_pipeline *p, int64_t now_ns)
{
    for (size_t i = 0; i < p->nchains; i++) {
        qw_chain *c = &p->chains[i];
        if (!c->needs_resync && c->has_snapshot && now_ns > c->last_t_ns)
            advance(p, c, now_ns);
    }
}

/* After a complete update of a valid book: features, prediction, sample. */
static void observe(qw_pipeline *p, qw_chain *c, int64_t t)
{
    if (p->opts.heads) {
        int ok = !c->needs_resync && c->has_snapshot;
        p->opts.heads->observe(p->opts.heads->ctx, (size_t)(c - p->chains), ok ? c->book : NULL, t);
        return;
    }
    if (c->needs_resync || !c->has_snapshot) {
        c->has_features = 0;
        return;
    }
    if (!qw_extractor_update(c->ex, c->book, t, &c->feat)) {
        c->has_features = 0;
        return;
    }
    c->has_features = 1;
    if (t <= 0)
        return; /* feed time unknown (e.g. an Exchange snapshot before any update) */
    qw_sample s;
    s.f = c->feat;
    s.stability = c->stability = qw_stability_score(&c->feat);
    s.n_learned = qw_classifier_labeled(c->clf);
    double x[QW_NFEATURES_ALL];
    qw_featset_gather(&p->opts.features, c->feat.x, x);
    if (qw_classifier_predict(c->clf, x, &s.p) != QW_OK)
        s.p = NAN;
    c->p = s.p;
    if (!isnan(s.p)) {
        c->predictions++;
        p->st.predictions++;
    }
    qw_labeler_push(c->lab, &s);
    if (p->opts.on_sample)
        p->opts.on_sample(p->opts.on_sample_ctx, c, &s);
}

static void apply_group(qw_pipeline *p, const qw_msg *m, const qw_group *g)
{
    size_t idx;
    qw_err e = qw_pipeline_product(p, g->product, g->product_len, &idx);
    if (e != QW_OK) {
        p->st.unknown_product++;
        return;
    }
    qw_chain *c = &p->chains[idx];
    const qw_chg *ch = m->chg + g->first;
    int64_t t = g->t_ns ? g->t_ns : (c->last_t_ns ? c->last_t_ns : p->last_t_ns);
    size_t n[2] = {0, 0};
    for (uint32_t i = 0; i < g->count; i++)
        n[ch[i].side]++;
    if (!p->opts.books_only)
        advance(p, c, t);

    if (g->kind == QW_GRP_SNAPSHOT) {
        if ((e = grow_snap(p, 0, n[0])) != QW_OK || (e = grow_snap(p, 1, n[1])) != QW_OK)
            goto refused;
        size_t k[2] = {0, 0};
        for (uint32_t i = 0; i < g->count; i++)
            p->snap[ch[i].side][k[ch[i].side]++] = (qw_level){ch[i].px, ch[i].sz};
        if ((e = qw_book_snapshot(c->book, p->snap[0], n[0], p->snap[1], n[1])) != QW_OK)
            goto refused;
        c->st.snapshots++;
        c->has_snapshot = 1;
        c->needs_resync = 0;
    } else {
        for (uint32_t i = 0; i < g->count; i++)
            if (ch[i].px <= 0 || ch[i].sz < 0) {
                e = QW_BAD_BOOK;
                goto refused;
            }
        if ((e = qw_book_reserve(c->book, QW_BID, n[0])) != QW_OK ||
            (e = qw_book_reserve(c->book, QW_ASK, n[1])) != QW_OK)
            goto refused;
        for (uint32_t i = 0; i < g->count; i++)
            qw_book_set(c->book, (qw_side)ch[i].side, ch[i].px, ch[i].sz); /* cannot fail now */
        c->st.book_updates++;
        c->st.changes += g->count;
        if (c->needs_resync)
            c->st.updates_while_invalid++;
    }
    c->last_t_ns = t;
    if (t > p->last_t_ns)
        p->last_t_ns = t;
    if (qw_book_crossed(c->book)) {
        c->st.crossed++;
        flag(p, c, QW_RESYNC_CROSSED);
    }
    if (!p->opts.books_only)
        observe(p, c, t);
    return;
refused:
    c->st.rejected++;
    flag(p, c, QW_RESYNC_BOOK);
    QW_LOG(DEBUG, "book refused group for %s: %s", c->product, qw_strerror(e));
}

void qw_pipeline_on_msg(qw_pipeline *p, const qw_msg *m, int64_t recv_ns)
{
    (void)recv_ns;
    p->st.messages++;
    p->st.times_repaired += m->times_repaired;
    if (m->seq_restart) {
        p->st.seq_restarts++;
        qw_pipeline_invalidate_all(p, QW_RESYNC_RECONNECT);
    }
    if (m->gap) {
        p->st.gaps++;
        qw_pipeline_invalidate_all(p, QW_RESYNC_GAP);
    }
    switch (m->type) {
    case QW_MSG_BOOK:
        p->st.book_msgs++;
        for (size_t i = 0; i < m->ngroups; i++)
            apply_group(p, m, &m->groups[i]);
        break;
    case QW_MSG_TRADES:
        p->st.trade_msgs++;
        for (size_t i = 0; i < m->ntrades; i++) {
            const qw_trade *t = &m->trades[i];
            size_t idx;
            if (qw_pipeline_product(p, t->product, t->product_len, &idx) != QW_OK) {
                p->st.unknown_product++;
                continue;
            }
            qw_chain *c = &p->chains[idx];
            qw_trade_rec r = {
                .t_ns = t->t_ns, .px = t->px, .sz = t->sz, .aggressor = (qw_side)t->aggressor};
            memcpy(r.trade_id, t->trade_id, sizeof r.trade_id);
            qw_trades_push(c->trades, &r);
            c->st.trades++;
            if (t->snapshot)
                continue;
            if (p->opts.heads)
                p->opts.heads->trade(p->opts.heads->ctx, idx, t->t_ns, t->aggressor == QW_FEED_BID,
                                     t->sz);
            else
                qw_extractor_trade(c->ex, t->t_ns, t->aggressor == QW_FEED_BID, t->sz);
        }
        break;
    case QW_MSG_HEARTBEAT:
        p->st.heartbeats++;
        for (size_t i = 0; i < m->ngroups; i++) {
            size_t idx;
            if (qw_pipeline_product(p, m->groups[i].product, m->groups[i].product_len, &idx) ==
                QW_OK)
                p->chains[idx].st.heartbeats++;
        }
        break;
    case QW_MSG_SUBSCRIPTIONS: p->st.subscriptions++; break;
    case QW_MSG_ERROR:
        p->st.errors++;
        memcpy(p->st.last_error, m->text, sizeof p->st.last_error);
        qw_pipeline_invalidate_all(p, QW_RESYNC_ERROR);
        break;
    case QW_MSG_IGNORED:
        p->st.ignored++;
        if (m->unknown_type)
            p->st.unknown_types++;
        break;
    }
}

void qw_pipeline_on_reject(qw_pipeline *p, qw_err reason, const char *product)
{
    size_t idx;
    p->st.messages++;
    p->st.rejected++;
    if ((unsigned)reason < QW__ERR_COUNT)
        p->st.rejected_by[reason]++;
    if (!product || !product[0])
        return;
    /* Only existing chains: a garbage line must not create products. */
    int save = p->opts.auto_add;
    p->opts.auto_add = 0;
    qw_err e = qw_pipeline_product(p, product, strlen(product), &idx);
    p->opts.auto_add = save;
    if (e != QW_OK)
        return;
    p->chains[idx].st.rejected++;
    flag(p, &p->chains[idx], QW_RESYNC_REJECTED);
}

size_t qw_pipeline_count(const qw_pipeline *p)
{
    return p->nchains;
}

const qw_chain *qw_pipeline_chain(const qw_pipeline *p, size_t idx)
{
    return idx < p->nchains ? &p->chains[idx] : NULL;
}

const qw_featset *qw_pipeline_featset(const qw_pipeline *p)
{
    return &p->opts.features;
}

const qw_pipeline_stats *qw_pipeline_get_stats(const qw_pipeline *p)
{
    return &p->st;
}

qw_err qw_pipeline_add_product(qw_pipeline *p, const char *product)
{
    size_t idx;
    int save = p->opts.auto_add;
    p->opts.auto_add = 1;
    qw_err e = qw_pipeline_product(p, product, strlen(product), &idx);
    p->opts.auto_add = save;
    return e;
}

qw_err qw_pipeline_ingest(qw_pipeline *p, qw_feed *f, const char *buf, size_t len, int64_t recv_ns,
                          const qw_msg **out)
{
    const qw_msg *m = NULL;
    qw_err e = qw_feed_parse(f, buf, len, &m);
    if (e == QW_OK) {
        qw_pipeline_on_msg(p, m, recv_ns);
    } else {
        char prod[QW_PRODUCT_MAX];
        size_t n = qw_feed_guess_product(buf, len, prod);
        qw_pipeline_on_reject(p, e, n ? prod : NULL);
    }
    if (out)
        *out = m;
    return e;
}

/* ---- model hand-over (pipeline/models.c) ---- */
qw_classifier *qw_pipeline_swap_model(qw_pipeline *p, size_t idx, qw_classifier *clf)
{
    qw_classifier *old = p->chains[idx].clf;
    p->chains[idx].clf = clf;
    return old;
}

const qw_pipeline_opts *qw_pipeline_get_opts(const qw_pipeline *p)
{
    return &p->opts;
}

qw_model_origin *qw_pipeline_origin(qw_pipeline *p)
{
    return &p->origin;
}

const qw_model_origin *qw_pipeline_get_origin(const qw_pipeline *p)
{
    return &p->origin;
}

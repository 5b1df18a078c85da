/* state.c: the dashboard's state JSON, Prometheus text and readiness,
 * written into reused buffers (no allocation per tick once warm). The
 * builders run on the owner thread (they read the pipeline), except
 * qw__dash_build_metrics_server: the server's own families (dashboard.h
 * "Threads"). */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/dec.h"
#include "core/time.h"
#include "core/version.h"
#include "dashboard/dash_int.h"
#include "model/model.h"
#include "pipeline/models.h"
#include "storage/tables.h"

/* ---- buffer ---- */

void qw__dbuf_reset(qw_dbuf *d, size_t pre)
{
    d->pre = pre;
    d->n = 0;
    d->oom = 0;
}

static int grow(qw_dbuf *d, size_t more)
{
    if (d->oom)
        return -1;
    if (d->pre + d->n + more + 1 <= d->cap)
        return 0;
    size_t nc = d->cap ? d->cap : 8192;
    while (nc < d->pre + d->n + more + 1)
        nc *= 2;
    char *nb = qw_realloc(d->b, nc);
    if (!nb) {
        d->oom = 1;
        return -1;
    }
    d->b = nb;
    d->cap = nc;
    return 0;
}

int qw__dbuf_reserve(qw_dbuf *d, size_t more)
{
    return grow(d, more);
}

void qw__dbuf_put(qw_dbuf *d, const char *s, size_t n)
{
    if (grow(d, n) != 0)
        return;
    memcpy(d->b + d->pre + d->n, s, n);
    d->n += n;
    d->b[d->pre + d->n] = '\0';
}

void qw__dbuf_printf(qw_dbuf *d, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0)
        qw__dbuf_put(d, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

void qw__dbuf_str(qw_dbuf *d, const char *s)
{
    qw__dbuf_put(d, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            qw__dbuf_put(d, e, 2);
        } else if (*p < 0x20) {
            qw__dbuf_printf(d, "\\u%04x", *p);
        } else {
            qw__dbuf_put(d, (const char *)p, 1);
        }
    }
    qw__dbuf_put(d, "\"", 1);
}

void qw__dbuf_num(qw_dbuf *d, double v)
{
    if (isfinite(v))
        qw__dbuf_printf(d, "%.10g", v);
    else
        qw__dbuf_put(d, "null", 4);
}

void qw__dbuf_free(qw_dbuf *d)
{
    qw_free(d->b);
    memset(d, 0, sizeof *d);
}

static void dec(qw_dbuf *d, int64_t v)
{
    char b[40];
    size_t n = qw_dec_format(v, b);
    qw__dbuf_put(d, "\"", 1);
    qw__dbuf_put(d, b, n);
    qw__dbuf_put(d, "\"", 1);
}

static void sz(qw_dbuf *d, qw_sz v)
{
    char b[QW_SZ_STR_MAX];
    size_t n = qw_sz_format(v, b);
    qw__dbuf_put(d, "\"", 1);
    qw__dbuf_put(d, b, n);
    qw__dbuf_put(d, "\"", 1);
}

/* ---- state ---- */

static void levels(qw_dbuf *d, const qw_book *b, qw_side side)
{
    qw_level top[10];
    size_t n = qw_book_top(b, side, top, 10);
    qw__dbuf_put(d, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            qw__dbuf_put(d, ",", 1);
        qw__dbuf_put(d, "[", 1);
        dec(d, top[i].px);
        qw__dbuf_put(d, ",", 1);
        sz(d, top[i].sz);
        qw__dbuf_put(d, "]", 1);
    }
    qw__dbuf_put(d, "]", 1);
}

/* ,"mid":..,"spread":..,"spread_bps":.. of a best bid and ask (NULL: none). */
static void mid_spread(qw_dbuf *d, const qw_level *bb, const qw_level *ba)
{
    double bid = bb ? (double)bb->px / 1e8 : NAN, ask = ba ? (double)ba->px / 1e8 : NAN;
    double mid = (bid + ask) / 2;
    qw__dbuf_put(d, ",\"mid\":", 7);
    qw__dbuf_num(d, mid);
    qw__dbuf_put(d, ",\"spread\":", 10);
    if (bb && ba)
        dec(d, ba->px - bb->px);
    else
        qw__dbuf_put(d, "null", 4);
    qw__dbuf_put(d, ",\"spread_bps\":", 14);
    qw__dbuf_num(d, (ask - bid) / mid * 1e4);
}

/* The product's line of the light summary every subscribed client gets. */
static void summary_json(qw_dbuf *d, const qw_chain *c, int first)
{
    qw_level bb, ba;
    int hb = qw_book_best(c->book, QW_BID, &bb), ha = qw_book_best(c->book, QW_ASK, &ba);
    qw__dbuf_put(d, first ? "{\"product\":" : ",{\"product\":", first ? 11 : 12);
    qw__dbuf_str(d, c->product);
    mid_spread(d, hb ? &bb : NULL, ha ? &ba : NULL);
    qw__dbuf_printf(d, ",\"last_t_ns\":%lld,\"valid\":%s,\"needs_resync\":%s}",
                    (long long)c->last_t_ns, c->has_snapshot && !c->needs_resync ? "true" : "false",
                    c->needs_resync ? "true" : "false");
}

static void product_json(qw_dash *dh, qw_dbuf *d, const qw_chain *c, dash_ix_prod *ix)
{
    if (ix) {
        memset(ix, 0, sizeof *ix);
        snprintf(ix->product, sizeof ix->product, "%s", c->product);
        ix->off = d->n;
    }
    qw_level bb, ba;
    int hb = qw_book_best(c->book, QW_BID, &bb), ha = qw_book_best(c->book, QW_ASK, &ba);
    int valid = c->has_snapshot && !c->needs_resync;
    qw__dbuf_printf(d, "{\"product\":");
    qw__dbuf_str(d, c->product);
    qw__dbuf_printf(d, ",\"valid\":%s,\"needs_resync\":%s,\"best_bid\":", valid ? "true" : "false",
                    c->needs_resync ? "true" : "false");
    if (hb)
        dec(d, bb.px);
    else
        qw__dbuf_put(d, "null", 4);
    qw__dbuf_put(d, ",\"best_ask\":", 12);
    if (ha)
        dec(d, ba.px);
    else
        qw__dbuf_put(d, "null", 4);
    mid_spread(d, hb ? &bb : NULL, ha ? &ba : NULL);
    qw__dbuf_printf(d, ",\"bid_levels\":%zu,\"ask_levels\":%zu,\"last_t_ns\":%lld,\"bids\":",
                    qw_book_depth(c->book, QW_BID), qw_book_depth(c->book, QW_ASK),
                    (long long)c->last_t_ns);
    levels(d, c->book, QW_BID);
    qw__dbuf_put(d, ",\"asks\":", 8);
    levels(d, c->book, QW_ASK);
    qw__dbuf_put(d, ",\"trades\":[", 11);
    size_t nt = qw_trades_count(c->trades);
    for (size_t i = 0; i < nt && i < 20; i++) {
        const qw_trade_rec *t = qw_trades_get(c->trades, i);
        qw__dbuf_printf(d, "%s{\"t_ns\":%lld,\"price\":", i ? "," : "", (long long)t->t_ns);
        dec(d, t->px);
        qw__dbuf_put(d, ",\"size\":", 8);
        sz(d, t->sz);
        qw__dbuf_printf(d, ",\"aggressor\":\"%s\"}", t->aggressor == QW_BID ? "buy" : "sell");
    }
    qw__dbuf_put(d, "],\"features\":", 13);
    qw__dash_features_json(d, dh->p, c->has_features ? &c->feat : NULL);
    qw__dbuf_put(d, ",\"p\":", 5);
    qw__dbuf_num(d, c->p);
    qw__dbuf_put(d, ",\"stability\":", 13);
    qw__dbuf_num(d, c->stability);
    qw_classifier_stats cs;
    qw_classifier_stats_get(c->clf, &cs);
    const qw_sgd *sg = qw_classifier_sgd(c->clf);
    qw__dbuf_printf(
        d,
        ",\"model\":{\"ready\":%s,\"labeled\":%llu,\"positives\":%llu,\"class_counts\":[%llu,%llu],"
        "\"min_per_class\":%u,\"predictions\":%llu,\"scored\":%llu,\"window\":%zu,"
        "\"window_fill\":%zu,\"rolling_accuracy\":",
        cs.ready ? "true" : "false", (unsigned long long)cs.labeled,
        (unsigned long long)cs.positives, (unsigned long long)cs.n_class[0],
        (unsigned long long)cs.n_class[1], cs.min_per_class, (unsigned long long)c->predictions,
        (unsigned long long)cs.scored, cs.window, cs.window_fill);
    qw__dbuf_num(d, cs.rolling_accuracy);
    qw__dbuf_put(d, ",\"base_rate\":", 13);
    qw__dbuf_num(d, cs.base_rate_window);
    qw__dbuf_put(d, ",\"coef\":[", 9);
    const double *coef = qw_sgd_coef(sg);
    for (size_t i = 0; i < qw_sgd_n_features(sg); i++) {
        if (i)
            qw__dbuf_put(d, ",", 1);
        qw__dbuf_num(d, coef[i]);
    }
    qw__dbuf_put(d, "],\"intercept\":", 14);
    qw__dbuf_num(d, qw_sgd_intercept(sg));
    const dash_prod *dp = qw__dash_prod(dh, c->product, 0);
    qw__dbuf_put(d, ",\"recent\":", 10);
    if (dp)
        qw__dash_mstat_json(&dp->ms, d);
    else
        qw__dbuf_put(d, "null", 4);
    qw__dbuf_printf(d, "},\"labels_total\":%llu,\"labels\":[",
                    (unsigned long long)(dp ? dp->total : 0));
    if (ix) {
        ix->lab_off = d->n;
        ix->lab_seq = dp ? dp->total : 0;
        ix->nlab = dp ? dp->nlab : 0;
    }
    if (dp) {
        for (size_t i = 0; i < dp->nlab; i++) {
            const dash_label *l =
                &dp->lab[(dp->head + QW_DASH_LABELS - dp->nlab + i) % QW_DASH_LABELS];
            if (ix)
                ix->lab_at[i] = d->n;
            qw__dbuf_printf(d, "%s{\"t_ns\":%lld,\"label\":%d,\"p\":", i ? "," : "",
                            (long long)l->t_ns, l->label);
            qw__dbuf_num(d, l->p);
            qw__dbuf_put(d, "}", 1);
        }
    }
    if (ix)
        ix->lab_end = d->n;
    const qw_chain_stats *s = &c->st;
    qw__dbuf_printf(
        d,
        "],\"counters\":{\"book_updates\":%llu,\"trades\":%llu,\"snapshots\":%llu,\"resyncs\":%llu,"
        "\"gaps\":%llu,\"crossed\":%llu,\"rejected\":%llu}}",
        (unsigned long long)s->book_updates, (unsigned long long)s->trades,
        (unsigned long long)s->snapshots, (unsigned long long)s->resyncs,
        (unsigned long long)s->gaps, (unsigned long long)s->crossed,
        (unsigned long long)s->rejected);
    if (ix)
        ix->end = d->n;
}

static void update_rate(qw_dash *dh, int64_t now)
{
    uint64_t m = dh->live ? dh->live->messages : dh->p ? qw_pipeline_get_stats(dh->p)->messages : 0;
    if (!dh->rate_ns) {
        dh->rate_ns = now;
        dh->rate_msgs = m;
    } else if (now - dh->rate_ns >= QW_NS_PER_SEC) {
        dh->msg_rate = (double)(m - dh->rate_msgs) * 1e9 / (double)(now - dh->rate_ns);
        dh->rate_ns = now;
        dh->rate_msgs = m;
    }
}

/* "model_origin": the model file the models came from (null when none was
 * loaded) and the hot-reload counters (docs/DASHBOARD.md). */
static void model_origin_json(qw_dbuf *d, const qw_pipeline *p)
{
    const qw_model_origin *o = p ? qw_pipeline_get_origin(p) : NULL;
    qw__dbuf_put(d, ",\"model_origin\":", 16);
    if (!o || !o->loaded) {
        qw__dbuf_put(d, "null", 4);
        return;
    }
    time_t secs = (time_t)(o->loaded_at_ns / 1000000000LL);
    struct tm tm;
    char at[32];
    gmtime_r(&secs, &tm);
    size_t k = strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(at + k, sizeof at - k, ".%03dZ", (int)(o->loaded_at_ns / 1000000 % 1000));
    qw__dbuf_put(d, "{\"path\":", 8);
    qw__dbuf_str(d, o->path);
    qw__dbuf_printf(d, ",\"checksum\":\"%08x\",\"version\":%d,\"config\":", (unsigned)o->crc,
                    o->version);
    qw__dbuf_str(d, o->config);
    qw__dbuf_printf(d,
                    ",\"loaded_at\":\"%s\",\"learned_since_load\":%llu,\"reloads_ok\":%llu,"
                    "\"reloads_error\":%llu}",
                    at, (unsigned long long)qw_models_learned_since_load(p),
                    (unsigned long long)o->reloads_ok, (unsigned long long)o->reloads_error);
}

/* The product shard (live --shard I/N): metrics 0: the state's
 * ,"shard":{"index":I,"count":N,"products":[this shard's products]} (null
 * when not sharded); metrics 1: the quotewatch_shard_index and
 * quotewatch_shard_count gauges (0 and 1 when not sharded). */
static void metric(qw_dbuf *d, const char *name, const char *type, const char *help);
static void shard_out(const qw_dash *dh, qw_dbuf *d, int metrics)
{
    int n = dh->o.shard_n, i = n ? dh->o.shard_i : 0;
    if (metrics) {
        metric(d, "quotewatch_shard_index", "gauge", "This process's product shard (--shard I/N).");
        qw__dbuf_printf(d, "quotewatch_shard_index %d\n", i);
        metric(d, "quotewatch_shard_count", "gauge", "Product shards N (--shard I/N; 1: none).");
        qw__dbuf_printf(d, "quotewatch_shard_count %d\n", n ? n : 1);
        return;
    }
    if (!n) {
        qw__dbuf_put(d, ",\"shard\":null", 13);
        return;
    }
    qw__dbuf_printf(d, ",\"shard\":{\"index\":%d,\"count\":%d,\"products\":[", i, n);
    for (size_t k = 0; dh->p && k < qw_pipeline_count(dh->p); k++) {
        if (k)
            qw__dbuf_put(d, ",", 1);
        qw__dbuf_str(d, qw_pipeline_chain(dh->p, k)->product);
    }
    qw__dbuf_put(d, "]}", 2);
}

void qw__dash_build_state(qw_dash *dh, qw_dbuf *d, dash_ix *ix)
{
    qw__dbuf_reset(d, QW_DASH_PRE); /* headroom for lws_write */
    int64_t now = qw_now_mono_ns();
    update_rate(dh, now);
    const qw_pipeline_stats *ps = dh->p ? qw_pipeline_get_stats(dh->p) : NULL;
    /* feed (exchange) time: the newest message time any product has seen */
    int64_t feed_t = 0;
    for (size_t i = 0; dh->p && i < qw_pipeline_count(dh->p); i++) {
        const qw_chain *c = qw_pipeline_chain(dh->p, i);
        if (c->last_t_ns > feed_t)
            feed_t = c->last_t_ns;
        if (qw_trades_count(c->trades) && qw_trades_get(c->trades, 0)->t_ns > feed_t)
            feed_t = qw_trades_get(c->trades, 0)->t_ns;
    }
    qw__dbuf_printf(d, "{\"mode\":\"%s\",\"server_time_ns\":%lld", dh->mode,
                    (long long)qw_now_wall_ns());
    qw__dash_feature_set_json(d, dh->p);
    qw__dbuf_put(d, ",\"feed_time_ns\":", 16);
    if (feed_t > 0)
        qw__dbuf_printf(d, "%lld", (long long)feed_t);
    else
        qw__dbuf_put(d, "null", 4);
    qw__dbuf_put(d, ",\"feed\":{", 9);
    if (dh->live) {
        const qw_live_stats *l = dh->live;
        qw__dbuf_printf(d,
                        "\"state\":\"%s\",\"connects\":%llu,\"reconnects\":%llu,\"messages\":%llu,",
                        qw_ws_state_name(l->state), (unsigned long long)l->connects,
                        (unsigned long long)l->reconnects, (unsigned long long)l->messages);
        qw__dbuf_put(d, "\"last_message_age_s\":", 21);
        qw__dbuf_num(d, l->last_msg_mono_ns ? (double)(now - l->last_msg_mono_ns) / 1e9 : NAN);
        qw__dbuf_put(d, ",\"last_error\":", 14);
        qw__dbuf_str(d, l->last_error);
        qw__dbuf_put(d, ",", 1);
    } else {
        qw__dbuf_printf(d, "\"state\":\"%s\",\"messages\":%llu,", dh->replay_state,
                        (unsigned long long)(ps ? ps->messages : 0));
    }
    qw__dbuf_put(d, "\"messages_per_s\":", 17);
    qw__dbuf_num(d, dh->msg_rate);
    uint64_t resyncs = 0;
    for (size_t i = 0; dh->p && i < qw_pipeline_count(dh->p); i++)
        resyncs += qw_pipeline_chain(dh->p, i)->st.resyncs;
    qw__dbuf_printf(d, ",\"rejected\":%llu,\"gaps\":%llu,\"resyncs\":%llu},\"latency_us\":",
                    (unsigned long long)(ps ? ps->rejected : 0),
                    (unsigned long long)(ps ? ps->gaps : 0), (unsigned long long)resyncs);
    if (dh->live) {
        const qw_hist *h = &dh->live->latency;
        qw__dbuf_printf(d, "{\"count\":%llu,\"p50\":", (unsigned long long)h->count);
        qw__dbuf_num(d, (double)qw_hist_quantile(h, 0.5) / 1e3);
        qw__dbuf_put(d, ",\"p99\":", 7);
        qw__dbuf_num(d, (double)qw_hist_quantile(h, 0.99) / 1e3);
        qw__dbuf_put(d, ",\"p999\":", 8);
        qw__dbuf_num(d, (double)qw_hist_quantile(h, 0.999) / 1e3);
        qw__dbuf_put(d, "}", 1);
    } else {
        qw__dbuf_put(d, "null", 4);
    }
    qw__dbuf_put(d, ",\"persistence\":", 15);
    {
        char sj[2048];
        size_t n = qw_store_stats_json(dh->store, sj, sizeof sj);
        qw__dbuf_put(d, sj, n < sizeof sj ? n : 0);
        if (n >= sizeof sj)
            qw__dbuf_put(d, "{\"enabled\":false}", 17); /* cannot happen: ~600 bytes */
    }
    model_origin_json(d, dh->p);
    shard_out(dh, d, 0);
    qw__dbuf_put(d, ",", 1);
    size_t np = dh->p ? qw_pipeline_count(dh->p) : 0;
    if (ix && ix->cap < np) { /* out of memory: the products past cap are not indexed */
        dash_ix_prod *g = qw_realloc(ix->prods, np * sizeof *g);
        if (g)
            ix->prods = g, ix->cap = np;
    }
    if (ix) {
        ix->prods_off = d->n;
        ix->nprods = 0;
        qw__dbuf_reset(&ix->summary, QW_DASH_PRE);
        qw__dbuf_put(&ix->summary, "[", 1);
    }
    qw__dbuf_put(d, "\"products\":[", 12);
    for (size_t i = 0; i < np; i++) {
        if (i)
            qw__dbuf_put(d, ",", 1);
        const qw_chain *c = qw_pipeline_chain(dh->p, i);
        int indexed = ix && ix->nprods < ix->cap;
        product_json(dh, d, c, indexed ? &ix->prods[ix->nprods++] : NULL);
        if (ix)
            summary_json(&ix->summary, c, i == 0);
    }
    qw__dbuf_put(d, "]}", 2);
    if (ix) {
        qw__dbuf_put(&ix->summary, "]", 1);
        if (ix->summary.oom)
            d->oom = 1; /* the snapshot is incomplete: not published */
    }
}

const char *qw_dash_state_json(qw_dash *dh, size_t *len)
{
    qw_dbuf *d = &dh->state;
    qw__dash_build_state(dh, d, NULL);
    *len = d->oom ? 0 : d->n;
    return d->oom ? NULL : d->b + d->pre;
}

int qw_dash_ready(qw_dash *dh, char *why, size_t cap)
{
    if (!dh->p) {
        snprintf(why, cap, "no pipeline");
        return 0;
    }
    size_t n = qw_pipeline_count(dh->p), valid = 0, seen = 0;
    for (size_t i = 0; i < n; i++) {
        const qw_chain *c = qw_pipeline_chain(dh->p, i);
        valid += c->has_snapshot && !c->needs_resync;
        seen += c->st.snapshots > 0;
    }
    if (dh->live) {
        if (dh->live->state != QW_WS_SUBSCRIBED) {
            snprintf(why, cap, "feed %s (%zu/%zu books valid)", qw_ws_state_name(dh->live->state),
                     valid, n);
            return 0;
        }
        int64_t now = qw_now_mono_ns();
        if (!dh->first_sub_mono)
            dh->first_sub_mono = now;
        double grace = dh->o.ready_grace_s > 0 ? dh->o.ready_grace_s : 30;
        if (!dh->startup_done && (seen == n || (double)(now - dh->first_sub_mono) / 1e9 >= grace))
            dh->startup_done = 1;
        if (!dh->startup_done) {
            snprintf(why, cap, "starting: %zu/%zu books received their first snapshot", seen, n);
            return 0;
        }
    }
    snprintf(why, cap, "ok (%zu/%zu books valid)", valid, n);
    return 1;
}

/* ---- Prometheus ---- */

static void label_value(qw_dbuf *d, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            qw__dbuf_put(d, "\\", 1);
        if (*s == '\n')
            qw__dbuf_put(d, "\\n", 2);
        else
            qw__dbuf_put(d, s, 1);
    }
}

static void metric(qw_dbuf *d, const char *name, const char *type, const char *help)
{
    qw__dbuf_printf(d, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The object-store client's counters (s3:// and gs:// warehouses). */
/* Prometheus histogram lines of h (ns) with power-of-two edges 2^k0 .. 2^k1
 * ns (every second power), +Inf, _sum (s) and _count. */
static void prom_hist(qw_dbuf *d, const char *name, const qw_hist *h, int k0, int k1)
{
    for (int k = k0; k <= k1; k += 2)
        qw__dbuf_printf(d, "%s_bucket{le=\"%.9g\"} %llu\n", name, (double)(1ull << k) / 1e9,
                        (unsigned long long)qw_hist_count_le(h, (1ull << k) - 1));
    qw__dbuf_printf(d, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    qw__dbuf_printf(d, "%s_sum %.9f\n", name, (double)h->sum / 1e9);
    qw__dbuf_printf(d, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void objstore_metrics(qw_dbuf *d, const qw_store_stats *s)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } m[] = {
        {"requests", "Object-store HTTP requests (retries included).",
         offsetof(qw_store_stats, os_requests)},
        {"retries", "Object-store requests retried after 5xx, 429, timeouts or resets.",
         offsetof(qw_store_stats, os_retries)},
        {"failures", "Object-store operations failed after their retries.",
         offsetof(qw_store_stats, os_failures)},
        {"bytes_up", "Bytes sent to the object store.", offsetof(qw_store_stats, os_bytes_up)},
        {"bytes_down", "Bytes received from the object store.",
         offsetof(qw_store_stats, os_bytes_down)},
        {"multipart_aborts", "Multipart uploads aborted.",
         offsetof(qw_store_stats, os_multipart_aborts)},
        {"token_fetches", "GCS access tokens fetched (metadata server or key).",
         offsetof(qw_store_stats, os_token_fetches)},
        {"auth_refreshes", "GCS 401 answers that forced a token refresh and one retry.",
         offsetof(qw_store_stats, os_auth_refreshes)},
        {"connects", "New object-store connections (resends on a fresh one included).",
         offsetof(qw_store_stats, os_connects)},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "quotewatch_objstore_%s_total", m[i].name);
        metric(d, name, "counter", m[i].help);
        const _Atomic uint64_t *v = (const _Atomic uint64_t *)((const char *)s + m[i].off);
        qw__dbuf_printf(d, "%s %llu\n", name, (unsigned long long)atomic_load(v));
    }
}

/* The standard process_* metrics (Prometheus client conventions), from
 * /proc/self: read with fixed buffers, skipped quietly where unreadable. */
static void process_metrics(qw_dbuf *d)
{
    static int64_t start_wall_ns; /* process start, from boot time + starttime */
    char buf[1024];
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    char *p = n > 0 ? (buf[n] = '\0', strrchr(buf, ')')) : NULL;
    unsigned long long ut = 0, st = 0, start = 0, vsize = 0;
    long long rss = 0;
    /* after "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime cutime cstime priority nice threads itreal starttime vsize rss */
    if (p && tck > 0 &&
        sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
               "%*d %llu %llu %lld",
               &ut, &st, &start, &vsize, &rss) == 5) {
        metric(d, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
        qw__dbuf_printf(d, "process_cpu_seconds_total %.2f\n", (double)(ut + st) / (double)tck);
        metric(d, "process_resident_memory_bytes", "gauge", "Resident memory size.");
        qw__dbuf_printf(d, "process_resident_memory_bytes %lld\n", rss * (long long)page);
        metric(d, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
        qw__dbuf_printf(d, "process_virtual_memory_bytes %llu\n", vsize);
        if (!start_wall_ns) {
            struct timespec up;
            clock_gettime(CLOCK_BOOTTIME, &up);
            int64_t boot_ns = qw_now_wall_ns() - ((int64_t)up.tv_sec * QW_NS_PER_SEC + up.tv_nsec);
            start_wall_ns = boot_ns + (int64_t)((double)start / (double)tck * 1e9);
        }
        metric(d, "process_start_time_seconds", "gauge", "Start time since the Unix epoch.");
        qw__dbuf_printf(d, "process_start_time_seconds %.2f\n", (double)start_wall_ns / 1e9);
    }
    DIR *dir = opendir("/proc/self/fd");
    if (dir) {
        long fds = -1; /* the DIR's own descriptor */
        while (readdir(dir))
            fds++;
        closedir(dir);
        metric(d, "process_open_fds", "gauge", "Open file descriptors.");
        qw__dbuf_printf(d, "process_open_fds %ld\n", fds - 2); /* minus . and .. */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        metric(d, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        qw__dbuf_printf(d, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
}

void qw__dash_build_metrics_owner(qw_dash *dh, qw_dbuf *d)
{
    qw__dbuf_reset(d, QW_DASH_PRE);
    const qw_pipeline_stats *ps = dh->p ? qw_pipeline_get_stats(dh->p) : NULL;
    metric(d, "quotewatch_messages_total", "counter", "Feed messages parsed.");
    qw__dbuf_printf(d, "quotewatch_messages_total %llu\n",
                    (unsigned long long)(ps ? ps->messages : 0));
    metric(d, "quotewatch_rejected_total", "counter",
           "Messages rejected by the parser, by reason.");
    for (int e = 1; ps && e < QW__ERR_COUNT; e++) /* sum() over reasons = all rejections */
        if (ps->rejected_by[e])
            qw__dbuf_printf(d, "quotewatch_rejected_total{reason=\"%s\"} %llu\n",
                            qw_err_name((qw_err)e), (unsigned long long)ps->rejected_by[e]);
    const qw_model_origin *mo = dh->p ? qw_pipeline_get_origin(dh->p) : NULL;
    metric(d, "quotewatch_model_reloads_total", "counter", "Model file hot reloads, by result.");
    qw__dbuf_printf(d, "quotewatch_model_reloads_total{result=\"ok\"} %llu\n",
                    (unsigned long long)(mo ? mo->reloads_ok : 0));
    qw__dbuf_printf(d, "quotewatch_model_reloads_total{result=\"error\"} %llu\n",
                    (unsigned long long)(mo ? mo->reloads_error : 0));
    metric(d, "quotewatch_sequence_gaps_total", "counter", "Advanced Trade sequence gaps.");
    qw__dbuf_printf(d, "quotewatch_sequence_gaps_total %llu\n",
                    (unsigned long long)(ps ? ps->gaps : 0));
    shard_out(dh, d, 1);
    if (dh->live) {
        const qw_live_stats *l = dh->live;
        metric(d, "quotewatch_feed_connected", "gauge", "1 when subscribed to the feed.");
        qw__dbuf_printf(d, "quotewatch_feed_connected %d\n", l->state == QW_WS_SUBSCRIBED);
        metric(d, "quotewatch_feed_connects_total", "counter", "WebSocket handshakes.");
        qw__dbuf_printf(d, "quotewatch_feed_connects_total %llu\n",
                        (unsigned long long)l->connects);
        metric(d, "quotewatch_feed_reconnects_total", "counter", "Handshakes after the first.");
        qw__dbuf_printf(d, "quotewatch_feed_reconnects_total %llu\n",
                        (unsigned long long)l->reconnects);
        metric(d, "quotewatch_feed_bytes_total", "counter", "Message payload bytes received.");
        qw__dbuf_printf(d, "quotewatch_feed_bytes_total %llu\n", (unsigned long long)l->bytes);
        metric(d, "quotewatch_feed_watchdog_trips_total", "counter", "Silent connections dropped.");
        qw__dbuf_printf(d, "quotewatch_feed_watchdog_trips_total %llu\n",
                        (unsigned long long)l->watchdog_trips);
        metric(d, "quotewatch_feed_handshake_failures_total", "counter",
               "Connections that never completed the TLS/WebSocket handshake.");
        qw__dbuf_printf(d, "quotewatch_feed_handshake_failures_total %llu\n",
                        (unsigned long long)l->handshake_failures);
        metric(d, "quotewatch_feed_protocol_errors_total", "counter",
               "Connections failed for a WebSocket protocol violation by the server.");
        qw__dbuf_printf(d, "quotewatch_feed_protocol_errors_total %llu\n",
                        (unsigned long long)l->protocol_errors);
        metric(d, "quotewatch_feed_last_message_age_seconds", "gauge",
               "Seconds since the last message (no sample before the first).");
        if (l->last_msg_mono_ns)
            qw__dbuf_printf(d, "quotewatch_feed_last_message_age_seconds %.3f\n",
                            (double)(qw_now_mono_ns() - l->last_msg_mono_ns) / 1e9);
        metric(d, "quotewatch_receive_to_prediction_seconds", "histogram",
               "Time from a message's arrival to the prediction it produced.");
        prom_hist(d, "quotewatch_receive_to_prediction_seconds", &l->latency, 10, 34);
    }
    metric(d, "quotewatch_book_valid", "gauge", "1 when the product's book can be trusted.");
    for (size_t i = 0; dh->p && i < qw_pipeline_count(dh->p); i++) {
        const qw_chain *c = qw_pipeline_chain(dh->p, i);
        qw__dbuf_put(d, "quotewatch_book_valid{product=\"", 31);
        label_value(d, c->product);
        qw__dbuf_printf(d, "\"} %d\n", c->has_snapshot && !c->needs_resync);
    }
    static const struct {
        const char *name, *help;
        size_t off;
    } per[] = {
        {"quotewatch_book_updates_total", "Book update groups applied.",
         offsetof(qw_chain_stats, book_updates)},
        {"quotewatch_trades_total", "Trades seen.", offsetof(qw_chain_stats, trades)},
        {"quotewatch_resyncs_total", "Times the book was flagged for a resync.",
         offsetof(qw_chain_stats, resyncs)},
        {"quotewatch_snapshots_total", "Snapshots applied.", offsetof(qw_chain_stats, snapshots)},
    };
    for (size_t m = 0; m < sizeof per / sizeof per[0]; m++) {
        metric(d, per[m].name, "counter", per[m].help);
        for (size_t i = 0; dh->p && i < qw_pipeline_count(dh->p); i++) {
            const qw_chain *c = qw_pipeline_chain(dh->p, i);
            uint64_t v;
            memcpy(&v, (const char *)&c->st + per[m].off, sizeof v);
            qw__dbuf_printf(d, "%s{product=\"", per[m].name);
            label_value(d, c->product);
            qw__dbuf_printf(d, "\"} %llu\n", (unsigned long long)v);
        }
    }
    metric(d, "quotewatch_model_rolling_accuracy", "gauge",
           "Rolling accuracy of labeled predictions (no sample before the first).");
    for (size_t i = 0; dh->p && i < qw_pipeline_count(dh->p); i++) {
        const qw_chain *c = qw_pipeline_chain(dh->p, i);
        qw_classifier_stats cs;
        qw_classifier_stats_get(c->clf, &cs);
        if (isfinite(cs.rolling_accuracy)) {
            qw__dbuf_put(d, "quotewatch_model_rolling_accuracy{product=\"", 43);
            label_value(d, c->product);
            qw__dbuf_printf(d, "\"} %.6f\n", cs.rolling_accuracy);
        }
    }
    metric(d, "quotewatch_model_labeled_total", "counter", "Labeled samples learned.");
    for (size_t i = 0; dh->p && i < qw_pipeline_count(dh->p); i++) {
        const qw_chain *c = qw_pipeline_chain(dh->p, i);
        qw_classifier_stats cs;
        qw_classifier_stats_get(c->clf, &cs);
        qw__dbuf_put(d, "quotewatch_model_labeled_total{product=\"", 40);
        label_value(d, c->product);
        qw__dbuf_printf(d, "\"} %llu\n", (unsigned long long)cs.labeled);
    }
    if (dh->store && atomic_load(&dh->store->enabled)) {
        const qw_store_stats *s = dh->store;
        metric(d, "quotewatch_store_queued", "gauge", "Records waiting for the writer.");
        qw__dbuf_printf(d, "quotewatch_store_queued %llu\n",
                        (unsigned long long)atomic_load(&s->queued));
        metric(d, "quotewatch_store_dropped_total", "counter", "Records dropped on a full queue.");
        qw__dbuf_printf(d, "quotewatch_store_dropped_total %llu\n",
                        (unsigned long long)atomic_load(&s->dropped));
        metric(d, "quotewatch_store_commits_total", "counter", "Iceberg commits.");
        qw__dbuf_printf(d, "quotewatch_store_commits_total %llu\n",
                        (unsigned long long)atomic_load(&s->commits));
        metric(d, "quotewatch_store_jobs_grouped_total", "counter",
               "Flushes committed together with an earlier flush of their table.");
        qw__dbuf_printf(d, "quotewatch_store_jobs_grouped_total %llu\n",
                        (unsigned long long)atomic_load(&s->jobs_grouped));
        metric(d, "quotewatch_store_errors_total", "counter", "Failed flushes or commits.");
        qw__dbuf_printf(d, "quotewatch_store_errors_total %llu\n",
                        (unsigned long long)atomic_load(&s->errors));
        metric(d, "quotewatch_store_rows_total", "counter", "Rows committed, by table.");
        for (int t = 0; t < QW_TBL_COUNT; t++)
            qw__dbuf_printf(d, "quotewatch_store_rows_total{table=\"%s\"} %llu\n",
                            qw_tables[t].name,
                            (unsigned long long)atomic_load(&s->rows_written[t]));
        static _Thread_local qw_hist h; /* 7.8 KB: not on the stack */
        qw_store_stats_hist(s, 0, &h);
        metric(d, "quotewatch_store_commit_seconds", "histogram",
               "Time from a flush's start to its rows committed (queueing included).");
        prom_hist(d, "quotewatch_store_commit_seconds", &h, 20, 36);
        if (atomic_load(&s->objstore))
            objstore_metrics(d, s);
    }
}

/* Appends to d (not reset): the server thread's counters, build info and
 * the process metrics (read now, from the thread that serves them). */
void qw__dash_build_metrics_server(qw_dash *dh, qw_dbuf *d)
{
    metric(d, "quotewatch_dashboard_clients", "gauge", "Connected WebSocket clients.");
    qw__dbuf_printf(d, "quotewatch_dashboard_clients %d\n", dh->clients);
    metric(d, "quotewatch_dashboard_connections", "gauge",
           "Open dashboard connections (HTTP, WebSocket and raw).");
    qw__dbuf_printf(d, "quotewatch_dashboard_connections %d\n", dh->conns_open);
    metric(d, "quotewatch_dashboard_rejected_total", "counter",
           "Dashboard connections closed at accept, by reason.");
    for (int r = 0; r < QW_REJ_COUNT; r++)
        qw__dbuf_printf(d, "quotewatch_dashboard_rejected_total{reason=\"%s\"} %llu\n",
                        qw__dash_rej_names[r], (unsigned long long)dh->rejected[r]);
    metric(d, "quotewatch_http_requests_total", "counter", "Dashboard HTTP requests.");
    qw__dbuf_printf(d, "quotewatch_http_requests_total %llu\n",
                    (unsigned long long)dh->http_requests);
    metric(d, "quotewatch_dashboard_push_bytes_total", "counter",
           "WebSocket push payload bytes, before permessage-deflate.");
    qw__dbuf_printf(d, "quotewatch_dashboard_push_bytes_total %llu\n",
                    (unsigned long long)dh->ws_bytes);
    metric(d, "quotewatch_build_info", "gauge", "Always 1; the labels say which build runs.");
    qw__dbuf_printf(d, "quotewatch_build_info{version=\"%s\",mode=\"%s\"} 1\n", QW_VERSION,
                    dh->mode);
    process_metrics(d);
}

const char *qw_dash_metrics_text(qw_dash *dh, size_t *len)
{
    qw_dbuf *d = &dh->metrics;
    qw__dash_build_metrics_owner(dh, d);
    qw__dash_build_metrics_server(dh, d);
    *len = d->oom ? 0 : d->n;
    return d->oom ? NULL : d->b + d->pre;
}

/* live.c: a live session (live.h): the client's callbacks drive the
 * pipelines; the resync policy, the label timer and the live counters. */
#define QW_MODULE "live"
#include "ingest/live.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/time.h"

struct qw_live {
    qw_live_opts o; /* o.ws is not kept: the options may not outlive create */
    char url[512];  /* as configured; "" = the feed's default */
    int exchange;
    qw_feed *feed;
    qw_wsclient *ws;
    /* mono time of the (re)subscribe awaiting a snapshot, per product */
    int64_t pending[QW_CONFIG_MAX_PRODUCTS];
    int64_t last_feed_ns, last_feed_mono;
    uint64_t predictions;
    int stopping;
    int reconnecting; /* a reconnect was requested: no resubscribes until it happened */
    qw_ratelimit rl;
    qw_live_extra x;
    uint64_t rate_msgs;
    int64_t rate_mono;
};

static void on_connect(void *vctx, uint64_t conn)
{
    qw_live *L = vctx;
    int64_t now = qw_now_mono_ns();
    qw_feed_reset(L->feed);
    L->reconnecting = 0;
    if (conn > 1)
        qw_pipeline_invalidate_all(L->o.pl, QW_RESYNC_RECONNECT);
    for (size_t i = 0; i < qw_pipeline_count(L->o.pl); i++)
        L->pending[i] = now; /* the subscribe brings the snapshots */
    L->last_feed_ns = 0;
    if (L->o.rec)
        qw_recorder_connect(L->o.rec, qw_now_wall_ns(), conn, L->url[0] ? L->url : "default");
    if (L->o.hooks.on_connect)
        L->o.hooks.on_connect(L->o.hooks.ctx, qw_now_wall_ns());
}

static void on_disconnect(void *vctx, const char *why)
{
    qw_live *L = vctx;
    (void)why;
    if (qw_live_stopping(L))
        return; /* a clean stop: the books were exact up to the last message */
    /* pending labels spanning the outage are dropped, not mislabeled */
    qw_pipeline_invalidate_all(L->o.pl, QW_RESYNC_RECONNECT);
}

static void reconnect(qw_live *L, const char *why)
{
    L->reconnecting = 1;
    qw_wsclient_reconnect(L->ws, why);
}

static void check_resync(qw_live *L, int64_t now)
{
    if (L->reconnecting)
        return;
    for (size_t i = 0; i < qw_pipeline_count(L->o.pl); i++) {
        const qw_chain *c = qw_pipeline_chain(L->o.pl, i);
        if (c->has_snapshot && !c->needs_resync) {
            L->pending[i] = 0;
            continue;
        }
        if (L->pending[i] && now - L->pending[i] > L->o.snapshot_wait_ns) {
            L->x.snapshot_timeouts++;
            L->pending[i] = 0;
            char why[64];
            snprintf(why, sizeof why, "no fresh snapshot within %lld s",
                     (long long)(L->o.snapshot_wait_ns / QW_NS_PER_SEC));
            reconnect(L, why);
            return;
        }
        if (!L->pending[i] && c->needs_resync &&
            qw_wsclient_resubscribe(L->ws, c->product) == QW_OK)
            L->pending[i] = now;
    }
}

static void on_message(void *vctx, char *buf, size_t len, int64_t recv_ns, int64_t mono)
{
    qw_live *L = vctx;
    if (L->o.rec)
        qw_recorder_msg(L->o.rec, recv_ns, buf, len);
    const qw_msg *m = NULL;
    qw_err e = qw_pipeline_ingest(L->o.pl, L->feed, buf, len, recv_ns, &m);
    if (e == QW_OK && L->o.hooks.on_msg)
        L->o.hooks.on_msg(L->o.hooks.ctx, m, recv_ns);
    uint64_t np = qw_pipeline_get_stats(L->o.pl)->predictions;
    qw_live_stats *st = qw_wsclient_stats_mut(L->ws);
    if (np != L->predictions) {
        L->predictions = np;
        qw_hist_record(&st->latency, (uint64_t)(qw_now_mono_ns() - mono));
    }
    if (e != QW_OK) {
        if (qw_log_ratelimit(&L->rl))
            QW_LOG(WARN, "rejected a %zu-byte message (%s): %s", len, qw_err_name(e),
                   qw_feed_errmsg(L->feed));
    } else {
        if (m->type == QW_MSG_BOOK || m->type == QW_MSG_TRADES) {
            L->x.data_msgs++;
            if (!L->x.first_data_mono)
                L->x.first_data_mono = mono;
            L->x.last_data_mono = mono;
        }
        if (m->t_ns > L->last_feed_ns) {
            L->last_feed_ns = m->t_ns;
            L->last_feed_mono = mono;
        }
        if (m->type == QW_MSG_ERROR) {
            st->server_errors++;
            QW_LOG(ERROR, "server error: %s", m->text);
        }
        if (m->gap) {
            L->x.gap_reconnects++;
            reconnect(L, "sequence gap");
            return;
        }
    }
    check_resync(L, mono);
}

qw_err qw_live_create(qw_live **out, const qw_live_opts *o, char *errbuf, size_t errlen)
{
    qw_live *L = qw_calloc(1, sizeof *L);
    if (!L)
        return QW_NOMEM;
    L->o = *o;
    L->o.ws = NULL;
    snprintf(L->url, sizeof L->url, "%s", o->ws->url ? o->ws->url : "");
    L->exchange = o->ws->exchange;
    if (!L->o.snapshot_wait_ns)
        L->o.snapshot_wait_ns = 15 * QW_NS_PER_SEC;
    if (!L->o.label_lag_ns)
        L->o.label_lag_ns = QW_NS_PER_SEC;
    L->rl = (qw_ratelimit){.first = 5, .every = 1000};
    L->x.start_mono = qw_now_mono_ns();
    qw_err e = qw_feed_create(&L->feed, NULL);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "out of memory");
        qw_live_destroy(L);
        return e;
    }
    qw_wsclient_cb cb = {.ctx = L,
                         .on_connect = on_connect,
                         .on_message = on_message,
                         .on_disconnect = on_disconnect};
    if ((e = qw_wsclient_create(&L->ws, o->ctx, o->ws, &cb, errbuf, errlen)) != QW_OK) {
        qw_live_destroy(L);
        return e;
    }
    *out = L;
    return QW_OK;
}

void qw_live_destroy(qw_live *L)
{
    if (!L)
        return;
    qw_wsclient_destroy(L->ws);
    qw_feed_destroy(L->feed);
    qw_free(L);
}

void qw_live_start(qw_live *L)
{
    L->x.start_mono = qw_now_mono_ns();
    qw_wsclient_start(L->ws);
}

void qw_live_stop(qw_live *L, const char *why)
{
    if (!L->stopping) {
        if (why)
            QW_LOG(INFO, "stopping (%s)", why);
        if (L->o.hooks.on_stop)
            L->o.hooks.on_stop(L->o.hooks.ctx);
    }
    L->stopping = 1;
    if (!qw_wsclient_stopped(L->ws))
        qw_wsclient_stop(L->ws);
}

int qw_live_stopped(const qw_live *L)
{
    return qw_wsclient_stopped(L->ws);
}

int qw_live_stopping(const qw_live *L)
{
    return L->stopping;
}

void qw_live_tick(qw_live *L, int64_t now)
{
    if (qw_live_stopping(L))
        return;
    /* label timer: quiet products still get labeled once feed time passed */
    if (L->last_feed_ns > 0 && qw_wsclient_stats(L->ws)->state == QW_WS_SUBSCRIBED) {
        int64_t est = L->last_feed_ns + (now - L->last_feed_mono) - L->o.label_lag_ns;
        if (est > L->last_feed_ns)
            qw_pipeline_advance_time(L->o.pl, est);
    }
    check_resync(L, now);
    qw_recorder_tick(L->o.rec, now);
    if (now - L->rate_mono >= QW_NS_PER_SEC) {
        uint64_t m = qw_wsclient_stats(L->ws)->messages;
        L->x.rate =
            L->rate_mono ? (double)(m - L->rate_msgs) * 1e9 / (double)(now - L->rate_mono) : 0;
        L->rate_msgs = m;
        L->rate_mono = now;
    }
}

void qw_live_run(qw_live *L, volatile const int *stop)
{
    int64_t deadline = 0;
    while (!qw_live_stopped(L)) {
        if (lws_service(L->o.ctx, 0) < 0)
            break;
        if (*stop && !L->stopping)
            qw_live_stop(L, "signal");
        if (L->stopping && !deadline)
            deadline = qw_now_mono_ns() + 3 * QW_NS_PER_SEC;
        if (deadline && qw_now_mono_ns() > deadline) {
            QW_LOG(WARN, "the connection did not close within 3 s; exiting anyway");
            break;
        }
    }
    const qw_live_stats *s = qw_wsclient_stats(L->ws);
    QW_LOG(INFO, "stopped: %llu messages, %llu connects, %llu reconnects",
           (unsigned long long)s->messages, (unsigned long long)s->connects,
           (unsigned long long)s->reconnects);
}

void qw_live_ws_opts(qw_wsclient_opts *wo, const char **ids, const qw_config *cfg)
{
    for (size_t i = 0; i < cfg->nproducts; i++)
        ids[i] = cfg->products[i];
    *wo = (qw_wsclient_opts){
        .url = cfg->url[0] ? cfg->url : NULL,
        .exchange = cfg->feed_exchange,
        .products = ids,
        .nproducts = cfg->nproducts,
        .max_message = cfg->max_message,
        .watchdog_s = cfg->watchdog_s,
        .backoff_max_s = cfg->backoff_max_s,
        .connect_rate = cfg->connect_rate,
        .ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL,
        .no_deflate = cfg->no_deflate,
        .ex_key = cfg->ex_key[0] ? cfg->ex_key : NULL,
        .ex_secret_b64 = cfg->ex_secret[0] ? cfg->ex_secret : NULL,
        .ex_passphrase = cfg->ex_passphrase[0] ? cfg->ex_passphrase : NULL,
    };
}

const qw_live_stats *qw_live_get_stats(const qw_live *L)
{
    return qw_wsclient_stats(L->ws);
}

char *qw_live_json(const qw_live *L, const char *persistence_json)
{
    const char *url = L->url[0] ? L->url : L->exchange ? QW_WS_EXCHANGE_URL : QW_WS_ADVANCED_URL;
    const qw_live_stats *s = qw_wsclient_stats(L->ws);
    const qw_live_extra *x = &L->x;
    int64_t now = qw_now_mono_ns();
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(qw_ws_state_name(s->state)));
    json_object_set_new(o, "url", json_string(url));
    json_object_set_new(o, "feed", json_string(L->exchange ? "exchange" : "advanced"));
#define N(k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))
    N("attempts", s->attempts);
    N("connects", s->connects);
    N("reconnects", s->reconnects);
    N("disconnects", s->disconnects);
    N("messages", s->messages);
    N("bytes", s->bytes);
    N("oversized", s->oversized);
    N("watchdog_trips", s->watchdog_trips);
    N("handshake_failures", s->handshake_failures);
    N("protocol_errors", s->protocol_errors);
    N("resubscribes", s->resubscribes);
    N("server_errors", s->server_errors);
    N("rate_limited", s->rate_limited);
    N("gap_reconnects", x->gap_reconnects);
    N("snapshot_timeouts", x->snapshot_timeouts);
    json_object_set_new(o, "last_message_age_s",
                        s->last_msg_mono_ns ? json_real((double)(now - s->last_msg_mono_ns) / 1e9)
                                            : json_null());
    double span =
        s->first_msg_mono_ns ? (double)(s->last_msg_mono_ns - s->first_msg_mono_ns) / 1e9 : 0;
    json_object_set_new(o, "receive_span_s", json_real(span));
    json_object_set_new(o, "messages_per_s_avg",
                        json_real(span > 0 ? (double)s->messages / span : 0));
    json_object_set_new(o, "messages_per_s", json_real(x->rate));
    /* book/trade messages only: heartbeats after the data would stretch the span */
    double dspan = (double)(x->last_data_mono - x->first_data_mono) / 1e9;
    N("data_messages", x->data_msgs);
    json_object_set_new(o, "data_span_s", json_real(dspan));
    json_object_set_new(o, "data_messages_per_s",
                        json_real(dspan > 0 ? (double)x->data_msgs / dspan : 0));
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        json_object_set_new(o, "cpu_s", json_real(cpu));
        json_object_set_new(o, "max_rss_kb", json_integer((json_int_t)ru.ru_maxrss));
    }
    json_object_set_new(o, "uptime_s", json_real((double)(now - x->start_mono) / 1e9));
    json_object_set_new(o, "backoff_s", json_real(s->backoff_s));
    json_object_set_new(o, "last_error", json_string(s->last_error));
    json_t *lat = json_object();
    json_object_set_new(lat, "count", json_integer((json_int_t)s->latency.count));
    json_object_set_new(lat, "p50_us", json_real((double)qw_hist_quantile(&s->latency, 0.5) / 1e3));
    json_object_set_new(lat, "p99_us",
                        json_real((double)qw_hist_quantile(&s->latency, 0.99) / 1e3));
    json_object_set_new(lat, "p999_us",
                        json_real((double)qw_hist_quantile(&s->latency, 0.999) / 1e3));
    json_object_set_new(lat, "max_us", json_real((double)s->latency.max / 1e3));
    json_object_set_new(o, "latency_receive_to_prediction", lat);
    json_t *sh = json_null(); /* this shard: index, count, its products */
    if (L->o.shard_n) {
        json_t *ps = json_array();
        for (size_t i = 0; i < qw_pipeline_count(L->o.pl); i++)
            json_array_append_new(ps, json_string(qw_pipeline_chain(L->o.pl, i)->product));
        sh = json_pack("{s:i,s:i,s:o}", "index", L->o.shard_i, "count", L->o.shard_n, "products",
                       ps);
    }
    json_object_set_new(o, "shard", sh);
    if (L->o.rec) {
        const qw_recorder_stats *r = qw_recorder_get_stats(L->o.rec);
        json_t *ro = json_object();
        json_object_set_new(ro, "path", json_string(r->path));
        json_object_set_new(ro, "files", json_integer((json_int_t)r->files));
        json_object_set_new(ro, "messages", json_integer((json_int_t)r->messages));
        json_object_set_new(ro, "bytes_in", json_integer((json_int_t)r->bytes_in));
        json_object_set_new(ro, "bytes_out", json_integer((json_int_t)r->bytes_out));
        json_object_set_new(ro, "errors", json_integer((json_int_t)r->errors));
        json_object_set_new(o, "recorder", ro);
    }
#undef N
    if (persistence_json) {
        json_t *pj = json_loads(persistence_json, 0, NULL);
        json_object_set_new(o, "persistence", pj ? pj : json_null());
    }
    char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    return txt;
}

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        QW_LOG(WARN, "lws: %.*s", (int)n, line);
    else
        QW_LOG(DEBUG, "lws: %.*s", (int)n, line);
}

struct lws_context *qw_live_context_create(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_bridge);
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    ci.gid = (gid_t)-1;
    ci.uid = (uid_t)-1;
    ci.pt_serv_buf_size = 256 * 1024; /* fewer, larger reads: ~1000 messages per recv */
    return lws_create_context(&ci);
}

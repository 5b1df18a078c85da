/* cmd_live.c: `quotewatch live` (and `quotewatch` alone): one lws context
 * and event-loop thread own the Coinbase client, the pipelines, the
 * recorder and the dashboard. Wiring only; the rules live in
 * ingest/wsclient.c (connection) and pipeline/ (books, model).
 *
 * Resync policy: a sequence gap or an oversized message -> reconnect; a
 * product flagged for resync (rejected message, crossed book, server
 * error) -> unsubscribe + subscribe its book channel; no fresh snapshot
 * within 15 s of a (re)subscribe -> reconnect. Exit codes: 0 clean stop,
 * 1 runtime failure, 2 usage.
 */
#define QW_MODULE "live"
#include <jansson.h>
#include <libwebsockets.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "app/app.h"
#include "core/log.h"
#include "core/time.h"
#include "dashboard/dashboard.h"
#include "feed/feed.h"
#include "ingest/recorder.h"
#include "ingest/wsclient.h"
#include "pipeline/pipeline.h"
#include "pipeline/summary.h"
#include "storage/store.h"

#define TICK_US (100 * LWS_US_PER_MS)
#define SNAPSHOT_WAIT_NS (15 * QW_NS_PER_SEC)
#define LABEL_LAG_NS (1 * QW_NS_PER_SEC)

static volatile sig_atomic_t sig_stop, sig_reload;
static struct lws_context *g_ctx;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        sig_reload = 1;
    else
        sig_stop = 1;
    if (g_ctx)
        lws_cancel_service(g_ctx);
}

typedef struct live {
    const qw_config *cfg;
    struct lws_context *ctx;
    qw_pipeline *pl;
    qw_feed *feed;
    qw_wsclient *ws;
    qw_recorder *rec;
    lws_sorted_usec_list_t sul;
    int64_t start_mono, last_status_mono;
    int64_t
        pending[QW_CONFIG_MAX_PRODUCTS]; /* mono time of the (re)subscribe awaiting a snapshot */
    int64_t last_feed_ns, last_feed_mono;
    uint64_t predictions;
    uint64_t data_msgs; /* book and trade messages */
    int64_t first_data_mono, last_data_mono;
    uint64_t gap_reconnects, snapshot_timeouts;
    int stopping;
    int reconnecting; /* a reconnect was requested: no resubscribes until it happened */
    qw_ratelimit rl;
    qw_store *store; /* --persist / ENABLE_PERSISTENCE */
    qw_dash *dash;
    qw_store_stats sst;
    double rate; /* messages/s over the last second */
    uint64_t rate_msgs;
    int64_t rate_mono;
} live;

static uint64_t total_predictions(const qw_pipeline *p)
{
    return qw_pipeline_get_stats(p)->predictions;
}

static void on_connect(void *vctx, uint64_t conn)
{
    live *L = vctx;
    int64_t now = qw_now_mono_ns();
    qw_feed_reset(L->feed);
    L->reconnecting = 0;
    if (conn > 1)
        qw_pipeline_invalidate_all(L->pl, QW_RESYNC_RECONNECT);
    for (size_t i = 0; i < qw_pipeline_count(L->pl); i++)
        L->pending[i] = now; /* the subscribe brings the snapshots */
    L->last_feed_ns = 0;
    if (L->rec)
        qw_recorder_connect(L->rec, qw_now_wall_ns(), conn,
                            L->cfg->url[0] ? L->cfg->url : "default");
    if (L->store)
        qw_store_put_connect(L->store, qw_now_wall_ns());
}

static void on_disconnect(void *vctx, const char *why)
{
    live *L = vctx;
    (void)why;
    if (L->stopping)
        return; /* a clean stop: the books were exact up to the last message */
    /* pending labels spanning the outage are dropped, not mislabeled */
    qw_pipeline_invalidate_all(L->pl, QW_RESYNC_RECONNECT);
}

static void reconnect(live *L, const char *why)
{
    L->reconnecting = 1;
    qw_wsclient_reconnect(L->ws, why);
}

static void check_resync(live *L, int64_t now)
{
    if (L->reconnecting)
        return;
    for (size_t i = 0; i < qw_pipeline_count(L->pl); i++) {
        const qw_chain *c = qw_pipeline_chain(L->pl, i);
        if (c->has_snapshot && !c->needs_resync) {
            L->pending[i] = 0;
            continue;
        }
        if (L->pending[i] && now - L->pending[i] > SNAPSHOT_WAIT_NS) {
            L->snapshot_timeouts++;
            L->pending[i] = 0;
            reconnect(L, "no fresh snapshot within 15 s");
            return;
        }
        if (!L->pending[i] && c->needs_resync &&
            qw_wsclient_resubscribe(L->ws, c->product) == QW_OK)
            L->pending[i] = now;
    }
}

static void on_message(void *vctx, char *buf, size_t len, int64_t recv_ns, int64_t mono)
{
    live *L = vctx;
    if (L->rec)
        qw_recorder_msg(L->rec, recv_ns, buf, len);
    const qw_msg *m = NULL;
    qw_err e = qw_pipeline_ingest(L->pl, L->feed, buf, len, recv_ns, &m);
    if (e == QW_OK && L->store)
        qw_store_put_msg(L->store, m, recv_ns);
    uint64_t np = total_predictions(L->pl);
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
            L->data_msgs++;
            if (!L->first_data_mono)
                L->first_data_mono = mono;
            L->last_data_mono = mono;
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
            L->gap_reconnects++;
            reconnect(L, "sequence gap");
            return;
        }
    }
    check_resync(L, mono);
}

static void on_sample(void *ctx, const qw_chain *c, const qw_sample *x)
{
    qw_store_put_sample(((live *)ctx)->store, c->product, x);
}

static void on_labeled(void *ctx, const qw_chain *c, const qw_labeled *x)
{
    live *L = ctx;
    if (L->store)
        qw_store_put_label(L->store, c->product, x, !isnan(x->s.p));
    if (L->dash)
        qw_dash_on_labeled(L->dash, c->product, x);
}

static json_t *store_json(const qw_store_stats *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "enabled", json_boolean(atomic_load(&s->enabled)));
    json_object_set_new(o, "queued", json_integer((json_int_t)atomic_load(&s->queued)));
    json_object_set_new(o, "capacity", json_integer((json_int_t)atomic_load(&s->capacity)));
    json_object_set_new(o, "dropped", json_integer((json_int_t)atomic_load(&s->dropped)));
    json_t *rw = json_object();
    static const char *names[QW_TBL_COUNT] = {"raw_orderbook", "raw_trades", "features", "labels"};
    for (int t = 0; t < QW_TBL_COUNT; t++)
        json_object_set_new(rw, names[t],
                            json_integer((json_int_t)atomic_load(&s->rows_written[t])));
    json_object_set_new(o, "rows_written", rw);
    json_object_set_new(o, "files", json_integer((json_int_t)atomic_load(&s->files_written)));
    json_object_set_new(o, "bytes", json_integer((json_int_t)atomic_load(&s->bytes_written)));
    json_object_set_new(o, "commits", json_integer((json_int_t)atomic_load(&s->commits)));
    json_object_set_new(o, "commit_conflicts",
                        json_integer((json_int_t)atomic_load(&s->commit_conflicts)));
    json_object_set_new(o, "errors", json_integer((json_int_t)atomic_load(&s->errors)));
    json_object_set_new(o, "last_commit_ns",
                        json_integer((json_int_t)atomic_load(&s->last_commit_ns)));
    json_object_set_new(o, "writer_cpu_s", json_real((double)atomic_load(&s->writer_cpu_ns) / 1e9));
    json_object_set_new(o, "commit_cpu_s", json_real((double)atomic_load(&s->commit_cpu_ns) / 1e9));
    json_object_set_new(o, "last_commit_latency_ms",
                        json_real((double)atomic_load(&s->last_commit_latency_ns) / 1e6));
    return o;
}

static char *live_json(const live *L)
{
    const qw_live_stats *s = qw_wsclient_stats(L->ws);
    int64_t now = qw_now_mono_ns();
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(qw_ws_state_name(s->state)));
    json_object_set_new(o, "url",
                        json_string(L->cfg->url[0]          ? L->cfg->url
                                    : L->cfg->feed_exchange ? QW_WS_EXCHANGE_URL
                                                            : QW_WS_ADVANCED_URL));
    json_object_set_new(o, "feed", json_string(L->cfg->feed_exchange ? "exchange" : "advanced"));
#define N(k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))
    N("attempts", s->attempts);
    N("connects", s->connects);
    N("reconnects", s->reconnects);
    N("disconnects", s->disconnects);
    N("messages", s->messages);
    N("bytes", s->bytes);
    N("oversized", s->oversized);
    N("watchdog_trips", s->watchdog_trips);
    N("resubscribes", s->resubscribes);
    N("server_errors", s->server_errors);
    N("rate_limited", s->rate_limited);
    N("gap_reconnects", L->gap_reconnects);
    N("snapshot_timeouts", L->snapshot_timeouts);
    json_object_set_new(o, "last_message_age_s",
                        s->last_msg_mono_ns ? json_real((double)(now - s->last_msg_mono_ns) / 1e9)
                                            : json_null());
    double span =
        s->first_msg_mono_ns ? (double)(s->last_msg_mono_ns - s->first_msg_mono_ns) / 1e9 : 0;
    json_object_set_new(o, "receive_span_s", json_real(span));
    json_object_set_new(o, "messages_per_s_avg",
                        json_real(span > 0 ? (double)s->messages / span : 0));
    json_object_set_new(o, "messages_per_s", json_real(L->rate));
    /* book/trade messages only: heartbeats after the data would stretch the span */
    double dspan = (double)(L->last_data_mono - L->first_data_mono) / 1e9;
    N("data_messages", L->data_msgs);
    json_object_set_new(o, "data_span_s", json_real(dspan));
    json_object_set_new(o, "data_messages_per_s",
                        json_real(dspan > 0 ? (double)L->data_msgs / dspan : 0));
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        json_object_set_new(o, "cpu_s", json_real(cpu));
        json_object_set_new(o, "max_rss_kb", json_integer((json_int_t)ru.ru_maxrss));
    }
    json_object_set_new(o, "uptime_s", json_real((double)(now - L->start_mono) / 1e9));
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
    if (L->rec) {
        const qw_recorder_stats *r = qw_recorder_get_stats(L->rec);
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
    json_object_set_new(o, "persistence", store_json(&L->sst));
    char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    return txt;
}

static qw_err write_summary(const live *L, const char *path)
{
    char *lj = live_json(L);
    const qw_live_stats *s = qw_wsclient_stats(L->ws);
    qw_summary_extra x = {.bytes = s->bytes,
                          .seconds = (double)(qw_now_mono_ns() - L->start_mono) / 1e9,
                          .connects = s->connects,
                          .extra_key = "live",
                          .extra_json = lj};
    qw_err e = qw_summary_write(L->pl, &x, path);
    free(lj);
    return e;
}

static void tick(lws_sorted_usec_list_t *sul)
{
    live *L = lws_container_of(sul, live, sul);
    int64_t now = qw_now_mono_ns();
    if (sig_reload) {
        sig_reload = 0;
        char eb[256];
        if (!L->cfg->load_model[0])
            QW_LOG(WARN, "SIGHUP: no --load-model file to reload");
        else if (qw_pipeline_load_models(L->pl, L->cfg->load_model, eb, sizeof eb) != QW_OK)
            QW_LOG(ERROR, "SIGHUP: model reload failed, models unchanged: %s", eb);
        else
            QW_LOG(INFO, "SIGHUP: models reloaded from %s", L->cfg->load_model);
    }
    if (sig_stop ||
        (L->cfg->duration_s > 0 && now - L->start_mono >= (int64_t)(L->cfg->duration_s * 1e9))) {
        if (!L->stopping) {
            QW_LOG(INFO, "stopping (%s)", sig_stop ? "signal" : "--duration reached");
            L->stopping = 1;
            qw_wsclient_stop(L->ws);
        }
        /* keep ticking so lws_service returns and the loop sees the stop */
        lws_sul_schedule(L->ctx, 0, &L->sul, tick, TICK_US);
        return;
    }
    /* label timer: quiet products still get labeled once feed time passed */
    if (L->last_feed_ns > 0 && qw_wsclient_stats(L->ws)->state == QW_WS_SUBSCRIBED) {
        int64_t est = L->last_feed_ns + (now - L->last_feed_mono) - LABEL_LAG_NS;
        if (est > L->last_feed_ns)
            qw_pipeline_advance_time(L->pl, est);
    }
    check_resync(L, now);
    qw_recorder_tick(L->rec, now);
    if (L->dash)
        qw_dash_tick(L->dash, now);
    if (now - L->rate_mono >= QW_NS_PER_SEC) {
        uint64_t m = qw_wsclient_stats(L->ws)->messages;
        L->rate =
            L->rate_mono ? (double)(m - L->rate_msgs) * 1e9 / (double)(now - L->rate_mono) : 0;
        L->rate_msgs = m;
        L->rate_mono = now;
    }
    if (L->cfg->status_file[0] && now - L->last_status_mono >= QW_NS_PER_SEC) {
        L->last_status_mono = now;
        if (write_summary(L, L->cfg->status_file) != QW_OK && qw_log_ratelimit(&L->rl))
            QW_LOG(WARN, "cannot write --status-file %s", L->cfg->status_file);
    }
    lws_sul_schedule(L->ctx, 0, &L->sul, tick, TICK_US);
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

static struct lws_context *live_context_create(void)
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

int qw_cmd_live(const qw_config *cfg)
{
    static live L;
    char desc[512], eb[256];
    int rc = 0;
    memset(&L, 0, sizeof L);
    L.cfg = cfg;
    L.rl = (qw_ratelimit){.first = 5, .every = 1000};
    qw_config_describe(cfg, desc, sizeof desc);
    QW_LOG(INFO, "config: %s", desc);

    qw_pipeline_opts po = {0};
    if (cfg->persist) {
        qw_store_opts so;
        qw_store_opts_from_config(&so, cfg, 0); /* live never blocks ingest */
        if (qw_store_open(&L.store, &so, &L.sst, eb, sizeof eb) != QW_OK) {
            QW_LOG(ERROR, "persistence: %s", eb);
            fprintf(stderr, "quotewatch: persistence: %s\n", eb);
            rc = 1;
            goto out;
        }
        po.on_sample = on_sample;
        po.on_sample_ctx = &L;
    }
    po.on_labeled = on_labeled;
    po.on_labeled_ctx = &L;
    if (qw_pipeline_create(&L.pl, &po) != QW_OK || qw_feed_create(&L.feed, NULL) != QW_OK) {
        QW_LOG(ERROR, "out of memory");
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < cfg->nproducts; i++)
        if (qw_pipeline_add_product(L.pl, cfg->products[i]) != QW_OK) {
            QW_LOG(ERROR, "cannot add product %s", cfg->products[i]);
            rc = 1;
            goto out;
        }
    if (cfg->load_model[0] &&
        qw_pipeline_load_models(L.pl, cfg->load_model, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--load-model: %s", eb);
        rc = 1;
        goto out;
    }
    if (cfg->record_dir[0] &&
        qw_recorder_open(&L.rec, cfg->record_dir, 3, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "%s", eb);
        rc = 1;
        goto out;
    }
    L.ctx = g_ctx = live_context_create();
    if (!L.ctx) {
        QW_LOG(ERROR, "cannot create the libwebsockets context");
        rc = 1;
        goto out;
    }
    const char *ids[QW_CONFIG_MAX_PRODUCTS];
    for (size_t i = 0; i < cfg->nproducts; i++)
        ids[i] = cfg->products[i];
    qw_wsclient_opts wo = {
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
    qw_wsclient_cb cb = {.ctx = &L,
                         .on_connect = on_connect,
                         .on_message = on_message,
                         .on_disconnect = on_disconnect};
    if (qw_wsclient_create(&L.ws, L.ctx, &wo, &cb, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "client: %s", eb);
        fprintf(stderr, "quotewatch: %s\n", eb);
        rc = 2;
        goto out;
    }
    qw_dash_opts dopt = {
        .port = cfg->port, .bind = cfg->bind, .web_root = cfg->web_root, .mode = "live"};
    if (qw_dash_create(&L.dash, L.ctx, &dopt, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "%s", eb);
        fprintf(stderr, "quotewatch: %s (use --port N or PORT)\n", eb);
        rc = 1;
        goto out;
    }
    qw_dash_set_sources(L.dash, L.pl, qw_wsclient_stats(L.ws), cfg->persist ? &L.sst : NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    L.start_mono = qw_now_mono_ns();
    qw_wsclient_start(L.ws);
    lws_sul_schedule(L.ctx, 0, &L.sul, tick, TICK_US);
    int64_t stop_deadline = 0;
    while (!qw_wsclient_stopped(L.ws)) {
        if (lws_service(L.ctx, 0) < 0)
            break;
        if (sig_stop && !L.stopping) {
            L.stopping = 1;
            QW_LOG(INFO, "stopping (signal)");
            qw_wsclient_stop(L.ws);
        }
        if (L.stopping && !stop_deadline)
            stop_deadline = qw_now_mono_ns() + 3 * QW_NS_PER_SEC;
        if (stop_deadline && qw_now_mono_ns() > stop_deadline) {
            QW_LOG(WARN, "the connection did not close within 3 s; exiting anyway");
            break;
        }
    }
    lws_sul_cancel(&L.sul);
    if (L.store) { /* flush and commit what is queued before the summary (SIGTERM: ~10 s budget) */
        if (qw_store_close(L.store) != QW_OK)
            rc = 1;
        L.store = NULL;
    }
    if (cfg->summary[0] && write_summary(&L, cfg->summary) != QW_OK) {
        QW_LOG(ERROR, "cannot write summary %s", cfg->summary);
        rc = 1;
    }
    if (cfg->status_file[0])
        write_summary(&L, cfg->status_file);
    if (cfg->save_model[0] &&
        qw_pipeline_save_models(L.pl, cfg->save_model, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--save-model: %s", eb);
        rc = 1;
    }
    {
        const qw_live_stats *s = qw_wsclient_stats(L.ws);
        QW_LOG(INFO, "stopped: %llu messages, %llu connects, %llu reconnects",
               (unsigned long long)s->messages, (unsigned long long)s->connects,
               (unsigned long long)s->reconnects);
    }
out:
    if (L.rec && qw_recorder_close(L.rec) != QW_OK)
        rc = rc ? rc : 1;
    if (L.ws && !qw_wsclient_stopped(L.ws))
        qw_wsclient_stop(L.ws);
    if (L.ctx)
        lws_context_destroy(L.ctx); /* closes what is left; callbacks still see the client */
    qw_dash_destroy(L.dash);
    g_ctx = NULL;
    if (L.store && qw_store_close(L.store) != QW_OK) /* flush and commit before exit */
        rc = rc ? rc : 1;
    L.store = NULL;
    qw_wsclient_destroy(L.ws);
    qw_feed_destroy(L.feed);
    qw_pipeline_destroy(L.pl);
    return rc;
}

/* cmd_live.c: `quotewatch live` (and `quotewatch` alone): one lws context and event-loop thread
 * own the live session (ingest/live.h), publish the dashboard's state on their tick (the dashboard
 * serves it from its own context and thread, dashboard.h "Threads"); persistence has its own
 * threads (storage/store.h). Wiring only. Exit codes: 0 clean stop, 1 runtime failure, 2 usage. */
#define QW_MODULE "live"
#include <libwebsockets.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "core/log.h"
#include "core/time.h"
#include "dashboard/dashboard.h"
#include "ingest/live.h"
#include "pipeline/models.h"
#include "pipeline/summary.h"
#include "storage/store.h"

#define TICK_US (100 * LWS_US_PER_MS)

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
    qw_live *lv;
    qw_recorder *rec;
    lws_sorted_usec_list_t sul;
    int64_t start_mono, last_status_mono;
    qw_ratelimit rl;
    qw_store *store;    /* --persist / ENABLE_PERSISTENCE */
    qw_dash_host *host; /* the dashboard's context and thread */
    qw_dash *dash;      /* its state side: this thread publishes into it */
    qw_store_stats sst;
    qw_model_watch *mw; /* --load-model: hot reload (pipeline/models.h) */
} live;

static void on_connect(void *ctx, int64_t wall_ns)
{
    qw_store_put_connect(((live *)ctx)->store, wall_ns); /* NULL store: no-op */
}

static void on_msg(void *ctx, const qw_msg *m, int64_t recv_ns)
{
    live *L = ctx;
    if (L->store)
        qw_store_put_msg(L->store, m, recv_ns);
}

static void on_stop(void *ctx)
{
    qw_store_begin_close(((live *)ctx)->store); /* --close-timeout counts from here */
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
    qw_dash_on_labeled(L->dash, c->product, x); /* NULL dash: no-op */
}

static qw_err write_summary(const live *L, const char *path)
{
    char pj[2048];
    qw_store_stats_json(L->cfg->persist ? &L->sst : NULL, pj, sizeof pj);
    char *lj = qw_live_json(L->lv, pj);
    const qw_live_stats *s = qw_live_get_stats(L->lv);
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
    if (sig_reload && !(sig_reload = 0))
        qw_model_watch_hup(L->mw); /* the watcher reads and checks, poll swaps */
    qw_model_watch_poll(L->mw);
    if (sig_stop ||
        (L->cfg->duration_s > 0 && now - L->start_mono >= (int64_t)(L->cfg->duration_s * 1e9))) {
        qw_live_stop(L->lv, sig_stop ? "signal" : "--duration reached");
        /* keep ticking so lws_service returns and the loop sees the stop */
        lws_sul_schedule(L->ctx, 0, &L->sul, tick, TICK_US);
        return;
    }
    qw_live_tick(L->lv, now);
    qw_dash_tick(L->dash, now); /* publishes the dashboard's snapshot */
    if (L->cfg->status_file[0] && now - L->last_status_mono >= QW_NS_PER_SEC) {
        L->last_status_mono = now;
        if (write_summary(L, L->cfg->status_file) != QW_OK && qw_log_ratelimit(&L->rl))
            QW_LOG(WARN, "cannot write --status-file %s", L->cfg->status_file);
    }
    lws_sul_schedule(L->ctx, 0, &L->sul, tick, TICK_US);
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

    qw_pipeline_opts po = {.features = qw_featset_of(cfg->bt_features[0])};
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
    if (qw_pipeline_create(&L.pl, &po) != QW_OK) {
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
        (qw_pipeline_load_models(L.pl, cfg->load_model, eb, sizeof eb) != QW_OK ||
         qw_model_watch_start(&L.mw, L.pl, cfg->load_model, eb, sizeof eb) != QW_OK)) {
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
    L.ctx = g_ctx = qw_live_context_create();
    if (!L.ctx) {
        QW_LOG(ERROR, "cannot create the libwebsockets context");
        rc = 1;
        goto out;
    }
    const char *ids[QW_CONFIG_MAX_PRODUCTS];
    qw_wsclient_opts wo;
    qw_live_ws_opts(&wo, ids, cfg);
    qw_live_opts lo = {
        .ctx = L.ctx,
        .pl = L.pl,
        .ws = &wo,
        .rec = L.rec,
        .shard_i = cfg->shard_i,
        .shard_n = cfg->shard_n,
        .hooks = {.ctx = &L, .on_connect = on_connect, .on_msg = on_msg, .on_stop = on_stop}};
    if (qw_live_create(&L.lv, &lo, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "client: %s", eb);
        fprintf(stderr, "quotewatch: %s\n", eb);
        rc = 2;
        goto out;
    }
    qw_dash_opts dopt;
    qw_dash_opts_from_config(&dopt, cfg, "live");
    dopt.keep_lws_log = 1; /* qw_live_context_create bridged lws's log to ours */
    if (qw_dash_host_open(&L.host, &dopt, eb, sizeof eb) != QW_OK ||
        qw_dash_host_start(L.host, L.pl, qw_live_get_stats(L.lv), cfg->persist ? &L.sst : NULL, eb,
                           sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "%s", eb);
        fprintf(stderr, "quotewatch: %s (use --port N or PORT)\n", eb);
        rc = 1;
        goto out;
    }
    L.dash = qw_dash_host_dash(L.host);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL), sigaction(SIGTERM, &sa, NULL), sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    L.start_mono = qw_now_mono_ns();
    qw_live_start(L.lv);
    lws_sul_schedule(L.ctx, 0, &L.sul, tick, TICK_US);
    qw_live_run(L.lv, &sig_stop);
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
out:
    if (L.rec && qw_recorder_close(L.rec) != QW_OK)
        rc = rc ? rc : 1;
    if (L.lv)
        qw_live_stop(L.lv, NULL);
    qw_dash_host_close(L.host); /* stops and joins the dashboard thread */
    if (L.ctx)
        lws_context_destroy(L.ctx); /* closes what is left; callbacks still see the client */
    g_ctx = NULL;
    if (L.store && qw_store_close(L.store) != QW_OK) /* flush and commit before exit */
        rc = rc ? rc : 1;
    L.store = NULL;
    qw_live_destroy(L.lv);
    qw_model_watch_stop(L.mw);
    qw_pipeline_destroy(L.pl);
    return rc;
}

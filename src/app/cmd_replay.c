/* cmd_replay.c: `quotewatch replay FILE...` — recorded messages through live's pipeline,
 * fast or paced by feed time. Wiring only: files via ingest/replay.c, a lake via
 * storage/lake_read, --samples via pipeline/samples.c. Exit 0 when every input was read
 * to its end (whatever it held), 1 when one could not be opened or read, 2 usage errors. */
#define QW_MODULE "replay"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"

#include "core/log.h"
#include "core/time.h"
#include "dashboard/dashboard.h"
#include "feed/feed.h"
#include "ingest/replay.h"
#include "pipeline/pipeline.h"
#include "pipeline/samples.h"
#include "pipeline/summary.h"
#include "storage/lake_read.h"
#include "storage/store.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Everything a run owns; released in one place (run_free). */
typedef struct run {
    qw_pipeline *pl;
    qw_samples *samples;
    qw_store *store;
    qw_store_stats sst;
    qw_dash_host *host; /* --dashboard: served from this thread between messages */
    qw_dash *dash;
    qw_pace pace;
} run;

static void dash_idle(void *ctx)
{
    qw_dash_host_poll(((run *)ctx)->host, 1);
}

static void on_msg(void *ctx, const qw_msg *m, int64_t recv_ns)
{
    run *r = ctx;
    if (m && r->store)
        qw_store_put_msg(r->store, m, recv_ns);
    qw_dash_host_poll(r->host, 0);
}

static void on_connect(void *ctx, int64_t recv_ns)
{
    run *r = ctx;
    if (r->store)
        qw_store_put_connect(r->store, recv_ns);
}

static void on_sample(void *ctx, const qw_chain *c, const qw_sample *s)
{
    qw_store_put_sample(((run *)ctx)->store, c->product, s);
}

/* --samples, --persist (the labels table), --dashboard */
static void on_labeled(void *ctx, const qw_chain *c, const qw_labeled *s)
{
    run *r = ctx;
    if (r->store)
        qw_store_put_label(r->store, c->product, s, !isnan(s->s.p));
    if (r->dash)
        qw_dash_on_labeled(r->dash, c->product, s);
    if (r->samples)
        qw_samples_write(r->samples, c->product, s);
}

/* Outputs, dashboard, pipeline, model: 0, or 1 after logging why. */
static int run_start(run *r, const qw_config *cfg)
{
    char eb[512];
    if (cfg->samples[0] &&
        qw_samples_open(&r->samples, cfg->samples, cfg->bt_features[0]) != QW_OK) {
        QW_LOG(ERROR, "cannot write samples %s", cfg->samples);
        return 1;
    }
    if (cfg->persist) {
        qw_store_opts so;
        qw_store_opts_from_config(&so, cfg, 1); /* replay: back-pressure, nothing dropped */
        if (qw_store_open(&r->store, &so, &r->sst, eb, sizeof eb) != QW_OK) {
            QW_LOG(ERROR, "--persist: %s", eb);
            fprintf(stderr, "quotewatch: --persist: %s\n", eb);
            return 1;
        }
    }
    if (cfg->dashboard) {
        qw_dash_opts dopt;
        qw_dash_opts_from_config(&dopt, cfg, "replay");
        if (qw_dash_host_open(&r->host, &dopt, eb, sizeof eb) != QW_OK) {
            QW_LOG(ERROR, "--dashboard: %s", eb);
            return 1;
        }
        r->dash = qw_dash_host_dash(r->host);
        r->pace.idle = dash_idle;
    }
    qw_pipeline_opts po = {.auto_add = 1, .features = qw_featset_of(cfg->bt_features[0])};
    po.only = cfg->products, po.nonly = cfg->products_set ? cfg->nproducts : 0; /* filter */
    if (r->samples || r->store || r->dash)
        po.on_labeled = on_labeled, po.on_labeled_ctx = r;
    if (r->store)
        po.on_sample = on_sample, po.on_sample_ctx = r;
    if (qw_pipeline_create(&r->pl, &po) != QW_OK) {
        QW_LOG(ERROR, "out of memory");
        return 1;
    }
    if (r->dash)
        qw_dash_set_sources(r->dash, r->pl, NULL, r->store ? &r->sst : NULL);
    if (cfg->load_model[0] &&
        qw_pipeline_load_models(r->pl, cfg->load_model, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--load-model: %s", eb);
        fprintf(stderr, "quotewatch: --load-model: %s\n", eb);
        return 1;
    }
    return 0;
}

/* Closes the store (joining its threads) if still open: 0, or 1 when some
 * rows could not be committed. */
static int store_finish(run *r)
{
    if (!r->store)
        return 0;
    qw_err e = qw_store_close(r->store);
    r->store = NULL;
    return e != QW_OK;
}

static void run_free(run *r)
{
    store_finish(r);
    qw_samples_close(r->samples);
    qw_dash_host_close(r->host);
    qw_pipeline_destroy(r->pl);
}

static qw_err lake_next(void *lr, qw_msg *m, int64_t *recv_ns, int *conn)
{
    return qw_lake_next(lr, m, recv_ns, conn);
}

/* --lake: the stored raw tables as the message source. 0, or 1. */
static int replay_lake(qw_pipeline *pl, const qw_config *cfg, const qw_replay_opts *ro,
                       qw_replay_result *rr)
{
    const char *ids[QW_CONFIG_MAX_PRODUCTS];
    qw_lake_opts lo;
    qw_lake_opts_from_config(&lo, ids, cfg);
    qw_lake_reader *lr;
    char eb[512];
    if (qw_lake_open(&lr, &lo, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--lake: %s", eb);
        return 1;
    }
    qw_replay_parsed(pl, ro, lake_next, lr, rr);
    int rc = qw_lake_log_stats(lr); /* 1: a file failed midway */
    qw_lake_close(lr);
    return rc;
}

int qw_cmd_replay(const qw_config *cfg)
{
    run r = {.pace = {.speed = cfg->speed, .stop = &stop_requested, .idle_ctx = &r}};
    qw_summary_extra x = {0};
    char eb[512], pjson[2048];
    int rc = 1;
    if (run_start(&r, cfg) != 0)
        goto done;
    rc = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int64_t start = qw_now_mono_ns();
    qw_replay_opts ro = {.files = cfg->files,
                         .nfiles = cfg->nfiles,
                         .max_line = cfg->max_line,
                         .progress = cfg->progress == 1 || (cfg->progress == -1 && isatty(2)),
                         .stop = &stop_requested,
                         .pace = &r.pace,
                         .hooks = {.ctx = &r,
                                   .on_msg = r.store || r.dash ? on_msg : NULL,
                                   .on_connect = on_connect}};
    qw_replay_result lake = {0}, rr = {0};
    if (cfg->lake)
        rc |= replay_lake(r.pl, cfg, &ro, &lake);
    if (qw_replay_files(r.pl, &ro, &rr) != QW_OK) {
        QW_LOG(ERROR, "out of memory");
        rc = 1;
    }
    rc |= rr.failed;
    x.bytes = rr.bytes;
    x.meta_lines = rr.meta_lines;
    x.connects = lake.connects + rr.connects;
    x.input_errors = rr.input_errors;
    if (r.dash) { /* keep serving the final state until stopped */
        qw_dash_set_replay_state(r.dash, stop_requested ? "stopped" : "finished");
        QW_LOG(INFO, "replay finished; the dashboard stays up until SIGINT/SIGTERM");
        while (!stop_requested)
            qw_pace_sleep(&r.pace, 20 * QW_NS_PER_MS);
    }
    if (store_finish(&r)) {
        QW_LOG(ERROR, "--persist: some rows could not be committed (see above)");
        rc = 1;
    }
    if (cfg->persist) {
        qw_store_stats_json(&r.sst, pjson, sizeof pjson);
        x.extra_key = "persistence";
        x.extra_json = pjson;
    }
    x.seconds = (double)(qw_now_mono_ns() - start) / 1e9;
    if (stop_requested)
        QW_LOG(WARN, "interrupted: summary covers the input read so far");
    qw_err e;
    if (cfg->summary[0] && (e = qw_summary_write(r.pl, &x, cfg->summary)) != QW_OK) {
        QW_LOG(ERROR, "cannot write summary %s: %s", cfg->summary, qw_strerror(e));
        rc = 1;
    }
    if (cfg->save_model[0] &&
        qw_pipeline_save_models(r.pl, cfg->save_model, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--save-model: %s", eb);
        rc = 1;
    }
    e = qw_samples_close(r.samples);
    r.samples = NULL;
    if (e != QW_OK) {
        QW_LOG(ERROR, "cannot write samples %s", cfg->samples);
        rc = 1;
    }
    const qw_pipeline_stats *st = qw_pipeline_get_stats(r.pl);
    QW_LOG(INFO, "replayed %llu messages (%llu rejected), %llu bytes in %.3f s",
           (unsigned long long)st->messages, (unsigned long long)st->rejected,
           (unsigned long long)x.bytes, x.seconds);
done:
    run_free(&r);
    return rc;
}

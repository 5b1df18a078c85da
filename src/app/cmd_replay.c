/* cmd_replay.c: `quotewatch replay FILE...` — recorded raw messages through
 * the same pipeline as live, as fast as possible or paced by feed time.
 * Exit 0 when every input was read to its end (whatever it contained),
 * 1 when an input could not be opened or read, 2 for usage errors. */
#define QW_MODULE "replay"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include <libwebsockets.h>

#include "core/log.h"
#include "core/time.h"
#include "dashboard/dashboard.h"
#include "feed/feed.h"
#include "ingest/ingest.h"
#include "pipeline/pipeline.h"
#include "pipeline/summary.h"
#include "storage/lake_read.h"
#include "storage/store.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct progress {
    int on;
    int64_t last_ns, start_ns;
    size_t file_idx, nfiles;
} progress;

static void progress_draw(progress *pg, const qw_linesrc *src, uint64_t msgs, uint64_t bytes,
                          int final)
{
    int64_t now = qw_now_mono_ns();
    if (!final && now - pg->last_ns < 100 * QW_NS_PER_MS)
        return;
    pg->last_ns = now;
    double frac = 0;
    int64_t size = src ? qw_linesrc_file_size(src) : -1;
    if (size > 0)
        frac = (double)qw_linesrc_file_pos(src) / (double)size;
    frac = ((double)pg->file_idx + (frac > 1 ? 1 : frac)) / (double)pg->nfiles;
    if (final)
        frac = 1;
    double secs = (double)(now - pg->start_ns) / 1e9;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  %llu msgs  %.1f MB  %.0f msg/s%s", bar, (int)(frac * 100),
            (unsigned long long)msgs, (double)bytes / 1e6, secs > 0 ? (double)msgs / secs : 0.0,
            final ? "\n" : "");
}

/* --dashboard: the page is served from this thread between messages. */
static struct lws_context *g_ctx;
static qw_dash *g_dash;
static int64_t g_dash_last;

static void dash_poll(int force)
{
    if (!g_ctx)
        return;
    int64_t now = qw_now_mono_ns();
    if (!force && now - g_dash_last < 10 * QW_NS_PER_MS)
        return;
    g_dash_last = now;
    lws_service(g_ctx, -1);
    qw_dash_tick(g_dash, now);
}

static void sleep_ns(int64_t d)
{
    while (d > 0 && !stop_requested) {
        int64_t step = g_ctx && d > 5 * QW_NS_PER_MS ? 5 * QW_NS_PER_MS : d;
        struct timespec ts = {step / QW_NS_PER_SEC, step % QW_NS_PER_SEC};
        nanosleep(&ts, NULL);
        d -= step;
        dash_poll(1);
    }
}

static void pace(double speed, int64_t t_ns, int64_t *t0, int64_t *w0)
{
    if (speed <= 0 || t_ns <= 0)
        return;
    if (!*t0) {
        *t0 = t_ns;
        *w0 = qw_now_mono_ns();
        return;
    }
    int64_t target = *w0 + (int64_t)((double)(t_ns - *t0) / speed);
    int64_t now = qw_now_mono_ns();
    if (target > now && !stop_requested)
        sleep_ns(target - now);
}

typedef struct hooks {
    FILE *samples;
    qw_store *store;
    qw_dash *dash;
} hooks;

static void on_sample(void *ctx, const qw_chain *c, const qw_sample *s)
{
    qw_store_put_sample(((hooks *)ctx)->store, c->product, s);
}

/* --samples: one CSV row per labeled sample, in learning order; --persist:
 * the labels table. */
static void write_sample(void *ctx, const qw_chain *c, const qw_labeled *s)
{
    hooks *h = ctx;
    if (h->store)
        qw_store_put_label(h->store, c->product, s, !isnan(s->s.p));
    if (h->dash)
        qw_dash_on_labeled(h->dash, c->product, s);
    FILE *f = h->samples;
    if (!f)
        return;
    fprintf(f, "%s,%lld,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%d,%llu,", c->product,
            (long long)s->s.f.t_ns, s->s.f.x[0], s->s.f.x[1], s->s.f.x[2], s->s.f.x[3], s->s.f.mid,
            s->mid_future, s->label, (unsigned long long)s->s.n_learned);
    if (!isnan(s->s.p))
        fprintf(f, "%.17g", s->s.p);
    fputc('\n', f);
}

int qw_cmd_replay(const qw_config *cfg)
{
    qw_pipeline *pl = NULL;
    qw_feed *feed = NULL;
    qw_summary_extra x = {0};
    int rc = 0;
    FILE *samples = NULL;
    char eb[512];
    if (cfg->samples[0]) {
        samples = strcmp(cfg->samples, "-") == 0 ? stdout : fopen(cfg->samples, "w");
        if (!samples) {
            QW_LOG(ERROR, "cannot write samples %s", cfg->samples);
            return 1;
        }
        fputs(
            "product,t_ns,spread_bps,imbalance,depth,volatility,mid,mid_future,label,n_learned,p\n",
            samples);
    }
    static qw_store_stats sst;
    static hooks hk;
    hk.samples = samples;
    if (cfg->persist) {
        qw_store_opts so;
        qw_store_opts_from_config(&so, cfg, 1); /* replay: back-pressure, nothing dropped */
        if (qw_store_open(&hk.store, &so, &sst, eb, sizeof eb) != QW_OK) {
            QW_LOG(ERROR, "--persist: %s", eb);
            fprintf(stderr, "quotewatch: --persist: %s\n", eb);
            if (samples && samples != stdout)
                fclose(samples);
            return 1;
        }
    }
    qw_pipeline_opts po = {.auto_add = 1};
    if (cfg->dashboard) {
        struct lws_context_creation_info ci;
        memset(&ci, 0, sizeof ci);
        ci.port = CONTEXT_PORT_NO_LISTEN;
        ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
        ci.gid = (gid_t)-1;
        ci.uid = (uid_t)-1;
        lws_set_log_level(LLL_ERR, NULL);
        g_ctx = lws_create_context(&ci);
        qw_dash_opts dopt = {
            .port = cfg->port, .bind = cfg->bind, .web_root = cfg->web_root, .mode = "replay"};
        if (!g_ctx || qw_dash_create(&g_dash, g_ctx, &dopt, eb, sizeof eb) != QW_OK) {
            QW_LOG(ERROR, "--dashboard: %s", g_ctx ? eb : "cannot create the lws context");
            if (g_ctx)
                lws_context_destroy(g_ctx);
            g_ctx = NULL;
            return 1;
        }
        hk.dash = g_dash;
    }
    if (samples || hk.store || hk.dash) {
        po.on_labeled = write_sample;
        po.on_labeled_ctx = &hk;
    }
    if (hk.store) {
        po.on_sample = on_sample;
        po.on_sample_ctx = &hk;
    }
    if (qw_pipeline_create(&pl, &po) != QW_OK || qw_feed_create(&feed, NULL) != QW_OK) {
        QW_LOG(ERROR, "out of memory");
        qw_pipeline_destroy(pl);
        return 1;
    }
    if (g_dash)
        qw_dash_set_sources(g_dash, pl, NULL, hk.store ? &sst : NULL);
    if (cfg->load_model[0] &&
        qw_pipeline_load_models(pl, cfg->load_model, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--load-model: %s", eb);
        fprintf(stderr, "quotewatch: --load-model: %s\n", eb);
        qw_feed_destroy(feed);
        qw_pipeline_destroy(pl);
        if (samples && samples != stdout)
            fclose(samples);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    progress pg = {.on = cfg->progress == 1 || (cfg->progress == -1 && isatty(2)),
                   .start_ns = qw_now_mono_ns(),
                   .nfiles = cfg->nfiles};
    int64_t t0 = 0, w0 = 0, start = qw_now_mono_ns();
    uint64_t bytes_done = 0;
    char *hexbuf = NULL; /* recorder msg_hex lines (rare) */
    size_t hexcap = 0;
    qw_ratelimit rl = {.first = 5, .every = 10000};

    if (cfg->lake) {
        const char *ids[QW_CONFIG_MAX_PRODUCTS];
        for (size_t i = 0; i < cfg->nproducts; i++)
            ids[i] = cfg->products[i];
        qw_lake_opts lo = {.warehouse = cfg->warehouse,
                           .catalog_uri = cfg->catalog_uri,
                           .products = cfg->products_set ? ids : NULL,
                           .nproducts = cfg->products_set ? cfg->nproducts : 0,
                           .since_ns = cfg->since_ns,
                           .until_ns = cfg->until_ns};
        qw_lake_reader *lr;
        if (qw_lake_open(&lr, &lo, eb, sizeof eb) != QW_OK) {
            QW_LOG(ERROR, "--lake: %s", eb);
            rc = 1;
        } else {
            qw_msg lm;
            int64_t recv;
            int conn;
            while (!stop_requested && qw_lake_next(lr, &lm, &recv, &conn) == QW_OK) {
                if (conn) { /* as the original run did at a new connection */
                    x.connects++;
                    qw_pipeline_invalidate_all(pl, QW_RESYNC_RECONNECT);
                    if (hk.store)
                        qw_store_put_connect(hk.store, recv);
                    if (!lm.ngroups && !lm.ntrades)
                        continue;
                }
                qw_pipeline_on_msg(pl, &lm, recv);
                if (hk.store)
                    qw_store_put_msg(hk.store, &lm, recv);
                pace(cfg->speed, lm.t_ns, &t0, &w0);
                dash_poll(0);
            }
            const qw_lake_stats *ls = qw_lake_get_stats(lr);
            QW_LOG(INFO, "lake: %llu messages from %llu rows in %llu of %llu files, %llu run(s)",
                   (unsigned long long)ls->messages, (unsigned long long)ls->rows,
                   (unsigned long long)ls->files_read, (unsigned long long)ls->files_total,
                   (unsigned long long)ls->runs);
            qw_lake_close(lr);
        }
    }
    for (size_t fi = 0; fi < cfg->nfiles && !stop_requested; fi++) {
        qw_linesrc *src;
        pg.file_idx = fi;
        qw_err e = qw_linesrc_open(&src, cfg->files[fi], cfg->max_line);
        if (e != QW_OK) {
            QW_LOG(ERROR, "cannot open %s: %s", cfg->files[fi], qw_strerror(e));
            rc = 1;
            continue;
        }
        qw_feed_reset(feed); /* each file is its own stream */
        uint64_t n = 0;
        for (;;) {
            const char *line;
            size_t len;
            e = qw_linesrc_next(src, &line, &len);
            if (e == QW_NOT_FOUND)
                break;
            if (e == QW_TOO_LARGE) {
                qw_pipeline_on_reject(pl, QW_TOO_LARGE, NULL);
                if (qw_log_ratelimit(&rl))
                    QW_LOG(WARN, "%s: skipped a %zu-byte line (limit %zu)", cfg->files[fi], len,
                           cfg->max_line);
                continue;
            }
            if (e != QW_OK) {
                QW_LOG(ERROR, "%s: %s", cfg->files[fi], qw_linesrc_errmsg(src));
                x.input_errors++;
                if (e == QW_IO)
                    rc = 1;
                break;
            }
            qw_frame fr;
            qw_frame_line(line, len, &fr);
            if (fr.kind == QW_FRAME_CONNECT) {
                x.connects++;
                if (hk.store)
                    qw_store_put_connect(hk.store, fr.recv_ns);
                qw_feed_reset(feed);
                qw_pipeline_invalidate_all(pl, QW_RESYNC_RECONNECT);
                continue;
            }
            if (fr.kind == QW_FRAME_MSG_HEX) {
                if (fr.len / 2 + 1 > hexcap) {
                    char *nb = realloc(hexbuf, fr.len / 2 + 1);
                    if (!nb) {
                        qw_pipeline_on_reject(pl, QW_NOMEM, NULL);
                        continue;
                    }
                    hexbuf = nb;
                    hexcap = fr.len / 2 + 1;
                }
                size_t hn = qw_frame_unhex(fr.msg, fr.len, hexbuf);
                if (hn == (size_t)-1) {
                    x.meta_lines++;
                    continue;
                }
                fr.msg = hexbuf;
                fr.len = hn;
            }
            if (fr.kind == QW_FRAME_META) {
                x.meta_lines++;
                continue;
            }
            size_t k = 0;
            while (k < fr.len && (fr.msg[k] == ' ' || fr.msg[k] == '\r' || fr.msg[k] == '\t'))
                k++;
            if (k == fr.len)
                continue; /* blank line */
            const qw_msg *m;
            e = qw_pipeline_ingest(pl, feed, fr.msg, fr.len, fr.recv_ns, &m);
            if (e == QW_OK && hk.store)
                qw_store_put_msg(hk.store, m, fr.recv_ns);
            if (e == QW_OK)
                pace(cfg->speed, m->t_ns, &t0, &w0);
            else if (qw_log_ratelimit(&rl))
                QW_LOG(WARN, "%s: rejected line (%s): %s", cfg->files[fi], qw_err_name(e),
                       qw_feed_errmsg(feed));
            dash_poll(0);
            if (pg.on && (++n & 4095) == 0)
                progress_draw(&pg, src, qw_pipeline_get_stats(pl)->messages,
                              bytes_done + qw_linesrc_bytes(src), 0);
            if (stop_requested)
                break;
        }
        bytes_done += qw_linesrc_bytes(src);
        qw_linesrc_close(src);
    }
    if (g_dash) { /* keep serving the final state until stopped */
        qw_dash_set_replay_state(g_dash, stop_requested ? "stopped" : "finished");
        QW_LOG(INFO, "replay finished; the dashboard stays up until SIGINT/SIGTERM");
        while (!stop_requested)
            sleep_ns(20 * QW_NS_PER_MS);
    }
    x.bytes = bytes_done;
    if (hk.store) {
        qw_err se = qw_store_close(hk.store);
        hk.store = NULL;
        if (se != QW_OK) {
            QW_LOG(ERROR, "--persist: some rows could not be committed (see above)");
            rc = 1;
        }
    }
    char persist_json[640];
    if (cfg->persist) {
        snprintf(persist_json, sizeof persist_json,
                 "{\"rows_written\":{\"raw_orderbook\":%llu,\"raw_trades\":%llu,\"features\":%llu,"
                 "\"labels\":%llu},\"files\":%llu,\"bytes\":%llu,\"commits\":%llu,\"errors\":%llu,"
                 "\"flush_commit_ms_avg\":%.3f,\"commit_ms_avg\":%.3f,\"writer_cpu_s\":%.3f,"
                 "\"commit_cpu_s\":%.3f}",
                 (unsigned long long)sst.rows_written[0], (unsigned long long)sst.rows_written[1],
                 (unsigned long long)sst.rows_written[2], (unsigned long long)sst.rows_written[3],
                 (unsigned long long)sst.files_written, (unsigned long long)sst.bytes_written,
                 (unsigned long long)sst.commits, (unsigned long long)sst.errors,
                 sst.commits ? (double)sst.commit_latency_sum_ns / (double)sst.commits / 1e6 : 0.0,
                 sst.commits ? (double)sst.commit_work_sum_ns / (double)sst.commits / 1e6 : 0.0,
                 (double)sst.writer_cpu_ns / 1e9, (double)sst.commit_cpu_ns / 1e9);
        x.extra_key = "persistence";
        x.extra_json = persist_json;
    }
    x.seconds = (double)(qw_now_mono_ns() - start) / 1e9;
    if (pg.on)
        progress_draw(&pg, NULL, qw_pipeline_get_stats(pl)->messages, bytes_done, 1);
    if (stop_requested)
        QW_LOG(WARN, "interrupted: summary covers the input read so far");
    if (cfg->summary[0]) {
        qw_err e = qw_summary_write(pl, &x, cfg->summary);
        if (e != QW_OK) {
            QW_LOG(ERROR, "cannot write summary %s: %s", cfg->summary, qw_strerror(e));
            rc = 1;
        }
    }
    if (cfg->save_model[0] &&
        qw_pipeline_save_models(pl, cfg->save_model, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--save-model: %s", eb);
        rc = 1;
    }
    if (samples && (fflush(samples) != 0 || (samples != stdout && fclose(samples) != 0))) {
        QW_LOG(ERROR, "cannot write samples %s", cfg->samples);
        rc = 1;
    }
    const qw_pipeline_stats *st = qw_pipeline_get_stats(pl);
    QW_LOG(INFO, "replayed %llu messages (%llu rejected), %llu bytes in %.3f s",
           (unsigned long long)st->messages, (unsigned long long)st->rejected,
           (unsigned long long)x.bytes, x.seconds);
    free(hexbuf);
    if (g_ctx)
        lws_context_destroy(g_ctx);
    qw_dash_destroy(g_dash);
    g_ctx = NULL;
    g_dash = NULL;
    qw_feed_destroy(feed);
    qw_pipeline_destroy(pl);
    return rc;
}

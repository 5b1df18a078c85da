/* replay.c: capture files through a pipeline (replay.h), pacing by feed
 * time and the replay progress bar. The per-line work is qw_msgsrc_next + qw_pipeline_ingest;
 * the bar is redrawn at most every 100 ms, checked every 4096 lines.
 */
#define QW_MODULE "replay"
#include "ingest/replay.h"

#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "core/time.h"
#include "ingest/msgsrc.h"
#include "ingest/progress.h"

void qw_pace_sleep(const qw_pace *p, int64_t d)
{
    while (d > 0 && !(p->stop && *p->stop)) {
        int64_t step = p->idle && d > 5 * QW_NS_PER_MS ? 5 * QW_NS_PER_MS : d;
        struct timespec ts = {step / QW_NS_PER_SEC, step % QW_NS_PER_SEC};
        nanosleep(&ts, NULL);
        d -= step;
        if (p->idle)
            p->idle(p->idle_ctx);
    }
}

void qw_pace_wait(qw_pace *p, int64_t t_ns)
{
    if (p->speed <= 0 || t_ns <= 0)
        return;
    if (!p->t0_ns) {
        p->t0_ns = t_ns;
        p->w0_ns = qw_now_mono_ns();
        return;
    }
    int64_t target = p->w0_ns + (int64_t)((double)(t_ns - p->t0_ns) / p->speed);
    int64_t now = qw_now_mono_ns();
    if (target > now)
        qw_pace_sleep(p, target - now);
}

/* Everything but a message (rare). */
__attribute__((noinline)) static void on_event(qw_pipeline *pl, qw_feed *feed, qw_msgsrc *src,
                                               const qw_replay_opts *o, const qw_msgsrc_item *it,
                                               qw_ratelimit *rl, qw_replay_result *res)
{
    const qw_replay_hooks *h = &o->hooks;
    switch (it->kind) {
    case QW_MSGSRC_MSG: break;
    case QW_MSGSRC_CONNECT:
        qw_feed_reset(feed);
        qw_pipeline_invalidate_all(pl, QW_RESYNC_RECONNECT);
        if (h->on_connect)
            h->on_connect(h->ctx, it->recv_ns);
        break;
    case QW_MSGSRC_INPUT:
        qw_feed_reset(feed); /* each file is its own stream */
        break;
    case QW_MSGSRC_TOO_LONG:
        qw_pipeline_on_reject(pl, QW_TOO_LARGE, NULL);
        if (qw_log_ratelimit(rl))
            QW_LOG(WARN, "%s: skipped a %zu-byte line (limit %zu)", it->path, it->len, o->max_line);
        break;
    case QW_MSGSRC_DROPPED: qw_pipeline_on_reject(pl, it->err, NULL); break;
    case QW_MSGSRC_OPEN_FAILED:
        QW_LOG(ERROR, "cannot open %s: %s", it->path, qw_strerror(it->err));
        res->failed = 1;
        break;
    case QW_MSGSRC_READ_FAILED: /* a truncated zstd file still counts as read */
        QW_LOG(ERROR, "%s: %s", it->path, qw_msgsrc_errmsg(src));
        if (it->err == QW_IO)
            res->failed = 1;
        break;
    }
}

qw_err qw_replay_files(qw_pipeline *pl, const qw_replay_opts *o, qw_replay_result *res)
{
    qw_msgsrc *src = NULL;
    qw_feed *feed = NULL;
    if (qw_msgsrc_open(&src, o->files, o->nfiles, o->max_line) != QW_OK ||
        qw_feed_create(&feed, NULL) != QW_OK) {
        qw_msgsrc_close(src);
        return QW_NOMEM;
    }
    const qw_replay_hooks *h = &o->hooks;
    qw_progress pg;
    qw_progress_start(&pg);
    qw_ratelimit rl = {.first = 5, .every = 10000};
    uint64_t n = 0;
    qw_msgsrc_item it;
    while ((!o->stop || !*o->stop) && qw_msgsrc_next(src, &it) == QW_OK) {
        if (__builtin_expect(it.kind != QW_MSGSRC_MSG, 0)) {
            on_event(pl, feed, src, o, &it, &rl, res);
            continue;
        }
        const qw_msg *m;
        qw_err e = qw_pipeline_ingest(pl, feed, it.msg, it.len, it.recv_ns, &m);
        if (e != QW_OK && qw_log_ratelimit(&rl))
            QW_LOG(WARN, "%s: rejected line (%s): %s", it.path, qw_err_name(e),
                   qw_feed_errmsg(feed));
        if (h->on_msg)
            h->on_msg(h->ctx, e == QW_OK ? m : NULL, it.recv_ns);
        if (e == QW_OK && o->pace && o->pace->speed > 0)
            qw_pace_wait(o->pace, m->t_ns);
        if (o->progress && (++n & 4095) == 0) {
            qw_msgsrc_stats ss;
            qw_msgsrc_get_stats(src, &ss);
            qw_progress_draw(&pg, qw_msgsrc_progress(src), qw_pipeline_get_stats(pl)->messages,
                             ss.bytes, 0);
        }
    }
    qw_msgsrc_stats ss;
    qw_msgsrc_get_stats(src, &ss);
    res->bytes = ss.bytes;
    res->meta_lines = ss.meta;
    res->connects = ss.connects;
    res->input_errors = ss.input_errors;
    if (o->progress)
        qw_progress_draw(&pg, 1, qw_pipeline_get_stats(pl)->messages, ss.bytes, 1);
    qw_feed_destroy(feed);
    qw_msgsrc_close(src);
    return QW_OK;
}

void qw_replay_parsed(qw_pipeline *pl, const qw_replay_opts *o, qw_replay_next_fn next, void *src,
                      qw_replay_result *res)
{
    const qw_replay_hooks *h = &o->hooks;
    qw_msg m;
    int64_t recv;
    int conn;
    while ((!o->stop || !*o->stop) && next(src, &m, &recv, &conn) == QW_OK) {
        if (conn) { /* as the original run did at a new connection */
            res->connects++;
            qw_pipeline_invalidate_all(pl, QW_RESYNC_RECONNECT);
            if (h->on_connect)
                h->on_connect(h->ctx, recv);
            if (!m.ngroups && !m.ntrades)
                continue;
        }
        qw_pipeline_on_msg(pl, &m, recv);
        if (h->on_msg)
            h->on_msg(h->ctx, &m, recv);
        if (o->pace)
            qw_pace_wait(o->pace, m.t_ns);
    }
}

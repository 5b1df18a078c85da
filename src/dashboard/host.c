/* host.c: a dashboard with a libwebsockets context of its own, serviced
 * either from the caller's thread between units of work (replay
 * --dashboard) or from a server thread of its own (live), so no dashboard
 * client can delay the caller's loop (dashboard.h "Threads"). */
#define QW_MODULE "dashboard"
#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "dashboard/dash_int.h"

#define QW_DASH_HEAD_SPACE 16384 /* lws's header buffer per request (default 4096) */

struct qw_dash_host {
    struct lws_context *ctx;
    qw_dash *d;
    int64_t last;
    pthread_t thread;
    int running;      /* the thread was started (owner) */
    _Atomic int stop; /* owner -> server thread */
};

/* lws's log is process-wide. lws 4.1.6 logs every
 * lws_adopt_socket_vhost_readbuf (front.c hands each request head to lws
 * with it) as an error, "adopt_socket_readbuf: calling service"; this
 * filter drops those two lines of that function and passes the rest on as
 * before: to our log as ingest/live.c's bridge does (module "live", lws
 * errors as WARN) when the caller set that up, else to stderr. */
static int lws_log_ours; /* {const} set before any context runs */

static void lws_log_filter(int level, const char *line)
{
    if (strstr(line, "adopt_socket_readbuf: "))
        return;
    if (!lws_log_ours) {
        lwsl_emit_stderr(level, line);
        return;
    }
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    qw_log_write((level & LLL_ERR) ? QW_LOG_WARN : QW_LOG_DEBUG, "live", "lws: %.*s", (int)n, line);
}

void qw_dash_opts_from_config(qw_dash_opts *o, const qw_config *cfg, const char *mode)
{
    *o = (qw_dash_opts){.port = cfg->port,
                        .bind = cfg->bind,
                        .web_root = cfg->web_root,
                        .mode = mode,
                        .max_per_ip = cfg->dash_max_per_ip,
                        .shard_i = cfg->shard_i,
                        .shard_n = cfg->shard_n};
}

qw_err qw_dash_host_open(qw_dash_host **out, const qw_dash_opts *o, char *errbuf, size_t errlen)
{
    qw_dash_host *h = qw_calloc(1, sizeof *h);
    if (!h)
        return QW_NOMEM;
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    /* lws keeps a request's whole head here and hangs up without a reply
     * when it does not fit (a context setting): room for heads well past
     * the 4 KiB the dashboard answers 414/431 above (server.c, on_http) */
    ci.max_http_header_data = QW_DASH_HEAD_SPACE;
    ci.gid = (gid_t)-1;
    ci.uid = (uid_t)-1;
    int lvl = LLL_ERR;
    if (o->keep_lws_log) { /* keep the caller's levels */
        lvl = 0;
        for (int b = 0; b < LLL_COUNT; b++)
            lvl |= lwsl_visible(1 << b);
    }
    lws_log_ours = o->keep_lws_log;
    lws_set_log_level(lvl, lws_log_filter);
    qw_err e = QW_OK;
    if (!(h->ctx = lws_create_context(&ci))) {
        QW_SETERR(errbuf, errlen, "cannot create the lws context");
        e = QW_NOMEM;
    } else {
        e = qw_dash_create(&h->d, h->ctx, o, errbuf, errlen);
    }
    if (e != QW_OK) {
        qw_dash_host_close(h);
        return e;
    }
    *out = h;
    return QW_OK;
}

qw_dash *qw_dash_host_dash(qw_dash_host *h)
{
    return h ? h->d : NULL;
}

void qw_dash_host_poll(qw_dash_host *h, int force)
{
    if (!h)
        return;
    int64_t now = qw_now_mono_ns();
    if (!force && now - h->last < 10 * QW_NS_PER_MS)
        return;
    h->last = now;
    lws_service(h->ctx, -1);
    qw_dash_tick(h->d, now);
    qw__dash_serve_tick(h->d, now);
}

/* The server thread: lws waits for sockets, timers or a wake-up (every
 * publish and the stop call lws_cancel_service). */
static void *serve(void *arg)
{
    qw_dash_host *h = arg;
    while (!atomic_load(&h->stop)) {
        if (lws_service(h->ctx, 0) < 0)
            break;
        qw__dash_serve_tick(h->d, qw_now_mono_ns());
    }
    return NULL;
}

qw_err qw_dash_host_start(qw_dash_host *h, const qw_pipeline *p, const qw_live_stats *live,
                          const qw_store_stats *store, char *errbuf, size_t errlen)
{
    qw_dash_set_sources(h->d, p, live, store);
    qw_dash_tick(h->d, qw_now_mono_ns()); /* something to serve from the first request on */
    /* signals stay with the owner's thread (its handlers wake its loop) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&h->thread, NULL, serve, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        char eb[128];
        QW_SETERR(errbuf, errlen, "cannot start the dashboard thread: %s",
                  qw_errno_str(rc, eb, sizeof eb));
        return QW_IO;
    }
    h->running = 1;
    return QW_OK;
}

void qw_dash_host_close(qw_dash_host *h)
{
    if (!h)
        return;
    if (h->running) {
        atomic_store(&h->stop, 1);
        lws_cancel_service(h->ctx);
        pthread_join(h->thread, NULL);
    }
    if (h->ctx)
        lws_context_destroy(h->ctx);
    qw_dash_destroy(h->d);
    qw_free(h);
}

/* dashboard.h: the live dashboard served by the binary (docs/DASHBOARD.md).
 *
 * An HTTP + WebSocket vhost in a libwebsockets context of its own
 * (qw_dash_host: live serves it from a thread of its own, replay from the
 * replay thread between messages):
 *   /            the page and its assets (from the web root, loaded into
 *                memory at start; gzip variants served when accepted)
 *   /api/state   state JSON (pipeline + feed + persistence); ?product=P:
 *                that product only, plus a summary of every product; gzip
 *   /ws          the same JSON pushed at up to 10 Hz, coalesced per client;
 *                after {"subscribe":"P"} only P's, labels as deltas
 *                (subscribe.c); permessage-deflate when offered
 *   /healthz     200 "ok" while the process runs
 *   /readyz      200 when the feed is connected and every book is valid
 *   /metrics     Prometheus text exposition 0.0.4
 * Only GET and HEAD; traversal, oversized and malformed requests refused.
 * Connections are capped in total, per source address and per second of
 * accepts; the excess is closed at accept and counted (limits.c).
 *
 * Threads. Two threads share a qw_dash, and only through one hand-off:
 *   OWNER  (live: the event-loop thread that runs ingest; replay: the
 *          replay thread) calls set_sources, set_replay_state, on_labeled
 *          and tick. tick builds, at most every 90 ms (live: on its 100 ms
 *          tick), a complete snapshot: the state JSON (also the WebSocket
 *          push), the pipeline's metric families and the readiness, all
 *          read from the pipeline, live stats and store stats on this
 *          thread, and PUBLISHES it: a pointer swap under a mutex held for
 *          the swap only (publish.c), then lws_cancel_service wakes the
 *          server. Nothing else crosses from the owner.
 *   SERVER (the thread servicing the dashboard's lws context: the host
 *          thread in live, the owner itself in replay) answers every
 *          request from the newest published snapshot, holding a reference
 *          only while it writes; it never reads the pipeline, books,
 *          classifier or live stats. It owns the WebSocket clients, the
 *          connection guard and its counters (clients, connections,
 *          rejected, http_requests), which /metrics appends at serve time
 *          together with build_info and process_* (read then).
 * So /api/state, /metrics, /readyz and the pushes are at most one publish
 * old (<= 100 ms in live, plus the server's own latency), and a client,
 * however slow or hostile, can only delay the server thread: the owner
 * never waits for it (a publish never blocks on a reader; with no free
 * snapshot it is skipped and counted).
 * The state/metrics/ready functions below run the builders directly on
 * the calling thread: the owner's (or tests without a server). */
#ifndef QW_DASHBOARD_DASHBOARD_H
#define QW_DASHBOARD_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "features/features.h"
#include "ingest/live_stats.h"
#include "pipeline/pipeline.h"
#include "storage/stats.h"

struct lws_context;

typedef struct qw_dash qw_dash;

typedef struct qw_dash_opts {
    int port;             /* 0 = any free port (qw_dash_port tells) */
    const char *bind;     /* NULL/"" = 127.0.0.1 */
    const char *web_root; /* NULL/"" = build/web, else <exe dir>/web */
    const char *mode;     /* "live" | "replay" */
    int max_clients;      /* WebSocket clients; 0 = 64 */
    int max_conns;        /* open connections of every kind; 0 = 256 */
    int max_per_ip;       /* open connections per source address; 0 = 16 */
    int keep_lws_log;     /* host: the caller set lws logging up (live); else errors only */
    double ready_grace_s; /* live readiness: longest wait for the first snapshots; 0 = 30 */
    int shard_i, shard_n; /* live --shard I/N (shard_n 0: not sharded): /api/state, /metrics */
} qw_dash_opts;

/* Options from the configuration (--port, --bind, --web-root,
 * --dash-max-per-ip, --shard); mode "live" or "replay"; the rest defaults. */
void qw_dash_opts_from_config(qw_dash_opts *o, const qw_config *cfg, const char *mode);

/* Creates the listening vhost in ctx (created with
 * LWS_SERVER_OPTION_EXPLICIT_VHOSTS). ctx NULL: no server, only the state
 * and metrics functions (tests). */
qw_err qw_dash_create(qw_dash **out, struct lws_context *ctx, const qw_dash_opts *o, char *errbuf,
                      size_t errlen);
void qw_dash_destroy(qw_dash *d);
int qw_dash_port(const qw_dash *d);

/* What to show; live and store may be NULL. Pointers stay owned by the caller. */
void qw_dash_set_sources(qw_dash *d, const qw_pipeline *p, const qw_live_stats *live,
                         const qw_store_stats *store);
/* Replay progress / end: "running" or "finished" (live: ignored). */
void qw_dash_set_replay_state(qw_dash *d, const char *state);
/* A labeled sample (realized label vs the probability made for it). NULL d: no-op. */
void qw_dash_on_labeled(qw_dash *d, const char *product, const qw_labeled *s);
/* Call every ~100 ms from the owner's timer: publishes a snapshot
 * (WebSocket pushes, /api/state, /metrics, /readyz). NULL d: no-op. */
void qw_dash_tick(qw_dash *d, int64_t now_mono_ns);

/* The state JSON and the Prometheus text, for the endpoints and for tests.
 * The returned text stays valid until the next call on d. */
const char *qw_dash_state_json(qw_dash *d, size_t *len);
const char *qw_dash_metrics_text(qw_dash *d, size_t *len);
/* Readiness of a streaming service (docs/DASHBOARD.md): live is ready while
 * the feed is subscribed, once startup is over (every product received a
 * snapshot, or ready_grace_s passed since the first subscribe); later
 * resyncs of single books do not make it unready (their validity is in
 * /api/state and /metrics). Replay: ready once it has a pipeline. why gets
 * the reason, with the count of valid books. */
int qw_dash_ready(qw_dash *d, char *why, size_t cap);

/* A dashboard with its own lws context. Either serviced by the caller's
 * thread between units of work (replay --dashboard: poll does a
 * non-blocking service, a publish and the server's tick, at most every
 * 10 ms unless force), or by a thread of its own (live: start publishes
 * the first snapshot of these sources (qw_dash_set_sources), then starts
 * the server thread; the caller goes on
 * calling qw_dash_tick). close stops and joins the thread (it exits within
 * one service wake-up), then frees everything. NULL h: no-ops. */
typedef struct qw_dash_host qw_dash_host;
qw_err qw_dash_host_open(qw_dash_host **out, const qw_dash_opts *o, char *errbuf, size_t errlen);
qw_dash *qw_dash_host_dash(qw_dash_host *h);
void qw_dash_host_poll(qw_dash_host *h, int force);
qw_err qw_dash_host_start(qw_dash_host *h, const qw_pipeline *p, const qw_live_stats *live,
                          const qw_store_stats *store, char *errbuf, size_t errlen);
void qw_dash_host_close(qw_dash_host *h);

#endif

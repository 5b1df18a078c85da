/* dashboard.h: the live dashboard served by the binary (docs/DASHBOARD.md).
 *
 * An HTTP + WebSocket vhost in the caller's libwebsockets context (the
 * same event-loop thread as the Coinbase client and the pipelines, so
 * nothing here takes a lock):
 *   /            the page and its assets (from the web root, loaded into
 *                memory at start; gzip variants served when accepted)
 *   /api/state   state JSON (pipeline + feed + persistence)
 *   /ws          the same JSON pushed at up to 10 Hz, coalesced per client
 *   /healthz     200 "ok" while the process runs
 *   /readyz      200 when the feed is connected and every book is valid
 *   /metrics     Prometheus text exposition 0.0.4
 * Only GET and HEAD; traversal, oversized and malformed requests refused.
 */
#ifndef QW_DASHBOARD_DASHBOARD_H
#define QW_DASHBOARD_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

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
    double ready_grace_s; /* live readiness: longest wait for the first snapshots; 0 = 30 */
} qw_dash_opts;

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
/* A labeled sample (realized label vs the probability made for it). */
void qw_dash_on_labeled(qw_dash *d, const char *product, const qw_labeled *s);
/* Call every ~100 ms from the owner's timer: pushes to WebSocket clients. */
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

/* A dashboard with its own lws context, serviced by the caller's thread
 * between units of work (replay --dashboard): poll does a non-blocking
 * service and a tick, at most every 10 ms unless force. NULL h: no-ops. */
typedef struct qw_dash_host qw_dash_host;
qw_err qw_dash_host_open(qw_dash_host **out, const qw_dash_opts *o, char *errbuf, size_t errlen);
qw_dash *qw_dash_host_dash(qw_dash_host *h);
void qw_dash_host_poll(qw_dash_host *h, int force);
void qw_dash_host_close(qw_dash_host *h);

#endif

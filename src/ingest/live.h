/* live.h: a live session: the Coinbase client feeding the pipelines, with
 * the resync policy, the label timer, the recorder and the live counters.
 * app/cmd_live.c creates it, hooks persistence and the dashboard in, and
 * runs the event loop; everything the session decides is here.
 *
 * Resync policy (docs/LIVE.md):
 *   - a sequence gap -> reconnect (the client drops the connection);
 *   - a product flagged for resync (rejected message, crossed book, server
 *     error) -> unsubscribe + subscribe its book channel;
 *   - no fresh snapshot within snapshot_wait of a (re)subscribe -> reconnect;
 *   - every reconnect flags all books and drops pending labels (they would
 *     span the outage); model state survives.
 * Label timer: a quiet product's samples are labeled once the estimated
 * feed time (last feed time + monotonic time since, minus label_lag) has
 * passed their horizon.
 *
 * Event-loop thread only, like the client.
 */
#ifndef QW_INGEST_LIVE_H
#define QW_INGEST_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "feed/feed.h"
#include "ingest/live_stats.h"
#include "ingest/recorder.h"
#include "ingest/wsclient.h"
#include "pipeline/pipeline.h"

struct lws_context;

typedef struct qw_live qw_live; /* opaque */

typedef struct qw_live_hooks {
    void *ctx;
    /* a (re)connection is up (wall clock); e.g. a connect marker row */
    void (*on_connect)(void *ctx, int64_t wall_ns);
    /* a message the pipeline accepted, after it was applied */
    void (*on_msg)(void *ctx, const qw_msg *m, int64_t recv_ns);
    /* a clean stop begins (before the close frame): e.g. start the
     * persistence shutdown budget */
    void (*on_stop)(void *ctx);
} qw_live_hooks;

typedef struct qw_live_opts {
    struct lws_context *ctx;    /* the owner's context (the dashboard has its own) */
    qw_pipeline *pl;            /* borrowed; products already added */
    const qw_wsclient_opts *ws; /* connection options (copied by the client) */
    qw_recorder *rec;           /* borrowed; NULL = no recording */
    qw_live_hooks hooks;        /* optional */
    int64_t snapshot_wait_ns;   /* 0 = 15 s */
    int64_t label_lag_ns;       /* 0 = 1 s */
    int shard_i, shard_n;       /* --shard I/N (shard_n 0: none): the summary's "shard" */
} qw_live_opts;

/* The event-loop context a live process uses: no listener of its own
 * (the client adds its vhost), lws logs bridged to ours,
 * 256 KiB reads. NULL on failure. */
struct lws_context *qw_live_context_create(void);

/* QW_INVAL (errbuf says why) for bad client options; QW_NOMEM. */
qw_err qw_live_create(qw_live **out, const qw_live_opts *o, char *errbuf, size_t errlen);
void qw_live_destroy(qw_live *L); /* after the loop stopped; NULL ok */

void qw_live_start(qw_live *L);
/* Clean stop (close frame, no reconnect); poll qw_live_stopped. The first
 * call logs why (NULL: not logged) and calls hooks.on_stop. */
void qw_live_stop(qw_live *L, const char *why);
/* Runs the owner's lws context until the session stopped: *stop (a signal
 * flag) starts a clean stop; a connection that does not close within 3 s
 * is abandoned. */
void qw_live_run(qw_live *L, volatile const int *stop);
/* Client options from the configuration (ids: storage for the product
 * pointers, QW_CONFIG_MAX_PRODUCTS entries). */
void qw_live_ws_opts(qw_wsclient_opts *wo, const char **ids, const qw_config *cfg);
int qw_live_stopped(const qw_live *L);
int qw_live_stopping(const qw_live *L);

/* Periodic work (call every ~100 ms with the monotonic clock): label
 * timer, resync checks, recorder flush, message rate. */
void qw_live_tick(qw_live *L, int64_t now_mono);

const qw_live_stats *qw_live_get_stats(const qw_live *L);
/* Receive -> prediction latency and per-message counters live in the
 * client's stats; the session adds these: */
typedef struct qw_live_extra {
    uint64_t gap_reconnects, snapshot_timeouts;
    uint64_t data_msgs; /* book and trade messages */
    int64_t first_data_mono, last_data_mono, start_mono;
    double rate; /* messages/s over the last second */
} qw_live_extra;

/* The "live" object of the summary and status file (docs/CLI.md), with
 * persistence_json (NULL = omitted) inserted as "persistence". Allocated
 * (free()); NULL on out of memory. */
char *qw_live_json(const qw_live *L, const char *persistence_json);

#endif

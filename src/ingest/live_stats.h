/* live_stats.h: what the live client reports about its connection.
 *
 * Owned and written by the event-loop thread (ingest/wsclient.c and
 * app/cmd_live.c); read on the same thread by the dashboard, the status
 * file and the exit summary. Book-level counters (rejected, gaps, resyncs)
 * live in the pipeline's per-product stats; this struct holds the
 * connection's own.
 */
#ifndef QW_INGEST_LIVE_STATS_H
#define QW_INGEST_LIVE_STATS_H

#include <stdint.h>

#include "core/hist.h"

typedef enum {
    QW_WS_IDLE = 0,   /* not started */
    QW_WS_CONNECTING, /* TCP/TLS/WebSocket handshake in progress */
    QW_WS_SUBSCRIBED, /* connected, subscribe messages sent */
    QW_WS_BACKOFF,    /* waiting before the next attempt */
    QW_WS_STOPPED     /* clean stop */
} qw_ws_state;

const char *qw_ws_state_name(qw_ws_state s); /* "connecting", ... */

typedef struct qw_live_stats {
    qw_ws_state state;
    uint64_t attempts;               /* connection attempts */
    uint64_t connects;               /* successful WebSocket handshakes */
    uint64_t reconnects;             /* handshakes after the first */
    uint64_t disconnects;            /* connections lost or closed by us */
    uint64_t messages;               /* complete messages received */
    uint64_t bytes;                  /* their payload bytes */
    uint64_t oversized;              /* messages over max_message, discarded (forces a reconnect) */
    uint64_t watchdog_trips;         /* silence longer than the watchdog -> reconnect */
    uint64_t handshake_failures;     /* TCP up, then no WebSocket session (TLS, HTTP, 101) */
    uint64_t protocol_errors;        /* connections failed for breaking RFC 6455/7692 */
    uint64_t resubscribes;           /* books rebuilt by unsubscribe + subscribe */
    uint64_t server_errors;          /* {"type":"error"} messages */
    uint64_t rate_limited;           /* attempts delayed by the connects-per-second cap */
    int64_t first_msg_mono_ns;       /* 0 = none yet */
    int64_t last_msg_mono_ns;        /* 0 = none yet */
    int64_t connected_since_mono_ns; /* 0 = not connected */
    double backoff_s;                /* the last backoff delay chosen */
    char last_error[160];            /* last connection error, secrets never included */
    qw_hist latency;                 /* receive -> prediction made, ns */
} qw_live_stats;

#endif

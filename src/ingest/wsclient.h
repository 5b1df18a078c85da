/* wsclient.h: the Coinbase WebSocket client (libwebsockets).
 *
 * State machine (the original design's, made explicit):
 *
 *     IDLE --start--> CONNECTING --handshake--> SUBSCRIBED
 *                        ^   |                      |
 *                        |   | error          lost / watchdog / oversized /
 *                        |   v                reconnect request
 *                        +-- BACKOFF <--------------+
 *     any --stop--> STOPPED (clean close)
 *
 * BACKOFF waits a full-jitter exponential delay, uniform in
 * [0, min(backoff_max, 0.5 s * 2^failures)], and every attempt also takes
 * a token from a connects-per-second bucket (Coinbase allows 8/s per IP).
 * Failures reset once a connection has stayed up for 10 s. The watchdog
 * drops a connection that has been silent for watchdog_s, or that has not
 * completed its handshake within max(10 s, watchdog_s).
 *
 * Messages are reassembled from fragments up to max_message bytes; a larger
 * one is discarded, counted (`oversized`) and forces a reconnect, because
 * whatever it carried is lost. The client owns no book: it hands every
 * complete message to on_message and tells the owner about connections;
 * the owner decides on resyncs (qw_wsclient_resubscribe / _reconnect).
 *
 * Event-loop thread only. The lws context is the owner's (one context
 * serves this client and the dashboard); the client creates its own
 * non-listening vhost in it.
 */
#ifndef QW_INGEST_WSCLIENT_H
#define QW_INGEST_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ingest/live_stats.h"

struct lws_context;

typedef struct qw_wsclient qw_wsclient; /* opaque */

typedef struct qw_wsclient_cb {
    void *ctx;
    /* A new connection is up; subscribes are queued. The owner resets its
     * feed state and flags its books (they rebuild from fresh snapshots). */
    void (*on_connect)(void *ctx, uint64_t conn_id);
    /* One complete message. buf is valid only during the call and is
     * writable scratch (len bytes, then a NUL). recv_ns = wall clock when
     * its last fragment arrived; mono_ns = monotonic clock then. */
    void (*on_message)(void *ctx, char *buf, size_t len, int64_t recv_ns, int64_t mono_ns);
    /* The connection is gone (why: short text, no secrets). */
    void (*on_disconnect)(void *ctx, const char *why);
} qw_wsclient_cb;

typedef struct qw_wsclient_opts {
    const char *url; /* ws:// or wss://host[:port][/path]; NULL = the feed's default */
    int exchange;    /* 0 Advanced Trade, 1 Exchange */
    const char *const *products;
    size_t nproducts;     /* 1..64 */
    size_t max_message;   /* 0 = 32 MiB */
    double watchdog_s;    /* 0 = 10 */
    double backoff_max_s; /* 0 = 30 */
    double connect_rate;  /* attempts per second; 0 = 4 */
    const char *ca_file;  /* extra CA (tests against the simulator); NULL = system store only */
    int no_deflate;       /* do not offer permessage-deflate */
    /* Exchange credentials (level2 instead of level2_batch); all three or none.
     * Copied at create; never logged. */
    const char *ex_key, *ex_secret_b64, *ex_passphrase;
} qw_wsclient_opts;

#define QW_WS_ADVANCED_URL "wss://advanced-trade-ws.coinbase.com"
#define QW_WS_EXCHANGE_URL "wss://ws-feed.exchange.coinbase.com"

/* Creates the client and its vhost in ctx. QW_INVAL (errbuf says why) for
 * a bad URL or options; QW_NOMEM. Nothing connects until start. */
qw_err qw_wsclient_create(qw_wsclient **out, struct lws_context *ctx, const qw_wsclient_opts *o,
                          const qw_wsclient_cb *cb, char *errbuf, size_t errlen);
void qw_wsclient_destroy(qw_wsclient *c); /* after the loop stopped; NULL ok */

void qw_wsclient_start(qw_wsclient *c);
/* Clean stop: close frame, no reconnect. Poll qw_wsclient_stopped. */
void qw_wsclient_stop(qw_wsclient *c);
int qw_wsclient_stopped(const qw_wsclient *c);

/* Drop the current connection and go through BACKOFF (counted as a
 * reconnect); why is logged. */
void qw_wsclient_reconnect(qw_wsclient *c, const char *why);

/* Unsubscribe + subscribe the book channel for one product, which makes
 * the server send a fresh snapshot. QW_AGAIN when not connected. */
qw_err qw_wsclient_resubscribe(qw_wsclient *c, const char *product);

const qw_live_stats *qw_wsclient_stats(const qw_wsclient *c);
qw_live_stats *qw_wsclient_stats_mut(qw_wsclient *c); /* owner records latency */

/* Subscribe messages for the given options, one per channel, into buf
 * (NUL-separated, ends with an empty string); for tests and docs. */
qw_err qw_wsclient_subscribe_msgs(const qw_wsclient_opts *o, int64_t unix_s, char *buf, size_t cap);

#endif

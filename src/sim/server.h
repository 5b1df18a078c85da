/* server.h: `quotewatch sim`, a local Coinbase-protocol WebSocket server
 * (docs/SIM.md). One libwebsockets context, event-loop thread only, lws_sul
 * timers. Both feeds share one port; a connection's protocol is decided by
 * its first subscribe ("channel":"x" -> Advanced Trade, "channels":[...] ->
 * Exchange). Every source message is parsed (src/feed), applied to the
 * simulator's own books, and re-encoded per connection in its protocol.
 */
#ifndef QW_SIM_SERVER_H
#define QW_SIM_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "sim/fault.h"
#include "sim/source.h"

typedef struct qw_sim_opts {
    const char *bind; /* NULL/"" = 127.0.0.1 */
    int port;         /* 0 = any free port (see qw_sim_port) */
    double speed;     /* 0 = max (lossless, as fast as clients drain); else x real time */
    int loop;         /* restart the source at its end */
    qw_sim_faults faults;
    const char *tls_cert, *tls_key; /* both set = wss:// */
    double duration_s;              /* 0 = until stopped */
    qw_simsrc_opts src;
    /* File sources: serve only these products (NULL = every product the
     * source names). Synthetic sources use src.synth.products. */
    const char *const *products;
    size_t nproducts;
    size_t queue_limit;         /* per-connection output bound; 0 = 64 MiB */
    double subscribe_timeout_s; /* 0 = 5 */
    int no_deflate;             /* do not accept permessage-deflate */
} qw_sim_opts;

typedef struct qw_sim_stats {
    uint64_t connections, refused, subscribes, unsubscribes, errors_sent, timeouts;
    uint64_t slow_disconnects, disconnects;
    uint64_t messages, bytes; /* WebSocket messages written completely */
    uint64_t source_messages, source_restarts;
    uint64_t f_drop, f_skip, f_malformed, f_oversize, f_stall, f_refuse, f_slowread;
} qw_sim_stats;

typedef struct qw_sim qw_sim;

/* Prescans the source, creates the lws context and starts listening.
 * QW_INVAL (bad options), QW_IO (cannot listen / read the source), QW_NOMEM. */
qw_err qw_sim_create(qw_sim **out, const qw_sim_opts *opts);
/* The port actually listened on. */
int qw_sim_port(const qw_sim *s);
/* Serve until *stop becomes non-zero (e.g. from a signal handler) or the
 * duration passes; then close every connection. */
qw_err qw_sim_run(qw_sim *s, volatile sig_atomic_t *stop);
/* One-line JSON summary (no newline). */
void qw_sim_summary(const qw_sim *s, char *buf, size_t cap);
void qw_sim_destroy(qw_sim *s); /* NULL is a no-op */

#endif

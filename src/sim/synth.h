/* synth.h: a deterministic synthetic Coinbase market (docs/SYNTHETIC.md).
 *
 * qw_synth produces, one line at a time, the server messages one WebSocket
 * connection to Coinbase would receive: a subscriptions ack, a full-depth
 * book snapshot per product, then a stream of book updates (~94%), trades
 * (~5%) and heartbeats, with bursts. Both feeds follow the message shapes
 * of shared/docs/coinbase_protocol.md: Exchange (level2_batch + matches +
 * heartbeat) and Advanced Trade (level2 + market_trades + heartbeats).
 *
 * Guarantees (tested with tests/ref/ref_replay.py):
 *   - the same opts give the same bytes on every IEEE-754 platform and
 *     compiler (own PRNG and ln/exp, no unsequenced draws, no FMA);
 *   - every line is accepted whole by the strict parser (src/feed/);
 *   - after every message the receiver's book is uncrossed (bid < ask);
 *   - message feed time (Exchange `time`, Advanced `timestamp`) never goes
 *     backwards, except last_match, which carries its past trade's time;
 *   - Advanced sequence_num is 0, 1, 2, ... with no gap.
 *
 * One owner thread; not thread-safe. All memory is allocated by create
 * (and the line buffer grows once for the snapshots); the stream itself
 * allocates nothing.
 */
#ifndef QW_SIM_SYNTH_H
#define QW_SIM_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_SYNTH_MAX_PRODUCTS 256
#define QW_SYNTH_MAX_LEVELS 1000000 /* per side and snapshot */

typedef enum { QW_SYNTH_EXCHANGE = 1, QW_SYNTH_ADVANCED = 2 } qw_synth_feed;

typedef struct qw_synth_opts {
    qw_synth_feed feed;
    const char *const *products; /* product ids, borrowed during create (copied) */
    size_t nproducts;            /* 1..QW_SYNTH_MAX_PRODUCTS, no duplicates */
    size_t levels;       /* levels per side per snapshot (bids stop at one tick); 0 = 1000 */
    uint64_t seed;       /* any value; 0 is a valid seed */
    int64_t start_ns;    /* feed time of the first message; 0 = 2026-01-02T00:00:00Z */
    int64_t mean_gap_ns; /* mean feed time between stream messages; 0 = 5 ms */
    double vol_bps;      /* fair-value volatility, bps per sqrt(second); 0 = 2.0 */
} qw_synth_opts;

typedef struct qw_synth_stats {
    uint64_t messages;      /* lines produced */
    uint64_t bytes;         /* their bytes (no newlines) */
    uint64_t snapshots;     /* book snapshots (one per product) */
    uint64_t book_msgs;     /* l2update messages / l2_data update messages */
    uint64_t changes;       /* level changes in them */
    uint64_t trade_msgs;    /* match/last_match / market_trades messages */
    uint64_t trades;        /* trades in them (snapshots included) */
    uint64_t heartbeats;    /* heartbeat(s) messages */
    uint64_t subscriptions; /* acks */
    int64_t t_ns;           /* feed time of the last message */
} qw_synth_stats;

typedef struct qw_synth qw_synth; /* opaque */

/* NULL when opts are usable, else a static sentence naming the bad field. */
const char *qw_synth_opts_check(const qw_synth_opts *opts);

/* QW_INVAL (see qw_synth_opts_check) or QW_NOMEM; *out untouched then. */
qw_err qw_synth_create(qw_synth **out, const qw_synth_opts *opts);
void qw_synth_destroy(qw_synth *s); /* NULL is a no-op */

/* Copy the next server message, one JSON text without newline or NUL,
 * into buf: QW_OK with *len set; QW_TOO_LARGE when cap is too small (*len
 * = the size needed, and the same message comes with the next call: grow
 * and retry); QW_NOMEM when a snapshot's internal buffer could not grow
 * (nothing consumed: retrying later gives the same bytes). Snapshots need
 * about levels x 2 x 50 bytes (Exchange) or x 110 (Advanced); every other
 * message fits in 64 KiB. */
qw_err qw_synth_next(qw_synth *s, char *buf, size_t cap, size_t *len);

const qw_synth_stats *qw_synth_get_stats(const qw_synth *s);

#endif

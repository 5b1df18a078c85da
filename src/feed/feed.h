/* feed.h: Coinbase WebSocket messages (Exchange and Advanced Trade feeds),
 * from bytes to typed events. No JSON leaves this module.
 *
 * One qw_feed parses the messages of one connection (or one recorded
 * stream): it owns the scratch arrays the events live in and the Advanced
 * Trade sequence_num tracker. After warm-up it allocates nothing per
 * message; scratch arrays only grow, up to limits from qw_feed_opts.
 *
 * A message is checked whole before anything is reported: qw_feed_parse
 * either returns QW_OK with a complete qw_msg, or an error (the message's
 * reject reason, see core/err.h) and no events at all.
 *
 * Not thread-safe; one owner thread.
 */
#ifndef QW_FEED_FEED_H
#define QW_FEED_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "core/dec.h"
#include "core/err.h"

#define QW_PRODUCT_MAX 32 /* product ids are 1..31 bytes of [A-Za-z0-9._-] */
#define QW_FEED_TRADE_ID_MAX 40
#define QW_FEED_TEXT_MAX 256

typedef enum { QW_FEED_UNKNOWN = 0, QW_FEED_EXCHANGE = 1, QW_FEED_ADVANCED = 2 } qw_feed_kind;

typedef enum {
    QW_MSG_IGNORED = 0,   /* valid, nothing for the pipeline (ticker, candles, unknown type) */
    QW_MSG_BOOK,          /* groups[]: snapshots and/or updates */
    QW_MSG_TRADES,        /* trades[] */
    QW_MSG_HEARTBEAT,     /* liveness; groups[] may name products (Exchange) */
    QW_MSG_SUBSCRIPTIONS, /* subscribe acknowledgement */
    QW_MSG_ERROR,         /* server-side error message; text holds its message/reason */
} qw_msg_type;

typedef enum { QW_GRP_SNAPSHOT = 0, QW_GRP_UPDATE = 1, QW_GRP_HEARTBEAT = 2 } qw_grp_kind;

/* Side codes used in events: 0 = bid (buy), 1 = ask (sell/offer). These
 * equal qw_side in book/book.h by design, but feed does not include it. */
#define QW_FEED_BID 0
#define QW_FEED_ASK 1

typedef struct qw_chg {
    int64_t px;   /* e8 */
    qw_sz sz;     /* e8; the new total at px, 0 removes */
    int64_t t_ns; /* Advanced: the update's event_time; Exchange: the message time */
    uint8_t side; /* QW_FEED_BID / QW_FEED_ASK */
} qw_chg;

typedef struct qw_trade {
    int64_t px;
    qw_sz sz;
    int64_t t_ns;
    int64_t seq;       /* Exchange `sequence`, -1 when absent */
    uint8_t aggressor; /* QW_FEED_BID: buyer took liquidity (wire maker side "sell") */
    uint8_t snapshot;  /* from last_match / a market_trades snapshot */
    uint8_t product_len;
    char product[QW_PRODUCT_MAX];
    char trade_id[QW_FEED_TRADE_ID_MAX];
} qw_trade;

typedef struct qw_group {
    qw_grp_kind kind;
    uint8_t product_len;
    char product[QW_PRODUCT_MAX]; /* NUL-terminated */
    int64_t t_ns;                 /* feed time of the group; 0 when the wire had none */
    uint32_t first, count;        /* range in msg->chg */
} qw_group;

typedef struct qw_msg {
    qw_feed_kind feed;
    qw_msg_type type;
    int64_t t_ns;         /* message feed time (Exchange `time`, Advanced `timestamp`); 0 if none */
    int64_t seq;          /* Advanced sequence_num; -1 when absent */
    uint8_t gap;          /* Advanced: sequence_num skipped (or went back) */
    uint8_t seq_restart;  /* Advanced: sequence_num restarted at 0 (new connection) */
    uint8_t unknown_type; /* IGNORED because the type/channel is not one we know */
    int64_t gap_expected;
    uint32_t times_repaired; /* implausible/out-of-range times replaced in this message */
    size_t ngroups, nchg, ntrades;
    const qw_group *groups;
    const qw_chg *chg;
    const qw_trade *trades;
    char text[QW_FEED_TEXT_MAX]; /* ERROR: message + reason; IGNORED: the type/channel */
} qw_msg;

typedef struct qw_feed_opts {
    size_t max_depth;   /* JSON nesting limit; 0 = default 32 */
    size_t max_changes; /* book changes per message; 0 = default 4,194,304 */
    size_t max_trades;  /* trades per message; 0 = default 65,536 */
} qw_feed_opts;

typedef struct qw_feed_stats {
    uint64_t parsed, rejected;
    uint64_t unknown_types; /* valid messages of a type/channel we do not know */
    uint64_t ignored;       /* known but unused (ticker, candles, status...) */
    uint64_t times_repaired;
    uint64_t gaps, seq_restarts;
} qw_feed_stats;

typedef struct qw_feed qw_feed; /* opaque */

qw_err qw_feed_create(qw_feed **out, const qw_feed_opts *opts); /* opts may be NULL */
void qw_feed_destroy(qw_feed *f);

/* Parse one message (one JSON text; surrounding whitespace allowed).
 * On QW_OK *out points at the parsed message, valid until the next call.
 * On error, the return is the reject reason; qw_feed_errmsg() has detail. */
qw_err qw_feed_parse(qw_feed *f, const char *buf, size_t len, const qw_msg **out);
const char *qw_feed_errmsg(const qw_feed *f);

/* Forget the sequence_num history (call on every new connection). */
void qw_feed_reset(qw_feed *f);
const qw_feed_stats *qw_feed_get_stats(const qw_feed *f);

/* Best-effort: the first "product_id" string in a (possibly malformed)
 * message, so a rejected message can still mark its product's book.
 * Returns its length (0 when none found); out gets QW_PRODUCT_MAX bytes. */
size_t qw_feed_guess_product(const char *buf, size_t len, char *out);

/* 1 when s[0..n) is a well-formed product id. */
int qw_feed_product_ok(const char *s, size_t n);

#endif

/* encode.h: Coinbase server messages from typed events, both feeds
 * (shared/docs/coinbase_protocol.md). Prices and sizes are e8 decimals
 * printed exactly by core/dec.h, so parse(encode(x)) == x bit for bit.
 *
 * Advanced Trade messages are split in two so one encoding serves many
 * connections: qw_enc_adv_head writes `{"channel":"..","timestamp":"..",
 * "sequence_num":` and the body functions write the rest, starting with
 * `,"events":[`; the caller puts the connection's sequence_num between.
 */
#ifndef QW_SIM_ENCODE_H
#define QW_SIM_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "book/book.h"
#include "core/err.h"

/* A growable byte buffer; after an allocation failure `oom` is set and
 * further appends are dropped (check it once at the end). */
typedef struct qw_sbuf {
    char *p;
    size_t len, cap;
    int oom;
} qw_sbuf;

void qw_sbuf_free(qw_sbuf *b);
void qw_sbuf_reset(qw_sbuf *b);
int qw_sbuf_reserve(qw_sbuf *b, size_t more); /* 1 ok */
void qw__sbuf_put_slow(qw_sbuf *b, const void *s, size_t n);
/* appends, inline while there is room (the sim encodes ~1 M messages/s) */
static inline void qw_sbuf_put(qw_sbuf *b, const void *s, size_t n)
{
    if (b->cap - b->len >= n && b->cap && !b->oom) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    } else {
        qw__sbuf_put_slow(b, s, n);
    }
}
static inline void qw_sbuf_str(qw_sbuf *b, const char *s)
{
    qw_sbuf_put(b, s, strlen(s));
}
static inline void qw_sbuf_chr(qw_sbuf *b, char c)
{
    if (b->len < b->cap && !b->oom)
        b->p[b->len++] = c;
    else
        qw__sbuf_put_slow(b, &c, 1);
}
void qw_sbuf_i64(qw_sbuf *b, int64_t v);
void qw_sbuf_dec(qw_sbuf *b, int64_t e8);
/* A size (128-bit e8), as qw_sbuf_dec. */
void qw_sbuf_sz(qw_sbuf *b, qw_sz e8);
/* RFC 3339 UTC with `digits` fractional digits (0..9); trim drops
 * trailing zeros (and the point when nothing is left). */
void qw_sbuf_time(qw_sbuf *b, int64_t t_ns, int digits, int trim);
/* A JSON string (quotes included), escaping what JSON needs. */
void qw_sbuf_jstr(qw_sbuf *b, const char *s);

/* One trade for the encoders. */
typedef struct qw_enc_trade {
    const char *product;
    const char *trade_id; /* decimal digits for Exchange */
    int64_t px;
    qw_sz sz;
    int64_t t_ns;
    int64_t seq;       /* Exchange `sequence` */
    uint8_t aggressor; /* QW_BID: the buyer took liquidity (maker side "sell") */
} qw_enc_trade;

/* One book change (side QW_BID/QW_ASK, sz 0 removes). */
typedef struct qw_enc_chg {
    int64_t px;
    qw_sz sz;
    int64_t t_ns;
    uint8_t side;
} qw_enc_chg;

/* ---- Exchange feed: whole messages ---- */
void qw_enc_ex_snapshot(qw_sbuf *b, const char *product, const qw_level *bids, size_t nb,
                        const qw_level *asks, size_t na);
void qw_enc_ex_l2update(qw_sbuf *b, const char *product, const qw_enc_chg *c, size_t n,
                        int64_t t_ns);
void qw_enc_ex_match(qw_sbuf *b, int last_match, const qw_enc_trade *t);
void qw_enc_ex_heartbeat(qw_sbuf *b, const char *product, int64_t sequence, int64_t last_trade_id,
                         int64_t t_ns);

/* ---- Advanced Trade: head (up to "sequence_num":) and bodies ---- */
void qw_enc_adv_head(qw_sbuf *b, const char *channel, int64_t t_ns);
/* l2_data snapshot: bids best-first then offers best-first, one event_time. */
void qw_enc_adv_l2_snapshot(qw_sbuf *b, const char *product, const qw_level *bids, size_t nb,
                            const qw_level *asks, size_t na, int64_t event_t_ns);
void qw_enc_adv_l2_update(qw_sbuf *b, const char *product, const qw_enc_chg *c, size_t n);
/* market_trades: snapshot (newest first) or update. */
void qw_enc_adv_trades(qw_sbuf *b, int snapshot, const qw_enc_trade *t, size_t n);
/* heartbeats: current_time in Go's time.String() form from wall_ns. */
void qw_enc_adv_heartbeat(qw_sbuf *b, int64_t wall_ns, int64_t uptime_ns, int64_t counter);

#endif

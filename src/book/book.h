/* book.h: exact full-depth L2 order book for one product, and a bounded
 * ring of recent trades.
 *
 * Loop thread only; not thread-safe. Prices and sizes are int64 e8 fixed
 * point (core/dec.h). Every mutating call either succeeds completely or
 * leaves the book unchanged.
 */
#ifndef QW_BOOK_BOOK_H
#define QW_BOOK_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "core/dec.h"
#include "core/err.h"

typedef enum { QW_BID = 0, QW_ASK = 1 } qw_side;

typedef struct qw_level {
    int64_t px; /* e8 */
    qw_sz sz;   /* e8, > 0 inside a book (128-bit: core/dec.h) */
} qw_level;

typedef struct qw_book_opts {
    size_t max_levels;     /* per side; 0 = default (1,048,576) */
    size_t initial_levels; /* per side preallocation; 0 = default (1024) */
} qw_book_opts;

typedef struct qw_book_stats {
    uint64_t sets;           /* level changes applied */
    uint64_t inserts;        /* new price levels */
    uint64_t removes;        /* levels removed by size 0 */
    uint64_t absent_removes; /* size 0 for a price not in the book (no-op) */
    uint64_t snapshots;
} qw_book_stats;

typedef struct qw_book qw_book; /* opaque */

qw_err qw_book_create(qw_book **out, const qw_book_opts *opts); /* opts may be NULL */
void qw_book_destroy(qw_book *b);                               /* NULL is a no-op */
void qw_book_clear(qw_book *b);                                 /* empty both sides */

/* Replace the whole book. Levels may come in any order; zero sizes are
 * skipped; a repeated price on one side -> QW_BAD_BOOK; a negative price or
 * size, or a zero price -> QW_BAD_BOOK; more than max_levels -> QW_BOOK_FULL.
 * On error the book is unchanged. */
qw_err qw_book_snapshot(qw_book *b, const qw_level *bids, size_t nbids, const qw_level *asks,
                        size_t nasks);

/* Make room so that `n` more inserts on `side` cannot fail. QW_BOOK_FULL
 * if depth + n would exceed max_levels, QW_NOMEM if growth failed. Call it
 * before a batch of qw_book_set so the batch is all-or-nothing. */
qw_err qw_book_reserve(qw_book *b, qw_side side, size_t n);

/* Set the total size at px (sz == 0 removes the level). QW_BAD_BOOK for
 * px <= 0 or sz < 0; QW_BOOK_FULL / QW_NOMEM when an insert cannot fit. */
qw_err qw_book_set(qw_book *b, qw_side side, int64_t px, qw_sz sz);

size_t qw_book_depth(const qw_book *b, qw_side side);
/* Best level on a side in O(1); returns 0 when the side is empty. */
int qw_book_best(const qw_book *b, qw_side side, qw_level *out);
/* Copy up to n levels best-first into out in O(n); returns the count. */
size_t qw_book_top(const qw_book *b, qw_side side, qw_level *out, size_t n);
/* Size at px, 0 when absent. */
qw_sz qw_book_get(const qw_book *b, qw_side side, int64_t px);
/* 1 when both sides are non-empty and best bid >= best ask (crossed or locked). */
int qw_book_crossed(const qw_book *b);
const qw_book_stats *qw_book_get_stats(const qw_book *b);
/* Bytes held by the book's arrays (for RSS accounting). */
size_t qw_book_mem(const qw_book *b);
/* FNV-1a 64 over every level of both sides, best first: equal books have
 * equal digests (summaries compare whole books with it). */
uint64_t qw_book_digest(const qw_book *b);

/* ---- recent trades ---- */
#define QW_TRADE_ID_MAX 40

typedef struct qw_trade_rec {
    int64_t t_ns;                   /* exchange time */
    int64_t px;                     /* e8 */
    qw_sz sz;                       /* e8 */
    qw_side aggressor;              /* QW_BID: the buyer took liquidity (wire side "sell") */
    char trade_id[QW_TRADE_ID_MAX]; /* NUL-terminated, truncated never: longer ids are rejected by
                                       feed */
} qw_trade_rec;

typedef struct qw_trades qw_trades; /* opaque bounded ring */

qw_err qw_trades_create(qw_trades **out, size_t capacity); /* capacity >= 1 */
void qw_trades_destroy(qw_trades *t);
void qw_trades_clear(qw_trades *t);
void qw_trades_push(qw_trades *t, const qw_trade_rec *r); /* overwrites the oldest when full */
size_t qw_trades_count(const qw_trades *t);               /* min(total pushed, capacity) */
uint64_t qw_trades_total(const qw_trades *t);             /* ever pushed */
/* i = 0 is the most recent; NULL when i >= count. Valid until the next push. */
const qw_trade_rec *qw_trades_get(const qw_trades *t, size_t i);

#endif

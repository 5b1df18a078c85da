/* source.h: what the simulator serves — capture files (read by qw_msgsrc,
 * the reader replay uses: raw, recorder msg/msg_hex/connect, cryptofeed
 * lines; zstd or plain) or the synthetic market — as parsed feed messages, plus the per-product
 * market state the simulator keeps (its own books and recent trades).
 */
#ifndef QW_SIM_SOURCE_H
#define QW_SIM_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/err.h"
#include "feed/feed.h"
#include "sim/synth.h"

typedef struct qw_simsrc_opts {
    const char *const *files; /* capture files, served in order */
    size_t nfiles;
    int synthetic; /* serve qw_synth instead (synth opts below) */
    qw_synth_opts synth;
    size_t max_line; /* 0 = 64 MiB */
} qw_simsrc_opts;

typedef struct qw_simsrc_stats {
    uint64_t lines;    /* messages given to the parser */
    uint64_t messages; /* ... and parsed */
    uint64_t rejected; /* ... and refused (or msg_hex lines dropped for lack of memory) */
    uint64_t too_long; /* lines over max_line */
    uint64_t meta;     /* lines that are no server message (replay's meta_lines) */
    uint64_t connects; /* connection markers (the parser's sequence history is reset) */
    uint64_t restarts;
} qw_simsrc_stats;

typedef struct qw_simsrc qw_simsrc;

qw_err qw_simsrc_open(qw_simsrc **out, const qw_simsrc_opts *opts);
void qw_simsrc_close(qw_simsrc *s);
/* Next parsed message (valid until the next call). *t_ns = its feed time
 * (the message time, else the last one seen); *pace_ns = the time to pace
 * by (recorder receive time when the line has one, else *t_ns).
 * QW_NOT_FOUND at the end; the qw_linesrc_open error or QW_IO/QW_CORRUPT
 * when a file cannot be opened or read (errmsg "<path>: <why>"). Rejected
 * lines are counted and skipped; each file starts a new stream (as in
 * replay). */
qw_err qw_simsrc_next(qw_simsrc *s, const qw_msg **msg, int64_t *t_ns, int64_t *pace_ns);
/* Start again from the beginning (for --loop). */
qw_err qw_simsrc_rewind(qw_simsrc *s);
void qw_simsrc_get_stats(const qw_simsrc *s, qw_simsrc_stats *out);
const char *qw_simsrc_errmsg(const qw_simsrc *s);

/* Read the whole source once: call fn for each product id it names (book
 * groups and trades) and report the first feed time (0 if none). */
qw_err qw_simsrc_prescan(const qw_simsrc_opts *opts, void (*fn)(void *ctx, const char *product),
                         void *ctx, int64_t *first_t_ns);

/* ---- market state ---- */
#define QW_SIM_RECENT_TRADES 100

typedef struct qw_simprod {
    char id[QW_PRODUCT_MAX];
    qw_book *book;
    qw_trades *trades;
    int valid;             /* a snapshot has been applied */
    int64_t seq;           /* Exchange `sequence` (source's, or our counter) */
    int64_t last_trade_id; /* numeric, for Exchange; 0 when none */
    int64_t book_t_ns;     /* feed time of the last book change */
} qw_simprod;

typedef struct qw_market {
    qw_simprod *p;
    size_t n, cap;
} qw_market;

void qw_market_free(qw_market *m);
int qw_market_find(const qw_market *m, const char *id); /* index or -1 */
qw_err qw_market_add(qw_market *m, const char *id);     /* no-op when present */

#endif

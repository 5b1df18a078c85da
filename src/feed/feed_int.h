/* feed_int.h: internals shared by the files of src/feed/ only.
 *
 * jscan: a strict, allocation-free JSON scanner. It walks the text once,
 * validating as it goes (RFC 8259 grammar, UTF-8, escapes, depth limit)
 * and hands back spans into the caller's buffer; strings are unescaped
 * only on demand, into small caller buffers.
 */
#ifndef QW_FEED_INT_H
#define QW_FEED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "feed/feed.h"

typedef struct qw__js {
    const unsigned char *p, *end, *start;
    unsigned depth, max_depth;
    qw_err err;
    char *errbuf;
    size_t errcap;
} qw__js;

typedef struct qw__jstr {
    const char *s; /* raw bytes between the quotes */
    size_t n;
    int esc; /* 1 when it contains backslash escapes */
} qw__jstr;

void qw__js_init(qw__js *j, const char *buf, size_t len, unsigned max_depth, char *errbuf,
                 size_t errcap);
/* Record the first error (detail printf-style); always returns 0. */
int qw__js_fail(qw__js *j, qw_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A key's first occurrence in its object: 1, and *seen is set; a repeat
 * fails the message with QW_BAD_JSON "duplicate key \"key\"" (returns 0). */
static inline int qw__js_once(qw__js *j, int *seen, const char *key)
{
    if ((*seen)++)
        return qw__js_fail(j, QW_BAD_JSON, "duplicate key \"%s\"", key);
    return 1;
}
void qw__js_ws(qw__js *j);
/* Current byte after whitespace, or -1 at end. */
int qw__js_peek(qw__js *j);
int qw__js_string(qw__js *j, qw__jstr *out);
int qw__js_skip(qw__js *j);
/* A JSON integer into int64 (BAD_TYPE if not a number, BAD_NUMBER if it
 * has a fraction/exponent or overflows). */
int qw__js_int64(qw__js *j, int64_t *out);
/* Object/array iteration: call *_open, then loop on *_next until it
 * returns 0 (closed) or -1 (error). `first` must start at 1. obj_next reads
 * the key and the colon and leaves the cursor at the value. */
int qw__js_obj_open(qw__js *j);
int qw__js_obj_next(qw__js *j, int *first, qw__jstr *key);
int qw__js_arr_open(qw__js *j);
int qw__js_arr_next(qw__js *j, int *first);
/* After the top-level value: only whitespace may remain. */
int qw__js_end(qw__js *j);
/* Unescape s into buf (cap includes room for NUL). 0 if it does not fit. */
int qw__js_decode(const qw__jstr *s, char *buf, size_t cap, size_t *n);
/* Compare a string value/key with a literal (handles escaped forms). */
int qw__js_eq(const qw__jstr *s, const char *lit, size_t litn);
#define QW__JS_EQ(s, lit) qw__js_eq((s), lit, sizeof(lit) - 1)

/* ---- the parser object ---- */
struct qw_feed {
    qw_feed_opts opts;
    qw_feed_stats stats;
    qw_msg msg;
    qw_chg *chg;
    size_t chg_cap;
    qw_trade *trades;
    size_t trades_cap;
    qw_group *groups;
    size_t groups_cap;
    int64_t last_seq;   /* -1: none yet */
    char tc_prefix[17]; /* time cache: "YYYY-MM-DDTHH:MM:" of the last parsed time */
    int64_t tc_base;    /* its ns value at :00 */
    int64_t last_time;
    char errbuf[256];
};

/* Scratch growth (bounded by opts). 0 on failure (j->err set). */
int qw__feed_push_chg(qw_feed *f, qw__js *j, qw_chg **out);
int qw__feed_push_trade(qw_feed *f, qw__js *j, qw_trade **out);
int qw__feed_push_group(qw_feed *f, qw__js *j, qw_group **out);

/* Typed value readers used by both feeds. */
int qw__feed_dec(qw__js *j, const char *what, int64_t *out);
/* The same for a size (128-bit, up to QW_SZ_MAX: core/dec.h). */
int qw__feed_sz(qw__js *j, const char *what, qw_sz *out);
int qw__feed_sz_fast(qw__js *j, qw_sz *out); /* "decimal string" */
/* One-pass "DIGITS[.DIGITS]" at j->p (which must be at the opening quote);
 * 1 on success (cursor after the closing quote), 0 = take the general path. */
int qw__feed_dec_fast(qw__js *j, int64_t *out);
int qw__feed_product(qw__js *j, char *out, uint8_t *outlen); /* product id string */
int qw__feed_time_str(qw__js *j, qw__jstr *out);             /* string, kept raw */
/* Turn a time span into ns, repairing implausible/out-of-range values with
 * `fallback` (counted in msg->times_repaired). 0 + BAD_TIME on garbage. */
int qw__feed_time(qw_feed *f, qw__js *j, const qw__jstr *s, int64_t fallback, int64_t *out);

int qw__feed_parse_exchange(qw_feed *f, qw__js *j, qw_msg *m);
int qw__feed_parse_advanced(qw_feed *f, qw__js *j, qw_msg *m);

#endif

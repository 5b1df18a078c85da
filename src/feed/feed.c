/* feed.c: the qw_feed object, feed auto-detection and the typed value
 * readers shared by the Exchange and Advanced Trade parsers.
 *
 * Detection: Exchange messages lead with "type", Advanced Trade messages
 * with "channel" (its errors carry only "type" and parse the same either
 * way). When the first key is neither, the top-level keys are pre-scanned
 * for "channel"/"events" (a slow path real feeds never take).
 *
 * Time repair: a timestamp that is well-formed but implausible (the real
 * feed's 0001-01-01, the 1970 placeholders of old snapshots) is replaced
 * by a fallback (the message time, else the last good time on this
 * stream) and counted. Malformed text rejects the message.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/dec.h"
#include "core/time.h"
#include "feed/feed_int.h"

qw_err qw_feed_create(qw_feed **out, const qw_feed_opts *opts)
{
    qw_feed *f = qw_calloc(1, sizeof *f);
    if (!f)
        return QW_NOMEM;
    if (opts)
        f->opts = *opts;
    if (!f->opts.max_depth)
        f->opts.max_depth = 32;
    if (!f->opts.max_changes)
        f->opts.max_changes = 4u << 20;
    if (!f->opts.max_trades)
        f->opts.max_trades = 65536;
    f->chg_cap = 256;
    f->trades_cap = 64;
    f->groups_cap = 16;
    f->chg = qw_malloc(f->chg_cap * sizeof *f->chg);
    f->trades = qw_malloc(f->trades_cap * sizeof *f->trades);
    f->groups = qw_malloc(f->groups_cap * sizeof *f->groups);
    if (!f->chg || !f->trades || !f->groups) {
        qw_feed_destroy(f);
        return QW_NOMEM;
    }
    f->last_seq = -1;
    *out = f;
    return QW_OK;
}

void qw_feed_destroy(qw_feed *f)
{
    if (!f)
        return;
    qw_free(f->chg);
    qw_free(f->trades);
    qw_free(f->groups);
    qw_free(f);
}

void qw_feed_reset(qw_feed *f)
{
    f->last_seq = -1;
}

const qw_feed_stats *qw_feed_get_stats(const qw_feed *f)
{
    return &f->stats;
}

const char *qw_feed_errmsg(const qw_feed *f)
{
    return f->errbuf;
}

/* Grow a scratch array by doubling, never beyond `max` elements. */
static int grow(void **arr, size_t *cap, size_t elem, size_t max, qw__js *j, const char *what)
{
    if (*cap >= max)
        return qw__js_fail(j, QW_TOO_LARGE, "more than %zu %s in one message", max, what);
    size_t ncap = *cap * 2 > max ? max : *cap * 2;
    void *p = qw_realloc(*arr, ncap * elem);
    if (!p)
        return qw__js_fail(j, QW_NOMEM, "out of memory for %s", what);
    *arr = p;
    *cap = ncap;
    return 1;
}

int qw__feed_push_chg(qw_feed *f, qw__js *j, qw_chg **out)
{
    if (f->msg.nchg == f->chg_cap &&
        !grow((void **)&f->chg, &f->chg_cap, sizeof *f->chg, f->opts.max_changes, j, "changes"))
        return 0;
    *out = &f->chg[f->msg.nchg++];
    return 1;
}

int qw__feed_push_trade(qw_feed *f, qw__js *j, qw_trade **out)
{
    if (f->msg.ntrades == f->trades_cap &&
        !grow((void **)&f->trades, &f->trades_cap, sizeof *f->trades, f->opts.max_trades, j,
              "trades"))
        return 0;
    *out = &f->trades[f->msg.ntrades++];
    return 1;
}

int qw__feed_push_group(qw_feed *f, qw__js *j, qw_group **out)
{
    if (f->msg.ngroups == f->groups_cap &&
        !grow((void **)&f->groups, &f->groups_cap, sizeof *f->groups, 1u << 16, j, "events"))
        return 0;
    *out = &f->groups[f->msg.ngroups++];
    memset(*out, 0, sizeof **out);
    return 1;
}

/* Fast path for the common "DIGITS[.DIGITS]" string: scan and convert in
 * one pass. Returns 1 with *out set, or 0 when anything is unusual (then
 * the general path parses and reports, so semantics are identical). */
int qw__feed_dec_fast(qw__js *j, int64_t *out)
{
    const unsigned char *p = j->p + 1, *end = j->end;
    uint64_t ip = 0, fp = 0;
    int ni = 0, nf = 0;
    while (p < end && *p >= '0' && *p <= '9' && ni < 11) {
        ip = ip * 10 + (uint64_t)(*p++ - '0');
        ni++;
    }
    if (ni == 0 || ni == 11 || p >= end)
        return 0;
    if (*p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9' && nf < 8) {
            fp = fp * 10 + (uint64_t)(*p++ - '0');
            nf++;
        }
        if (nf == 0 || p >= end)
            return 0;
    }
    if (*p != '"')
        return 0; /* more decimals, escapes, garbage: general path */
    static const uint64_t pow10[9] = {100000000, 10000000, 1000000, 100000, 10000,
                                      1000,      100,      10,      1};
    uint64_t v = ip * 100000000ULL + fp * pow10[nf];
    if (ip > (uint64_t)INT64_MAX / 100000000ULL || v > (uint64_t)INT64_MAX)
        return 0;
    *out = (int64_t)v;
    j->p = p + 1;
    return 1;
}

/* The text of a decimal string (unescaped into buf when it has escapes). */
static int dec_text(qw__js *j, const char *what, char *buf, size_t cap, const char **p, size_t *n)
{
    qw__jstr s;
    if (qw__js_peek(j) != '"')
        return qw__js_fail(j, QW_BAD_TYPE, "%s: expected a decimal string", what);
    if (!qw__js_string(j, &s))
        return 0;
    *p = s.s;
    *n = s.n;
    if (s.esc) {
        if (!qw__js_decode(&s, buf, cap, n))
            return qw__js_fail(j, QW_BAD_NUMBER, "%s: bad decimal", what);
        *p = buf;
    }
    return 1;
}

static int dec_bad(qw__js *j, const char *what, const char *p, size_t n)
{
    return qw__js_fail(j, QW_BAD_NUMBER, "%s: bad decimal \"%.*s\"", what, (int)(n > 40 ? 40 : n),
                       p);
}

int qw__feed_dec(qw__js *j, const char *what, int64_t *out)
{
    if (qw__js_peek(j) == '"' && qw__feed_dec_fast(j, out))
        return 1;
    char buf[48];
    const char *p;
    size_t n;
    if (!dec_text(j, what, buf, sizeof buf, &p, &n))
        return 0;
    if (qw_dec_parse(p, n, out) != QW_OK)
        return dec_bad(j, what, p, n);
    return 1;
}

int qw__feed_sz_fast(qw__js *j, qw_sz *out)
{
    int64_t v;
    if (!qw__feed_dec_fast(j, &v))
        return 0; /* 11+ integer digits, more decimals, escapes: qw__feed_sz */
    *out = v;
    return 1;
}

int qw__feed_sz(qw__js *j, const char *what, qw_sz *out)
{
    if (qw__js_peek(j) == '"' && qw__feed_sz_fast(j, out))
        return 1;
    char buf[48];
    const char *p;
    size_t n;
    if (!dec_text(j, what, buf, sizeof buf, &p, &n))
        return 0;
    if (qw_dec_parse_sz(p, n, out) != QW_OK)
        return dec_bad(j, what, p, n);
    return 1;
}

int qw_feed_product_ok(const char *s, size_t n)
{
    if (n == 0 || n >= QW_PRODUCT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int qw__feed_product(qw__js *j, char *out, uint8_t *outlen)
{
    qw__jstr s;
    size_t n;
    if (qw__js_peek(j) != '"')
        return qw__js_fail(j, QW_BAD_TYPE, "product_id: expected a string");
    if (!qw__js_string(j, &s))
        return 0;
    if (!qw__js_decode(&s, out, QW_PRODUCT_MAX, &n) || !qw_feed_product_ok(out, n))
        return qw__js_fail(j, QW_BAD_PRODUCT, "bad product_id");
    *outlen = (uint8_t)n;
    return 1;
}

int qw__feed_time_str(qw__js *j, qw__jstr *out)
{
    if (qw__js_peek(j) != '"')
        return qw__js_fail(j, QW_BAD_TYPE, "time: expected a string");
    return qw__js_string(j, out);
}

int qw__feed_time(qw_feed *f, qw__js *j, const qw__jstr *s, int64_t fallback, int64_t *out)
{
    char buf[48];
    const char *p = s->s;
    size_t n = s->n;
    if (s->esc) {
        if (!qw__js_decode(s, buf, sizeof buf, &n))
            return qw__js_fail(j, QW_BAD_TIME, "bad timestamp");
        p = buf;
    }
    int64_t t;
    qw_err e;
    /* Fast path: same minute as the previous time and the common
     * "SS[.fraction]Z" tail. Anything else takes the full parser. */
    if (n >= 20 && n <= 30 && f->tc_base && memcmp(p, f->tc_prefix, 17) == 0 && p[n - 1] == 'Z' &&
        p[17] >= '0' && p[17] <= '5' && p[18] >= '0' && p[18] <= '9' &&
        (n == 20 || (p[19] == '.' && n >= 22))) {
        int64_t frac = 0;
        size_t i = 20, nf = 0;
        for (; i < n - 1; i++, nf++) {
            if (p[i] < '0' || p[i] > '9')
                break;
            frac = frac * 10 + (p[i] - '0');
        }
        if (i == n - 1 || n == 20) {
            for (; nf < 9; nf++)
                frac *= 10;
            t = f->tc_base + ((p[17] - '0') * 10 + (p[18] - '0')) * QW_NS_PER_SEC + frac;
            goto parsed;
        }
    }
    e = qw_time_parse(p, n, &t);
    if (e == QW_OK && n >= 20 && qw_time_plausible(t)) {
        int64_t secs = t / QW_NS_PER_SEC;
        /* cache only plain UTC forms whose seconds field is at 17..18 */
        if ((p[19] == '.' || p[19] == 'Z') && p[n - 1] == 'Z') {
            memcpy(f->tc_prefix, p, 17);
            f->tc_base = (secs - ((p[17] - '0') * 10 + (p[18] - '0'))) * QW_NS_PER_SEC;
        }
    }
    if (e == QW_BAD_TIME)
        return qw__js_fail(j, QW_BAD_TIME, "bad timestamp \"%.*s\"", (int)(n > 40 ? 40 : n), p);
    if (e != QW_OK || !qw_time_plausible(t)) {
        f->msg.times_repaired++;
        t = fallback ? fallback : f->last_time;
    }
parsed:
    *out = t;
    return 1;
}

/* Slow path: does the top-level object have a "channel" or "events" key? */
static int looks_advanced(qw_feed *f, const char *buf, size_t len)
{
    qw__js j;
    qw__jstr key;
    int first = 1, r;
    qw__js_init(&j, buf, len, (unsigned)f->opts.max_depth, NULL, 0);
    if (!qw__js_obj_open(&j))
        return 0;
    while ((r = qw__js_obj_next(&j, &first, &key)) == 1) {
        if (QW__JS_EQ(&key, "channel") || QW__JS_EQ(&key, "events"))
            return 1;
        if (!qw__js_skip(&j))
            return 0;
    }
    return 0;
}

qw_err qw_feed_parse(qw_feed *f, const char *buf, size_t len, const qw_msg **out)
{
    qw__js j;
    qw_msg *m = &f->msg;
    memset(m, 0, offsetof(qw_msg, text));
    m->text[0] = '\0';
    m->seq = -1;
    qw__js_init(&j, buf, len, (unsigned)f->opts.max_depth, f->errbuf, sizeof f->errbuf);

    int c = qw__js_peek(&j);
    if (c != '{') {
        if (c == -1)
            qw__js_fail(&j, QW_BAD_JSON, "empty message");
        else if (c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
                 c == 'f' || c == 'n')
            qw__js_fail(&j, QW_BAD_TYPE, "message is not a JSON object");
        else
            qw__js_fail(&j, QW_BAD_JSON, "not JSON");
        goto fail;
    }
    /* Peek at the first key without consuming: "type" or "channel". */
    const unsigned char *q = j.p + 1;
    while (q < j.end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
        q++;
    size_t rest = (size_t)(j.end - q);
    int adv;
    if (rest >= 6 && memcmp(q, "\"type\"", 6) == 0)
        adv = 0;
    else if (rest >= 9 && memcmp(q, "\"channel\"", 9) == 0)
        adv = 1;
    else
        adv = looks_advanced(f, buf, len);

    int ok = adv ? qw__feed_parse_advanced(f, &j, m) : qw__feed_parse_exchange(f, &j, m);
    if (!ok || !qw__js_end(&j))
        goto fail;
    m->groups = f->groups;
    m->chg = f->chg;
    m->trades = f->trades;
    f->stats.parsed++;
    f->stats.times_repaired += m->times_repaired;
    if (m->unknown_type)
        f->stats.unknown_types++;
    else if (m->type == QW_MSG_IGNORED)
        f->stats.ignored++;
    if (m->gap)
        f->stats.gaps++;
    if (m->seq_restart)
        f->stats.seq_restarts++;
    if (m->t_ns && qw_time_plausible(m->t_ns) && m->t_ns > f->last_time)
        f->last_time = m->t_ns;
    *out = m;
    return QW_OK;
fail:
    if (j.err == QW_OK)
        qw__js_fail(&j, QW_BAD_JSON, "malformed message");
    f->stats.rejected++;
    return j.err;
}

size_t qw_feed_guess_product(const char *buf, size_t len, char *out)
{
    static const char key[] = "\"product_id\"";
    const char *p = buf, *end = buf + len;
    while ((size_t)(end - p) >= sizeof key - 1) {
        const char *k = memmem(p, (size_t)(end - p), key, sizeof key - 1);
        if (!k)
            return 0;
        p = k + sizeof key - 1;
        while (p < end && (*p == ' ' || *p == ':' || *p == '\t'))
            p++;
        if (p >= end || *p != '"')
            continue;
        const char *s = ++p;
        while (p < end && *p != '"' && (size_t)(p - s) < QW_PRODUCT_MAX)
            p++;
        size_t n = (size_t)(p - s);
        if (p < end && *p == '"' && qw_feed_product_ok(s, n)) {
            memcpy(out, s, n);
            out[n] = '\0';
            return n;
        }
    }
    return 0;
}

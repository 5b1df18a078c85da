/* jscan.c: strict, allocation-free JSON scanning for the feed parsers.
 *
 * Design: a cursor over the caller's bytes. Values the feed needs are
 * returned as spans (strings stay escaped until someone asks); values it
 * does not need are skipped, but still fully validated, so a message is
 * accepted only when the whole text is valid JSON (RFC 8259): strings are
 * UTF-8 checked (no overlongs, surrogates or > U+10FFFF), control bytes
 * and bad escapes rejected, \u0000 and lone surrogate escapes rejected,
 * numbers follow the grammar, integers must fit int64 and reals must not
 * overflow a double (the rules jansson applies, which the tests use as the
 * differential oracle). Nesting deeper than max_depth is QW_TOO_DEEP.
 *
 * Strings are scanned 8 bytes at a time (SWAR): the common case, a plain
 * ASCII run, costs about one compare per word.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the SWAR string scan assumes a little-endian target"
#endif

void qw__js_init(qw__js *j, const char *buf, size_t len, unsigned max_depth, char *errbuf,
                 size_t errcap)
{
    j->p = j->start = (const unsigned char *)buf;
    j->end = j->p + len;
    j->depth = 0;
    j->max_depth = max_depth;
    j->err = QW_OK;
    j->errbuf = errbuf;
    j->errcap = errcap;
    if (errcap)
        errbuf[0] = '\0';
}

int qw__js_fail(qw__js *j, qw_err e, const char *fmt, ...)
{
    if (j->err != QW_OK)
        return 0;
    j->err = e;
    if (j->errcap) {
        va_list ap;
        int n = snprintf(j->errbuf, j->errcap, "at byte %zu: ", (size_t)(j->p - j->start));
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < j->errcap)
            vsnprintf(j->errbuf + n, j->errcap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return 0;
}

void qw__js_ws(qw__js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

int qw__js_peek(qw__js *j)
{
    qw__js_ws(j);
    return j->p < j->end ? *j->p : -1;
}

/* Length of a valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0;
        if (c == 0xF4 && p[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t haszero(uint64_t v)
{
    return (v - ONES) & ~v & HIGHS;
}

int qw__js_string(qw__js *j, qw__jstr *out)
{
    if (j->p >= j->end || *j->p != '"')
        return qw__js_fail(j, QW_BAD_TYPE, "expected a string");
    const unsigned char *s = ++j->p, *p = s, *end = j->end;
    int esc = 0;
    for (;;) {
        while (end - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            uint64_t special = haszero(v ^ (ONES * '"')) | haszero(v ^ (ONES * '\\')) |
                               ((v - ONES * 0x20) & ~v & HIGHS) | (v & HIGHS);
            if (special) {
                /* the lowest flagged byte is exact (borrows only run upward) */
                p += (size_t)__builtin_ctzll(special) >> 3;
                break;
            }
            p += 8;
        }
        if (p >= end)
            return qw__js_fail(j, QW_BAD_JSON, "unterminated string");
        unsigned c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            esc = 1;
            if (end - p < 2)
                return qw__js_fail(j, QW_BAD_JSON, "unterminated string");
            unsigned e = p[1];
            if (e == 'u') {
                unsigned u;
                if (end - p < 6 || !hex4(p + 2, &u))
                    return qw__js_fail(j, QW_BAD_JSON, "bad \\u escape");
                p += 6;
                if (u == 0)
                    return qw__js_fail(j, QW_BAD_JSON, "\\u0000 in string");
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return qw__js_fail(j, QW_BAD_JSON, "lone low surrogate");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    unsigned lo;
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return qw__js_fail(j, QW_BAD_JSON, "lone high surrogate");
                    p += 6;
                }
                continue;
            }
            if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
                e != 't')
                return qw__js_fail(j, QW_BAD_JSON, "bad escape");
            p += 2;
            continue;
        }
        if (c < 0x20)
            return qw__js_fail(j, QW_BAD_JSON, "control byte 0x%02x in string", c);
        if (c >= 0x80) {
            size_t n = utf8_len(p, end);
            if (!n)
                return qw__js_fail(j, QW_BAD_JSON, "invalid UTF-8");
            p += n;
            continue;
        }
        p++;
    }
    out->s = (const char *)s;
    out->n = (size_t)(p - s);
    out->esc = esc;
    j->p = p + 1;
    return 1;
}

static int scan_number(qw__js *j, int *is_int)
{
    const unsigned char *p = j->p, *end = j->end, *num = p;
    int frac = 0;
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return qw__js_fail(j, QW_BAD_JSON, "bad number");
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        frac = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return qw__js_fail(j, QW_BAD_JSON, "bad number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        frac = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return qw__js_fail(j, QW_BAD_JSON, "bad number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    size_t n = (size_t)(p - num);
    if (!frac) {
        /* integers must fit int64 (jansson's rule) */
        size_t digits = n - (*num == '-');
        if (digits > 19 ||
            (digits == 19 &&
             memcmp(num + (*num == '-'),
                    *num == '-' ? "9223372036854775808" : "9223372036854775807", 19) > 0))
            return qw__js_fail(j, QW_BAD_NUMBER, "integer out of range");
    } else {
        /* reals must not overflow a double */
        char tmp[1100];
        if (n < sizeof tmp) {
            memcpy(tmp, num, n);
            tmp[n] = '\0';
            errno = 0;
            double d = strtod(tmp, NULL);
            if (errno == ERANGE && isinf(d))
                return qw__js_fail(j, QW_BAD_NUMBER, "real number overflow");
        } else {
            return qw__js_fail(j, QW_BAD_NUMBER, "number too long");
        }
    }
    *is_int = !frac;
    j->p = p;
    return 1;
}

int qw__js_int64(qw__js *j, int64_t *out)
{
    qw__js_ws(j);
    const unsigned char *num = j->p;
    int is_int;
    if (j->p >= j->end || (*j->p != '-' && (*j->p < '0' || *j->p > '9')))
        return qw__js_fail(j, QW_BAD_TYPE, "expected an integer");
    if (!scan_number(j, &is_int))
        return 0;
    if (!is_int)
        return qw__js_fail(j, QW_BAD_NUMBER, "expected an integer, got a real");
    int neg = *num == '-';
    uint64_t v = 0;
    for (const unsigned char *p = num + neg; p < j->p; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static int literal(qw__js *j, const char *lit, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return qw__js_fail(j, QW_BAD_JSON, "unexpected character");
    j->p += n;
    return 1;
}

int qw__js_obj_open(qw__js *j)
{
    qw__js_ws(j);
    if (j->p >= j->end || *j->p != '{')
        return qw__js_fail(j, QW_BAD_TYPE, "expected an object");
    if (++j->depth > j->max_depth)
        return qw__js_fail(j, QW_TOO_DEEP, "nesting deeper than %u", j->max_depth);
    j->p++;
    return 1;
}

int qw__js_arr_open(qw__js *j)
{
    qw__js_ws(j);
    if (j->p >= j->end || *j->p != '[')
        return qw__js_fail(j, QW_BAD_TYPE, "expected an array");
    if (++j->depth > j->max_depth)
        return qw__js_fail(j, QW_TOO_DEEP, "nesting deeper than %u", j->max_depth);
    j->p++;
    return 1;
}

int qw__js_obj_next(qw__js *j, int *first, qw__jstr *key)
{
    qw__js_ws(j);
    if (j->p >= j->end)
        return qw__js_fail(j, QW_BAD_JSON, "unterminated object"), -1;
    if (*j->p == '}') {
        if (!*first && j->p[-1] == ',')
            return qw__js_fail(j, QW_BAD_JSON, "trailing comma"), -1;
        j->p++;
        j->depth--;
        return 0;
    }
    if (!*first) {
        if (*j->p != ',')
            return qw__js_fail(j, QW_BAD_JSON, "expected ',' or '}'"), -1;
        j->p++;
        qw__js_ws(j);
    }
    *first = 0;
    if (j->p >= j->end || *j->p != '"')
        return qw__js_fail(j, QW_BAD_JSON, "expected a key"), -1;
    if (!qw__js_string(j, key))
        return -1;
    qw__js_ws(j);
    if (j->p >= j->end || *j->p != ':')
        return qw__js_fail(j, QW_BAD_JSON, "expected ':'"), -1;
    j->p++;
    qw__js_ws(j);
    return 1;
}

int qw__js_arr_next(qw__js *j, int *first)
{
    qw__js_ws(j);
    if (j->p >= j->end)
        return qw__js_fail(j, QW_BAD_JSON, "unterminated array"), -1;
    if (*j->p == ']') {
        if (!*first && j->p[-1] == ',')
            return qw__js_fail(j, QW_BAD_JSON, "trailing comma"), -1;
        j->p++;
        j->depth--;
        return 0;
    }
    if (!*first) {
        if (*j->p != ',')
            return qw__js_fail(j, QW_BAD_JSON, "expected ',' or ']'"), -1;
        j->p++;
        qw__js_ws(j);
        if (j->p >= j->end) /* the caller may read *j->p on 1 */
            return qw__js_fail(j, QW_BAD_JSON, "unterminated array"), -1;
        if (*j->p == ']')
            return qw__js_fail(j, QW_BAD_JSON, "trailing comma"), -1;
    }
    *first = 0;
    return 1;
}

int qw__js_skip(qw__js *j)
{
    qw__js_ws(j);
    if (j->p >= j->end)
        return qw__js_fail(j, QW_BAD_JSON, "unexpected end");
    int first = 1, r;
    qw__jstr s;
    switch (*j->p) {
    case '"': return qw__js_string(j, &s);
    case '{':
        if (!qw__js_obj_open(j))
            return 0;
        while ((r = qw__js_obj_next(j, &first, &s)) == 1)
            if (!qw__js_skip(j))
                return 0;
        return r == 0;
    case '[':
        if (!qw__js_arr_open(j))
            return 0;
        while ((r = qw__js_arr_next(j, &first)) == 1)
            if (!qw__js_skip(j))
                return 0;
        return r == 0;
    case 't': return literal(j, "true", 4);
    case 'f': return literal(j, "false", 5);
    case 'n': return literal(j, "null", 4);
    default: {
        int is_int;
        return scan_number(j, &is_int);
    }
    }
}

int qw__js_end(qw__js *j)
{
    qw__js_ws(j);
    if (j->p != j->end)
        return qw__js_fail(j, QW_BAD_JSON, "trailing bytes after the message");
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int qw__js_decode(const qw__jstr *s, char *buf, size_t cap, size_t *n)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s->s, *end = p + s->n;
    if (!s->esc) {
        if (s->n + 1 > cap)
            return 0;
        memcpy(buf, s->s, s->n);
        buf[s->n] = '\0';
        *n = s->n;
        return 1;
    }
    while (p < end) {
        if (o + 5 > cap)
            return 0;
        if (*p != '\\') {
            buf[o++] = (char)*p++;
            continue;
        }
        unsigned e = p[1], cp;
        p += 2;
        switch (e) {
        case 'b': buf[o++] = '\b'; break;
        case 'f': buf[o++] = '\f'; break;
        case 'n': buf[o++] = '\n'; break;
        case 'r': buf[o++] = '\r'; break;
        case 't': buf[o++] = '\t'; break;
        case 'u':
            hex4(p, &cp); /* validated by qw__js_string */
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                hex4(p + 2, &lo);
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(buf + o, cp);
            break;
        default: buf[o++] = (char)e; break;
        }
    }
    buf[o] = '\0';
    *n = o;
    return 1;
}

int qw__js_eq(const qw__jstr *s, const char *lit, size_t litn)
{
    if (!s->esc)
        return s->n == litn && memcmp(s->s, lit, litn) == 0;
    char buf[64];
    size_t n;
    return qw__js_decode(s, buf, sizeof buf, &n) && n == litn && memcmp(buf, lit, n) == 0;
}

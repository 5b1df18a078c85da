/* frame.c: recognise the line formats of recorded captures (see ingest.h).
 * Anything not recognised is passed through as a raw message, so the feed
 * parser decides what is malformed. */
#include <string.h>

#include "ingest/ingest.h"

static int parse_uint(const char **pp, const char *end, int64_t *out)
{
    const char *p = *pp;
    int64_t v = 0;
    if (p >= end || *p < '0' || *p > '9')
        return 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*p++ - '0');
    }
    *pp = p;
    *out = v;
    return 1;
}

/* "<sec>[.<frac>]" -> ns */
static int parse_unix_seconds(const char **pp, const char *end, int64_t *ns)
{
    int64_t sec, frac = 0;
    int digits = 0;
    if (!parse_uint(pp, end, &sec) || sec > 9000000000LL)
        return 0;
    const char *p = *pp;
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 9) {
                frac = frac * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        for (; digits < 9; digits++)
            frac *= 10;
    }
    *pp = p;
    *ns = sec * 1000000000LL + frac;
    return 1;
}

void qw_frame_line(const char *line, size_t len, qw_frame *out)
{
    const char *p = line, *end = line + len;
    out->kind = QW_FRAME_MSG;
    out->msg = line;
    out->len = len;
    out->recv_ns = 0;
    if (len == 0)
        return;
    if (*p == '{') {
        static const char pre[] = "{\"recv_ns\":";
        if (len < sizeof pre - 1 || memcmp(p, pre, sizeof pre - 1) != 0)
            return;
        const char *q = p + sizeof pre - 1;
        int64_t t;
        if (!parse_uint(&q, end, &t))
            return;
        static const char msgk[] = ",\"msg\":";
        if ((size_t)(end - q) >= sizeof msgk - 1 && memcmp(q, msgk, sizeof msgk - 1) == 0) {
            q += sizeof msgk - 1;
            const char *e = end;
            while (e > q && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t'))
                e--;
            if (e > q && e[-1] == '}') {
                out->msg = q;
                out->len = (size_t)(e - 1 - q);
                out->recv_ns = t;
            }
            return;
        }
        static const char hexk[] = ",\"msg_hex\":\"";
        if ((size_t)(end - q) >= sizeof hexk - 1 && memcmp(q, hexk, sizeof hexk - 1) == 0) {
            q += sizeof hexk - 1;
            const char *e = end;
            while (e > q && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t'))
                e--;
            if (e - q >= 2 && e[-1] == '}' && e[-2] == '"') {
                out->kind = QW_FRAME_MSG_HEX;
                out->msg = q;
                out->len = (size_t)(e - 2 - q);
                out->recv_ns = t;
            }
            return;
        }
        static const char evk[] = ",\"event\":\"connect\"";
        if ((size_t)(end - q) >= sizeof evk - 1 && memcmp(q, evk, sizeof evk - 1) == 0) {
            out->kind = QW_FRAME_CONNECT;
            out->recv_ns = t;
            out->len = 0;
        }
        return;
    }
    if (*p >= '0' && *p <= '9') { /* cryptofeed "<ts>: <json>" */
        const char *q = p;
        int64_t t;
        if (parse_unix_seconds(&q, end, &t) && end - q >= 2 && q[0] == ':' && q[1] == ' ') {
            out->msg = q + 2;
            out->len = (size_t)(end - q - 2);
            out->recv_ns = t;
        }
        return;
    }
    if (len > 6 && (memcmp(p, "wss://", 6) == 0 || memcmp(p, "ws://", 5) == 0)) {
        const char *sp = memchr(p, ' ', len);
        if (sp && end - sp >= 4 && memcmp(sp, " <->", 4) == 0) {
            out->kind = QW_FRAME_CONNECT;
            out->len = 0;
        } else if (sp && end - sp >= 3 && memcmp(sp, " <-", 3) == 0) {
            out->kind = QW_FRAME_META;
            out->len = 0;
        }
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

size_t qw_frame_unhex(const char *hex, size_t n, char *out)
{
    if (n % 2)
        return (size_t)-1;
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval(hex[i]), b = hexval(hex[i + 1]);
        if (a < 0 || b < 0)
            return (size_t)-1;
        out[i / 2] = (char)(a << 4 | b);
    }
    return n / 2;
}

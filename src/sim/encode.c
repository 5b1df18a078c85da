/* encode.c: Exchange and Advanced Trade server messages from typed events
 * (encode.h); exact e8 decimals via core/dec.h. */
#include "sim/encode.h"

#include <string.h>

#include "core/alloc.h"
#include "core/dec.h"
#include "core/time.h"

void qw_sbuf_free(qw_sbuf *b)
{
    qw_free(b->p);
    memset(b, 0, sizeof *b);
}

void qw_sbuf_reset(qw_sbuf *b)
{
    b->len = 0;
    b->oom = 0;
}

int qw_sbuf_reserve(qw_sbuf *b, size_t more)
{
    if (b->oom)
        return 0;
    if (b->cap - b->len >= more)
        return 1;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc - b->len < more)
        nc *= 2;
    char *np = qw_realloc(b->p, nc);
    if (!np) {
        b->oom = 1;
        return 0;
    }
    b->p = np;
    b->cap = nc;
    return 1;
}

void qw__sbuf_put_slow(qw_sbuf *b, const void *s, size_t n)
{
    if (!qw_sbuf_reserve(b, n) || !n)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static const char DIG2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* v's decimal digits at o; returns how many */
static size_t put_u64(char *o, uint64_t v)
{
    char t[24];
    size_t n = 0;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100);
        v /= 100;
        t[sizeof t - 1 - n++] = DIG2[2 * d + 1];
        t[sizeof t - 1 - n++] = DIG2[2 * d];
    }
    if (v >= 10) {
        t[sizeof t - 1 - n++] = DIG2[2 * v + 1];
        t[sizeof t - 1 - n++] = DIG2[2 * v];
    } else {
        t[sizeof t - 1 - n++] = (char)('0' + v);
    }
    memcpy(o, t + sizeof t - n, n);
    return n;
}

/* exactly 2*k digits of v (v < 100^k) at o, most significant first */
static void put_fixed(char *o, uint32_t v, int k)
{
    for (int i = k - 1; i >= 0; i--) {
        memcpy(o + 2 * i, DIG2 + 2 * (v % 100), 2);
        v /= 100;
    }
}

void qw_sbuf_i64(qw_sbuf *b, int64_t v)
{
    if (!qw_sbuf_reserve(b, 24))
        return;
    char *o = b->p + b->len;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *o++ = '-';
    o += put_u64(o, u);
    b->len = (size_t)(o - b->p);
}

/* The same text as core/dec.h's qw_dec_format (shortest exact form), two
 * digits per step straight into the buffer. */
void qw_sbuf_dec(qw_sbuf *b, int64_t e8)
{
    if (!qw_sbuf_reserve(b, QW_DEC_STR_MAX))
        return;
    char *o = b->p + b->len;
    uint64_t u = e8 < 0 ? (uint64_t)0 - (uint64_t)e8 : (uint64_t)e8;
    if (e8 < 0)
        *o++ = '-';
    o += put_u64(o, u / (uint64_t)QW_DEC_SCALE);
    uint32_t fp = (uint32_t)(u % (uint64_t)QW_DEC_SCALE);
    if (fp) {
        *o++ = '.';
        put_fixed(o, fp, 4);
        int k = 8;
        while (o[k - 1] == '0')
            k--;
        o += k;
    }
    b->len = (size_t)(o - b->p);
}

void qw_sbuf_sz(qw_sbuf *b, qw_sz e8)
{
    if (qw_sz_fits64(e8)) {
        qw_sbuf_dec(b, (int64_t)e8);
        return;
    }
    if (!qw_sbuf_reserve(b, QW_SZ_STR_MAX))
        return;
    b->len += qw_sz_format(e8, b->p + b->len);
}

/* the "YYYY-MM-DDTHH:MM:SS" of the last second formatted (per thread) */
static _Thread_local struct {
    int64_t sec;
    int ok;
    char pre[19];
} tcache;

void qw_sbuf_time(qw_sbuf *b, int64_t t_ns, int digits, int trim)
{
    int64_t sec = t_ns / QW_NS_PER_SEC, ns = t_ns % QW_NS_PER_SEC;
    if (ns < 0) {
        ns += QW_NS_PER_SEC;
        sec--;
    }
    if (!tcache.ok || tcache.sec != sec) {
        char t[QW_TIME_STR_MAX];
        if (qw_time_format(sec * QW_NS_PER_SEC, t) < 30)
            return;
        memcpy(tcache.pre, t, 19);
        tcache.sec = sec;
        tcache.ok = 1;
    }
    if (!qw_sbuf_reserve(b, 31))
        return;
    char *o = b->p + b->len;
    memcpy(o, tcache.pre, 19);
    size_t keep = 19;
    if (digits > 0) {
        o[19] = '.';
        o[20] = (char)('0' + ns / 100000000);
        put_fixed(o + 21, (uint32_t)(ns % 100000000), 4);
        keep = 20 + (size_t)(digits > 9 ? 9 : digits);
        if (trim) {
            while (keep > 20 && o[keep - 1] == '0')
                keep--;
            if (keep == 20)
                keep = 19;
        }
    }
    o[keep] = 'Z';
    b->len += keep + 1;
}

void qw_sbuf_jstr(qw_sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    qw_sbuf_chr(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            qw_sbuf_chr(b, '\\');
            qw_sbuf_chr(b, (char)c);
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            qw_sbuf_put(b, u, 6);
        } else {
            qw_sbuf_chr(b, (char)c);
        }
    }
    qw_sbuf_chr(b, '"');
}

/* ---- Exchange ---- */

static void ex_levels(qw_sbuf *b, const qw_level *l, size_t n)
{
    qw_sbuf_reserve(b, n * 48 + 2);
    qw_sbuf_chr(b, '[');
    for (size_t i = 0; i < n; i++) {
        qw_sbuf_str(b, i ? ",[\"" : "[\"");
        qw_sbuf_dec(b, l[i].px);
        qw_sbuf_str(b, "\",\"");
        qw_sbuf_sz(b, l[i].sz);
        qw_sbuf_str(b, "\"]");
    }
    qw_sbuf_chr(b, ']');
}

void qw_enc_ex_snapshot(qw_sbuf *b, const char *product, const qw_level *bids, size_t nb,
                        const qw_level *asks, size_t na)
{
    qw_sbuf_str(b, "{\"type\":\"snapshot\",\"product_id\":");
    qw_sbuf_jstr(b, product);
    qw_sbuf_str(b, ",\"asks\":");
    ex_levels(b, asks, na);
    qw_sbuf_str(b, ",\"bids\":");
    ex_levels(b, bids, nb);
    qw_sbuf_chr(b, '}');
}

void qw_enc_ex_l2update(qw_sbuf *b, const char *product, const qw_enc_chg *c, size_t n,
                        int64_t t_ns)
{
    qw_sbuf_str(b, "{\"type\":\"l2update\",\"product_id\":");
    qw_sbuf_jstr(b, product);
    qw_sbuf_str(b, ",\"changes\":[");
    for (size_t i = 0; i < n; i++) {
        qw_sbuf_str(b, c[i].side == QW_BID ? "[\"buy\",\"" : "[\"sell\",\"");
        qw_sbuf_dec(b, c[i].px);
        qw_sbuf_str(b, "\",\"");
        qw_sbuf_sz(b, c[i].sz);
        qw_sbuf_str(b, i + 1 < n ? "\"]," : "\"]");
    }
    qw_sbuf_str(b, "],\"time\":\"");
    qw_sbuf_time(b, t_ns, 6, 0);
    qw_sbuf_str(b, "\"}");
}

void qw_enc_ex_match(qw_sbuf *b, int last_match, const qw_enc_trade *t)
{
    /* Order ids are not part of our events: derived from the trade id so
     * they stay stable and unique-looking (uuid shape, as on the wire). */
    char oid[2][40];
    for (int k = 0; k < 2; k++) {
        static const char hex[] = "0123456789abcdef";
        uint64_t h = 1469598103934665603ULL ^ (uint64_t)k;
        for (const char *s = t->trade_id; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        for (const char *s = t->product; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        static const int dash[] = {8, 13, 18, 23};
        int o = 0, d = 0;
        for (int i = 0; i < 36; i++) {
            if (d < 4 && i == dash[d]) {
                oid[k][o++] = '-';
                d++;
                continue;
            }
            h = h * 6364136223846793005ULL + 1442695040888963407ULL;
            oid[k][o++] = hex[(h >> 60) & 15];
        }
        oid[k][o] = '\0';
    }
    qw_sbuf_str(b, last_match ? "{\"type\":\"last_match\",\"trade_id\":"
                              : "{\"type\":\"match\",\"trade_id\":");
    qw_sbuf_str(b, t->trade_id);
    qw_sbuf_str(b, ",\"maker_order_id\":\"");
    qw_sbuf_str(b, oid[0]);
    qw_sbuf_str(b, "\",\"taker_order_id\":\"");
    qw_sbuf_str(b, oid[1]);
    /* maker side: the buyer was the aggressor -> the maker sold */
    qw_sbuf_str(b, t->aggressor == QW_BID ? "\",\"side\":\"sell\",\"size\":\""
                                          : "\",\"side\":\"buy\",\"size\":\"");
    qw_sbuf_sz(b, t->sz);
    qw_sbuf_str(b, "\",\"price\":\"");
    qw_sbuf_dec(b, t->px);
    qw_sbuf_str(b, "\",\"product_id\":");
    qw_sbuf_jstr(b, t->product);
    qw_sbuf_str(b, ",\"sequence\":");
    qw_sbuf_i64(b, t->seq);
    qw_sbuf_str(b, ",\"time\":\"");
    qw_sbuf_time(b, t->t_ns, 6, 0);
    qw_sbuf_str(b, "\"}");
}

void qw_enc_ex_heartbeat(qw_sbuf *b, const char *product, int64_t sequence, int64_t last_trade_id,
                         int64_t t_ns)
{
    qw_sbuf_str(b, "{\"type\":\"heartbeat\",\"last_trade_id\":");
    qw_sbuf_i64(b, last_trade_id);
    qw_sbuf_str(b, ",\"product_id\":");
    qw_sbuf_jstr(b, product);
    qw_sbuf_str(b, ",\"sequence\":");
    qw_sbuf_i64(b, sequence);
    qw_sbuf_str(b, ",\"time\":\"");
    qw_sbuf_time(b, t_ns, 6, 0);
    qw_sbuf_str(b, "\"}");
}

/* ---- Advanced Trade ---- */

void qw_enc_adv_head(qw_sbuf *b, const char *channel, int64_t t_ns)
{
    qw_sbuf_str(b, "{\"channel\":\"");
    qw_sbuf_str(b, channel);
    qw_sbuf_str(b, "\",\"timestamp\":\"");
    qw_sbuf_time(b, t_ns, 9, 1);
    qw_sbuf_str(b, "\",\"sequence_num\":");
}

static void adv_level(qw_sbuf *b, int first, int side, int64_t t_ns, int64_t px, qw_sz sz)
{
    qw_sbuf_str(b, first ? "{\"side\":\"" : ",{\"side\":\"");
    qw_sbuf_str(b, side == QW_BID ? "bid" : "offer");
    qw_sbuf_str(b, "\",\"event_time\":\"");
    qw_sbuf_time(b, t_ns, 9, 1);
    qw_sbuf_str(b, "\",\"price_level\":\"");
    qw_sbuf_dec(b, px);
    qw_sbuf_str(b, "\",\"new_quantity\":\"");
    qw_sbuf_sz(b, sz);
    qw_sbuf_str(b, "\"}");
}

void qw_enc_adv_l2_snapshot(qw_sbuf *b, const char *product, const qw_level *bids, size_t nb,
                            const qw_level *asks, size_t na, int64_t event_t_ns)
{
    qw_sbuf_reserve(b, (nb + na) * 120 + 128);
    qw_sbuf_str(b, ",\"events\":[{\"type\":\"snapshot\",\"product_id\":");
    qw_sbuf_jstr(b, product);
    qw_sbuf_str(b, ",\"updates\":[");
    for (size_t i = 0; i < nb; i++)
        adv_level(b, i == 0, QW_BID, event_t_ns, bids[i].px, bids[i].sz);
    for (size_t i = 0; i < na; i++)
        adv_level(b, i == 0 && nb == 0, QW_ASK, event_t_ns, asks[i].px, asks[i].sz);
    qw_sbuf_str(b, "]}]}");
}

void qw_enc_adv_l2_update(qw_sbuf *b, const char *product, const qw_enc_chg *c, size_t n)
{
    qw_sbuf_str(b, ",\"events\":[{\"type\":\"update\",\"product_id\":");
    qw_sbuf_jstr(b, product);
    qw_sbuf_str(b, ",\"updates\":[");
    for (size_t i = 0; i < n; i++)
        adv_level(b, i == 0, c[i].side, c[i].t_ns, c[i].px, c[i].sz);
    qw_sbuf_str(b, "]}]}");
}

void qw_enc_adv_trades(qw_sbuf *b, int snapshot, const qw_enc_trade *t, size_t n)
{
    qw_sbuf_str(b, snapshot ? ",\"events\":[{\"type\":\"snapshot\",\"trades\":["
                            : ",\"events\":[{\"type\":\"update\",\"trades\":[");
    for (size_t i = 0; i < n; i++) {
        qw_sbuf_str(b, i ? ",{\"product_id\":" : "{\"product_id\":");
        qw_sbuf_jstr(b, t[i].product);
        qw_sbuf_str(b, ",\"trade_id\":");
        qw_sbuf_jstr(b, t[i].trade_id);
        qw_sbuf_str(b, ",\"price\":\"");
        qw_sbuf_dec(b, t[i].px);
        qw_sbuf_str(b, "\",\"size\":\"");
        qw_sbuf_sz(b, t[i].sz);
        qw_sbuf_str(b, "\",\"time\":\"");
        qw_sbuf_time(b, t[i].t_ns, 9, 1);
        qw_sbuf_str(b, t[i].aggressor == QW_BID ? "\",\"side\":\"SELL\"}" : "\",\"side\":\"BUY\"}");
    }
    qw_sbuf_str(b, "]}]}");
}

void qw_enc_adv_heartbeat(qw_sbuf *b, int64_t wall_ns, int64_t uptime_ns, int64_t counter)
{
    /* Go time.String(): "2006-01-02 15:04:05.999999999 -0700 MST m=+1.000000001" */
    char t[QW_TIME_STR_MAX];
    qw_sbuf_str(b, ",\"events\":[{\"current_time\":\"");
    size_t n = qw_time_format(wall_ns, t);
    if (n >= 30) {
        t[10] = ' ';
        size_t keep = 29;
        while (keep > 20 && t[keep - 1] == '0')
            keep--;
        if (keep == 20)
            keep = 19;
        qw_sbuf_put(b, t, keep);
    }
    qw_sbuf_str(b, " +0000 UTC m=+");
    if (uptime_ns < 0)
        uptime_ns = 0;
    qw_sbuf_i64(b, uptime_ns / QW_NS_PER_SEC);
    char f[10];
    int64_t fr = uptime_ns % QW_NS_PER_SEC;
    for (int i = 8; i >= 0; i--, fr /= 10)
        f[i] = (char)('0' + fr % 10);
    f[9] = '\0';
    qw_sbuf_chr(b, '.');
    qw_sbuf_str(b, f);
    qw_sbuf_str(b, "\",\"heartbeat_counter\":");
    qw_sbuf_i64(b, counter);
    qw_sbuf_str(b, "}]}");
}

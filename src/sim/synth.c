/* synth.c: the deterministic synthetic Coinbase market behind bench/gen_feed
 * (and the simulator). The model and its numbers: docs/SYNTHETIC.md.
 *
 * Design: one PRNG (xoshiro256**) drawn in a fixed order. A latent fair value
 * per product jumps (within +-2%); it only steers which integer tick gets an
 * order, and prices and sizes are printed from int64 e8. The live book is a
 * window of W ticks: a size per tick plus an occupancy bitmap for fast best
 * level scans; one array serves both sides, since in an uncrossed book every
 * bid sits below every ask. Snapshot levels beyond the window are written once
 * and never touched, so they cost no memory. Every change keeps best bid <
 * best ask and each side >= MIN_LEVELS levels in the window. The line buffer
 * is sized before any state changes, so QW_NOMEM leaves everything as it was.
 */
#include "sim/synth.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dec.h"
#include "core/time.h"

#ifdef __clang__ /* no fused multiply-add: the same bytes on every CPU (gcc -std=c17: off) */
#pragma STDC FP_CONTRACT OFF
#endif

#define PRODUCT_MAX 32 /* = QW_PRODUCT_MAX of feed/feed.h: ids are 1..31 bytes */
enum { BID, ASK };     /* book sides, also indexes */
#define E8 100000000LL
#define MIN_LEVELS 16
#define MAX_TRADES 6              /* per market_trades update; = pending slots */
#define MAX_CHG (20 + MAX_TRADES) /* per book message */
#define NEAR_LEVELS 256           /* snapshot levels at near-top spacing */
#define SNAPSHOT_BOUND(s) ((s)->o.levels * 2 * ((s)->o.feed == QW_SYNTH_ADVANCED ? 160 : 56) + 1024)
#define DEFAULT_START_NS 1767312000000000000LL /* 2026-01-02T00:00:00Z */
#define JUMPS_PER_S 8.0                        /* fair value: jumps per product and second */
#define VOL_LO 0.5 /* volatility regimes (mean dwell VOL_DWELL_S): mean variance is vol^2 */
#define VOL_HI 1.3228756555322954 /* sqrt(2 - VOL_LO^2) */
#define VOL_DWELL_S 30.0
#define P_TRADE 0.055   /* a stream message is a trade */
#define P_CATCH_UP 0.85 /* a change catches up with the fair value (when off target) */
#define P_INSERT 0.20   /* noise changes: insert, cancel, no-op removal; the rest modify */
#define P_CANCEL 0.40
#define P_NOOP 0.01
#define REFILL_K 4           /* the 4th level should be within 8 mean gaps of the best */
#define BURST_IN (1.0 / 500) /* per stream message */
#define BURST_OUT (1.0 / 40)
#define BURST_SPEED 8.0 /* gaps shrink by this factor in a burst */
#define CALM_SHARE                                                                                 \
    (1.0 - BURST_IN / (BURST_IN + BURST_OUT) * (1.0 - 1.0 / BURST_SPEED)) /* mean gap */
#define DONE(s, w, kind) /* a message is ready in buf */                                           \
    ((s)->len = (size_t)((w) - (s)->buf), (s)->st.kind++, (s)->st.messages++,                      \
     (s)->st.bytes += (s)->len, (s)->st.t_ns = (s)->t_ns)
#define NEXT_SECOND(s, t)                                                                          \
    (((t) / QW_NS_PER_SEC + 1) * QW_NS_PER_SEC + 1000 + (int64_t)rng_below((s)->r, 900000))
#define W_ENV(s, w, ch) /* the Advanced envelope, up to "events":[ */                              \
    put((s), NULL, (w),                                                                            \
        "{\"channel\":\"" ch "\",\"timestamp\":\"%TZ\",\"sequence_num\":%u,\"events\":[",          \
        (s)->t_ns, (s)->seqnum++)
#define NEAR(s, max) ((int64_t)fmin((double)rng_geom((s)->r, 1.0), (double)(max))) /* 0..max */

static uint64_t rng_u64(uint64_t *s) /* xoshiro256** */
{
    uint64_t x = s[1] * 5, t = s[1] << 17;
    x = ((x << 7) | (x >> 57)) * 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return x;
}

#define rng_unit(r) ((double)(rng_u64(r) >> 11) * 0x1.0p-53)         /* [0, 1) */
#define rng_below(r, n) (((rng_u64(r) >> 32) * (uint64_t)(n)) >> 32) /* [0, n), n < 2^32 */
#define rng_exp(r) (-dlog(1.0 - rng_unit(r)))                        /* mean 1 */

/* ln, exp from + - * / (frexp, ldexp, floor, sqrt are exact): the same stream on
 * every IEEE-754 machine, where libm's last bits vary by version and CPU. */
static const double inv[16] = {0,       1,       1 / 2.,  1 / 3., 1 / 4.,  1 / 5.,
                               1 / 6.,  1 / 7.,  1 / 8.,  1 / 9., 1 / 10., 1 / 11.,
                               1 / 12., 1 / 13., 1 / 14., 1 / 15.};

static double dlog(double x) /* x > 0, relative error < 1e-12 */
{
    int e;
    double m = frexp(x, &e), sum = 0.0;
    int half = m < 0.70710678118654752;
    m *= half ? 2.0 : 1.0;
    double z = (m - 1.0) / (m + 1.0), z2 = z * z; /* ln m = 2 atanh z, |z| < 0.172 */
    for (int k = 15; k >= 1; k -= 2)
        sum = sum * z2 + inv[k];
    return 2.0 * z * sum + (e - half) * 0.69314718055994531;
}

static double dexp(double x) /* |x| < 700 */
{
    double k = floor(x * 1.4426950408889634 + 0.5), r = x - k * 0.69314718055994531, sum = 1.0;
    for (int i = 14; i >= 1; i--)
        sum = 1.0 + sum * r * inv[i];
    return ldexp(sum, (int)k);
}

static double rng_norm(uint64_t *r) /* Marsaglia's polar method */
{
    double u, v, q;
    do {
        u = 2.0 * rng_unit(r) - 1.0;
        v = 2.0 * rng_unit(r) - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    return u * sqrt(-2.0 * dlog(q) / q);
}

static int64_t rng_geom(uint64_t *r, double mean) /* failures before a success */
{
    double k = mean > 0.0 ? floor(-rng_exp(r) / dlog(mean / (1.0 + mean))) : 0.0;
    return k < 1e6 ? (int64_t)k : 1000000;
}

typedef struct chg {
    int64_t idx, sz; /* window index; new size e8 (0 removes) */
    int side;
} chg;

typedef struct prod {
    char id[PRODUCT_MAX];
    size_t id_len;
    int64_t tick_e8, unit_e8; /* price tick; size unit (10^-sz_dp) */
    int sz_dp;                /* size decimals printed by the Exchange feed */
    double sz_med;            /* median order size, in size units */
    int64_t lo, W;            /* absolute tick of window index 0; window length */
    int64_t *sz;              /* W sizes (e8), 0 = no level */
    uint64_t *occ;            /* W bits */
    int64_t bb, ba;           /* best bid / ask window index (live only) */
    int64_t cnt[2];           /* levels in the window per side */
    double fair, fmin, fmax;  /* window-index units */
    double gap0, slack;       /* mean near-top level gap; catch-up tolerance */
    int64_t next_jump_ns;     /* the fair value's next jump */
    double volx;              /* volatility regime: VOL_LO or VOL_HI times vol */
    uint64_t seq, trade_id;
    int npend;
    chg pend[MAX_TRADES];
} prod;

struct qw_synth {
    qw_synth_opts o; /* o.products is not used after create: the ids live in p[] */
    uint64_t r[4];   /* PRNG state */
    prod *p;
    size_t np, step, intro_steps, hb_i; /* intro: acks and snapshots */
    int64_t t_ns, t_next, hb_next, calm_gap_ns;
    uint64_t hb_counter, seqnum; /* Advanced heartbeat_counter, sequence_num */
    int burst, staged;
    char *buf;
    size_t cap, len;
    int64_t tc_sec; /* cached "YYYY-MM-DDTHH:MM:SS" of this second */
    char tc_str[20];
    qw_synth_stats st;
};

static qw_err prod_init(prod *p, const char *id)
{
    size_t n = strlen(id);
    int64_t px_e8 = 0, med_e8;
    memcpy(p->id, id, n + 1);
    p->id_len = n;
    p->tick_e8 = 1000000; /* 0.01 */
    p->sz_dp = 8;
    if (strcmp(id, "BTC-USD") == 0 || strcmp(id, "ETH-USD") == 0) {
        px_e8 = id[0] == 'B' ? 43000 * E8 : 2300 * E8;
        med_e8 = id[0] == 'B' ? 5000000 : 80000000; /* 0.05 BTC, 0.8 ETH */
    } else {                                        /* stable parameters from the name (FNV-1a) */
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
        px_e8 = (int64_t)(1 + h % 9) * (h >> 8 & 1 ? 1000 : 100) * E8; /* 100..9000 */
        p->sz_dp = 2 + (int)(h >> 16 & 3) * 2;
        med_e8 = 1000 * E8 / (px_e8 / E8); /* ~1000 quote units */
    }
    p->unit_e8 = (int64_t[]){1000000, 10000, 100, 1}[(p->sz_dp - 2) / 2];
    p->sz_med = (double)med_e8 / (double)p->unit_e8;

    /* Near-top levels ~1/12 of the label threshold (1e-4 of the price)
     * apart, so a threshold-sized move crosses about a dozen levels. */
    int64_t p0 = px_e8 / p->tick_e8, bound = p0 / 50, margin = 4096, W = 1 << 13;
    p->gap0 = fmin(fmax((double)p0 * 1e-4 / 12.0, 1.0), 40.0);
    p->slack = floor(p->gap0 / 8.0) + 1.0;
    while (W < 2 * (bound + margin) && W < (1 << 20))
        W <<= 1;
    p->W = W;
    p->lo = p0 - W / 2 < 1 ? 1 : p0 - W / 2;
    p->fair = (double)(p0 - p->lo);
    if (margin > (p0 - p->lo) / 2)
        margin = (p0 - p->lo) / 2;
    p->fmin = fmax(p->fair - (double)bound, (double)margin);
    p->fmax = fmin(p->fair + (double)bound, (double)(W - margin));
    p->sz = qw_calloc((size_t)W + (size_t)W / 64 + 1, sizeof *p->sz); /* sizes, bitmap, 0 */
    p->occ = p->sz ? (uint64_t *)(p->sz + W) : NULL;
    return p->sz ? QW_OK : QW_NOMEM;
}

/* Highest occupied index <= i (-1 if none) / lowest >= i (W if none). */
static int64_t scan_down(const prod *p, int64_t i)
{
    if (i < 0)
        return -1;
    size_t w = (size_t)i >> 6;
    uint64_t m = p->occ[w] & (~0ULL >> (63 - (i & 63)));
    while (!m && w)
        m = p->occ[--w];
    return m ? (int64_t)(w << 6) + 63 - __builtin_clzll(m) : -1;
}

static int64_t scan_up(const prod *p, int64_t i)
{
    size_t w = (size_t)i >> 6, last = (size_t)p->W / 64 - 1;
    uint64_t m = p->occ[w] & (~0ULL << (i & 63));
    while (!m && w < last)
        m = p->occ[++w];
    return m ? (int64_t)(w << 6) + __builtin_ctzll(m) : p->W;
}

/* Set the size at idx on side, keeping counts, bitmap and best levels.
 * Callers put a bid below the best ask, an ask above the best bid, and
 * never empty a side (MIN_LEVELS). */
static int book_set(prod *p, chg *c, int side, int64_t idx, int64_t sz) /* returns 1 */
{
    int had = p->sz[idx] != 0;
    int64_t *best = side == BID ? &p->bb : &p->ba;
    if (c) /* the change, as the message will carry it */
        *c = (chg){idx, sz, side};
    p->sz[idx] = sz;
    if (!sz == !had) /* a new size, or removing nothing */
        return 1;
    p->occ[idx >> 6] ^= 1ULL << (idx & 63);
    p->cnt[side] += sz ? 1 : -1;
    if (sz && (side == BID ? idx > *best : idx < *best))
        *best = idx;
    else if (!sz && idx == *best)
        *best = side == BID ? scan_down(p, idx - 1) : scan_up(p, idx + 1);
    return 1;
}

static int64_t kth(const prod *p, int side, int64_t k) /* 0 = best; the deepest if fewer */
{
    int64_t idx = side == BID ? p->bb : p->ba;
    for (int64_t n; k-- > 0; idx = n)
        if ((n = side == BID ? scan_down(p, idx - 1) : scan_up(p, idx + 1)) < 0 || n >= p->W)
            break;
    return idx;
}

static int64_t new_size(qw_synth *s, const prod *p) /* lognormal, e8, > 0 */
{
    double v = p->sz_med * dexp(rng_norm(s->r)) + 0.5;
    return (v < 1.0 ? 1 : v > 1e11 ? (int64_t)1e11 : (int64_t)v) * p->unit_e8;
}

static char *w_digits(char *w, uint64_t f, int n) /* exactly n digits, zero padded */
{
    for (int i = n - 1; i >= 0; i--, f /= 10)
        w[i] = (char)('0' + f % 10);
    return w + n;
}

static char *w_u64(char *w, uint64_t v)
{
    int n = 1;
    for (uint64_t t = v; t >= 10; t /= 10)
        n++;
    return w_digits(w, v, n);
}

/* v (e8, >= 0) with exactly dp > 0 decimals, or the shortest form if dp < 0 */
static char *w_dec(char *w, int64_t v, int dp)
{
    uint64_t fp = (uint64_t)(v % E8);
    if (dp < 0)
        return w + qw_dec_format(v, w); /* (its NUL is overwritten next) */
    for (int i = dp; i < 8; i++)
        fp /= 10;
    w = w_u64(w, (uint64_t)(v / E8));
    *w++ = '.';
    return w_digits(w, fp, dp);
}

/* "YYYY-MM-DDTHH:MM:SS" (sep instead of 'T') and a fraction of `digits`
 * digits; with trim, trailing zeros go (and the point, if nothing is left). */
static char *w_time(qw_synth *s, char *w, int64_t t, int digits, int trim, char sep)
{
    int64_t sec = t / QW_NS_PER_SEC;
    uint64_t f = (uint64_t)(t % QW_NS_PER_SEC);
    if (sec != s->tc_sec) { /* most times share the second of the previous one */
        char tmp[QW_TIME_STR_MAX];
        qw_time_format(sec * QW_NS_PER_SEC, tmp);
        memcpy(s->tc_str, tmp, 19);
        s->tc_sec = sec;
    }
    memcpy(w, s->tc_str, 19);
    w[10] = sep;
    for (int i = digits; i < 9; i++)
        f /= 10;
    for (; trim && f && f % 10 == 0; digits--)
        f /= 10;
    if (trim && !f)
        return w + 19;
    w[19] = '.';
    return w_digits(w + 20, f, digits);
}

/* A tiny template language, so each message reads like its JSON:
 *   %s C string  %i product id  %L ["all","product","ids"]  %u uint64_t
 *   %n uint64_t as 9 digits  %p price at a window index  %z size e8
 *   (0: one of the spellings of zero)  %U random uuid  %t time, 6 digits
 *   (Exchange)  %T time, 9 digits trimmed (envelope)  %e time, 6 digits
 *   trimmed (event/trade)  %g time as Go's time.String() prints it.
 * Times, indexes and sizes are int64_t. */
static char *put(qw_synth *s, const prod *p, char *w, const char *fmt, ...)
{
    static const char *const zero[] = {"0", "0.0", "0.00", "0.000", "0.000000", "0.00000000"};
    static const char hex[] = "0123456789abcdef";
    int exch = s->o.feed == QW_SYNTH_EXCHANGE;
    const char *x = NULL; /* a string to copy */
    int64_t v;
    va_list ap;
    va_start(ap, fmt);
    for (const char *f = fmt; *f; f++, x = NULL) {
        if (*f != '%') {
            *w++ = *f;
            continue;
        }
        switch (*++f) {
        case 's': x = va_arg(ap, const char *); break;
        case 'i': w = (char *)memcpy(w, p->id, p->id_len) + p->id_len; break;
        case 'L':
            for (size_t i = 0; i < s->np; i++)
                w = put(s, &s->p[i], w, i ? ",\"%i\"" : "[\"%i\"");
            *w++ = ']';
            break;
        case 'u': w = w_u64(w, va_arg(ap, uint64_t)); break;
        case 'n': w = w_digits(w, va_arg(ap, uint64_t), 9); break;
        case 'p': w = w_dec(w, (p->lo + va_arg(ap, int64_t)) * p->tick_e8, exch ? 2 : -1); break;
        case 'z':
            if ((v = va_arg(ap, int64_t)) != 0)
                w = w_dec(w, v, exch ? p->sz_dp : -1);
            else
                x = exch || rng_unit(s->r) < 0.2 ? zero[rng_below(s->r, 6)] : "0";
            break;
        case 'U': /* random, version 4 */
            for (x = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"; *x; x++) {
                v = (int64_t)rng_below(s->r, 16);
                *w++ = *x == 'x' ? hex[v] : *x == 'y' ? hex[8 + v % 4] : *x;
            }
            break;
        case 't': w = w_time(s, w, va_arg(ap, int64_t), 6, 0, 'T'); break;
        case 'T': w = w_time(s, w, va_arg(ap, int64_t), 9, 1, 'T'); break;
        case 'e': w = w_time(s, w, va_arg(ap, int64_t), 6, 1, 'T'); break;
        case 'g': w = w_time(s, w, va_arg(ap, int64_t), 9, 1, ' '); break;
        default: *w++ = *f; break; /* "%%" */
        }
        while (x && *x)
            *w++ = *x++;
    }
    va_end(ap);
    return w;
}

static void msg_ack(qw_synth *s, int stage) /* stage 1..3: cumulative acks */
{
    char *w = s->buf;
    if (s->o.feed == QW_SYNTH_EXCHANGE) {
        w = put(
            s, NULL, w,
            "{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"level2_50\",\"product_ids\":%L,"
            "\"account_ids\":null},{\"name\":\"matches\",\"product_ids\":%L,\"account_ids\":null}"
            ",{\"name\":\"heartbeat\",\"product_ids\":%L,\"account_ids\":null}]}");
    } else {
        w = put(s, NULL, W_ENV(s, w, "subscriptions"), "{\"subscriptions\":{%s\"level2\":%L",
                stage >= 3 ? "\"heartbeats\":[\"heartbeats\"]," : "");
        w = put(s, NULL, w, stage >= 2 ? ",\"market_trades\":%L}}]}" : "}}]}");
    }
    DONE(s, w, subscriptions);
}

static const char *const adv_level[2] = {
    "%s{\"side\":\"bid\",\"event_time\":\"%eZ\",\"price_level\":\"%p\",\"new_quantity\":\"%z\"}",
    "%s{\"side\":\"offer\",\"event_time\":\"%eZ\",\"price_level\":\"%p\",\"new_quantity\":\"%z\"}"};

/* One side of a snapshot, best first; fills the window as it goes. */
static char *snap_side(qw_synth *s, prod *p, char *w, int side, int64_t idx, double gd)
{
    int64_t et = s->t_ns - 40 * QW_NS_PER_MS;
    for (size_t k = 0; k < s->o.levels; k++) {
        int64_t tick = p->lo + idx, sz = new_size(s, p);
        if (tick < 1 || tick > INT64_MAX / 4 / p->tick_e8)
            break;
        if (idx >= 0 && idx < p->W)
            book_set(p, NULL, side, idx, sz);
        if (s->o.feed == QW_SYNTH_ADVANCED)
            w = put(s, p, w, adv_level[side], k ? "," : "", et, idx, sz);
        else
            w = put(s, p, w, "%s[\"%p\",\"%z\"]", k ? "," : "", idx, sz);
        idx +=
            (side == BID ? -1 : 1) * (1 + rng_geom(s->r, (k < NEAR_LEVELS ? p->gap0 : gd) - 1.0));
    }
    return w;
}

static void msg_snapshot(qw_synth *s, prod *p)
{
    int64_t bb = (int64_t)floor(p->fair - 0.5), ba = (int64_t)ceil(p->fair + 0.5);
    /* Deep spacing: what is left of the bid side's room (down to one tick)
     * over the remaining levels, so a 50,000-level book fits; asks mirror. */
    double room = (double)(p->lo + bb) - NEAR_LEVELS * p->gap0;
    double rest = s->o.levels > NEAR_LEVELS ? (double)(s->o.levels - NEAR_LEVELS) : 1.0;
    double gd = fmax(p->gap0, 0.8 * room / rest);
    char *w = s->buf;
    p->bb = -1;
    p->ba = p->W;
    if (s->o.feed == QW_SYNTH_ADVANCED) {
        w = put(s, p, W_ENV(s, w, "l2_data"),
                "{\"type\":\"snapshot\",\"product_id\":\"%i\",\"updates\":[");
        w = snap_side(s, p, w, BID, bb, gd);
        w = put(s, p, snap_side(s, p, put(s, p, w, ","), ASK, ba, gd), "]}]}");
    } else {
        w = put(s, p, w, "{\"type\":\"snapshot\",\"product_id\":\"%i\",\"asks\":[");
        w = put(s, p, snap_side(s, p, w, ASK, ba, gd), "],\"bids\":[");
        w = put(s, p, snap_side(s, p, w, BID, bb, gd), "]}");
    }
    p->next_jump_ns = s->t_ns + (int64_t)(rng_exp(s->r) * 1e9 / JUMPS_PER_S);
    p->volx = rng_unit(s->r) < 0.5 ? VOL_LO : VOL_HI;
    DONE(s, w, snapshots);
}

static char *w_trade(qw_synth *s, prod *p, char *w, int first, int64_t idx, int64_t q, int side,
                     int64_t t)
{
    if (s->o.feed == QW_SYNTH_EXCHANGE)
        return put(s, p, w,
                   "{\"type\":\"%s\",\"trade_id\":%u,\"maker_order_id\":\"%U\",\"taker_order_id\":"
                   "\"%U\",\"side\":\"%s\",\"size\":\"%z\",\"price\":\"%p\",\"product_id\":\"%i\","
                   "\"sequence\":%u,\"time\":\"%tZ\"}",
                   first ? "last_match" : "match", p->trade_id, side == ASK ? "sell" : "buy", q,
                   idx, p->seq, t);
    return put(s, p, w,
               "%s{\"product_id\":\"%i\",\"trade_id\":\"%u\",\"price\":\"%p\",\"size\":\"%z\","
               "\"time\":\"%eZ\",\"side\":\"%s\"}",
               first ? "" : ",", p->trade_id, idx, q, t, side == ASK ? "SELL" : "BUY");
}

/* Trades before the connection: Exchange last_match, Advanced the
 * market_trades snapshot (the last 100 trades, newest first). */
static void msg_trade_snapshot(qw_synth *s, prod *p)
{
    int64_t t = s->t_ns, idx = (int64_t)p->fair;
    int n = s->o.feed == QW_SYNTH_EXCHANGE ? 1 : 100;
    char *w = s->buf;
    if (n > 1)
        w = put(s, p, W_ENV(s, w, "market_trades"), "{\"type\":\"snapshot\",\"trades\":[");
    for (int k = 0; k < n; k++, p->trade_id--) {
        t -= (int64_t)(rng_exp(s->r) * 4e8);
        idx += (int64_t)rng_below(s->r, 5) - 2;
        int64_t q = new_size(s, p);
        w = w_trade(s, p, w, k == 0, idx, q, (int)rng_below(s->r, 2), t);
    }
    p->trade_id += (uint64_t)n + 1; /* back above the ids just used */
    s->st.trades += (uint64_t)n;
    DONE(s, n > 1 ? put(s, p, w, "]}]}") : w, trade_msgs);
}

/* A trade at the top of one side (Advanced: maybe a sweep through a few
 * levels). Consumed sizes become the product's pending changes. Returns 0,
 * writing nothing, when the book cannot spare the liquidity. */
static int msg_trade(qw_synth *s, prod *p)
{
    int up = p->fair > (double)(p->bb + p->ba) / 2.0;          /* buyers lift offers */
    int side = (rng_unit(s->r) < 0.35 ? !up : up) ? ASK : BID; /* the maker side */
    int adv = s->o.feed == QW_SYNTH_ADVANCED, n = 0;
    int64_t ntr = adv ? 1 + rng_geom(s->r, 0.5) : 1, avail = p->cnt[side] - MIN_LEVELS;
    int64_t idx = side == ASK ? p->ba : p->bb, q[MAX_TRADES], u = p->unit_e8;
    while (n < ntr && n < MAX_TRADES && idx >= 0 && idx < p->W) {
        int64_t L = p->sz[idx], part = new_size(s, p) / 3 / u * u;
        int full = (n < ntr - 1 || rng_unit(s->r) < 0.3) && avail > 0;
        if (L <= u && avail <= 0)
            break;
        q[n] = L <= u || full ? L : part < u ? u : part < L ? part : L - u;
        p->pend[n] = (chg){idx, L - q[n], side};
        if (q[n++] < L)
            break;
        avail--;
        idx = side == ASK ? scan_up(p, idx + 1) : scan_down(p, idx - 1);
    }
    if (!n)
        return 0;
    p->npend = n;
    char *w = s->buf;
    if (adv)
        w = put(s, p, W_ENV(s, w, "market_trades"), "{\"type\":\"update\",\"trades\":[");
    else
        p->seq += 1 + rng_below(s->r, 64);
    for (int k = 0; k < n; k++, p->trade_id++)
        w = w_trade(s, p, w, adv && k == 0, p->pend[k].idx, q[k], side,
                    s->t_ns - (adv ? 20 * QW_NS_PER_MS : 0));
    s->st.trades += (uint64_t)n;
    DONE(s, adv ? put(s, p, w, "]}]}") : w, trade_msgs);
    return 1;
}

/* Move one side's best a step toward its target: delete a stale best, or
 * insert a new best inside the spread near the target. 0: nothing to do. */
static int catch_up(qw_synth *s, prod *p, int side, int64_t tgt, chg *c)
{
    int64_t sl = (int64_t)p->slack, lo = tgt > p->bb + 1 ? tgt : p->bb + 1;
    int64_t hi = tgt < p->ba - 1 ? tgt : p->ba - 1, idx;
    if (side == ASK ? p->ba < tgt : p->bb > tgt)
        return p->cnt[side] > MIN_LEVELS && book_set(p, c, side, side == ASK ? p->ba : p->bb, 0);
    if (side == ASK && p->ba > tgt + sl && lo <= p->ba - 1) {
        idx = lo + NEAR(s, p->ba - 1 - lo);
        return book_set(p, c, ASK, idx, new_size(s, p));
    }
    if (side == BID && p->bb < tgt - sl && hi >= p->bb + 1) {
        idx = hi - NEAR(s, hi - p->bb - 1);
        return book_set(p, c, BID, idx, new_size(s, p));
    }
    return 0;
}

/* One change: mostly (P_CATCH_UP) catch up with the fair value, the side
 * further off target first; otherwise noise near the top of a side. */
static int one_change(qw_synth *s, prod *p, int64_t tb, int64_t ta, chg *c) /* returns 1 */
{
    if (rng_unit(s->r) < P_CATCH_UP) {
        int64_t da = llabs(p->ba - ta), db = llabs(p->bb - tb);
        int first = da > db ? ASK : db > da ? BID : (int)(rng_u64(s->r) >> 63);
        if (catch_up(s, p, first, first == ASK ? ta : tb, c) ||
            catch_up(s, p, !first, first == ASK ? tb : ta, c))
            return 1;
    }
    int side = (int)(rng_u64(s->r) >> 63);
    double u = rng_unit(s->r);
    int64_t best = side == BID ? p->bb : p->ba, d, idx;
    if (llabs(kth(p, side, REFILL_K) - best) > 2 * REFILL_K * (int64_t)p->gap0) {
        /* thin top (a move just ate it): liquidity returns behind the best */
        d = 1 + rng_geom(s->r, p->gap0);
        idx = side == BID ? best - d : best + d;
        if (idx >= 0 && idx < p->W && !p->sz[idx])
            return book_set(p, c, side, idx, new_size(s, p));
    }
    int ins = u < P_INSERT, noop = u >= P_INSERT + P_CANCEL && u < P_INSERT + P_CANCEL + P_NOOP;
    if (ins || noop) { /* insert behind the top, or remove a level that is not there */
        d = 1 + rng_geom(s->r, 2.0 * p->gap0);
        idx = side == BID ? best - d : best + d;
        if (idx >= 0 && idx < p->W && (ins || !p->sz[idx]))
            return book_set(p, c, side, idx, ins ? new_size(s, p) : 0);
    } else if (u < P_INSERT + P_CANCEL && p->cnt[side] > MIN_LEVELS) { /* cancel near the top */
        return book_set(p, c, side, kth(p, side, rng_geom(s->r, 1.2)), 0);
    }
    idx = kth(p, side, rng_geom(s->r, 1.5)); /* modify */
    return book_set(p, c, side, idx, new_size(s, p));
}

static void msg_book(qw_synth *s, prod *p)
{
    int adv = s->o.feed == QW_SYNTH_ADVANCED;
    int64_t cap = adv ? 20 : 8, n = 1 + rng_geom(s->r, (adv ? 5.0 : 0.7) + s->burst), k = 0;
    int64_t sl = (int64_t)p->slack, stale = 0;
    chg c[MAX_CHG];
    for (; k < p->npend; k++) /* what the last trade consumed */
        book_set(p, &c[k], p->pend[k].side, p->pend[k].idx, p->pend[k].sz);
    p->npend = 0;
    double h = 0.5 + 0.5 * (double)rng_geom(s->r, p->gap0 > 4.0 ? 1.0 : 0.4);
    int64_t tb = (int64_t)floor(p->fair - h), ta = (int64_t)ceil(p->fair + h);
    /* After a jump the book needs more changes: one per stale level (asks
     * well below the target ask, bids well above the target bid). */
    for (int64_t i = p->ba; i < ta - sl && i < p->W && stale < cap; i = scan_up(p, i + 1))
        stale++;
    for (int64_t i = p->bb; i > tb + sl && i >= 0 && stale < cap; i = scan_down(p, i - 1))
        stale++;
    for (n = n > cap ? cap : n < stale ? stale : n; k < n; k++)
        one_change(s, p, tb, ta, &c[k]);

    char *w = s->buf;
    if (adv) { /* event_time lags the envelope: median ~31 ms, at most 500 ms */
        int64_t et = s->t_ns - (int64_t)fmin(rng_exp(s->r) * 45e6, 5e8);
        w = put(s, p, W_ENV(s, w, "l2_data"),
                "{\"type\":\"update\",\"product_id\":\"%i\",\"updates\":[");
        for (int64_t i = 0; i < k; i++)
            w = put(s, p, w, adv_level[c[i].side], i ? "," : "", et, c[i].idx, c[i].sz);
        w = put(s, p, w, "]}]}");
    } else {
        w = put(s, p, w, "{\"type\":\"l2update\",\"product_id\":\"%i\",\"changes\":[");
        for (int64_t i = 0; i < k; i++)
            w = put(s, p, w, "%s[\"%s\",\"%p\",\"%z\"]", i ? "," : "",
                    c[i].side == BID ? "buy" : "sell", c[i].idx, c[i].sz);
        w = put(s, p, w, "],\"time\":\"%tZ\"}", s->t_ns);
    }
    s->st.changes += (uint64_t)k;
    DONE(s, w, book_msgs);
}

static void msg_heartbeat(qw_synth *s)
{
    char *w = s->buf;
    s->t_ns = s->hb_next;
    if (s->o.feed == QW_SYNTH_EXCHANGE) { /* one per product per second */
        prod *p = &s->p[s->hb_i];
        p->seq += 1 + rng_below(s->r, 64);
        w = put(s, p, w,
                "{\"type\":\"heartbeat\",\"sequence\":%u,\"last_trade_id\":%u,\"product_id\":"
                "\"%i\",\"time\":\"%tZ\"}",
                p->seq, p->trade_id - 1, s->t_ns);
        s->hb_i = (s->hb_i + 1) % s->np;
    } else { /* current_time is Go's time.String(), not RFC 3339 */
        uint64_t up = s->hb_counter * (uint64_t)QW_NS_PER_SEC + 260485341u +
                      (uint64_t)(s->t_ns % QW_NS_PER_SEC);
        w = put(s, NULL, W_ENV(s, w, "heartbeats"),
                "{\"current_time\":\"%g +0000 UTC m=+%u.%n\",\"heartbeat_counter\":%u}]}", s->t_ns,
                up / QW_NS_PER_SEC, up % QW_NS_PER_SEC, s->hb_counter++);
    }
    if (s->hb_i == 0) /* next second, a little after the boundary */
        s->hb_next = NEXT_SECOND(s, s->hb_next);
    DONE(s, w, heartbeats);
}

/* The fair value jumps at random times (JUMPS_PER_S per product, normal
 * sizes scaled so the variance per second is vol^2, in a calm or a wild
 * regime), reflected at +-2% of the start price. Jumps rather than a move
 * per message keep the book's work per second independent of the message
 * rate; regimes make volatility cluster, as in real markets. */
static void advance_fair(qw_synth *s, prod *p)
{
    for (; p->next_jump_ns <= s->t_ns;
         p->next_jump_ns += 1 + (int64_t)(rng_exp(s->r) * 1e9 / JUMPS_PER_S)) {
        if (rng_unit(s->r) < 1.0 / (JUMPS_PER_S * VOL_DWELL_S))
            p->volx = p->volx == VOL_HI ? VOL_LO : VOL_HI;
        p->fair += ((double)p->lo + p->fair) * p->volx * s->o.vol_bps * 1e-4 / sqrt(JUMPS_PER_S) *
                   rng_norm(s->r);
        if (p->fair > p->fmax) /* reflect */
            p->fair = fmax(2.0 * p->fmax - p->fair, p->fmin);
        if (p->fair < p->fmin)
            p->fair = fmin(2.0 * p->fmin - p->fair, p->fmax);
    }
}

static void msg_stream(qw_synth *s)
{
    if (!s->t_next) {
        if (rng_unit(s->r) < (s->burst ? BURST_OUT : BURST_IN))
            s->burst = !s->burst;
        double mean = (double)s->calm_gap_ns / (s->burst ? BURST_SPEED : 1.0);
        s->t_next = s->t_ns + 1 + (int64_t)(rng_exp(s->r) * mean);
    }
    if (s->hb_next <= s->t_next) {
        msg_heartbeat(s);
    } else {
        prod *p = &s->p[rng_below(s->r, s->np)];
        s->t_ns = s->t_next;
        s->t_next = 0;
        advance_fair(s, p);
        if (p->npend || rng_unit(s->r) >= P_TRADE || !msg_trade(s, p))
            msg_book(s, p);
    }
}

/* Exchange: ack, then per product snapshot + last_match. Advanced: one
 * subscribe per channel, so ack(level2), snapshots, ack(+market_trades),
 * trade snapshots, ack(+heartbeats). */
static qw_err produce(qw_synth *s)
{
    size_t i = s->step, np = s->np;
    int exch = s->o.feed == QW_SYNTH_EXCHANGE;
    if (i >= s->intro_steps) {
        msg_stream(s);
        return QW_OK;
    }
    int snap = exch ? i % 2 == 1 : i >= 1 && i <= np;
    if (snap && s->cap < SNAPSHOT_BOUND(s)) { /* before any state changes */
        char *b = qw_realloc(s->buf, SNAPSHOT_BOUND(s));
        if (!b)
            return QW_NOMEM;
        s->buf = b;
        s->cap = SNAPSHOT_BOUND(s);
    }
    if (i) /* the first message is at start_ns exactly */
        s->t_ns += QW_NS_PER_MS + (int64_t)(rng_exp(s->r) * 4e6);
    if (exch && i == 0)
        msg_ack(s, 3);
    else if (exch)
        snap ? msg_snapshot(s, &s->p[(i - 1) / 2]) : msg_trade_snapshot(s, &s->p[(i - 1) / 2]);
    else if (i == 0 || i == np + 1 || i == 2 * np + 2)
        msg_ack(s, i == 0 ? 1 : i == np + 1 ? 2 : 3);
    else
        snap ? msg_snapshot(s, &s->p[i - 1]) : msg_trade_snapshot(s, &s->p[i - np - 2]);
    if (++s->step == s->intro_steps)
        s->hb_next = NEXT_SECOND(s, s->t_ns);
    return QW_OK;
}

const char *qw_synth_opts_check(const qw_synth_opts *o)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    if (!o || (o->feed != QW_SYNTH_EXCHANGE && o->feed != QW_SYNTH_ADVANCED))
        return "feed: must be QW_SYNTH_EXCHANGE or QW_SYNTH_ADVANCED";
    if (!o->products || o->nproducts == 0 || o->nproducts > QW_SYNTH_MAX_PRODUCTS)
        return "products: 1 to 256 product ids";
    for (size_t i = 0, n; i < o->nproducts; i++) { /* ids: feed/feed.c's rule */
        if (!o->products[i] || (n = strlen(o->products[i])) == 0 || n >= PRODUCT_MAX ||
            strspn(o->products[i], ok) != n)
            return "products: ids are 1-31 bytes of [A-Za-z0-9._-]";
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->products[i], o->products[j]) == 0)
                return "products: duplicate id";
    }
    if (o->levels > QW_SYNTH_MAX_LEVELS)
        return "levels: at most 1000000 per side";
    if (o->start_ns && !qw_time_plausible(o->start_ns))
        return "start_ns: must lie in 2010..2200";
    if (o->mean_gap_ns < 0 || o->mean_gap_ns > 60 * QW_NS_PER_SEC)
        return "mean_gap_ns: must be 0..60 s";
    if (!(o->vol_bps >= 0.0 && o->vol_bps <= 1000.0))
        return "vol_bps: must be 0..1000";
    return NULL;
}

qw_err qw_synth_create(qw_synth **out, const qw_synth_opts *opts)
{
    if (qw_synth_opts_check(opts))
        return QW_INVAL;
    qw_synth *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->o = *opts;
    s->o.levels = s->o.levels ? s->o.levels : 1000;
    s->o.start_ns = s->o.start_ns ? s->o.start_ns : DEFAULT_START_NS;
    s->o.mean_gap_ns = s->o.mean_gap_ns ? s->o.mean_gap_ns : 5 * QW_NS_PER_MS;
    s->o.vol_bps = s->o.vol_bps > 0.0 ? s->o.vol_bps : 2.0;
    s->calm_gap_ns = (int64_t)((double)s->o.mean_gap_ns / CALM_SHARE);
    s->np = opts->nproducts;
    s->intro_steps = s->o.feed == QW_SYNTH_EXCHANGE ? 1 + 2 * s->np : 3 + 2 * s->np;
    s->t_ns = s->o.start_ns;
    for (uint64_t i = 0, x = opts->seed, z; i < 4; s->r[i++] = z ^ (z >> 31)) { /* splitmix64 */
        z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    }
    s->hb_counter = 40000 + rng_below(s->r, 20000);
    s->cap = (64u << 10) + s->np * 200; /* any stream message; acks list every id */
    s->p = qw_calloc(s->np, sizeof *s->p);
    s->buf = qw_malloc(s->cap);
    for (size_t i = 0; s->p && s->buf && i < s->np; i++) {
        if (prod_init(&s->p[i], opts->products[i]) != QW_OK)
            break;
        s->p[i].seq = 10000000000ULL + rng_below(s->r, 1u << 30) * 8;
        s->p[i].trade_id = 100000000ULL + rng_below(s->r, 1u << 30);
    }
    if (!s->p || !s->buf || !s->p[s->np - 1].occ) {
        qw_synth_destroy(s);
        return QW_NOMEM;
    }
    *out = s;
    return QW_OK;
}

void qw_synth_destroy(qw_synth *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->p && i < s->np; i++)
        qw_free(s->p[i].sz);
    qw_free(s->p);
    qw_free(s->buf);
    qw_free(s);
}

qw_err qw_synth_next(qw_synth *s, char *buf, size_t cap, size_t *len)
{
    qw_err e = s->staged ? QW_OK : produce(s); /* a message waits until it is copied out */
    if (e != QW_OK)
        return e;
    s->staged = 1;
    *len = s->len;
    if (s->len > cap)
        return QW_TOO_LARGE;
    memcpy(buf, s->buf, s->len);
    s->staged = 0;
    return QW_OK;
}

const qw_synth_stats *qw_synth_get_stats(const qw_synth *s)
{
    return &s->st;
}

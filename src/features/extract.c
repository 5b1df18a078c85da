/* extract.c: features of one product's book after each complete update.
 *
 * Volatility is kept incrementally: a ring of (t, r) log-returns with
 * running sum and sum of squares; returns older than the window are
 * evicted as time advances, so each update costs O(1) amortised. To stop
 * floating-point drift in the running sums they are recomputed from the
 * ring every 4096 evictions (amortised O(1) as well).
 *
 * Overflow: prices and sizes are int64 e8 up to INT64_MAX (core/dec.h).
 * Depth sums use 128-bit accumulators; everything else on prices (mid,
 * spread) is done in double, where the largest values are finite.
 * (double)x of an __int128 that fits int64 rounds exactly like the int64
 * conversion, so ordinary books give bit-identical features.
 */
#include <math.h>

#include "core/alloc.h"
#include "features/features.h"

const char *const qw_feature_names[QW_NFEATURES_ALL] = {
    "spread_bps",  "imbalance",   "depth",     "volatility", "microprice_bps", "ofi",
    "depth_imb_1", "depth_imb_5", "trade_imb", "ret_1s_bps", "since_trade_s",  "spread_ticks"};

/* A growable ring of (t, a, b) with running sums of a and b, for the 1 s
 * windows of the extended features. Grows by doubling up to max; when full
 * at max the oldest entry is evicted early (counted by the caller's window
 * being shorter, never by a wrong sum). Sums are recomputed every 4096
 * evictions against floating-point drift. */
/* i mod cap for i < 2 * cap: ring indices without a division (cap is not
 * a compile-time constant) */
static inline size_t wrap(size_t i, size_t cap)
{
    return i >= cap ? i - cap : i;
}

typedef struct tpt {
    int64_t t;
    double a, b;
} tpt;

typedef struct tring {
    tpt *r;
    size_t cap, head, n, max;
    double sa, sb;
    uint64_t ev;
} tring;

static void tr_resum(tring *q)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < q->n; i++) {
        a += q->r[(q->head + i) % q->cap].a;
        b += q->r[(q->head + i) % q->cap].b;
    }
    q->sa = a;
    q->sb = b;
}

static void tr_pop(tring *q)
{
    q->sa -= q->r[q->head].a;
    q->sb -= q->r[q->head].b;
    q->head = wrap(q->head + 1, q->cap);
    q->n--;
    if (!q->n)
        q->sa = q->sb = 0; /* an empty window sums to 0, not to rounding residue */
    else if (++q->ev % 4096 == 0)
        tr_resum(q);
}

static void tr_push(tring *q, int64_t t, double a, double b)
{
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 64;
        tpt *r = q->cap < q->max ? qw_malloc((nc < q->max ? nc : q->max) * sizeof *r) : NULL;
        if (r) {
            for (size_t i = 0; i < q->n; i++)
                r[i] = q->r[(q->head + i) % q->cap];
            qw_free(q->r);
            q->r = r;
            q->cap = nc < q->max ? nc : q->max;
            q->head = 0;
        } else if (q->n) {
            tr_pop(q);
        } else {
            return; /* no memory at all: the window stays empty */
        }
    }
    q->r[wrap(q->head + q->n, q->cap)] = (tpt){t, a, b}; /* n < cap here */
    q->n++;
    q->sa += a;
    q->sb += b;
}

/* Evict entries with t <= cut. */
static void tr_expire(tring *q, int64_t cut)
{
    while (q->n && q->r[q->head].t <= cut)
        tr_pop(q);
}

static void tr_clear(tring *q)
{
    q->head = q->n = 0;
    q->sa = q->sb = 0;
}

typedef struct ret {
    int64_t t;
    double r;
} ret;

struct qw_extractor {
    qw_extractor_opts o;
    ret *ring;
    size_t cap, head, n; /* oldest at head; cap grows (doubling) up to o.vol_capacity */
    double sum, sumsq;
    uint64_t evictions;
    double last_mid; /* 0 = none */
    /* extended features */
    tring ofi, flow, mids; /* (t, e_n), (t, signed vol, vol), (t, mid) */
    int64_t pbb, pba;      /* previous best bid/ask price (e8); 0 = none */
    double pqb, pqa;       /* ... and their sizes */
    int64_t last_trade_t;  /* 0 = none yet */
    int64_t tick;          /* smallest price increment seen (e8), 0 = none */
};

/* Double the ring up to o.vol_capacity (oldest first at 0); 0, or -1 at
 * the limit or out of memory (the caller then evicts the oldest). */
static int grow_ring(qw_extractor *x)
{
    if (x->cap >= x->o.vol_capacity)
        return -1;
    size_t nc = x->cap * 2 < x->o.vol_capacity ? x->cap * 2 : x->o.vol_capacity;
    ret *r = qw_malloc(nc * sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < x->n; i++)
        r[i] = x->ring[(x->head + i) % x->cap];
    qw_free(x->ring);
    x->ring = r;
    x->cap = nc;
    x->head = 0;
    return 0;
}

qw_err qw_extractor_create(qw_extractor **out, const qw_extractor_opts *opts)
{
    qw_extractor *x = qw_calloc(1, sizeof *x);
    if (!x)
        return QW_NOMEM;
    if (opts)
        x->o = *opts;
    if (x->o.vol_window_ns <= 0)
        x->o.vol_window_ns = 5 * 1000000000LL;
    if (!x->o.vol_capacity)
        x->o.vol_capacity = 65536;
    if (x->o.flow_window_ns <= 0)
        x->o.flow_window_ns = 1000000000LL;
    x->ofi.max = x->flow.max = x->mids.max = x->o.vol_capacity;
    /* start small: a preallocated worst-case ring became resident page by
     * page as it was cycled (1 MiB a product) */
    x->cap = x->o.vol_capacity < 256 ? x->o.vol_capacity : 256;
    x->ring = qw_malloc(x->cap * sizeof *x->ring);
    if (!x->ring) {
        qw_extractor_destroy(x);
        return QW_NOMEM;
    }
    *out = x;
    return QW_OK;
}

void qw_extractor_destroy(qw_extractor *x)
{
    if (!x)
        return;
    qw_free(x->ring);
    qw_free(x->ofi.r);
    qw_free(x->flow.r);
    qw_free(x->mids.r);
    qw_free(x);
}

void qw_extractor_reset(qw_extractor *x)
{
    x->head = x->n = 0;
    x->sum = x->sumsq = 0;
    x->last_mid = 0;
    tr_clear(&x->ofi);
    tr_clear(&x->mids);
    x->pbb = x->pba = 0; /* trade flow and the last trade are not book state: kept */
}

void qw_extractor_trade(qw_extractor *x, int64_t t_ns, int aggressor_bid, qw_sz sz)
{
    if (!x->o.extended)
        return;
    double v = (double)sz / 1e8;
    if (t_ns > x->last_trade_t)
        x->last_trade_t = t_ns;
    tr_push(&x->flow, t_ns, aggressor_bid ? v : -v, v);
}

/* Price increment: the largest power of ten (e8, at most 1) dividing every
 * best price seen so far. */
static void see_tick(qw_extractor *x, int64_t px)
{
    int64_t t = x->tick ? x->tick : 100000000;
    while (t > 1 && px % t != 0)
        t /= 10;
    x->tick = t;
}

static double ratio(double a, double b)
{
    return a + b > 0 ? (a - b) / (a + b) : 0;
}

/* x[4..]: see docs/FEATURES.md for the formulas. */
static void extended(qw_extractor *x, const qw_level *bid, size_t nb, const qw_level *ask,
                     size_t na, int64_t t, double mid, qw_features *out)
{
    double qb = (double)bid[0].sz / 1e8, qa = (double)ask[0].sz / 1e8;
    double bb = (double)bid[0].px / 1e8, ba = (double)ask[0].px / 1e8;
    int64_t W = x->o.flow_window_ns;
    out->x[QW_F_MICROPRICE_BPS] = ((bb * qa + ba * qb) / (qb + qa) - mid) / mid * 1e4;
    /* OFI (Cont, Kukanov & Stoikov 2014): e_n from the best-level change */
    if (x->pbb) {
        double e = 0;
        if (bid[0].px >= x->pbb)
            e += qb;
        if (bid[0].px <= x->pbb)
            e -= x->pqb;
        if (ask[0].px <= x->pba)
            e -= qa;
        if (ask[0].px >= x->pba)
            e += x->pqa;
        tr_push(&x->ofi, t, e, 0);
    }
    x->pbb = bid[0].px;
    x->pba = ask[0].px;
    x->pqb = qb;
    x->pqa = qa;
    tr_expire(&x->ofi, t - W);
    out->x[QW_F_OFI] = x->ofi.sa / (qb + qa);
    __int128 b5 = 0, a5 = 0;
    for (size_t i = 0; i < nb && i < 5; i++)
        b5 += bid[i].sz;
    for (size_t i = 0; i < na && i < 5; i++)
        a5 += ask[i].sz;
    out->x[QW_F_DEPTH_IMB_1] = ratio(qb, qa);
    out->x[QW_F_DEPTH_IMB_5] = ratio((double)b5 / 1e8, (double)a5 / 1e8);
    tr_expire(&x->flow, t - W);
    out->x[QW_F_TRADE_IMB] = x->flow.sb > 0 ? x->flow.sa / x->flow.sb : 0;
    /* the mid in force at t - W: the last update at or before it (or the
     * oldest one kept, when the history is shorter) */
    tr_push(&x->mids, t, mid, 0);
    while (x->mids.n >= 2 && x->mids.r[wrap(x->mids.head + 1, x->mids.cap)].t <= t - W)
        tr_pop(&x->mids);
    out->x[QW_F_RET_1S_BPS] = log(mid / x->mids.r[x->mids.head].a) * 1e4;
    double since = x->last_trade_t ? (double)(t - x->last_trade_t) / 1e9 : 3600;
    out->x[QW_F_SINCE_TRADE_S] = since < 0 ? 0 : since > 3600 ? 3600 : since;
    see_tick(x, bid[0].px);
    see_tick(x, ask[0].px);
    out->x[QW_F_SPREAD_TICKS] = (double)(ask[0].px - bid[0].px) / (double)x->tick;
}

static void resum(qw_extractor *x)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < x->n; i++) {
        double r = x->ring[(x->head + i) % x->cap].r;
        s += r;
        q += r * r;
    }
    x->sum = s;
    x->sumsq = q;
}

static void evict_one(qw_extractor *x)
{
    double r = x->ring[x->head].r;
    x->sum -= r;
    x->sumsq -= r * r;
    x->head = wrap(x->head + 1, x->cap);
    x->n--;
    if (++x->evictions % 4096 == 0)
        resum(x);
}

int qw_extractor_update(qw_extractor *x, const qw_book *b, int64_t t_ns, qw_features *out)
{
    qw_level bid[QW_TOP_LEVELS], ask[QW_TOP_LEVELS];
    size_t nb = qw_book_top(b, QW_BID, bid, QW_TOP_LEVELS);
    size_t na = qw_book_top(b, QW_ASK, ask, QW_TOP_LEVELS);
    if (!nb || !na || bid[0].px >= ask[0].px)
        return 0;
    /* Exact sums in e8, then one conversion. A level may hold up to
     * INT64_MAX e8 (the parser's limit), so ten of them overflow int64 —
     * SHIB/PEPE books reach 9.2e10 units; the 128-bit accumulators hold
     * QW_TOP_LEVELS * INT64_MAX with room to spare. Sizes in a book are
     * > 0 (book.h I3), so the sums are never negative. */
    __int128 bv = 0, av = 0;
    for (size_t i = 0; i < nb; i++)
        bv += bid[i].sz;
    for (size_t i = 0; i < na; i++)
        av += ask[i].sz;
    double bidv = (double)bv / 1e8, askv = (double)av / 1e8;
    double bb = (double)bid[0].px / 1e8, ba = (double)ask[0].px / 1e8;
    double mid = (bb + ba) / 2;

    if (x->last_mid > 0) {
        if (x->n == x->cap && grow_ring(x) != 0)
            evict_one(x);
        double r = log(mid / x->last_mid);
        size_t tail = wrap(x->head + x->n, x->cap); /* n < cap here */
        x->ring[tail] = (ret){t_ns, r};
        x->n++;
        x->sum += r;
        x->sumsq += r * r;
    }
    x->last_mid = mid;
    while (x->n && x->ring[x->head].t < t_ns - x->o.vol_window_ns)
        evict_one(x);
    double vol = 0;
    if (x->n >= 2) {
        double m = x->sum / (double)x->n;
        double v = x->sumsq / (double)x->n - m * m;
        vol = v > 0 ? sqrt(v) : 0;
    }
    out->t_ns = t_ns;
    out->best_bid = bid[0].px;
    out->best_ask = ask[0].px;
    out->mid = mid;
    out->x[0] = (ba - bb) / mid * 1e4;
    out->x[1] = bidv + askv > 0 ? (bidv - askv) / (bidv + askv) : 0;
    out->x[2] = bidv + askv;
    out->x[3] = vol;
    for (size_t i = QW_NFEATURES; i < QW_NFEATURES_ALL; i++)
        out->x[i] = 0;
    if (x->o.extended)
        extended(x, bid, nb, ask, na, t_ns, mid, out);
    return 1;
}

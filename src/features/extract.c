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

const char *const qw_feature_names[QW_NFEATURES] = {"spread_bps", "imbalance", "depth",
                                                    "volatility"};

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
    qw_free(x);
}

void qw_extractor_reset(qw_extractor *x)
{
    x->head = x->n = 0;
    x->sum = x->sumsq = 0;
    x->last_mid = 0;
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
    x->head = (x->head + 1) % x->cap;
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
        size_t tail = (x->head + x->n) % x->cap;
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
    return 1;
}

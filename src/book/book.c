/* book.c: the exact full-depth L2 order book of one product.
 *
 * DESIGN
 *
 * Layout. Each side is one sorted contiguous array of qw_level with the
 * BEST level at the END:
 *
 *     bids: a[0] lowest price  ...  a[n-1] highest price (best bid)
 *     asks: a[0] highest price ...  a[n-1] lowest price  (best ask)
 *
 * so "storage order" is ascending for bids and descending for asks, and
 * "towards the end" always means "towards the top of book". Best is O(1)
 * (a[n-1]); top-N walks backwards in O(N). Nearly every feed update lands
 * within a few levels of the top, so the memmove of an insert or a remove
 * shifts only the handful of elements above the touched level, and the
 * whole working set stays in a few cache lines at the end of the array.
 *
 * Search. find() gallops from the end (probes at depth 1, 2, 4, 8, ...)
 * until it brackets the price, then binary searches inside the bracket:
 * O(log d) for a price d levels from the top, O(log n) at worst. The side
 * is a compile-time constant in each instantiation (find() is inlined
 * with ask = 0 or 1), so the comparison costs no branch on the side.
 *
 * Snapshots. Each side owns a spare array. A snapshot is validated and
 * built into the spares (px > 0, sz >= 0, sz == 0 skipped, more than
 * max_levels -> QW_BOOK_FULL). Ordering is checked in one O(n) pass; input
 * already strictly best-first (the wire's order) or strictly worst-first
 * is copied as is, anything else is heap-sorted in place (no allocation,
 * O(n log n) worst case; glibc's qsort would malloc a scratch buffer
 * behind core/alloc's back). A repeated price -> QW_BAD_BOOK. Only when
 * BOTH sides are built are the spares swapped with the live arrays, so on
 * any error the book is unchanged. The old live arrays become the spares,
 * ready for the next snapshot.
 *
 * Memory. Arrays grow by doubling (initial_levels, default 1024) and are
 * clamped at max_levels (default 1,048,576 per side); they never shrink.
 * Once the arrays have reached the book's working depth, no call
 * allocates: qw_book_set allocates only when an insert finds the side
 * full, and a snapshot only when it is deeper than any before it.
 * Growth uses qw_realloc, which leaves the old block valid on failure, so
 * QW_NOMEM leaves the book unchanged. The spare's contents are dead, so
 * it is replaced by free + malloc instead of a copying realloc.
 *
 * Reservation. qw_book_reserve(side, n) grows the live array to depth + n
 * so the next n inserts cannot fail. The guarantee lasts until the next
 * snapshot, which swaps in a different array (qw_book_clear keeps it).
 *
 * Invariants (checked by tests/unit/test_book.c against a reference):
 *   I1  0 <= n <= cap <= max_levels, and the same for spare_cap.
 *   I2  a[0..n) is strictly increasing in storage order: no repeated px.
 *   I3  every stored level has px > 0 and sz > 0.
 *   I4  every failed call leaves the levels and the stats unchanged.
 *
 * Stats: `sets` counts applied changes (insert, size update, remove);
 * an absent remove is a no-op and counts only in `absent_removes`.
 *
 * Loop thread only; not thread-safe.
 */
#include <stdint.h>
#include <string.h>

#include "book/book.h"
#include "core/alloc.h"

#define DEFAULT_MAX_LEVELS ((size_t)1 << 20)
#define DEFAULT_INITIAL_LEVELS ((size_t)1024)
/* Caps max_levels so that byte counts and capacity doubling never
 * overflow size_t. */
#define MAX_LEVELS_LIMIT (SIZE_MAX / 4 / sizeof(qw_level))

typedef struct book_side {
    qw_level *a;     /* live levels, best at a[n - 1] */
    size_t n, cap;   /* depth, allocated levels */
    qw_level *spare; /* snapshot build area; contents dead between calls */
    size_t spare_cap;
} book_side;

struct qw_book {
    book_side s[2]; /* indexed by qw_side */
    size_t max_levels, initial_levels;
    qw_book_stats st;
};

static int valid_side(qw_side side)
{
    return side == QW_BID || side == QW_ASK;
}

/* x strictly before y in storage order (ascending bids, descending asks). */
static inline int before(int ask, int64_t x, int64_t y)
{
    return ask ? x > y : x < y;
}

/* Index of the first level at or after px in storage order (0..n): the
 * level's own index when px is present, otherwise where it would go.
 * Gallops from the top of book, then binary searches the bracket. */
static inline size_t find(const book_side *s, int ask, int64_t px)
{
    const qw_level *a = s->a;
    size_t n = s->n;
    if (n == 0 || before(ask, a[n - 1].px, px))
        return n; /* beyond the best (or empty): goes at the end */
    /* a[hi] is at or after px; look for a lo strictly before it. */
    size_t hi = n - 1, lo, step = 1;
    for (;;) {
        if (hi < step) {
            if (!before(ask, a[0].px, px))
                return 0;
            lo = 0;
            break;
        }
        lo = hi - step;
        if (before(ask, a[lo].px, px))
            break;
        hi = lo;
        step <<= 1;
    }
    /* a[lo] before px, a[hi] at or after px */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (before(ask, a[mid].px, px))
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

static size_t find_side(const book_side *s, qw_side side, int64_t px)
{
    return side == QW_ASK ? find(s, 1, px) : find(s, 0, px);
}

/* Capacity for `need` levels: double from the current size (or from
 * initial_levels), clamp at max. Caller has checked need <= max. */
static size_t grown_cap(const qw_book *b, size_t cap, size_t need)
{
    size_t c = cap ? cap : b->initial_levels;
    while (c < need)
        c *= 2;
    return c < b->max_levels ? c : b->max_levels;
}

/* Make the live array of s hold `need` levels, keeping its contents. */
static qw_err grow_live(qw_book *b, book_side *s, size_t need)
{
    if (need <= s->cap)
        return QW_OK;
    size_t cap = grown_cap(b, s->cap, need);
    qw_level *p = qw_realloc(s->a, cap * sizeof *p);
    if (!p)
        return QW_NOMEM; /* s->a still valid and unchanged */
    s->a = p;
    s->cap = cap;
    return QW_OK;
}

/* Make the spare of s hold `need` levels; its contents are not kept. */
static qw_err grow_spare(qw_book *b, book_side *s, size_t need)
{
    if (need <= s->spare_cap)
        return QW_OK;
    size_t cap = grown_cap(b, s->spare_cap, need);
    qw_level *p = qw_malloc(cap * sizeof *p);
    if (!p)
        return QW_NOMEM; /* old spare kept: still a valid (small) spare */
    qw_free(s->spare);
    s->spare = p;
    s->spare_cap = cap;
    return QW_OK;
}

qw_err qw_book_create(qw_book **out, const qw_book_opts *opts)
{
    if (!out)
        return QW_INVAL;
    *out = NULL;
    size_t max = opts && opts->max_levels ? opts->max_levels : DEFAULT_MAX_LEVELS;
    size_t init = opts && opts->initial_levels ? opts->initial_levels : DEFAULT_INITIAL_LEVELS;
    if (max > MAX_LEVELS_LIMIT)
        return QW_INVAL;
    if (init > max)
        init = max;

    qw_book *b = qw_calloc(1, sizeof *b);
    if (!b)
        return QW_NOMEM;
    b->max_levels = max;
    b->initial_levels = init;
    for (int i = 0; i < 2; i++) {
        b->s[i].a = qw_malloc(init * sizeof *b->s[i].a);
        if (!b->s[i].a)
            goto fail;
        b->s[i].cap = init;
    }
    *out = b;
    return QW_OK;
fail:
    qw_book_destroy(b); /* accepts the half-built book */
    return QW_NOMEM;
}

void qw_book_destroy(qw_book *b)
{
    if (!b)
        return;
    for (int i = 0; i < 2; i++) {
        qw_free(b->s[i].a);
        qw_free(b->s[i].spare);
    }
    qw_free(b);
}

void qw_book_clear(qw_book *b)
{
    b->s[QW_BID].n = 0;
    b->s[QW_ASK].n = 0;
}

qw_err qw_book_reserve(qw_book *b, qw_side side, size_t n)
{
    if (!valid_side(side))
        return QW_INVAL;
    book_side *s = &b->s[side];
    if (n > b->max_levels - s->n) /* depth + n > max, without overflow */
        return QW_BOOK_FULL;
    return grow_live(b, s, s->n + n);
}

qw_err qw_book_set(qw_book *b, qw_side side, int64_t px, qw_sz sz)
{
    if (!valid_side(side))
        return QW_INVAL;
    if (px <= 0 || sz < 0)
        return QW_BAD_BOOK;
    book_side *s = &b->s[side];
    size_t i = find_side(s, side, px);
    int found = i < s->n && s->a[i].px == px;

    if (found) {
        if (sz > 0) {
            s->a[i].sz = sz;
        } else {
            /* the levels above i (towards the top) slide down one */
            memmove(&s->a[i], &s->a[i + 1], (s->n - i - 1) * sizeof *s->a);
            s->n--;
            b->st.removes++;
        }
        b->st.sets++;
        return QW_OK;
    }
    if (sz == 0) {
        b->st.absent_removes++;
        return QW_OK;
    }
    if (s->n == s->cap) {
        if (s->n == b->max_levels)
            return QW_BOOK_FULL;
        qw_err e = grow_live(b, s, s->n + 1);
        if (e != QW_OK)
            return e;
    }
    memmove(&s->a[i + 1], &s->a[i], (s->n - i) * sizeof *s->a);
    s->a[i] = (qw_level){.px = px, .sz = sz};
    s->n++;
    b->st.inserts++;
    b->st.sets++;
    return QW_OK;
}

/* ---- snapshot build ---- */

/* In-place heapsort of a[0..n) into storage order. Used only for input
 * that arrives neither best-first nor worst-first. */
static inline void sift_down(qw_level *a, size_t root, size_t n, int ask)
{
    qw_level v = a[root];
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(ask, a[c].px, a[c + 1].px))
            c++;
        if (!before(ask, v.px, a[c].px))
            break;
        a[root] = a[c];
        root = c;
    }
    a[root] = v;
}

static void heap_sort(qw_level *a, size_t n, int ask)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n, ask);
    for (size_t end = n - 1; end > 0; end--) {
        qw_level t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end, ask);
    }
}

/* Validate lv[0..n) and build it, in storage order, into the side's
 * spare. The live array is not touched. *out_n = levels kept. */
static qw_err build_side(qw_book *b, qw_side side, const qw_level *lv, size_t n, size_t *out_n)
{
    book_side *s = &b->s[side];
    int ask = side == QW_ASK;
    /* One pass: validate, count the non-zero levels and see whether they
     * are already strictly best-first (desc) or worst-first (asc) in
     * storage order. */
    size_t m = 0;
    int asc = 1, desc = 1;
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (lv[i].px <= 0 || lv[i].sz < 0)
            return QW_BAD_BOOK;
        if (lv[i].sz == 0)
            continue;
        if (m > 0) {
            asc &= before(ask, prev, lv[i].px);
            desc &= before(ask, lv[i].px, prev);
        }
        prev = lv[i].px;
        m++;
    }
    if (m > b->max_levels)
        return QW_BOOK_FULL;
    qw_err e = grow_spare(b, s, m ? m : 1); /* arrays are never NULL */
    if (e != QW_OK)
        return e;

    qw_level *d = s->spare;
    if (desc) { /* best-first, the wire's order: reverse while copying */
        size_t j = m;
        for (size_t i = 0; i < n; i++)
            if (lv[i].sz > 0)
                d[--j] = lv[i];
    } else {
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
            if (lv[i].sz > 0)
                d[j++] = lv[i];
        if (!asc) {
            heap_sort(d, m, ask);
            for (size_t i = 1; i < m; i++)
                if (d[i - 1].px == d[i].px)
                    return QW_BAD_BOOK; /* repeated price */
        }
    }
    *out_n = m;
    return QW_OK;
}

qw_err qw_book_snapshot(qw_book *b, const qw_level *bids, size_t nbids, const qw_level *asks,
                        size_t nasks)
{
    if ((nbids && !bids) || (nasks && !asks))
        return QW_INVAL;
    size_t n[2] = {0, 0};
    qw_err e = build_side(b, QW_BID, bids, nbids, &n[QW_BID]);
    if (e == QW_OK)
        e = build_side(b, QW_ASK, asks, nasks, &n[QW_ASK]);
    if (e != QW_OK)
        return e; /* only the spares were written */
    for (int i = 0; i < 2; i++) {
        book_side *s = &b->s[i];
        qw_level *t = s->a;
        size_t tc = s->cap;
        s->a = s->spare;
        s->cap = s->spare_cap;
        s->n = n[i];
        s->spare = t;
        s->spare_cap = tc;
    }
    b->st.snapshots++;
    return QW_OK;
}

/* ---- queries ---- */

size_t qw_book_depth(const qw_book *b, qw_side side)
{
    return valid_side(side) ? b->s[side].n : 0;
}

int qw_book_best(const qw_book *b, qw_side side, qw_level *out)
{
    if (!valid_side(side) || b->s[side].n == 0)
        return 0;
    *out = b->s[side].a[b->s[side].n - 1];
    return 1;
}

size_t qw_book_top(const qw_book *b, qw_side side, qw_level *out, size_t n)
{
    if (!valid_side(side))
        return 0;
    const book_side *s = &b->s[side];
    size_t k = n < s->n ? n : s->n;
    const qw_level *top = s->a + s->n; /* one past the best */
    for (size_t i = 0; i < k; i++)
        out[i] = top[-1 - (ptrdiff_t)i];
    return k;
}

qw_sz qw_book_get(const qw_book *b, qw_side side, int64_t px)
{
    if (!valid_side(side) || px <= 0)
        return 0;
    const book_side *s = &b->s[side];
    size_t i = find_side(s, side, px);
    return i < s->n && s->a[i].px == px ? s->a[i].sz : 0;
}

int qw_book_crossed(const qw_book *b)
{
    const book_side *bid = &b->s[QW_BID], *ask = &b->s[QW_ASK];
    if (bid->n == 0 || ask->n == 0)
        return 0;
    return bid->a[bid->n - 1].px >= ask->a[ask->n - 1].px;
}

const qw_book_stats *qw_book_get_stats(const qw_book *b)
{
    return &b->st;
}

size_t qw_book_mem(const qw_book *b)
{
    size_t m = sizeof *b;
    for (int i = 0; i < 2; i++)
        m += (b->s[i].cap + b->s[i].spare_cap) * sizeof(qw_level);
    return m;
}

uint64_t qw_book_digest(const qw_book *b)
{
    /* FNV-1a over (side, px, sz) as int64s, best first; a size beyond
     * int64 adds its high 8 bytes, so digests of books whose sizes fit
     * int64 are what they were before sizes became 128-bit */
    uint64_t h = 1469598103934665603ull;
    for (int side = 0; side < 2; side++) {
        const book_side *s = &b->s[side];
        for (size_t i = s->n; i-- > 0;) {
            qw_sz sz = s->a[i].sz;
            int64_t v[4] = {side, s->a[i].px, (int64_t)(uint64_t)sz, (int64_t)(sz >> 64)};
            size_t nb = qw_sz_fits64(sz) ? 3 * sizeof v[0] : sizeof v;
            const unsigned char *p = (const unsigned char *)v;
            for (size_t k = 0; k < nb; k++) {
                h ^= p[k];
                h *= 1099511628211ull;
            }
        }
    }
    return h;
}

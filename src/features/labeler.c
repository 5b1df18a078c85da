/* labeler.c: y(t) = 1 if |mid(t+Δ) - mid(t)| > τ·mid(t), else 0, in feed
 * time. Samples wait in a bounded FIFO ring; when feed time passes t+Δ
 * the mid in force at t+Δ is the mid before the update that moved time
 * past it, which is what qw_labeler_advance is given. The ring starts small
 * and doubles when full, up to opts.capacity (so memory follows the real
 * number of pending samples, not the worst case: a preallocated ring became
 * resident page by page as it was cycled, 5.8 MiB a product); a ring at its
 * capacity (or that cannot grow) drops its oldest sample (counted as
 * overflow); a resync drops everything pending (counted), so no window ever
 * spans an untrusted book.
 */
#include <math.h>

#include "core/alloc.h"
#include "features/features.h"

struct qw_labeler {
    qw_labeler_opts o;
    qw_labeler_stats st;
    qw_sample *ring;
    size_t head, n, alloc; /* alloc: ring slots now, <= o.capacity */
};

#define RING_START 256

/* i mod alloc for i < 2 * alloc: ring indices without a division (alloc
 * is not a compile-time constant; the division was a visible part of
 * every push and label) */
static inline size_t wrap(size_t i, size_t alloc)
{
    return i >= alloc ? i - alloc : i;
}

qw_err qw_labeler_create(qw_labeler **out, const qw_labeler_opts *opts)
{
    qw_labeler *l = qw_calloc(1, sizeof *l);
    if (!l)
        return QW_NOMEM;
    if (opts)
        l->o = *opts;
    if (l->o.horizon_ns <= 0)
        l->o.horizon_ns = 500 * 1000000LL;
    if (!(l->o.tau > 0))
        l->o.tau = 1e-4;
    if (!l->o.capacity)
        l->o.capacity = 65536;
    l->alloc = l->o.capacity < RING_START ? l->o.capacity : RING_START;
    l->ring = qw_malloc(l->alloc * sizeof *l->ring);
    if (!l->ring) {
        qw_labeler_destroy(l);
        return QW_NOMEM;
    }
    *out = l;
    return QW_OK;
}

void qw_labeler_destroy(qw_labeler *l)
{
    if (!l)
        return;
    qw_free(l->ring);
    qw_free(l);
}

size_t qw_labeler_advance(qw_labeler *l, int64_t now_ns, double mid_in_force,
                          void (*emit)(void *ctx, const qw_labeled *s), void *ctx)
{
    size_t k = 0;
    while (l->n && l->ring[l->head].f.t_ns + l->o.horizon_ns < now_ns) {
        qw_labeled out;
        out.s = l->ring[l->head];
        out.mid_future = mid_in_force;
        out.label = fabs(mid_in_force - out.s.f.mid) > l->o.tau * out.s.f.mid;
        l->head = wrap(l->head + 1, l->alloc);
        l->n--;
        l->st.labeled++;
        l->st.positives += (uint64_t)out.label;
        k++;
        if (emit)
            emit(ctx, &out);
    }
    return k;
}

/* Double the ring (oldest first at 0); 0, or -1 at capacity / out of memory. */
static int grow(qw_labeler *l)
{
    if (l->alloc >= l->o.capacity)
        return -1;
    size_t na = l->alloc * 2 < l->o.capacity ? l->alloc * 2 : l->o.capacity;
    qw_sample *r = qw_malloc(na * sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        r[i] = l->ring[(l->head + i) % l->alloc];
    qw_free(l->ring);
    l->ring = r;
    l->alloc = na;
    l->head = 0;
    return 0;
}

void qw_labeler_push(qw_labeler *l, const qw_sample *s)
{
    if (l->n == l->alloc && grow(l) != 0) {
        l->head = wrap(l->head + 1, l->alloc);
        l->n--;
        l->st.overflow++;
    }
    l->ring[wrap(l->head + l->n, l->alloc)] = *s; /* n < alloc here */
    l->n++;
    l->st.pushed++;
}

void qw_labeler_drop_all(qw_labeler *l)
{
    l->st.dropped += l->n;
    l->head = l->n = 0;
}

size_t qw_labeler_pending(const qw_labeler *l)
{
    return l->n;
}

const qw_labeler_stats *qw_labeler_get_stats(const qw_labeler *l)
{
    return &l->st;
}

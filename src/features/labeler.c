/* labeler.c: y(t) = 1 if |mid(t+Δ) - mid(t)| > τ·mid(t), else 0, in feed
 * time. Samples wait in a bounded FIFO ring; when feed time passes t+Δ
 * the mid in force at t+Δ is the mid before the update that moved time
 * past it, which is what qw_labeler_advance is given. A full ring drops
 * its oldest sample (counted as overflow); a resync drops everything
 * pending (counted), so no window ever spans an untrusted book.
 */
#include <math.h>

#include "core/alloc.h"
#include "features/features.h"

struct qw_labeler {
    qw_labeler_opts o;
    qw_labeler_stats st;
    qw_sample *ring;
    size_t head, n;
};

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
    l->ring = qw_malloc(l->o.capacity * sizeof *l->ring);
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
        l->head = (l->head + 1) % l->o.capacity;
        l->n--;
        l->st.labeled++;
        l->st.positives += (uint64_t)out.label;
        k++;
        if (emit)
            emit(ctx, &out);
    }
    return k;
}

void qw_labeler_push(qw_labeler *l, const qw_sample *s)
{
    if (l->n == l->o.capacity) {
        l->head = (l->head + 1) % l->o.capacity;
        l->n--;
        l->st.overflow++;
    }
    l->ring[(l->head + l->n) % l->o.capacity] = *s;
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

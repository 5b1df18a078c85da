/* hist.c: log-linear histogram (see hist.h). */
#include "core/hist.h"

#include <string.h>

void qw_hist_reset(qw_hist *h)
{
    memset(h, 0, sizeof *h);
}

unsigned qw_hist_index(uint64_t v)
{
    if (v < QW_HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
    unsigned sub = (unsigned)(v >> (e - QW_HIST_SUB_BITS)) & (QW_HIST_SUB - 1);
    return (e - QW_HIST_SUB_BITS + 1) * QW_HIST_SUB + sub;
}

void qw_hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi)
{
    if (idx < QW_HIST_SUB) {
        *lo = *hi = idx;
        return;
    }
    unsigned e = idx / QW_HIST_SUB + QW_HIST_SUB_BITS - 1;
    uint64_t sub = idx % QW_HIST_SUB;
    uint64_t step = 1ull << (e - QW_HIST_SUB_BITS);
    *lo = (QW_HIST_SUB + sub) * step;
    *hi = *lo + (step - 1);
}

void qw_hist_record(qw_hist *h, uint64_t v)
{
    h->b[qw_hist_index(v)]++;
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->count++;
    h->sum = (h->sum + v < h->sum) ? UINT64_MAX : h->sum + v;
}

void qw_hist_merge(qw_hist *dst, const qw_hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < QW_HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum = (dst->sum + src->sum < dst->sum) ? UINT64_MAX : dst->sum + src->sum;
}

uint64_t qw_hist_quantile(const qw_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0))
        return h->min;
    if (q >= 1)
        return h->max;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++; /* ceil: the rank-th smallest value, 1-based */
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < QW_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            qw_hist_bucket_range(i, &lo, &hi);
            return hi < h->min ? h->min : hi > h->max ? h->max : hi;
        }
    }
    return h->max;
}

uint64_t qw_hist_count_le(const qw_hist *h, uint64_t edge)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < QW_HIST_BUCKETS; i++) {
        uint64_t lo, hi;
        qw_hist_bucket_range(i, &lo, &hi);
        if (lo > edge)
            break;
        n += h->b[i];
    }
    return n;
}

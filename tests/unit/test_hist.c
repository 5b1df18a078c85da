/* test_hist.c: histogram buckets, quantiles against a sorted oracle. */
#include <stdlib.h>

#include "core/hist.h"
#include "harness.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(hist_buckets_partition_the_range)
{
    uint64_t prev_hi = 0;
    for (unsigned i = 0; i < QW_HIST_BUCKETS; i++) {
        uint64_t lo, hi;
        qw_hist_bucket_range(i, &lo, &hi);
        if (i > 0)
            ASSERT_EQ(lo, prev_hi + 1);
        ASSERT_EQ(qw_hist_index(lo), i);
        ASSERT_EQ(qw_hist_index(hi), i);
        prev_hi = hi;
    }
    ASSERT_EQ(prev_hi, UINT64_MAX);
}

TEST(hist_quantiles_within_one_sixteenth)
{
    static qw_hist h;
    qw_hist_reset(&h);
    enum { N = 20000 };
    static uint64_t v[N];
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[i] = (x % 1000000) * (1 + (x >> 60)); /* skewed */
        qw_hist_record(&h, v[i]);
    }
    qsort(v, N, sizeof v[0], cmp_u64);
    ASSERT_EQ(h.count, (uint64_t)N);
    ASSERT_EQ(h.min, v[0]);
    ASSERT_EQ(h.max, v[N - 1]);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (unsigned k = 0; k < 4; k++) {
        uint64_t truth = v[(size_t)(qs[k] * N + 0.999999) - 1];
        uint64_t got = qw_hist_quantile(&h, qs[k]);
        ASSERT_TRUE(got >= truth);
        ASSERT_TRUE((double)got <= (double)truth * (1.0 + 1.0 / 16) + 1);
    }
    /* count_le exact at powers of two */
    for (unsigned p = 4; p < 21; p++) {
        uint64_t edge = (1ull << p) - 1, n = 0;
        for (int i = 0; i < N; i++)
            n += v[i] <= edge;
        ASSERT_EQ(qw_hist_count_le(&h, edge), n);
    }
}

TEST(hist_empty_and_merge)
{
    static qw_hist a, b;
    qw_hist_reset(&a);
    qw_hist_reset(&b);
    ASSERT_EQ(qw_hist_quantile(&a, 0.99), 0u);
    qw_hist_record(&a, 5);
    qw_hist_record(&b, 1000);
    qw_hist_record(&b, UINT64_MAX);
    qw_hist_merge(&a, &b);
    ASSERT_EQ(a.count, 3u);
    ASSERT_EQ(a.min, 5u);
    ASSERT_EQ(a.max, UINT64_MAX);
    ASSERT_EQ(a.sum, UINT64_MAX);
    ASSERT_EQ(qw_hist_quantile(&a, 0.3), 5u);
}

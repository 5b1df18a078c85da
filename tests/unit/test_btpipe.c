/* test_btpipe.c: the backtest pipeline's shortcuts compute what the long
 * way computes, bit for bit (docs/PERFORMANCE.md, branch btpipe):
 * the classifier's staged scaler update without a copy of the state;
 * the stored predictions growing in place. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "model/model.h"
#include "research/ptstore.h"

static uint64_t rng = 0x243F6A8885A308D3u;

static double rnd(void) /* splitmix64 -> [-1, 1) */
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1p-52 - 1.0;
}

TEST(btpipe_scaler_partial_fit_from_is_partial_fit)
{
    enum { NF = 5 };
    qw_scaler *a = NULL, *b = NULL, *c = NULL;
    ASSERT_OK(qw_scaler_create(&a, NF));
    ASSERT_OK(qw_scaler_create(&b, NF));
    ASSERT_OK(qw_scaler_create(&c, NF));
    for (int i = 0; i < 5000; i++) {
        double x[NF];
        for (int j = 0; j < NF; j++) /* wide magnitudes, one near-constant feature */
            x[j] = j == 4 ? 1e6 + (i % 7 == 0) * 1e-9 : rnd() * pow(10, j * 3 - 4);
        /* a: in place; c = a's state before, partial_fit_from into b (then swapped, as
         * the classifier does) */
        ASSERT_OK(qw_scaler_partial_fit(a, x));
        ASSERT_OK(qw_scaler_partial_fit_from(b, c, x));
        qw_scaler *t = b;
        b = c;
        c = t;
        ASSERT_EQ(qw_scaler_n_seen(a), qw_scaler_n_seen(c));
        ASSERT_TRUE(memcmp(qw_scaler_mean(a), qw_scaler_mean(c), NF * sizeof(double)) == 0);
        ASSERT_TRUE(memcmp(qw_scaler_var(a), qw_scaler_var(c), NF * sizeof(double)) == 0);
        ASSERT_TRUE(memcmp(qw_scaler_scale(a), qw_scaler_scale(c), NF * sizeof(double)) == 0);
    }
    /* a rejected sample leaves dst unchanged */
    double mean[NF];
    memcpy(mean, qw_scaler_mean(b), sizeof mean);
    uint64_t n = qw_scaler_n_seen(b);
    double bad[NF] = {0, NAN, 0, 0, 0};
    ASSERT_ERR(QW_INVAL, qw_scaler_partial_fit_from(b, c, bad));
    ASSERT_EQ(n, qw_scaler_n_seen(b));
    ASSERT_TRUE(memcmp(mean, qw_scaler_mean(b), sizeof mean) == 0);
    qw_scaler *d = NULL;
    ASSERT_OK(qw_scaler_create(&d, NF - 1));
    ASSERT_ERR(QW_INVAL, qw_scaler_partial_fit_from(d, c, (double[NF]){0}));
    qw_scaler_destroy(a);
    qw_scaler_destroy(b);
    qw_scaler_destroy(c);
    qw_scaler_destroy(d);
}

/* The stored predictions keep every point across growths, in the
 * reservation (in place) and on the heap (copied), up to max. */
static void store_fill(qw_bt_store *s, uint64_t max)
{
    uint64_t n = 0;
    for (uint64_t want = 4096; want <= max; want = want * 2 > max && want < max ? max : want * 2) {
        qw_bt_pt *before = s->pts;
        ASSERT_OK(qw_bt_store_grow(s, n, want, max) == 0 ? QW_OK : QW_NOMEM);
        ASSERT_EQ(want, s->cap);
        if (s->map && before)
            ASSERT_TRUE(s->pts == before); /* in place */
        for (uint64_t i = 0; i < n; i++)
            ASSERT_TRUE(s->pts[i].t_ns == (int64_t)i && s->pts[i].p == (double)i / 7);
        for (; n < want; n++)
            s->pts[n] = (qw_bt_pt){.p = (double)n / 7, .t_ns = (int64_t)n, .prod = 3, .y = 1};
        if (want == max)
            break;
    }
    ASSERT_EQ(max, n);
    ASSERT_TRUE(qw_bt_store_grow(s, n, max + 1, max) != 0); /* beyond max: refused, unchanged */
    ASSERT_EQ(max, s->cap);
    ASSERT_TRUE(s->pts[max - 1].t_ns == (int64_t)max - 1);
    qw_bt_store_free(s);
    ASSERT_TRUE(!s->pts && !s->cap && !s->map);
}

TEST(btpipe_store_grows_in_place_or_on_the_heap)
{
    qw_bt_store s = {0};
    store_fill(&s, 100000);             /* not a power of two: the last growth stops at max */
    qw_bt_store h = {.map_refused = 1}; /* as when the reservation fails */
    store_fill(&h, 70000);
    ASSERT_TRUE(!h.map);
}

/* test_features.c: feature definitions on a known book, incremental
 * volatility against a from-scratch recomputation, the labeler's
 * definition (mid in force at t+Δ, strict "passes"), overflow and drops. */
#include <math.h>

#include "core/dec.h"
#include "features/features.h"
#include "harness.h"

static int64_t D(const char *s)
{
    int64_t v;
    if (qw_dec_parse(s, strlen(s), &v) != QW_OK)
        abort();
    return v;
}

TEST(features_definitions)
{
    qw_book *b;
    qw_extractor *x;
    ASSERT_OK(qw_book_create(&b, NULL));
    ASSERT_OK(qw_extractor_create(&x, NULL));
    qw_level bids[12], asks[12];
    for (int i = 0; i < 12; i++) {
        bids[i] = (qw_level){D("100") - i * D("0.5"), D("1") + i * D("0.25")};
        asks[i] = (qw_level){D("101") + i * D("0.5"), D("2")};
    }
    ASSERT_OK(qw_book_snapshot(b, bids, 12, asks, 12));
    qw_features f;
    ASSERT_TRUE(qw_extractor_update(x, b, 1000, &f));
    double bidv = 0;
    for (int i = 0; i < 10; i++)
        bidv += 1 + i * 0.25;
    double askv = 20;
    ASSERT_DBL_NEAR(f.mid, 100.5, 1e-15);
    ASSERT_DBL_NEAR(f.x[0], 1.0 / 100.5 * 1e4, 1e-12);
    ASSERT_DBL_NEAR(f.x[1], (bidv - askv) / (bidv + askv), 1e-12);
    ASSERT_DBL_NEAR(f.x[2], bidv + askv, 1e-12);
    ASSERT_DBL_NEAR(f.x[3], 0, 0);
    ASSERT_EQ(f.best_bid, D("100"));
    ASSERT_EQ(f.best_ask, D("101"));
    /* an empty side gives no features */
    qw_book_clear(b);
    ASSERT_TRUE(!qw_extractor_update(x, b, 2000, &f));
    qw_extractor_destroy(x);
    qw_book_destroy(b);
}

TEST(features_volatility_incremental_matches_recompute)
{
    qw_book *b;
    qw_extractor *x;
    qw_extractor_opts o = {.vol_window_ns = 1000000000LL};
    ASSERT_OK(qw_book_create(&b, NULL));
    ASSERT_OK(qw_extractor_create(&x, &o));
    enum { N = 20000 };
    static double mids[N];
    static int64_t ts[N];
    uint64_t s = 7;
    int64_t px = D("1000");
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        px += (int64_t)((s >> 33) % 5) - 2; /* random walk in 1e-8 ticks... */
        px += ((int64_t)((s >> 40) % 3) - 1) * D("0.01");
        ts[i] = (int64_t)i * 7000000; /* 7 ms apart */
        qw_level bl = {px, D("1")}, al = {px + D("0.02"), D("1")};
        ASSERT_OK(qw_book_snapshot(b, &bl, 1, &al, 1));
        qw_features f;
        ASSERT_TRUE(qw_extractor_update(x, b, ts[i], &f));
        mids[i] = f.mid;
        if (i % 997 == 0 && i > 2) {
            /* recompute: returns whose time is within the window */
            double sum = 0, sq = 0;
            int n = 0;
            for (int k = 1; k <= i; k++) {
                if (ts[k] < ts[i] - o.vol_window_ns)
                    continue;
                double r = log(mids[k] / mids[k - 1]);
                sum += r;
                sq += r * r;
                n++;
            }
            double m = sum / n, v = sq / n - m * m;
            ASSERT_DBL_NEAR(f.x[3], sqrt(v > 0 ? v : 0), 1e-6);
        }
    }
    qw_extractor_destroy(x);
    qw_book_destroy(b);
}

typedef struct got {
    qw_labeled v[16];
    int n;
} got;

static void collect(void *ctx, const qw_labeled *s)
{
    got *g = ctx;
    if (g->n < 16)
        g->v[g->n] = *s;
    g->n++;
}

static qw_sample sample(int64_t t, double mid)
{
    qw_sample s;
    memset(&s, 0, sizeof s);
    s.f.t_ns = t;
    s.f.mid = mid;
    s.p = NAN;
    return s;
}

TEST(labeler_mid_in_force_at_t_plus_delta)
{
    qw_labeler *l;
    ASSERT_OK(qw_labeler_create(&l, NULL)); /* Δ = 500 ms, τ = 1e-4 */
    got g = {.n = 0};
    const int64_t ms = 1000000;
    {
        qw_sample s_ = sample(0, 100.0);
        qw_labeler_push(l, &s_);
    }
    /* an update exactly at t+Δ is still "at or before": no label yet */
    ASSERT_EQ(qw_labeler_advance(l, 500 * ms, 100.0, collect, &g), 0);
    /* after it applied the mid is 100.02 (in force at t+Δ); the next update
     * passes t+Δ and labels with that mid */
    ASSERT_EQ(qw_labeler_advance(l, 501 * ms, 100.02, collect, &g), 1);
    ASSERT_EQ(g.n, 1);
    ASSERT_EQ(g.v[0].label, 1); /* |0.02| > 1e-4 * 100 = 0.01 */
    ASSERT_DBL_NEAR(g.v[0].mid_future, 100.02, 0);
    {
        qw_sample s_ = sample(600 * ms, 100.0);
        qw_labeler_push(l, &s_);
    }
    ASSERT_EQ(qw_labeler_advance(l, 2000 * ms, 100.005, collect, &g), 1);
    ASSERT_EQ(g.v[1].label, 0); /* 0.005 < τ·mid = 0.01 */
    ASSERT_EQ(qw_labeler_get_stats(l)->labeled, 2);
    ASSERT_EQ(qw_labeler_get_stats(l)->positives, 1);
    qw_labeler_destroy(l);
}

TEST(labeler_overflow_and_drop)
{
    qw_labeler *l;
    qw_labeler_opts o = {.capacity = 4};
    ASSERT_OK(qw_labeler_create(&l, &o));
    for (int i = 0; i < 6; i++) {
        qw_sample s_ = sample(i, 1.0);
        qw_labeler_push(l, &s_);
    }
    ASSERT_EQ(qw_labeler_pending(l), 4);
    ASSERT_EQ(qw_labeler_get_stats(l)->overflow, 2);
    got g = {.n = 0};
    ASSERT_EQ(qw_labeler_advance(l, 1000000000, 1.0, collect, &g), 4);
    ASSERT_EQ(g.v[0].s.f.t_ns, 2); /* the two oldest were dropped */
    {
        qw_sample s_ = sample(5, 1.0);
        qw_labeler_push(l, &s_);
    }
    {
        qw_sample s_ = sample(6, 1.0);
        qw_labeler_push(l, &s_);
    }
    qw_labeler_drop_all(l);
    ASSERT_EQ(qw_labeler_pending(l), 0);
    ASSERT_EQ(qw_labeler_get_stats(l)->dropped, 2);
    qw_labeler_destroy(l);
}

TEST(stability_score_range)
{
    qw_features f;
    memset(&f, 0, sizeof f);
    ASSERT_DBL_NEAR(qw_stability_score(&f), 1.0, 0);
    f.x[0] = 1000;
    f.x[3] = 0.01;
    ASSERT_TRUE(qw_stability_score(&f) < 1e-6);
    f.x[0] = 2;
    f.x[3] = 1e-5;
    double s = qw_stability_score(&f);
    ASSERT_TRUE(s > 0.5 && s < 1);
}

/* Depth sums at the extremes the decimal parser accepts: ten levels a
 * side of INT64_MAX e8 (92233720368.54775807) must not overflow the
 * accumulators (UB under UBSan, imbalance outside [-1, 1] otherwise). */
TEST(features_depth_at_parser_maximum)
{
    int64_t max;
    ASSERT_OK(qw_dec_parse("92233720368.54775807", 20, &max));
    ASSERT_EQ(max, INT64_MAX);
    ASSERT_ERR(QW_BAD_NUMBER, qw_dec_parse("92233720368.54775808", 20, &max));
    qw_book *b;
    qw_extractor *x;
    ASSERT_OK(qw_book_create(&b, NULL));
    ASSERT_OK(qw_extractor_create(&x, NULL));
    qw_level bids[QW_TOP_LEVELS], asks[QW_TOP_LEVELS];
    /* the highest prices too: asks up to INT64_MAX, bids just below */
    for (int i = 0; i < QW_TOP_LEVELS; i++) {
        asks[i] = (qw_level){INT64_MAX - i, INT64_MAX};
        bids[i] = (qw_level){INT64_MAX - QW_TOP_LEVELS - i, INT64_MAX};
    }
    ASSERT_OK(qw_book_snapshot(b, bids, QW_TOP_LEVELS, asks, QW_TOP_LEVELS));
    qw_features f;
    ASSERT_TRUE(qw_extractor_update(x, b, 1000, &f));
    double side = 10.0 * ((double)INT64_MAX / 1e8);
    ASSERT_DBL_NEAR(f.x[1], 0, 0);
    ASSERT_DBL_NEAR(f.x[2], 2 * side, 1e-15);
    ASSERT_TRUE(f.x[0] >= 0 && f.x[0] < 1e-6);
    ASSERT_EQ(f.best_ask, INT64_MAX - (QW_TOP_LEVELS - 1));
    ASSERT_EQ(f.best_bid, INT64_MAX - QW_TOP_LEVELS);
    /* one-sided depth: asks at 1e-8, bids at the maximum -> imbalance ~ +1, never above */
    for (int i = 0; i < QW_TOP_LEVELS; i++)
        asks[i].sz = 1;
    ASSERT_OK(qw_book_snapshot(b, bids, QW_TOP_LEVELS, asks, QW_TOP_LEVELS));
    ASSERT_TRUE(qw_extractor_update(x, b, 2000, &f));
    ASSERT_TRUE(f.x[1] <= 1 && f.x[1] > 0.999999);
    ASSERT_DBL_NEAR(f.x[2], side, 1e-15);
    /* the case: 1e10 units a level (sum 1e11 > INT64_MAX e8) */
    for (int i = 0; i < QW_TOP_LEVELS; i++) {
        bids[i] = (qw_level){D("0.00001") - i, D("10000000000")};
        asks[i] = (qw_level){D("0.00001") + 1 + i, D("10000000000")};
    }
    ASSERT_OK(qw_book_snapshot(b, bids, QW_TOP_LEVELS, asks, QW_TOP_LEVELS));
    ASSERT_TRUE(qw_extractor_update(x, b, 3000, &f));
    ASSERT_DBL_NEAR(f.x[1], 0, 0);
    ASSERT_DBL_NEAR(f.x[2], 2e11, 1e-15);
    qw_extractor_destroy(x);
    qw_book_destroy(b);
}

/* The FIFO grows on demand up to its capacity, keeping order across the
 * growth, and allocates nothing once it has reached the size in use (a
 * preallocated worst-case ring became resident as it was cycled). */
static void count_in_order(void *ctx, const qw_labeled *s)
{
    int64_t *next = ctx;
    if (s->s.f.t_ns != *next)
        qwt_fail(__FILE__, __LINE__, "labeled %lld, expected %lld", (long long)s->s.f.t_ns,
                 (long long)*next);
    (*next)++;
}

static void push_range(qw_labeler *l, int64_t from, int64_t to)
{
    for (int64_t t = from; t <= to; t++) {
        qw_sample s_ = sample(t, 1.0);
        qw_labeler_push(l, &s_);
    }
}

TEST(labeler_grows_on_demand_in_order)
{
    qw_labeler *l;
    qw_labeler_opts o = {.capacity = 3000};
    ASSERT_OK(qw_labeler_create(&l, &o));
    const int64_t H = 500000000; /* Δ */
    int64_t next = 1;
    push_range(l, 1, 1000);
    ASSERT_EQ(qw_labeler_advance(l, 500 + H + 1, 1.0, count_in_order, &next), 500);
    push_range(l, 1001, 2000); /* grows while the ring is wrapped (head != 0) */
    ASSERT_EQ(qw_labeler_pending(l), 1500);
    ASSERT_EQ(qw_labeler_advance(l, 1500 + H + 1, 1.0, count_in_order, &next), 1000);
    push_range(l, 2001, 4500); /* exactly the capacity pending */
    ASSERT_EQ(qw_labeler_pending(l), 3000);
    ASSERT_EQ(qw_labeler_get_stats(l)->overflow, 0);
    push_range(l, 4501, 4600); /* past the capacity: the oldest go */
    ASSERT_EQ(qw_labeler_pending(l), 3000);
    ASSERT_EQ(qw_labeler_get_stats(l)->overflow, 100);
    next = 1601;
    ASSERT_EQ(qw_labeler_advance(l, 4600 + H + 1, 1.0, count_in_order, &next), 3000);
    ASSERT_EQ(next, 4601);
    qw_labeler_destroy(l);
}

/* The opt-in features on a hand-computed sequence (docs/FEATURES.md). */
TEST(features_extended_definitions)
{
    qw_book *b;
    qw_extractor *x;
    const int64_t S = 1000000000; /* 1 s */
    ASSERT_OK(qw_book_create(&b, NULL));
    ASSERT_OK(qw_extractor_create(&x, &(qw_extractor_opts){.extended = 1}));
    qw_level bids[6], asks[6];
    for (int i = 0; i < 6; i++) {
        bids[i] = (qw_level){D("100") - i * D("0.5"), D("1")};
        asks[i] = (qw_level){D("101") + i * D("0.5"), D("3")};
    }
    ASSERT_OK(qw_book_snapshot(b, bids, 6, asks, 6));
    qw_features f;
    ASSERT_TRUE(qw_extractor_update(x, b, 10 * S, &f));
    /* microprice = (100*3 + 101*1)/4 = 100.25; mid 100.5 */
    ASSERT_DBL_NEAR(f.x[QW_F_MICROPRICE_BPS], (100.25 - 100.5) / 100.5 * 1e4, 1e-12);
    ASSERT_DBL_NEAR(f.x[QW_F_OFI], 0, 0); /* no previous best level yet */
    ASSERT_DBL_NEAR(f.x[QW_F_DEPTH_IMB_1], (1.0 - 3) / 4, 1e-15);
    ASSERT_DBL_NEAR(f.x[QW_F_DEPTH_IMB_5], (5.0 - 15) / 20, 1e-15);
    ASSERT_DBL_NEAR(f.x[QW_F_TRADE_IMB], 0, 0);
    ASSERT_DBL_NEAR(f.x[QW_F_RET_1S_BPS], 0, 0);
    ASSERT_DBL_NEAR(f.x[QW_F_SINCE_TRADE_S], 3600, 0); /* no trade yet */
    ASSERT_DBL_NEAR(f.x[QW_F_SPREAD_TICKS], 1, 0);     /* best prices 100 and 101 so far: tick 1 */
    /* a buy aggression of 2 and a sell of 1; the best bid grows to 4 */
    qw_extractor_trade(x, 10 * S + S / 10, 1, D("2"));
    qw_extractor_trade(x, 10 * S + S / 5, 0, D("1"));
    ASSERT_OK(qw_book_set(b, QW_BID, D("100"), D("4")));
    ASSERT_TRUE(qw_extractor_update(x, b, 10 * S + S / 2, &f));
    /* e = qb(4) - pqb(1) [bid unchanged] - qa(3) + pqa(3) [ask unchanged] = 3; / (4 + 3) */
    ASSERT_DBL_NEAR(f.x[QW_F_OFI], 3.0 / 7, 1e-15);
    ASSERT_DBL_NEAR(f.x[QW_F_TRADE_IMB], (2.0 - 1) / 3, 1e-15);
    ASSERT_DBL_NEAR(f.x[QW_F_SINCE_TRADE_S], 0.3, 1e-12);
    ASSERT_DBL_NEAR(f.x[QW_F_RET_1S_BPS], 0, 0); /* the mid did not move */
    /* the ask drops to 100.5: the tick becomes 0.1 (the largest power of ten
     * dividing every best price seen), the spread 0.5 is 5 ticks; the mid moves */
    ASSERT_OK(qw_book_set(b, QW_ASK, D("100.5"), D("1")));
    ASSERT_TRUE(qw_extractor_update(x, b, 11 * S + S / 4, &f));
    ASSERT_DBL_NEAR(f.x[QW_F_SPREAD_TICKS], 5, 0);
    /* 1 s back from 11.25 s is 10.25 s: the mid in force then was 100.5 */
    ASSERT_DBL_NEAR(f.x[QW_F_RET_1S_BPS], log(100.25 / 100.5) * 1e4, 1e-9);
    /* the trades of 10.1 s and 10.2 s left the 1 s window: 0, not rounding residue */
    ASSERT_DBL_NEAR(f.x[QW_F_TRADE_IMB], 0, 0);
    /* the OFI event of 10.5 s is still inside (10.25 s, 11.25 s] */
    ASSERT_TRUE(f.x[QW_F_OFI] != 0);
    /* the seed extractor leaves them at 0 */
    qw_extractor *s;
    ASSERT_OK(qw_extractor_create(&s, NULL));
    ASSERT_TRUE(qw_extractor_update(s, b, 12 * S, &f));
    for (int i = QW_NFEATURES; i < QW_NFEATURES_ALL; i++)
        ASSERT_DBL_NEAR(f.x[i], 0, 0);
    qw_extractor_destroy(s);
    qw_extractor_destroy(x);
    qw_book_destroy(b);
}

TEST(featset_parse_and_format)
{
    qw_featset f;
    char buf[256];
    ASSERT_OK(qw_featset_parse("seed", &f));
    ASSERT_EQ(qw_featset_size(&f), 4);
    ASSERT_TRUE(!qw_featset_extended(&f));
    ASSERT_OK(qw_featset_parse("rich", &f));
    ASSERT_EQ(qw_featset_size(&f), QW_NFEATURES_ALL);
    qw_featset_format(&f, buf, sizeof buf);
    ASSERT_STREQ(buf, "rich");
    ASSERT_OK(qw_featset_parse("ofi+imbalance", &f));
    ASSERT_EQ(f.n, 2);
    ASSERT_TRUE(qw_featset_extended(&f));
    qw_featset_format(&f, buf, sizeof buf);
    ASSERT_STREQ(buf, "ofi+imbalance");
    double x[QW_NFEATURES_ALL], out[QW_NFEATURES_ALL];
    for (int i = 0; i < QW_NFEATURES_ALL; i++)
        x[i] = i;
    ASSERT_EQ(qw_featset_gather(&f, x, out), 2);
    ASSERT_DBL_NEAR(out[0], QW_F_OFI, 0);
    ASSERT_DBL_NEAR(out[1], QW_F_IMBALANCE, 0);
    ASSERT_OK(qw_featset_parse("spread_bps+imbalance+depth+volatility", &f));
    qw_featset_format(&f, buf, sizeof buf);
    ASSERT_STREQ(buf, "seed"); /* the same set, the same name */
    qw_featset z = {0};
    ASSERT_EQ(qw_featset_size(&z), 4);
    qw_featset_format(&z, buf, sizeof buf);
    ASSERT_STREQ(buf, "seed");
    const char *bad[] = {"", "nope", "ofi+", "+ofi", "ofi+ofi", "ofi++depth", "Seed"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_ERR(QW_INVAL, qw_featset_parse(bad[i], &f));
    ASSERT_EQ(qw_featset_of("nope").n, 0);
    ASSERT_EQ(qw_featset_of("book").n, 9);
}

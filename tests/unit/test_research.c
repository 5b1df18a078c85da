/* test_research.c: the backtest metrics (src/research/metrics.c) on
 * hand-computed cases -- ties in the ROC AUC, a single class (AUC
 * undefined), an empty set, clipping in the log-loss, the calibration bin
 * edges as numpy's linspace/searchsorted place them, and the thinned ROC
 * curve. tests/e2e/test_backtest.sh checks the same code against
 * scikit-learn on the real capture. */
#include <float.h>
#include <math.h>

#include "harness.h"
#include "research/metrics.h"

static size_t fill(qw_bt_pt *pts, const double *p, const int *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pts[i] = (qw_bt_pt){.p = p[i], .t_ns = (int64_t)i, .prod = 0, .y = (uint32_t)y[i]};
    return n;
}

TEST(metrics_ties_hand_computed)
{
    /* pairs (pos, neg): 0.4>0.1 = 1, 0.4=0.4 = 1/2, 0.8 > both = 2: 3.5 / 4 */
    double p[] = {0.8, 0.4, 0.1, 0.4};
    int y[] = {1, 0, 0, 1};
    qw_bt_pt pts[4];
    qw_bt_metrics m;
    qw_bt_score(pts, fill(pts, p, y, 4), &m);
    ASSERT_EQ(m.n, 4);
    ASSERT_EQ(m.positives, 2);
    ASSERT_DBL_NEAR(m.roc_auc, 0.875, 1e-15);
    ASSERT_DBL_NEAR(m.accuracy, 0.75, 1e-15); /* predicted [1,0,0,0] */
    ASSERT_DBL_NEAR(m.baseline_accuracy, 0.5, 1e-15);
    ASSERT_DBL_NEAR(m.positive_rate, 0.5, 1e-15);
    ASSERT_DBL_NEAR(m.brier, (0.04 + 0.16 + 0.01 + 0.36) / 4, 1e-12);
    ASSERT_DBL_NEAR(m.log_loss, -(log(0.8) + log(0.6) + log(0.9) + log(0.4)) / 4, 1e-12);
    ASSERT_DBL_NEAR(m.log_loss, 0.4389051056530454, 1e-12); /* sklearn log_loss */
    ASSERT_DBL_NEAR(m.mean_p, 0.425, 1e-15);
    /* 0.1 -> bin 0 (edges are right-closed), 0.4 -> bin 3, 0.8 -> bin 7 */
    ASSERT_EQ(m.cal_n[0], 1);
    ASSERT_EQ(m.cal_n[3], 2);
    ASSERT_EQ(m.cal_pos[3], 1);
    ASSERT_EQ(m.cal_n[7], 1);
    ASSERT_DBL_NEAR(m.cal_mean_p[3], 0.4, 1e-15);
    ASSERT_TRUE(isnan(m.cal_mean_p[5]));
    /* sorted by p afterwards, the ROC: (0,0) (0,.5) (.5,1) (1,1) */
    double fpr[8], tpr[8];
    ASSERT_EQ(qw_bt_roc(pts, 4, fpr, tpr, 8), 4);
    ASSERT_DBL_NEAR(tpr[1], 0.5, 0);
    ASSERT_DBL_NEAR(fpr[1], 0.0, 0);
    ASSERT_DBL_NEAR(fpr[2], 0.5, 0);
    ASSERT_DBL_NEAR(tpr[2], 1.0, 0);
    ASSERT_TRUE(fpr[3] == 1 && tpr[3] == 1);
}

TEST(metrics_all_tied_scores_give_half)
{
    double p[] = {0.5, 0.5, 0.5};
    int y[] = {1, 0, 1};
    qw_bt_pt pts[3];
    qw_bt_metrics m;
    qw_bt_score(pts, fill(pts, p, y, 3), &m);
    ASSERT_DBL_NEAR(m.roc_auc, 0.5, 0);
    ASSERT_DBL_NEAR(m.accuracy, 2.0 / 3, 1e-15); /* p >= 0.5 predicts 1 */
    ASSERT_DBL_NEAR(m.baseline_accuracy, 2.0 / 3, 1e-15);
    ASSERT_EQ(m.cal_n[4], 3); /* 0.5 <= 5 * 0.1 */
    double fpr[4], tpr[4];
    ASSERT_EQ(qw_bt_roc(pts, 3, fpr, tpr, 4), 2); /* one threshold: (0,0) (1,1) */
}

TEST(metrics_separation_and_reversal)
{
    double p[] = {0.9, 0.7, 0.2, 0.3};
    int y[] = {1, 1, 0, 0}, r[] = {0, 0, 1, 1};
    qw_bt_pt pts[4];
    qw_bt_metrics m;
    qw_bt_score(pts, fill(pts, p, y, 4), &m);
    ASSERT_DBL_NEAR(m.roc_auc, 1.0, 0);
    ASSERT_DBL_NEAR(m.accuracy, 1.0, 0);
    qw_bt_score(pts, fill(pts, p, r, 4), &m);
    ASSERT_DBL_NEAR(m.roc_auc, 0.0, 0);
    ASSERT_DBL_NEAR(m.accuracy, 0.0, 0);
}

TEST(metrics_single_class_auc_undefined_logloss_clipped)
{
    /* sklearn: roc_auc_score raises (null in the report); log_loss with
     * labels=[0,1] clips p to [eps, 1-eps]: -(log(1-eps) + log(eps)) / 2 */
    double p[] = {1.0, 0.0};
    int y[] = {1, 1};
    qw_bt_pt pts[2];
    qw_bt_metrics m;
    qw_bt_score(pts, fill(pts, p, y, 2), &m);
    ASSERT_TRUE(isnan(m.roc_auc));
    ASSERT_DBL_NEAR(m.log_loss, -(log(1 - DBL_EPSILON) + log(DBL_EPSILON)) / 2, 1e-15);
    ASSERT_DBL_NEAR(m.log_loss, 18.021826694558577, 1e-12); /* sklearn */
    ASSERT_DBL_NEAR(m.baseline_accuracy, 1.0, 0);
    ASSERT_DBL_NEAR(m.brier, 0.5, 0);
    double fpr[4], tpr[4];
    ASSERT_EQ(qw_bt_roc(pts, 2, fpr, tpr, 4), 0);
}

TEST(metrics_empty_is_all_undefined)
{
    qw_bt_metrics m;
    qw_bt_score(NULL, 0, &m);
    ASSERT_EQ(m.n, 0);
    ASSERT_TRUE(isnan(m.accuracy) && isnan(m.roc_auc) && isnan(m.log_loss) && isnan(m.brier));
    ASSERT_TRUE(isnan(m.positive_rate) && isnan(m.baseline_accuracy));
    ASSERT_EQ(m.cal_n[0], 0);
}

TEST(metrics_calibration_edges_as_numpy)
{
    /* numpy: searchsorted(linspace(0,1,11)[1:-1], p) */
    ASSERT_EQ(qw_bt_cal_bin(0.0), 0);
    ASSERT_EQ(qw_bt_cal_bin(0.1), 0);
    ASSERT_EQ(qw_bt_cal_bin(0.3), 2); /* 3 * 0.1 = 0.30000000000000004 > 0.3 */
    ASSERT_EQ(qw_bt_cal_bin(0.7), 6);
    ASSERT_EQ(qw_bt_cal_bin(0.70000001), 7);
    ASSERT_EQ(qw_bt_cal_bin(1.0), 9);
}

TEST(metrics_roc_thinned_to_max_points)
{
    enum { N = 1000 };
    static qw_bt_pt pts[N];
    for (size_t i = 0; i < N; i++)
        pts[i] = (qw_bt_pt){.p = (double)i / N, .y = (uint32_t)(i % 3 == 0)};
    qw_bt_metrics m;
    qw_bt_score(pts, N, &m);
    double fpr[11], tpr[11];
    size_t k = qw_bt_roc(pts, N, fpr, tpr, 11);
    ASSERT_TRUE(k >= 3 && k <= 11);
    ASSERT_TRUE(fpr[0] == 0 && tpr[0] == 0 && fpr[k - 1] == 1 && tpr[k - 1] == 1);
    for (size_t i = 1; i < k; i++)
        ASSERT_TRUE(fpr[i] >= fpr[i - 1] && tpr[i] >= tpr[i - 1]);
}

/* The radix sort keeps ties in input order (the metrics sum in sorted order,
 * so a different tie order could change them in the last bit): compared
 * with an insertion sort (stable) on keys with many ties, -0.0 next to
 * +0.0, negative times and products above one digit (2048). */
static int before(const qw_bt_pt *a, const qw_bt_pt *b, qw_bt_order by)
{
    if (by == QW_BT_BY_P)
        return a->p < b->p;
    if (by == QW_BT_BY_T)
        return a->t_ns < b->t_ns;
    return a->prod < b->prod;
}

TEST(metrics_radix_sort_is_stable_as_insertion_sort)
{
    enum { N = 3000 };
    static qw_bt_pt a[N], ref[N], tmp[N], src[N], b[N];
    uint64_t s = 12345;
    static const size_t sizes[] = {200, N}; /* the small-n path and the radix path */
    for (size_t z = 0; z < 2; z++)
        for (int by = QW_BT_BY_P; by <= QW_BT_BY_PROD; by++) {
            size_t n = sizes[z];
            for (size_t i = 0; i < n; i++) {
                s = s * 6364136223846793005u + 1442695040888963407u;
                uint32_t r = (uint32_t)(s >> 33);
                a[i] =
                    (qw_bt_pt){.p = (r % 7 == 0) ? (r & 1 ? -0.0 : 0.0) : (double)(r % 500) / 499,
                               .t_ns = (int64_t)(r % 1000) * 1000003 - 400000000,
                               .prod = r % 5000,
                               .y = (uint32_t)i}; /* y: the input position */
                ref[i] = a[i];
                src[i] = a[i];
            }
            for (size_t i = 1; i < n; i++) {
                qw_bt_pt x = ref[i];
                size_t j = i;
                while (j > 0 && before(&x, &ref[j - 1], (qw_bt_order)by)) {
                    ref[j] = ref[j - 1];
                    j--;
                }
                ref[j] = x;
            }
            qw_bt_sort(a, n, tmp, (qw_bt_order)by);
            qw_bt_sort_from(src, n, b, tmp, (qw_bt_order)by); /* src unchanged */
            for (size_t i = 0; i < n; i++) {
                ASSERT_EQ(a[i].y, ref[i].y);
                ASSERT_EQ(b[i].y, ref[i].y);
                ASSERT_EQ(src[i].y, (uint32_t)i);
            }
        }
}

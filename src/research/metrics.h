/* metrics.h: scoring of probabilistic predictions of a binary label -- the
 * numbers of `quotewatch backtest` (docs/BACKTEST.md), defined as
 * scikit-learn 1.2 computes them so tests/ref/backtest_check.py can
 * recompute every one:
 *   accuracy          predicted class = p >= 0.5 (the model's rolling rule)
 *   baseline_accuracy max(positive_rate, 1 - positive_rate): the majority
 *                     class of the same samples, known in hindsight
 *   roc_auc           roc_auc_score: Mann-Whitney U / (n1 n0), ties count
 *                     1/2 (the trapezoid over tied scores); NaN with one class
 *   log_loss          log_loss(labels=[0,1]): p clipped to [eps, 1 - eps],
 *                     eps = DBL_EPSILON
 *   brier             brier_score_loss: mean (p - y)^2
 *   calibration       calibration_curve(n_bins=10, strategy="uniform"):
 *                     bin k holds k/10 < p <= (k+1)/10 (bin 0 includes 0),
 *                     edges computed as numpy's linspace does (k * 0.1)
 * Pure computation, no allocation, no I/O.
 */
#ifndef QW_RESEARCH_METRICS_H
#define QW_RESEARCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define QW_BT_CAL_BINS 10

/* One scored prediction (24 bytes): probability, feed time of the sample,
 * product index, label. */
typedef struct qw_bt_pt {
    double p;
    int64_t t_ns;
    uint32_t prod;
    uint32_t y; /* 0 or 1 */
} qw_bt_pt;

typedef struct qw_bt_metrics {
    uint64_t n, positives;
    double positive_rate, baseline_accuracy, accuracy;
    double roc_auc; /* NaN when only one class is present (sklearn raises) */
    double log_loss, brier, mean_p;
    uint64_t cal_n[QW_BT_CAL_BINS], cal_pos[QW_BT_CAL_BINS];
    double cal_mean_p[QW_BT_CAL_BINS]; /* NaN for an empty bin */
} qw_bt_metrics;

/* Scores pts[0..n). Sorts pts by p (ascending; ties keep no order). Every
 * rate is NaN when n == 0. */
void qw_bt_score(qw_bt_pt *pts, size_t n, qw_bt_metrics *out);
/* The same with a caller's scratch of n points (no allocation). */
void qw_bt_score_tmp(qw_bt_pt *pts, size_t n, qw_bt_pt *tmp, qw_bt_metrics *out);
/* The same on points already sorted by p (stably, as qw_bt_sort does). */
void qw_bt_score_sorted(const qw_bt_pt *pts, size_t n, qw_bt_metrics *out);

typedef enum { QW_BT_BY_P, QW_BT_BY_T, QW_BT_BY_PROD } qw_bt_order;
/* Stable sort of a by p, t_ns or prod, with a scratch tmp of n points. */
void qw_bt_sort(qw_bt_pt *a, size_t n, qw_bt_pt *tmp, qw_bt_order by);
/* The same from src (left unchanged) into a: what copying src to a, then
 * qw_bt_sort, gives, without the copy (src may also be a). */
void qw_bt_sort_from(const qw_bt_pt *src, size_t n, qw_bt_pt *a, qw_bt_pt *tmp, qw_bt_order by);

/* The ROC curve of pts sorted by qw_bt_score: the points (fpr, tpr) at
 * every distinct threshold from the highest p down, thinned evenly to at
 * most max_pts (>= 2) points including (0, 0) and (1, 1). Returns the
 * count; 0 when a class is missing. */
size_t qw_bt_roc(const qw_bt_pt *sorted, size_t n, double *fpr, double *tpr, size_t max_pts);

/* Calibration bin of p (0..QW_BT_CAL_BINS-1). */
int qw_bt_cal_bin(double p);

#endif

/* metrics.c: accuracy, ROC AUC (exact, ties averaged), log-loss, Brier and
 * calibration of a set of predictions (metrics.h). One sort by p, then one
 * pass: AUC walks groups of tied scores counting negatives below.
 *
 * Sorting is a stable LSD radix sort (11-bit digits, passes where every key
 * has the same digit skipped; insertion sort up to 256 points, where the
 * 96 KiB of digit counts would cost more than the sort): the sums run in sorted order, so ties must
 * keep their input order for the metrics to stay the same bit for bit, and
 * the comparison sort it replaces (glibc's merge sort) was stable too; it
 * was most of a backtest's metrics time. */
#include "research/metrics.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* An unsigned key ordered as the field: doubles by the IEEE bits (sign
 * folded; -0 = +0), times with the sign bit flipped. */
static uint64_t key_of(const qw_bt_pt *x, qw_bt_order by)
{
    if (by == QW_BT_BY_P) {
        double p = x->p == 0 ? 0.0 : x->p;
        uint64_t u;
        memcpy(&u, &p, sizeof u);
        return u >> 63 ? ~u : u | (uint64_t)1 << 63;
    }
    if (by == QW_BT_BY_T)
        return (uint64_t)x->t_ns ^ (uint64_t)1 << 63;
    return x->prod;
}

void qw_bt_sort_from(const qw_bt_pt *src, size_t n, qw_bt_pt *a, qw_bt_pt *tmp, qw_bt_order by)
{
    enum { BITS = 11, NB = 1 << BITS, PASSES = 6 };
    static size_t cnt[PASSES][NB]; /* one thread (backtest.h) */
    if (n <= 256) {                /* small (a window, a product): insertion sort, stable too */
        if (src != a && n)
            memcpy(a, src, n * sizeof *a);
        for (size_t i = 1; i < n; i++) {
            qw_bt_pt x = a[i];
            uint64_t k = key_of(&x, by);
            size_t j = i;
            while (j > 0 && k < key_of(&a[j - 1], by)) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(&src[i], by);
        for (int d = 0; d < PASSES; d++)
            cnt[d][(k >> (d * BITS)) & (NB - 1)]++;
    }
    uint64_t k0 = key_of(&src[0], by);
    int pass[PASSES], np = 0;
    for (int d = 0; d < PASSES; d++)
        if (cnt[d][(k0 >> (d * BITS)) & (NB - 1)] != n) /* else every key has this digit */
            pass[np++] = d;
    /* From a separate src, the first pass goes to a or tmp so that the last
     * lands in a; sorting in place (src == a) starts into tmp. */
    qw_bt_pt *dst = src == a || np % 2 == 0 ? tmp : a;
    const qw_bt_pt *from = src;
    for (int q = 0; q < np; q++) {
        int d = pass[q];
        size_t sum = 0;
        for (size_t b = 0; b < NB; b++) {
            size_t c = cnt[d][b];
            cnt[d][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[d][(key_of(&from[i], by) >> (d * BITS)) & (NB - 1)]++] = from[i];
        from = dst;
        dst = dst == a ? tmp : a;
    }
    if (from != a)
        memcpy(a, from, n * sizeof *a);
}

void qw_bt_sort(qw_bt_pt *a, size_t n, qw_bt_pt *tmp, qw_bt_order by)
{
    qw_bt_sort_from(a, n, a, tmp, by);
}

static int by_p(const void *a, const void *b)
{
    double x = ((const qw_bt_pt *)a)->p, y = ((const qw_bt_pt *)b)->p;
    return (x > y) - (x < y);
}

int qw_bt_cal_bin(double p)
{
    /* numpy: bins = linspace(0, 1, 11); searchsorted(bins[1:-1], p) = the
     * number of inner edges strictly below p */
    int k = 0;
    while (k < QW_BT_CAL_BINS - 1 && (double)(k + 1) * 0.1 < p)
        k++;
    return k;
}

void qw_bt_score(qw_bt_pt *pts, size_t n, qw_bt_metrics *out)
{
    qw_bt_pt *tmp = n > 1 ? qw_malloc(n * sizeof *tmp) : NULL;
    if (tmp)
        qw_bt_sort(pts, n, tmp, QW_BT_BY_P);
    else if (n > 1)
        qsort(pts, n, sizeof *pts, by_p); /* stable as well (glibc merge sort) */
    qw_free(tmp);
    qw_bt_score_sorted(pts, n, out);
}

void qw_bt_score_tmp(qw_bt_pt *pts, size_t n, qw_bt_pt *tmp, qw_bt_metrics *out)
{
    qw_bt_sort(pts, n, tmp, QW_BT_BY_P);
    qw_bt_score_sorted(pts, n, out);
}

void qw_bt_score_sorted(const qw_bt_pt *pts, size_t n, qw_bt_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    for (int k = 0; k < QW_BT_CAL_BINS; k++)
        out->cal_mean_p[k] = NAN;
    if (n == 0) {
        out->positive_rate = out->baseline_accuracy = out->accuracy = NAN;
        out->roc_auc = out->log_loss = out->brier = out->mean_p = NAN;
        return;
    }
    double cal_sum[QW_BT_CAL_BINS] = {0};
    double ll = 0, br = 0, sp = 0;
    uint64_t correct = 0, pos = 0;
    for (size_t i = 0; i < n; i++) {
        double p = pts[i].p;
        int y = pts[i].y != 0;
        pos += (uint64_t)y;
        correct += (uint64_t)((p >= 0.5) == y);
        double c = p < DBL_EPSILON ? DBL_EPSILON : (p > 1 - DBL_EPSILON ? 1 - DBL_EPSILON : p);
        ll -= y ? log(c) : log(1 - c);
        br += (p - y) * (p - y);
        sp += p;
        int k = qw_bt_cal_bin(p);
        out->cal_n[k]++;
        out->cal_pos[k] += (uint64_t)y;
        cal_sum[k] += p;
    }
    out->positives = pos;
    out->positive_rate = (double)pos / (double)n;
    out->baseline_accuracy =
        out->positive_rate > 0.5 ? out->positive_rate : 1.0 - out->positive_rate;
    out->accuracy = (double)correct / (double)n;
    out->log_loss = ll / (double)n;
    out->brier = br / (double)n;
    out->mean_p = sp / (double)n;
    for (int k = 0; k < QW_BT_CAL_BINS; k++)
        if (out->cal_n[k])
            out->cal_mean_p[k] = cal_sum[k] / (double)out->cal_n[k];
    uint64_t neg = n - pos;
    if (pos == 0 || neg == 0) {
        out->roc_auc = NAN;
        return;
    }
    /* 2U = sum over tie groups of 2 * g1 * (negatives below) + g1 * g0 */
    uint64_t u2 = 0, neg_below = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t g0 = 0, g1 = 0;
        while (j < n && pts[j].p == pts[i].p) {
            if (pts[j].y)
                g1++;
            else
                g0++;
            j++;
        }
        u2 += 2 * g1 * neg_below + g1 * g0;
        neg_below += g0;
        i = j;
    }
    out->roc_auc = (double)u2 / (2.0 * (double)pos * (double)neg);
}

size_t qw_bt_roc(const qw_bt_pt *pts, size_t n, double *fpr, double *tpr, size_t max_pts)
{
    uint64_t pos = 0, distinct = 0;
    for (size_t i = 0; i < n; i++) {
        pos += pts[i].y != 0;
        distinct += i == 0 || pts[i].p != pts[i - 1].p;
    }
    uint64_t neg = n - pos;
    if (!pos || !neg || max_pts < 2)
        return 0;
    size_t k = 0;
    fpr[k] = tpr[k] = 0;
    k++;
    uint64_t tp = 0, fp = 0, d = 0, inner = max_pts - 2;
    uint64_t last_slot = 0;
    for (size_t i = n; i > 0;) { /* highest p first, one step per tie group */
        size_t j = i;
        while (j > 0 && pts[j - 1].p == pts[i - 1].p) {
            if (pts[j - 1].y)
                tp++;
            else
                fp++;
            j--;
        }
        i = j;
        d++;
        if (d == distinct)
            break;
        uint64_t slot = distinct > 1 ? d * inner / (distinct - 1) : 0;
        if (slot > last_slot && k < max_pts - 1) {
            fpr[k] = (double)fp / (double)neg;
            tpr[k] = (double)tp / (double)pos;
            k++;
            last_slot = slot;
        }
    }
    fpr[k] = tpr[k] = 1;
    return k + 1;
}

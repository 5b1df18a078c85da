/* modelstats.c: the dashboard's view of model quality over the last
 * QW_DASH_MSTAT_WIN labeled predictions of a product (docs/DASHBOARD.md
 * "Model quality"): accuracy at p >= 0.5 next to the majority-class
 * baseline, ROC AUC, and calibration by decile of p.
 *
 * Bounded and incremental: a ring of (p bin, label) pairs and per-bin
 * counts of positives and negatives, updated on each labeled sample (add
 * the new pair, remove the evicted one). A view walks the bins: O(bins),
 * independent of the window. p is kept to 1/QW_DASH_MSTAT_BINS, so AUC
 * counts pairs in one bin as ties (half) and the decile means are bin
 * centres; both within 0.005 of the exact values. Owner thread. */
#include <math.h>
#include <string.h>

#include "dashboard/dash_int.h"

_Static_assert(QW_DASH_MSTAT_BINS % 10 == 0 && QW_DASH_MSTAT_BINS <= 256, "bins: deciles, uint8");

void qw__dash_mstat_add(dash_mstat *m, double p, int label)
{
    if (!isfinite(p))
        return; /* no prediction was made (model warming up) */
    int b = (int)(p * QW_DASH_MSTAT_BINS);
    b = b < 0 ? 0 : b >= QW_DASH_MSTAT_BINS ? QW_DASH_MSTAT_BINS - 1 : b;
    if (m->n == QW_DASH_MSTAT_WIN) { /* evict the oldest (it sits at head) */
        uint8_t ob = m->bin[m->head];
        if (m->lab[m->head])
            m->pos[ob]--;
        else
            m->neg[ob]--;
    } else {
        m->n++;
    }
    m->bin[m->head] = (uint8_t)b;
    m->lab[m->head] = label ? 1 : 0;
    if (label)
        m->pos[b]++;
    else
        m->neg[b]++;
    m->head = (m->head + 1) % QW_DASH_MSTAT_WIN;
}

void qw__dash_mstat_view(const dash_mstat *m, dash_mstat_view *v)
{
    memset(v, 0, sizeof *v);
    v->n = m->n;
    v->accuracy = v->baseline = v->auc = NAN;
    uint64_t P = 0, N = 0, correct = 0;
    const int half = QW_DASH_MSTAT_BINS / 2; /* bin >= half  <=>  p >= 0.5 */
    double sum_p[10] = {0};
    for (int b = 0; b < QW_DASH_MSTAT_BINS; b++) {
        P += m->pos[b];
        N += m->neg[b];
        correct += b >= half ? m->pos[b] : m->neg[b];
        int k = b / (QW_DASH_MSTAT_BINS / 10);
        v->dec_n[k] += m->pos[b] + m->neg[b];
        v->dec_pos[k] += m->pos[b];
        sum_p[k] += (m->pos[b] + m->neg[b]) * ((b + 0.5) / QW_DASH_MSTAT_BINS);
    }
    for (int k = 0; k < 10; k++)
        v->dec_mean_p[k] = v->dec_n[k] ? sum_p[k] / v->dec_n[k] : NAN;
    if (P + N) {
        v->accuracy = (double)correct / (double)(P + N);
        v->baseline = (double)(P > N ? P : N) / (double)(P + N);
    }
    if (P && N) { /* Mann-Whitney: P(p of a positive > p of a negative), ties half */
        double wins = 0;
        uint64_t neg_below = 0;
        for (int b = 0; b < QW_DASH_MSTAT_BINS; b++) {
            wins += (double)m->pos[b] * ((double)neg_below + 0.5 * m->neg[b]);
            neg_below += m->neg[b];
        }
        v->auc = wins / ((double)P * (double)N);
    }
}

void qw__dash_mstat_json(const dash_mstat *m, qw_dbuf *d)
{
    dash_mstat_view v;
    qw__dash_mstat_view(m, &v);
    qw__dbuf_printf(d, "{\"window\":%d,\"n\":%zu,\"accuracy\":", QW_DASH_MSTAT_WIN, v.n);
    qw__dbuf_num(d, v.accuracy);
    qw__dbuf_put(d, ",\"baseline\":", 12);
    qw__dbuf_num(d, v.baseline);
    qw__dbuf_put(d, ",\"auc\":", 7);
    qw__dbuf_num(d, v.auc);
    qw__dbuf_put(d, ",\"calibration\":[", 16);
    for (int k = 0; k < 10; k++) {
        qw__dbuf_printf(d, "%s{\"n\":%u,\"moved\":%u,\"mean_p\":", k ? "," : "", v.dec_n[k],
                        v.dec_pos[k]);
        qw__dbuf_num(d, v.dec_mean_p[k]);
        qw__dbuf_put(d, "}", 1);
    }
    qw__dbuf_put(d, "]}", 2);
}

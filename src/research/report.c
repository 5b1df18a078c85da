/* report.c: the backtest reports -- JSON (jansson; schema in
 * docs/BACKTEST.md) and a self-contained HTML page whose charts are inline
 * SVG drawn here (calibration curve, ROC curve, accuracy vs the majority
 * baseline per time window). The page has no script and references no URL,
 * so it opens from disk offline. Cold path: once per run. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file.h"
#include "core/time.h"
#include "research/backtest.h"

/* ---- JSON ---- */

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *metrics_json(const qw_bt_metrics *m, int calibration)
{
    json_t *o = json_object();
    json_object_set_new(o, "samples", json_integer((json_int_t)m->n));
    json_object_set_new(o, "positives", json_integer((json_int_t)m->positives));
    json_object_set_new(o, "positive_rate", num(m->positive_rate));
    json_object_set_new(o, "baseline_accuracy", num(m->baseline_accuracy));
    json_object_set_new(o, "accuracy", num(m->accuracy));
    json_object_set_new(o, "roc_auc", num(m->roc_auc));
    json_object_set_new(o, "log_loss", num(m->log_loss));
    json_object_set_new(o, "brier", num(m->brier));
    json_object_set_new(o, "mean_p", num(m->mean_p));
    if (!calibration)
        return o;
    json_t *cal = json_array();
    for (int k = 0; k < QW_BT_CAL_BINS; k++) {
        json_t *b = json_object();
        json_object_set_new(b, "lo", json_real(k * 0.1));
        json_object_set_new(b, "hi", json_real(k == QW_BT_CAL_BINS - 1 ? 1.0 : (k + 1) * 0.1));
        json_object_set_new(b, "count", json_integer((json_int_t)m->cal_n[k]));
        json_object_set_new(b, "positives", json_integer((json_int_t)m->cal_pos[k]));
        json_object_set_new(b, "mean_p", num(m->cal_mean_p[k]));
        json_object_set_new(b, "rate",
                            m->cal_n[k] ? json_real((double)m->cal_pos[k] / (double)m->cal_n[k])
                                        : json_null());
        json_array_append_new(cal, b);
    }
    json_object_set_new(o, "calibration", cal);
    return o;
}

static json_t *result_json(const qw_bt_result *r, size_t i)
{
    char id[320], ts[QW_TIME_STR_MAX], fs[192];
    qw_bt_config_id(&r->cfg, id, sizeof id);
    qw_featset_format(&r->cfg.features, fs, sizeof fs);
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)i));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "horizon_ms", json_real((double)r->cfg.horizon_ns / 1e6));
    json_object_set_new(o, "threshold", json_real(r->cfg.tau));
    json_object_set_new(o, "alpha", json_real(r->cfg.alpha));
    json_object_set_new(o, "features", json_string(fs));
    json_t *names = json_array();
    for (size_t k = 0; k < qw_featset_size(&r->cfg.features); k++)
        json_array_append_new(names, json_string(qw_featset_name(&r->cfg.features, k)));
    json_object_set_new(o, "feature_names", names);
    json_object_set_new(o, "seed",
                        json_boolean(r->cfg.horizon_ns == 500 * QW_NS_PER_MS &&
                                     r->cfg.tau == 1e-4 && r->cfg.alpha == 1e-4 &&
                                     strcmp(fs, "seed") == 0));
    json_object_set_new(o, "labeled", json_integer((json_int_t)r->labeled));
    json_object_set_new(o, "scored", json_integer((json_int_t)r->scored));
    json_object_set_new(o, "dropped", json_integer((json_int_t)r->dropped));
    json_object_set_new(o, "pooled", metrics_json(&r->pooled, 1));
    json_t *prods = json_object();
    for (size_t k = 0; k < r->nproducts; k++)
        json_object_set_new(prods, r->product_names[k], metrics_json(&r->products[k], 1));
    json_object_set_new(o, "products", prods);
    json_t *wins = json_array();
    for (size_t k = 0; k < r->nwindows; k++) {
        json_t *w = metrics_json(&r->windows[k].m, 0);
        qw_time_format(r->windows[k].start_ns, ts);
        json_object_set_new(w, "start_ns", json_integer((json_int_t)r->windows[k].start_ns));
        json_object_set_new(w, "start", json_string(ts));
        json_array_append_new(wins, w);
    }
    json_object_set_new(o, "windows", wins);
    json_t *roc = json_array();
    for (size_t k = 0; k < r->nroc; k++)
        json_array_append_new(roc, json_pack("[ff]", r->roc_fpr[k], r->roc_tpr[k]));
    json_object_set_new(o, "roc", roc);
    return o;
}

qw_err qw_backtest_write_json(const qw_backtest *bt, const char *path, char *errbuf, size_t errlen)
{
    const qw_bt_input *in = qw_backtest_input(bt);
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "window_s", json_real((double)qw_backtest_window_ns(bt) / 1e9));
    json_t *ij = json_object();
    json_object_set_new(ij, "messages", json_integer((json_int_t)in->messages));
    json_object_set_new(ij, "rejected", json_integer((json_int_t)in->rejected));
    json_object_set_new(ij, "bytes", json_integer((json_int_t)in->bytes));
    json_object_set_new(ij, "connects", json_integer((json_int_t)in->connects));
    json_object_set_new(ij, "input_errors", json_integer((json_int_t)in->input_errors));
    json_object_set_new(o, "input", ij);
    json_t *mem = json_object();
    json_object_set_new(mem, "bytes_per_prediction", json_integer((json_int_t)sizeof(qw_bt_pt)));
    json_object_set_new(mem, "prediction_bytes", json_integer((json_int_t)qw_backtest_memory(bt)));
    json_object_set_new(o, "memory", mem);
    json_t *cfgs = json_array();
    for (size_t i = 0; i < qw_backtest_nconfigs(bt); i++)
        json_array_append_new(cfgs, result_json(qw_backtest_result(bt, i), i));
    json_object_set_new(o, "configs", cfgs);
    char *s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!s) {
        snprintf(errbuf, errlen, "out of memory");
        return QW_NOMEM;
    }
    qw_err e = qw_file_write_atomic(path, s, strlen(s), errbuf, errlen);
    free(s);
    return e;
}

/* ---- HTML ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        if (b->oom)
            return;
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 65536;
        while (ncap < b->n + (size_t)k + 1)
            ncap *= 2;
        char *np = qw_realloc(b->p, ncap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

static void put_esc(sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '&': put(b, "&amp;"); break;
        case '"': put(b, "&quot;"); break;
        default: put(b, "%c", *s);
        }
    }
}

static void put_num(sbuf *b, double v)
{
    if (isfinite(v))
        put(b, "%.4f", v);
    else
        put(b, "&ndash;");
}

#define W 320.0
#define H 240.0
#define PADL 40.0
#define PADB 30.0

/* Chart frame mapping [x0,x1] x [y0,y1] onto the plot area. */
typedef struct frame {
    double x0, x1, y0, y1;
} frame;

static double fx(const frame *f, double x)
{
    return PADL + (x - f->x0) / (f->x1 - f->x0) * (W - PADL - 10);
}

static double fy(const frame *f, double y)
{
    return (H - PADB) - (y - f->y0) / (f->y1 - f->y0) * (H - PADB - 10);
}

static void svg_open(sbuf *b, const frame *f, const char *title, const char *xl, const char *yl)
{
    put(b, "<figure><svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">", W,
        H, W, H);
    put(b, "<rect x=\"%.1f\" y=\"10\" width=\"%.1f\" height=\"%.1f\" class=\"plot\"/>", PADL,
        W - PADL - 10, H - PADB - 10);
    for (int i = 0; i <= 4; i++) {
        double x = f->x0 + (f->x1 - f->x0) * i / 4, y = f->y0 + (f->y1 - f->y0) * i / 4;
        put(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%.3g</text>",
            fx(f, x), H - PADB + 12, x);
        put(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%.3g</text>",
            PADL - 3, fy(f, y) + 3, y);
    }
    put(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"lab\" text-anchor=\"middle\">%s</text>",
        PADL + (W - PADL) / 2, H - 4, xl);
    put(b,
        "<text x=\"10\" y=\"%.1f\" class=\"lab\" text-anchor=\"middle\" "
        "transform=\"rotate(-90 10 %.1f)\">%s</text>",
        (H - PADB) / 2, (H - PADB) / 2, yl);
    (void)title;
}

static void svg_close(sbuf *b, const char *caption)
{
    put(b, "</svg><figcaption>%s</figcaption></figure>\n", caption);
}

static void chart_calibration(sbuf *b, const qw_bt_metrics *m)
{
    frame f = {0, 1, 0, 1};
    svg_open(b, &f, "calibration", "mean predicted p", "realized rate");
    put(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"diag\"/>", fx(&f, 0),
        fy(&f, 0), fx(&f, 1), fy(&f, 1));
    put(b, "<polyline class=\"s1\" points=\"");
    for (int k = 0; k < QW_BT_CAL_BINS; k++)
        if (m->cal_n[k])
            put(b, "%.1f,%.1f ", fx(&f, m->cal_mean_p[k]),
                fy(&f, (double)m->cal_pos[k] / (double)m->cal_n[k]));
    put(b, "\"/>");
    for (int k = 0; k < QW_BT_CAL_BINS; k++)
        if (m->cal_n[k])
            put(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"p1\"/>",
                fx(&f, m->cal_mean_p[k]), fy(&f, (double)m->cal_pos[k] / (double)m->cal_n[k]));
    svg_close(b, "Calibration by decile of p (diagonal = perfectly calibrated)");
}

static void chart_roc(sbuf *b, const qw_bt_result *r)
{
    frame f = {0, 1, 0, 1};
    svg_open(b, &f, "roc", "false positive rate", "true positive rate");
    put(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"diag\"/>", fx(&f, 0),
        fy(&f, 0), fx(&f, 1), fy(&f, 1));
    put(b, "<polyline class=\"s1\" points=\"");
    for (size_t k = 0; k < r->nroc; k++)
        put(b, "%.1f,%.1f ", fx(&f, r->roc_fpr[k]), fy(&f, r->roc_tpr[k]));
    put(b, "\"/>");
    svg_close(b, "ROC curve (pooled); diagonal = chance");
}

static void chart_windows(sbuf *b, const qw_bt_result *r)
{
    double lo = 1, hi = 0;
    for (size_t k = 0; k < r->nwindows; k++) {
        const qw_bt_metrics *m = &r->windows[k].m;
        double v[2] = {m->accuracy, m->baseline_accuracy};
        for (int j = 0; j < 2; j++)
            if (isfinite(v[j])) {
                lo = v[j] < lo ? v[j] : lo;
                hi = v[j] > hi ? v[j] : hi;
            }
    }
    if (!(hi > lo)) {
        lo = 0;
        hi = 1;
    }
    double pad = (hi - lo) * 0.1;
    frame f = {0, r->nwindows > 1 ? (double)(r->nwindows - 1) : 1, lo - pad, hi + pad};
    svg_open(b, &f, "windows", "time window #", "accuracy");
    const char *cls[2] = {"s1", "s2"};
    for (int j = 0; j < 2; j++) {
        put(b, "<polyline class=\"%s\" points=\"", cls[j]);
        for (size_t k = 0; k < r->nwindows; k++) {
            const qw_bt_metrics *m = &r->windows[k].m;
            double v = j ? m->baseline_accuracy : m->accuracy;
            if (isfinite(v))
                put(b, "%.1f,%.1f ", fx(&f, (double)k), fy(&f, v));
        }
        put(b, "\"/>");
    }
    svg_close(b, "Accuracy (blue) vs majority-class baseline (orange) per time window");
}

static void metrics_row(sbuf *b, const char *name, const qw_bt_metrics *m)
{
    put(b, "<tr><td>");
    put_esc(b, name);
    put(b, "</td><td>%llu</td><td>", (unsigned long long)m->n);
    put_num(b, m->positive_rate);
    put(b, "</td><td>");
    put_num(b, m->baseline_accuracy);
    put(b, "</td><td>");
    put_num(b, m->accuracy);
    put(b, "</td><td>");
    put_num(b, m->roc_auc);
    put(b, "</td><td>");
    put_num(b, m->log_loss);
    put(b, "</td><td>");
    put_num(b, m->brier);
    put(b, "</td></tr>\n");
}

static const char *const metrics_head =
    "<tr><th></th><th>samples</th><th>positive rate</th><th>baseline acc.</th><th>accuracy</th>"
    "<th>ROC AUC</th><th>log-loss</th><th>Brier</th></tr>\n";

static void section(sbuf *b, const qw_bt_result *r, size_t i)
{
    char id[320], fs[192];
    qw_bt_config_id(&r->cfg, id, sizeof id);
    qw_featset_format(&r->cfg.features, fs, sizeof fs);
    put(b, "<section id=\"c%zu\"><h2>Configuration %zu: ", i, i);
    put_esc(b, id);
    put(b, "</h2><p>horizon %g ms, threshold %g, alpha %g, features ",
        (double)r->cfg.horizon_ns / 1e6, r->cfg.tau, r->cfg.alpha);
    put_esc(b, fs);
    put(b, "; %llu labeled, %llu scored", (unsigned long long)r->labeled,
        (unsigned long long)r->scored);
    if (r->dropped)
        put(b, ", <b>%llu not stored (cap)</b>", (unsigned long long)r->dropped);
    put(b, "</p>\n<table>%s", metrics_head);
    metrics_row(b, "pooled", &r->pooled);
    for (size_t k = 0; k < r->nproducts; k++)
        metrics_row(b, r->product_names[k], &r->products[k]);
    put(b, "</table>\n<div class=\"charts\">");
    chart_calibration(b, &r->pooled);
    chart_roc(b, r);
    chart_windows(b, r);
    put(b, "</div>\n<h3>Calibration (pooled)</h3><table><tr><th>p bin</th><th>count</th>"
           "<th>mean p</th><th>realized rate</th></tr>\n");
    for (int k = 0; k < QW_BT_CAL_BINS; k++) {
        const qw_bt_metrics *m = &r->pooled;
        put(b, "<tr><td>%.1f&ndash;%.1f</td><td>%llu</td><td>", k * 0.1, (k + 1) * 0.1,
            (unsigned long long)m->cal_n[k]);
        put_num(b, m->cal_mean_p[k]);
        put(b, "</td><td>");
        put_num(b, m->cal_n[k] ? (double)m->cal_pos[k] / (double)m->cal_n[k] : NAN);
        put(b, "</td></tr>\n");
    }
    put(b, "</table>\n</section>\n");
}

qw_err qw_backtest_write_html(const qw_backtest *bt, const char *path, char *errbuf, size_t errlen)
{
    sbuf b = {0};
    const qw_bt_input *in = qw_backtest_input(bt);
    put(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>QuoteWatch backtest</title><style>"
            "body{font:14px sans-serif;margin:2em;color:#222}"
            "table{border-collapse:collapse;margin:.5em 0}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
            "td:first-child{text-align:left}"
            ".charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}"
            ".plot{fill:#fafafa;stroke:#999}.diag{stroke:#bbb;stroke-dasharray:4 3}"
            ".s1{fill:none;stroke:#1f77b4;stroke-width:1.5}"
            ".s2{fill:none;stroke:#ff7f0e;stroke-width:1.5}.p1{fill:#1f77b4}"
            ".tick{font-size:10px;fill:#555}.lab{font-size:11px;fill:#333}"
            "</style></head><body>\n<h1>QuoteWatch backtest</h1>\n");
    put(&b,
        "<p>%llu messages (%llu rejected), %.1f MB; time windows of %g s; "
        "prequential: each prediction is scored against its label, then learned.</p>\n<ul>",
        (unsigned long long)in->messages, (unsigned long long)in->rejected, (double)in->bytes / 1e6,
        (double)qw_backtest_window_ns(bt) / 1e9);
    for (size_t i = 0; i < qw_backtest_nconfigs(bt); i++) {
        char id[320];
        qw_bt_config_id(&qw_backtest_result(bt, i)->cfg, id, sizeof id);
        put(&b, "<li><a href=\"#c%zu\">", i);
        put_esc(&b, id);
        put(&b, "</a></li>");
    }
    put(&b, "</ul>\n");
    for (size_t i = 0; i < qw_backtest_nconfigs(bt); i++)
        section(&b, qw_backtest_result(bt, i), i);
    put(&b, "</body></html>\n");
    qw_err e = QW_OK;
    if (b.oom) {
        snprintf(errbuf, errlen, "out of memory");
        e = QW_NOMEM;
    } else {
        e = qw_file_write_atomic(path, b.p, b.n, errbuf, errlen);
    }
    qw_free(b.p);
    return e;
}

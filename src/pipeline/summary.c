/* summary.c: build the summary JSON with jansson (a cold path: once per
 * run). Prices and sizes are exact decimal strings from qw_dec_format. */
#include "pipeline/summary.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dec.h"
#include "core/file.h"

static json_t *levels_json(const qw_book *b, qw_side side)
{
    qw_level top[10];
    size_t n = qw_book_top(b, side, top, 10);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char px[QW_DEC_STR_MAX], sz[QW_SZ_STR_MAX];
        qw_dec_format(top[i].px, px);
        qw_sz_format(top[i].sz, sz);
        json_array_append_new(arr, json_pack("[ss]", px, sz));
    }
    return arr;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *darray(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, num_or_null(v[i]));
    return a;
}

static json_t *model_json(const qw_chain *c, const qw_featset *fs)
{
    qw_classifier_stats cs;
    qw_classifier_stats_get(c->clf, &cs);
    const qw_scaler *sc = qw_classifier_scaler(c->clf);
    const qw_sgd *sg = qw_classifier_sgd(c->clf);
    size_t nf = qw_classifier_n_features(c->clf);
    const qw_labeler_stats *ls = qw_labeler_get_stats(c->lab);
    json_t *o = json_object();
    json_object_set_new(o, "labeled", json_integer((json_int_t)cs.labeled));
    json_object_set_new(o, "positives", json_integer((json_int_t)cs.positives));
    json_object_set_new(o, "predictions", json_integer((json_int_t)c->predictions));
    json_object_set_new(o, "ready", json_boolean(cs.ready));
    json_object_set_new(o, "rolling_accuracy", num_or_null(cs.rolling_accuracy));
    json_object_set_new(o, "base_rate", num_or_null(cs.base_rate_window));
    json_object_set_new(o, "base_rate_all", num_or_null(cs.base_rate_all));
    json_object_set_new(o, "class_counts",
                        json_pack("[II]", (json_int_t)cs.n_class[0], (json_int_t)cs.n_class[1]));
    json_t *names = json_array();
    for (size_t i = 0; i < qw_featset_size(fs); i++)
        json_array_append_new(names, json_string(qw_featset_name(fs, i)));
    json_object_set_new(o, "features", names);
    json_object_set_new(o, "coef", darray(qw_sgd_coef(sg), nf));
    json_object_set_new(o, "intercept", num_or_null(qw_sgd_intercept(sg)));
    json_object_set_new(o, "scaler_mean", darray(qw_scaler_mean(sc), nf));
    json_object_set_new(o, "scaler_var", darray(qw_scaler_var(sc), nf));
    json_object_set_new(o, "last_p", num_or_null(c->p));
    json_object_set_new(o, "last_stability", num_or_null(c->stability));
    json_object_set_new(o, "pending", json_integer((json_int_t)qw_labeler_pending(c->lab)));
    json_object_set_new(o, "dropped", json_integer((json_int_t)ls->dropped));
    json_object_set_new(o, "overflow", json_integer((json_int_t)ls->overflow));
    return o;
}

static json_t *chain_json(const qw_chain *c, const qw_featset *fs)
{
    const qw_chain_stats *s = &c->st;
    json_t *o = json_object();
    json_object_set_new(o, "book_updates", json_integer((json_int_t)s->book_updates));
    json_object_set_new(o, "trades", json_integer((json_int_t)s->trades));
    json_object_set_new(o, "snapshots", json_integer((json_int_t)s->snapshots));
    json_object_set_new(o, "resyncs", json_integer((json_int_t)s->resyncs));
    json_object_set_new(o, "gaps", json_integer((json_int_t)s->gaps));
    json_object_set_new(o, "crossed", json_integer((json_int_t)s->crossed));
    json_object_set_new(o, "rejected", json_integer((json_int_t)s->rejected));
    json_object_set_new(o, "changes", json_integer((json_int_t)s->changes));
    json_object_set_new(o, "heartbeats", json_integer((json_int_t)s->heartbeats));
    json_t *by = json_object();
    for (int r = 0; r < QW__RESYNC_COUNT; r++)
        json_object_set_new(by, qw_resync_reason_name((qw_resync_reason)r),
                            json_integer((json_int_t)s->resyncs_by[r]));
    json_object_set_new(o, "resyncs_by_reason", by);
    json_object_set_new(o, "valid", json_boolean(c->has_snapshot && !c->needs_resync));
    json_object_set_new(o, "bid_levels", json_integer((json_int_t)qw_book_depth(c->book, QW_BID)));
    json_object_set_new(o, "ask_levels", json_integer((json_int_t)qw_book_depth(c->book, QW_ASK)));
    char dg[24];
    snprintf(dg, sizeof dg, "%016llx", (unsigned long long)qw_book_digest(c->book));
    json_object_set_new(o, "book_digest", json_string(dg));
    json_object_set_new(o, "last_time_ns", json_integer((json_int_t)c->last_t_ns));
    json_object_set_new(o, "bids", levels_json(c->book, QW_BID));
    json_object_set_new(o, "asks", levels_json(c->book, QW_ASK));
    json_object_set_new(o, "model", model_json(c, fs));
    return o;
}

char *qw_summary_dumps(const qw_pipeline *p, const qw_summary_extra *x)
{
    const qw_pipeline_stats *st = qw_pipeline_get_stats(p);
    json_t *o = json_object();
    json_object_set_new(o, "messages", json_integer((json_int_t)st->messages));
    json_object_set_new(o, "bytes", json_integer((json_int_t)x->bytes));
    json_object_set_new(o, "rejected", json_integer((json_int_t)st->rejected));
    json_object_set_new(o, "seconds", json_real(x->seconds));
    json_t *by = json_object();
    for (int e = 1; e < QW__ERR_COUNT; e++)
        json_object_set_new(by, qw_err_name((qw_err)e),
                            json_integer((json_int_t)st->rejected_by[e]));
    json_object_set_new(o, "rejected_by_reason", by);
    json_object_set_new(o, "heartbeats", json_integer((json_int_t)st->heartbeats));
    json_object_set_new(o, "subscriptions", json_integer((json_int_t)st->subscriptions));
    json_object_set_new(o, "errors", json_integer((json_int_t)st->errors));
    json_object_set_new(o, "last_error", json_string(st->last_error));
    json_object_set_new(o, "ignored", json_integer((json_int_t)st->ignored));
    json_object_set_new(o, "unknown_types", json_integer((json_int_t)st->unknown_types));
    json_object_set_new(o, "unknown_product", json_integer((json_int_t)st->unknown_product));
    json_object_set_new(o, "gaps", json_integer((json_int_t)st->gaps));
    json_object_set_new(o, "sequence_restarts", json_integer((json_int_t)st->seq_restarts));
    json_object_set_new(o, "times_repaired", json_integer((json_int_t)st->times_repaired));
    json_object_set_new(o, "meta_lines", json_integer((json_int_t)x->meta_lines));
    json_object_set_new(o, "connects", json_integer((json_int_t)x->connects));
    json_object_set_new(o, "input_errors", json_integer((json_int_t)x->input_errors));
    json_t *prods = json_object();
    for (size_t i = 0; i < qw_pipeline_count(p); i++) {
        const qw_chain *c = qw_pipeline_chain(p, i);
        json_object_set_new(prods, c->product, chain_json(c, qw_pipeline_featset(p)));
    }
    json_object_set_new(o, "products", prods);
    if (x->extra_key && x->extra_json) {
        json_t *extra = json_loads(x->extra_json, 0, NULL);
        if (extra)
            json_object_set_new(o, x->extra_key, extra);
    }
    char *s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

qw_err qw_summary_write(const qw_pipeline *p, const qw_summary_extra *x, const char *path)
{
    char *s = qw_summary_dumps(p, x);
    if (!s)
        return QW_NOMEM;
    size_t n = strlen(s);
    qw_err e = QW_OK;
    if (strcmp(path, "-") == 0) {
        if (fwrite(s, 1, n, stdout) != n || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
            e = QW_IO;
    } else {
        e = qw_file_write_atomic(path, s, n, NULL, 0);
    }
    free(s);
    return e;
}

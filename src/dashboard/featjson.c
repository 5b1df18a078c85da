/* featjson.c: the configured feature set in the dashboard's state JSON
 * (docs/DASHBOARD.md "State JSON"): "feature_set" names the --features set
 * the model sees, each feature with its unit, and a product's "features"
 * holds that set's current values in the same order (the model's coef
 * order), so the page's feature panel shows whatever set is configured. */
#include <string.h>

#include "dashboard/dash_int.h"
#include "features/features.h"
#include "pipeline/pipeline.h"

/* Units of the features (features.h order; docs/FEATURES.md), shown next
 * to their names and values. */
static const char *const FEATURE_UNITS[QW_NFEATURES_ALL] = {"bps",
                                                            "ratio (-1..1), top 10",
                                                            "base units, top 10",
                                                            "std-dev of log-returns, 5 s",
                                                            "bps",
                                                            "x best-level size, 1 s",
                                                            "ratio (-1..1), best level",
                                                            "ratio (-1..1), top 5",
                                                            "ratio (-1..1), 1 s",
                                                            "bps, 1 s",
                                                            "s (capped at 3600)",
                                                            "ticks"};

/* The configured feature set (the model's inputs, in order): its name and
 * each feature's name and unit. */
void qw__dash_feature_set_json(qw_dbuf *d, const qw_pipeline *p)
{
    qw_featset zero = {0};
    const qw_featset *fs = p ? qw_pipeline_featset(p) : &zero;
    char name[256];
    qw_featset_format(fs, name, sizeof name);
    qw__dbuf_put(d, ",\"feature_set\":{\"name\":", 23);
    qw__dbuf_str(d, name);
    qw__dbuf_put(d, ",\"features\":[", 13);
    for (size_t i = 0; i < qw_featset_size(fs); i++) {
        const char *n = qw_featset_name(fs, i);
        size_t k = 0;
        while (k < QW_NFEATURES_ALL && strcmp(qw_feature_names[k], n) != 0)
            k++;
        qw__dbuf_printf(d, "%s{\"name\":", i ? "," : "");
        qw__dbuf_str(d, n);
        qw__dbuf_put(d, ",\"unit\":", 8);
        qw__dbuf_str(d, k < QW_NFEATURES_ALL ? FEATURE_UNITS[k] : "");
        qw__dbuf_put(d, "}", 1);
    }
    qw__dbuf_put(d, "]}", 2);
}

void qw__dash_features_json(qw_dbuf *d, const qw_pipeline *p, const qw_features *f)
{
    if (!f) {
        qw__dbuf_put(d, "null", 4);
        return;
    }
    qw_featset zero = {0};
    const qw_featset *fs = p ? qw_pipeline_featset(p) : &zero;
    double x[QW_NFEATURES_ALL];
    size_t n = qw_featset_gather(fs, f->x, x);
    qw__dbuf_put(d, "{", 1);
    for (size_t i = 0; i < n; i++) {
        qw__dbuf_printf(d, "%s\"%s\":", i ? "," : "", qw_featset_name(fs, i));
        qw__dbuf_num(d, x[i]);
    }
    qw__dbuf_put(d, "}", 1);
}

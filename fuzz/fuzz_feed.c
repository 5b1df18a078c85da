/* fuzz_feed.c: libFuzzer target for the feed parsers and the pipeline.
 *
 * Checks, for every input: no crash/UB/leak; a message we accept is valid
 * JSON for jansson too (differential oracle; the converse need not hold:
 * we also reject for semantic reasons); event ranges are consistent; and
 * the accepted message applies to a long-lived pipeline without error. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "pipeline/pipeline.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static qw_feed *f;
    static qw_pipeline *p;
    if (!f) {
        qw_pipeline_opts po = {.auto_add = 1, .max_products = 64, .book = {.max_levels = 4096}};
        if (qw_feed_create(&f, NULL) != QW_OK || qw_pipeline_create(&p, &po) != QW_OK)
            abort();
    }
    const qw_msg *m;
    qw_err e = qw_pipeline_ingest(p, f, (const char *)data, size, 0, &m);
    if (e != QW_OK)
        return 0;
    json_error_t err;
    json_t *j = json_loadb((const char *)data, size, 0, &err);
    if (!j)
        abort(); /* we accepted what jansson calls invalid JSON */
    if (!json_is_object(j))
        abort();
    json_decref(j);
    for (size_t i = 0; i < m->ngroups; i++) {
        const qw_group *g = &m->groups[i];
        if ((size_t)g->first + g->count > m->nchg)
            abort();
        if (g->kind != QW_GRP_HEARTBEAT && !qw_feed_product_ok(g->product, strlen(g->product)))
            abort();
    }
    for (size_t i = 0; i < m->nchg; i++)
        if (m->chg[i].sz < 0 || m->chg[i].px < 0 || m->chg[i].side > 1)
            abort();
    return 0;
}

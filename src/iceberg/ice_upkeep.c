/* ice_upkeep.c: what every commit does to keep a table's metadata bounded
 * and findable (docs/STORAGE.md "Maintenance"):
 *  - metadata-log capped at write.metadata.previous-versions-max (default
 *    100), oldest entries first, as Iceberg Java's addPreviousFile;
 *  - with write.metadata.delete-after-commit.enabled (default false, as in
 *    Iceberg) the metadata files that fell off the log are deleted after
 *    the swap (Java's deleteRemovedMetadataFiles);
 *  - <location>/metadata/version-hint.text rewritten after the swap with
 *    the current metadata file's name without ".metadata.json" (see
 *    docs/STORAGE.md: what path-based readers such as DuckDB's
 *    iceberg_scan do with it). The catalog stays the source of truth.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iceberg/ice_int.h"

#define QW_MODULE "iceberg"
#include "core/log.h"

static const char *prop(const json_t *root, const char *key)
{
    return json_string_value(json_object_get(json_object_get(root, "properties"), key));
}

int64_t qw__ice_prop_int(const json_t *root, const char *key, int64_t dflt)
{
    const char *v = prop(root, key);
    if (!v || !*v)
        return dflt;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    return *end || errno == ERANGE ? dflt : (int64_t)x; /* out of range: as if absent */
}

int qw__ice_prop_bool(const json_t *root, const char *key, int dflt)
{
    const char *v = prop(root, key);
    return v ? strcasecmp(v, "true") == 0 : dflt;
}

void qw__ice_metadata_log_push(json_t *root, int64_t ts, const char *loc)
{
    json_t *mlog = json_object_get(root, "metadata-log");
    if (!json_is_array(mlog)) {
        mlog = json_array();
        json_object_set_new(root, "metadata-log", mlog);
    }
    json_array_append_new(
        mlog, json_pack("{s:I, s:s}", "timestamp-ms", (json_int_t)ts, "metadata-file", loc));
    int64_t max = qw__ice_prop_int(root, "write.metadata.previous-versions-max", 100);
    if (max < 1)
        max = 1;
    while ((int64_t)json_array_size(mlog) > max)
        json_array_remove(mlog, 0);
}

int qw__ice_next_version(const char *parent_loc, const json_t *root)
{
    int ver = qw_ice_metadata_version(parent_loc);
    return ver >= 0 ? ver + 1 : (int)json_array_size(json_object_get(root, "metadata-log"));
}

static int in_log(const json_t *mlog, const char *f)
{
    size_t i;
    const json_t *e;
    json_array_foreach(mlog, i, e)
    {
        const char *g = json_string_value(json_object_get(e, "metadata-file"));
        if (g && strcmp(g, f) == 0)
            return 1;
    }
    return 0;
}

void qw__ice_after_commit(qw_fileio *io, const qw_ice_meta *parent, const qw_ice_meta *next,
                          const char *nloc, int hint)
{
    const json_t *nr = qw__ice_root(next);
    if (qw__ice_prop_bool(nr, "write.metadata.delete-after-commit.enabled", 0)) {
        const json_t *nlog = json_object_get(nr, "metadata-log");
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(qw__ice_root(parent), "metadata-log"), i, e)
        {
            const char *f = json_string_value(json_object_get(e, "metadata-file"));
            if (f && !in_log(nlog, f) && strcmp(f, nloc) != 0) {
                qw_err r = qw_fileio_remove(io, f);
                if (r != QW_OK && r != QW_NOT_FOUND)
                    QW_LOG(WARN, "cannot delete old metadata %s: %s", f, qw_err_name(r));
            }
        }
    }
    if (hint)
        qw_ice_write_version_hint(io, nloc);
}

qw_err qw_ice_write_version_hint(qw_fileio *io, const char *meta_loc)
{
    /* <location>/metadata/version-hint.text next to the metadata file,
     * holding the file's name without ".metadata.json" */
    const char *base = strrchr(meta_loc, '/');
    if (!base)
        return QW_INVAL;
    base++;
    size_t n = strlen(base);
    if (n > 14 && strcmp(base + n - 14, ".metadata.json") == 0)
        n -= 14;
    char hint[QW_ICE_LOC_MAX], text[QW_ICE_LOC_MAX];
    if ((size_t)snprintf(hint, sizeof hint, "%.*sversion-hint.text", (int)(base - meta_loc),
                         meta_loc) >= sizeof hint ||
        (size_t)snprintf(text, sizeof text, "%.*s", (int)n, base) >= sizeof text)
        return QW_TOO_LARGE;
    qw_err r = qw_fileio_write(io, hint, text, strlen(text));
    if (r != QW_OK)
        QW_LOG(WARN, "cannot write %s: %s", hint, qw_err_name(r));
    return r;
}

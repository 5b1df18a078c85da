/* ice_schema.c: schema evolution by type promotion (Iceberg spec, "Schema
 * Evolution": int -> long, float -> double, decimal(P, S) -> decimal(P', S)
 * with P' > P). The table keeps every field id, name and requiredness; a
 * new schema is added to "schemas" and made current, in one metadata commit
 * through the catalog's compare-and-swap (retried on conflict). Data files
 * written under the old schema stay valid: readers widen their values. */
#include <string.h>

#include "core/alloc.h"
#include "core/time.h"
#include "iceberg/ice_int.h"

#define QW_MODULE "iceberg"
#include "core/log.h"

/* 1 when `to` is `from` or an allowed promotion of it. */
static int promotes(const qw_ice_field *from, const qw_ice_field *to)
{
    if (from->type == to->type) {
        if (from->type == QW_ICE_DECIMAL)
            return from->scale == to->scale && to->precision >= from->precision;
        return from->type != QW_ICE_FIXED || from->precision == to->precision;
    }
    return (from->type == QW_ICE_INT && to->type == QW_ICE_LONG) ||
           (from->type == QW_ICE_FLOAT && to->type == QW_ICE_DOUBLE);
}

static int same_types(const qw_ice_field *a, const qw_ice_field *b)
{
    return a->type == b->type && a->precision == b->precision && a->scale == b->scale;
}

qw_err qw_ice_schema_promotion(const qw_ice_schema *cur, const qw_ice_schema *want, int *changes,
                               char *err, size_t errlen)
{
    *changes = 0;
    if (cur->nfields != want->nfields) {
        QW_SETERR(err, errlen, "the table has %d fields, QuoteWatch writes %d", cur->nfields,
                  want->nfields);
        return QW_UNSUPPORTED;
    }
    for (int i = 0; i < want->nfields; i++) {
        const qw_ice_field *w = &want->fields[i], *c = NULL;
        for (int k = 0; k < cur->nfields && !c; k++)
            if (cur->fields[k].id == w->id)
                c = &cur->fields[k];
        char a[48], b[48];
        if (!c || strcmp(c->name, w->name) != 0 || c->required != w->required) {
            QW_SETERR(err, errlen, "field %d (%s) differs in name, presence or requiredness", w->id,
                      w->name);
            return QW_UNSUPPORTED;
        }
        if (same_types(c, w))
            continue;
        if (!promotes(c, w)) {
            QW_SETERR(err, errlen, "field %s is %s; %s is not an allowed promotion of it", w->name,
                      qw_ice_type_str(c, a, sizeof a), qw_ice_type_str(w, b, sizeof b));
            return QW_UNSUPPORTED;
        }
        ++*changes;
    }
    return QW_OK;
}

/* Metadata with `want` added to "schemas" and made current. */
static qw_err evolved(const qw_ice_meta *p, const char *ploc, const qw_ice_schema *want,
                      qw_ice_meta **out)
{
    json_t *r = json_deep_copy(qw__ice_root(p));
    if (!r)
        return QW_NOMEM;
    json_t *schemas = json_object_get(r, "schemas");
    if (!json_is_array(schemas)) { /* a v1 table: "schema" alone */
        schemas = json_array();
        json_t *old = json_object_get(r, "schema");
        if (old)
            json_array_append(schemas, old);
        json_object_set_new(r, "schemas", schemas);
    }
    int next_id = 0;
    size_t i;
    json_t *s;
    json_array_foreach(schemas, i, s)
    {
        int id = (int)qw__ice_jint(s, "schema-id", 0);
        next_id = id >= next_id ? id + 1 : next_id;
    }
    qw_ice_schema ns = *want;
    ns.schema_id = next_id;
    json_t *mlog = json_object_get(r, "metadata-log");
    if (!json_is_array(mlog)) {
        mlog = json_array();
        json_object_set_new(r, "metadata-log", mlog);
    }
    int64_t ts = qw_now_wall_ns() / 1000000;
    if (ts <= p->last_updated_ms)
        ts = p->last_updated_ms + 1;
    if (json_array_append_new(schemas, qw__ice_schema_json(&ns)) != 0 ||
        json_array_append_new(mlog, json_pack("{s:I, s:s}", "timestamp-ms",
                                              (json_int_t)p->last_updated_ms, "metadata-file",
                                              ploc)) != 0) {
        json_decref(r);
        return QW_NOMEM;
    }
    json_object_set_new(r, "current-schema-id", json_integer(next_id));
    json_object_set_new(r, "last-updated-ms", json_integer(ts));
    char *text = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(r);
    if (!text)
        return QW_NOMEM;
    qw_err e = qw_ice_meta_parse(text, strlen(text), out, NULL, 0); /* validates the result */
    free(text);
    return e;
}

qw_err qw_ice_evolve_schema(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                            const char *table, const qw_ice_schema *want, int *changed, char *err,
                            size_t errlen)
{
    *changed = 0;
    for (int attempt = 0; attempt < 20; attempt++) {
        char ploc[QW_ICE_LOC_MAX], nloc[QW_ICE_LOC_MAX];
        qw_ice_meta *p = NULL, *nm = NULL;
        qw_err e = qw_ice_load_table(cat, io, ns, table, &p, ploc, sizeof ploc);
        if (e != QW_OK) {
            QW_SETERR(err, errlen, "load %s.%s: %s", ns, table, qw_err_name(e));
            return e;
        }
        int changes;
        e = qw_ice_schema_promotion(&p->schema, want, &changes, err, errlen);
        if (e != QW_OK || changes == 0) {
            qw_ice_meta_free(p);
            return e;
        }
        e = evolved(p, ploc, want, &nm);
        int ver = qw_ice_metadata_version(ploc);
        char uuid[37];
        qw_ice_uuid(uuid);
        char *text = NULL;
        size_t len = 0;
        if (e == QW_OK &&
            (size_t)snprintf(nloc, sizeof nloc, "%s/metadata/%05d-%s.metadata.json", p->location,
                             ver >= 0 ? ver + 1 : 1, uuid) >= sizeof nloc)
            e = QW_TOO_LARGE;
        if (e == QW_OK)
            e = qw_ice_meta_dump(nm, &text, &len);
        if (e == QW_OK)
            e = qw_fileio_write(io, nloc, text, len);
        qw_free(text);
        qw_ice_meta_free(nm);
        qw_ice_meta_free(p);
        if (e != QW_OK) {
            QW_SETERR(err, errlen, "write evolved metadata of %s.%s: %s", ns, table,
                      qw_err_name(e));
            return e;
        }
        e = cat->commit(cat->ctx, ns, table, ploc, nloc);
        if (e == QW_OK) {
            *changed = changes;
            QW_LOG(INFO, "%s.%s: schema evolved (%d field type promotions) in %s", ns, table,
                   changes, nloc);
            return QW_OK;
        }
        if (e == QW_CONFLICT || e == QW_AGAIN) {
            qw_fileio_remove(io, nloc); /* not referenced: a writer committed first */
            continue;
        }
        QW_SETERR(err, errlen, "commit evolved schema of %s.%s: %s", ns, table, qw_err_name(e));
        return e;
    }
    QW_SETERR(err, errlen, "evolve schema of %s.%s: too many commit conflicts", ns, table);
    return QW_CONFLICT;
}

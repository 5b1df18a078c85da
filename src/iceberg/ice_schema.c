/* ice_schema.c: schema evolution (Iceberg spec, "Schema Evolution") by
 * type promotion (int -> long, float -> double, decimal(P, S) ->
 * decimal(P', S) with P' > P) and by added optional fields. The table keeps
 * every field id, name and requiredness; an added field takes a new id
 * above the table's last-column-id (ids are never reused: a lower id may
 * have belonged to a dropped field that old data files still carry) and
 * must be optional (old rows have no value for it: readers fill nulls). The
 * new schema is added to "schemas", made current and last-column-id raised,
 * in one metadata commit through the catalog's compare-and-swap (retried
 * on conflict). Data files written under an old schema stay valid: readers
 * project by field id, widen promoted values and null-fill added fields. */
#include <stdint.h>
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

static const qw_ice_field *by_id(const qw_ice_schema *s, int id)
{
    for (int k = 0; k < s->nfields; k++)
        if (s->fields[k].id == id)
            return &s->fields[k];
    return NULL;
}

qw_err qw_ice_schema_evolution(const qw_ice_schema *cur, int last_column_id,
                               const qw_ice_schema *want, qw_ice_schema *out, qw_ice_evolution *ev,
                               char *err, size_t errlen)
{
    qw_ice_evolution r = {0, 0, last_column_id};
    char a[48], b[48];
    /* every current field stays, with its id, name and requiredness */
    for (int i = 0; i < cur->nfields; i++) {
        const qw_ice_field *c = &cur->fields[i], *w = by_id(want, c->id);
        if (!w) {
            QW_SETERR(err, errlen,
                      "field %d (%s) of the table is missing: fields are never dropped", c->id,
                      c->name);
            return QW_UNSUPPORTED;
        }
        if (strcmp(c->name, w->name) != 0 || c->required != w->required) {
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
        r.promoted++;
    }
    /* the rest of want are additions: optional, new ids, new names */
    int top = last_column_id;
    for (int i = 0; i < cur->nfields; i++)
        top = cur->fields[i].id > top ? cur->fields[i].id : top;
    for (int i = 0; i < want->nfields; i++) {
        const qw_ice_field *w = &want->fields[i];
        for (int k = 0; k < i; k++)
            if (want->fields[k].id == w->id) {
                QW_SETERR(err, errlen, "field id %d appears twice (%s, %s)", w->id,
                          want->fields[k].name, w->name);
                return QW_UNSUPPORTED;
            }
        if (by_id(cur, w->id))
            continue;
        if (w->required) {
            QW_SETERR(err, errlen,
                      "field %d (%s) would be added as required: rows already written have no "
                      "value for it, only optional fields can be added",
                      w->id, w->name);
            return QW_UNSUPPORTED;
        }
        if (w->id <= top) {
            QW_SETERR(err, errlen,
                      "field %d (%s) would reuse an id at or below the table's last column id %d "
                      "(ids are never reused)",
                      w->id, w->name, top);
            return QW_UNSUPPORTED;
        }
        for (int k = 0; k < cur->nfields; k++)
            if (strcmp(cur->fields[k].name, w->name) == 0) {
                QW_SETERR(err, errlen, "field %d (%s): the table has a field %d of that name",
                          w->id, w->name, cur->fields[k].id);
                return QW_UNSUPPORTED;
            }
        r.added++;
        r.last_column_id = w->id > r.last_column_id ? w->id : r.last_column_id;
    }
    if (out) { /* the table's fields in its order (want's types), then the additions */
        qw_ice_schema o;
        memset(&o, 0, sizeof o);
        o.schema_id = cur->schema_id;
        for (int i = 0; i < cur->nfields; i++)
            o.fields[o.nfields++] = *by_id(want, cur->fields[i].id);
        for (int i = 0; i < want->nfields; i++)
            if (!by_id(cur, want->fields[i].id))
                o.fields[o.nfields++] = want->fields[i];
        *out = o;
    }
    if (ev)
        *ev = r;
    return QW_OK;
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
    qw_ice_evolution ev;
    qw_err e = qw_ice_schema_evolution(cur, INT32_MAX, want, NULL, &ev, err, errlen);
    if (e == QW_OK)
        *changes = ev.promoted;
    return e;
}

/* Metadata with `want` added to "schemas" and made current. */
static qw_err evolved(const qw_ice_meta *p, const char *ploc, const qw_ice_schema *want,
                      int last_column_id, qw_ice_meta **out)
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
    if (last_column_id > p->last_column_id)
        json_object_set_new(r, "last-column-id", json_integer(last_column_id));
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
        qw_ice_schema next;
        qw_ice_evolution ev;
        e = qw_ice_schema_evolution(&p->schema, p->last_column_id, want, &next, &ev, err, errlen);
        if (e != QW_OK || ev.promoted + ev.added == 0) {
            qw_ice_meta_free(p);
            return e;
        }
        int changes = ev.promoted + ev.added;
        e = evolved(p, ploc, &next, ev.last_column_id, &nm);
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
            QW_LOG(INFO, "%s.%s: schema evolved (%d type promotions, %d added fields) in %s", ns,
                   table, ev.promoted, ev.added, nloc);
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

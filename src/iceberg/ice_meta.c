/* ice_meta.c: Iceberg table metadata JSON: parse (ours, Java's, pyiceberg's;
 * v1 and v2) into a typed view while keeping the whole document, create v2
 * metadata for a new table (the field order and spelling Iceberg Java uses),
 * and serialize. The document is kept so a commit preserves fields written by
 * other engines (statistics, refs, properties) it does not understand. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "iceberg/ice_int.h"

static qw_err parse_schema(const json_t *js, qw_ice_schema *s)
{
    memset(s, 0, sizeof(*s));
    s->schema_id = (int)qw__ice_jint(js, "schema-id", 0);
    const json_t *fields = json_object_get(js, "fields");
    if (!json_is_array(fields))
        return QW_CORRUPT;
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (s->nfields >= QW_ICE_MAX_FIELDS)
            return QW_UNSUPPORTED;
        qw_ice_field *d = &s->fields[s->nfields];
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *type = json_object_get(f, "type");
        if (!name || !json_is_integer(json_object_get(f, "id")) || !type)
            return QW_CORRUPT;
        d->id = (int)qw__ice_jint(f, "id", 0);
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->required = json_is_true(json_object_get(f, "required"));
        if (json_is_string(type)) {
            if (qw_ice_type_parse(json_string_value(type), d) != QW_OK)
                d->type = QW_ICE_UNKNOWN;
        } else {
            d->type = QW_ICE_NESTED;
        }
        s->nfields++;
    }
    return QW_OK;
}

static qw_err parse_spec_fields(const json_t *fields, qw_ice_spec *sp)
{
    if (!json_is_array(fields))
        return QW_CORRUPT;
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (sp->nfields >= QW_ICE_MAX_PART)
            return QW_UNSUPPORTED;
        qw_ice_part_field *d = &sp->fields[sp->nfields];
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *tr = json_string_value(json_object_get(f, "transform"));
        if (!name || !tr)
            return QW_CORRUPT;
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->source_id = (int)qw__ice_jint(f, "source-id", -1);
        d->field_id = (int)qw__ice_jint(f, "field-id", 1000 + sp->nfields);
        int p = 0, used = 0;
        if (strcmp(tr, "identity") == 0)
            d->transform = QW_ICE_T_IDENTITY;
        else if (strcmp(tr, "day") == 0)
            d->transform = QW_ICE_T_DAY;
        else if (strcmp(tr, "month") == 0)
            d->transform = QW_ICE_T_MONTH;
        else if (strcmp(tr, "year") == 0)
            d->transform = QW_ICE_T_YEAR;
        else if (strcmp(tr, "hour") == 0)
            d->transform = QW_ICE_T_HOUR;
        else if (strcmp(tr, "void") == 0)
            d->transform = QW_ICE_T_VOID;
        else if (sscanf(tr, "bucket[%d]%n", &p, &used) == 1 && tr[used] == 0)
            d->transform = QW_ICE_T_BUCKET;
        else if (sscanf(tr, "truncate[%d]%n", &p, &used) == 1 && tr[used] == 0)
            d->transform = QW_ICE_T_TRUNCATE;
        else
            d->transform = QW_ICE_T_OTHER;
        d->param = p;
        sp->nfields++;
    }
    return QW_OK;
}

qw_err qw_ice_meta_spec(const qw_ice_meta *m, int spec_id, qw_ice_spec *out)
{
    memset(out, 0, sizeof(*out));
    const json_t *specs = json_object_get(qw__ice_root(m), "partition-specs");
    size_t i;
    const json_t *s;
    json_array_foreach(specs, i, s)
    {
        if (qw__ice_jint(s, "spec-id", -1) == spec_id) {
            out->spec_id = spec_id;
            return parse_spec_fields(json_object_get(s, "fields"), out);
        }
    }
    const json_t *v1 = json_object_get(qw__ice_root(m), "partition-spec");
    if (json_is_array(v1) && spec_id == 0)
        return parse_spec_fields(v1, out);
    return QW_NOT_FOUND;
}

const json_t *qw__ice_snapshot_json(const qw_ice_meta *m, int64_t snapshot_id)
{
    const json_t *snaps = json_object_get(qw__ice_root(m), "snapshots");
    size_t i;
    const json_t *s;
    json_array_foreach(snaps, i, s)
    {
        if (qw__ice_jint(s, "snapshot-id", -1) == snapshot_id)
            return s;
    }
    return NULL;
}

static qw_err build_view(qw_ice_meta *m, char *err, size_t errlen)
{
    json_t *r = qw__ice_root(m);
    if (!json_is_object(r)) {
        QW_SETERR(err, errlen, "metadata is not a JSON object");
        return QW_CORRUPT;
    }
    m->format_version = (int)qw__ice_jint(r, "format-version", 1);
    if (m->format_version < 1 || m->format_version > 2) {
        QW_SETERR(err, errlen, "unsupported format-version %d", m->format_version);
        return QW_UNSUPPORTED;
    }
    const char *loc = json_string_value(json_object_get(r, "location"));
    if (!loc || strlen(loc) >= sizeof(m->location)) {
        QW_SETERR(err, errlen, "missing or too long location");
        return QW_CORRUPT;
    }
    snprintf(m->location, sizeof(m->location), "%s", loc);
    const char *uuid = json_string_value(json_object_get(r, "table-uuid"));
    snprintf(m->uuid, sizeof(m->uuid), "%s", uuid ? uuid : "");
    m->last_sequence_number = qw__ice_jint(r, "last-sequence-number", 0);
    m->last_updated_ms = qw__ice_jint(r, "last-updated-ms", 0);
    int64_t lcol = qw__ice_jint(r, "last-column-id", 0),
            lpart = qw__ice_jint(r, "last-partition-id", 999);
    /* the counters a commit adds one to: a document of another writer (or a
     * damaged one) with one beyond any real table is corrupt, not a counter
     * to overflow (2^62 sequence numbers or ms: 146 million years of them) */
    if (m->last_sequence_number < 0 || m->last_sequence_number > QW_ICE_COUNTER_MAX ||
        m->last_updated_ms < 0 || m->last_updated_ms > QW_ICE_COUNTER_MAX || lcol < 0 ||
        lcol >= INT_MAX || lpart < 0 || lpart >= INT_MAX) {
        QW_SETERR(err, errlen,
                  "last-sequence-number %lld, last-updated-ms %lld, last-column-id %lld or "
                  "last-partition-id %lld out of range",
                  (long long)m->last_sequence_number, (long long)m->last_updated_ms,
                  (long long)lcol, (long long)lpart);
        return QW_CORRUPT;
    }
    m->last_column_id = (int)lcol;
    m->last_partition_id = (int)lpart;
    m->current_snapshot_id = qw__ice_jint(r, "current-snapshot-id", -1);
    if (m->current_snapshot_id >= 0 && !qw__ice_snapshot_json(m, m->current_snapshot_id)) {
        QW_SETERR(err, errlen, "current-snapshot-id %lld not among snapshots",
                  (long long)m->current_snapshot_id);
        return QW_CORRUPT;
    }
    /* schema: v2 "schemas" + current-schema-id; v1 "schema" */
    const json_t *schemas = json_object_get(r, "schemas");
    const json_t *cur = NULL;
    if (json_is_array(schemas)) {
        m->current_schema_id = (int)qw__ice_jint(r, "current-schema-id", 0);
        size_t i;
        const json_t *s;
        json_array_foreach(schemas, i, s)
        {
            if (qw__ice_jint(s, "schema-id", 0) == m->current_schema_id)
                cur = s;
        }
    } else {
        cur = json_object_get(r, "schema");
    }
    qw_err e = cur ? parse_schema(cur, &m->schema) : QW_CORRUPT;
    if (e != QW_OK) {
        QW_SETERR(err, errlen, "bad or missing current schema");
        return e;
    }
    m->default_spec_id = (int)qw__ice_jint(r, "default-spec-id", 0);
    e = qw_ice_meta_spec(m, m->default_spec_id, &m->spec);
    if (e != QW_OK) {
        QW_SETERR(err, errlen, "bad or missing default partition spec");
        return e == QW_NOT_FOUND ? QW_CORRUPT : e;
    }
    return QW_OK;
}

qw_err qw_ice_meta_parse(const char *json, size_t len, qw_ice_meta **out, char *err, size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        QW_SETERR(err, errlen, "metadata JSON: %s (line %d)", jerr.text, jerr.line);
        return QW_BAD_JSON;
    }
    return qw__ice_meta_wrap(root, out, err, errlen);
}

qw_err qw__ice_meta_wrap(json_t *root, qw_ice_meta **out, char *err, size_t errlen)
{
    *out = NULL;
    qw__ice_meta_doc *d = qw_calloc(1, sizeof(*d));
    if (!d) {
        json_decref(root);
        return QW_NOMEM;
    }
    d->root = root;
    qw_err e = build_view(&d->pub, err, errlen);
    if (e != QW_OK) {
        qw_ice_meta_free(&d->pub);
        return e;
    }
    *out = &d->pub;
    return QW_OK;
}

void qw_ice_meta_free(qw_ice_meta *m)
{
    if (!m)
        return;
    qw__ice_meta_doc *d = (qw__ice_meta_doc *)(void *)m;
    json_decref(d->root);
    qw_free(d);
}

static void snapshot_view(const json_t *s, qw_ice_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    out->snapshot_id = qw__ice_jint(s, "snapshot-id", -1);
    out->parent_snapshot_id = qw__ice_jint(s, "parent-snapshot-id", -1);
    out->sequence_number = qw__ice_jint(s, "sequence-number", 0);
    out->timestamp_ms = qw__ice_jint(s, "timestamp-ms", -1);
    out->schema_id = (int)qw__ice_jint(s, "schema-id", -1);
    const char *op = json_string_value(json_object_get(json_object_get(s, "summary"), "operation"));
    snprintf(out->operation, sizeof(out->operation), "%s", op ? op : "");
    const char *list = json_string_value(json_object_get(s, "manifest-list"));
    snprintf(out->manifest_list, sizeof(out->manifest_list), "%s", list ? list : "");
}

size_t qw_ice_meta_nsnapshots(const qw_ice_meta *m)
{
    return json_array_size(json_object_get(qw__ice_root(m), "snapshots"));
}

qw_err qw_ice_meta_snapshot_at(const qw_ice_meta *m, size_t i, qw_ice_snapshot *out)
{
    const json_t *s = json_array_get(json_object_get(qw__ice_root(m), "snapshots"), i);
    if (!json_is_object(s))
        return QW_NOT_FOUND;
    snapshot_view(s, out);
    return QW_OK;
}

qw_err qw_ice_meta_snapshot(const qw_ice_meta *m, int64_t snapshot_id, qw_ice_snapshot *out)
{
    const json_t *s = qw__ice_snapshot_json(m, snapshot_id);
    if (!s)
        return QW_NOT_FOUND;
    if (out)
        snapshot_view(s, out);
    return QW_OK;
}

const char *qw_ice_meta_summary(const qw_ice_meta *m, int64_t snapshot_id, const char *key)
{
    const json_t *s = qw__ice_snapshot_json(m, snapshot_id);
    return json_string_value(json_object_get(json_object_get(s, "summary"), key));
}

const char *qw_ice_meta_property(const qw_ice_meta *m, const char *key)
{
    return json_string_value(json_object_get(json_object_get(qw__ice_root(m), "properties"), key));
}

size_t qw_ice_meta_snapshot_log_len(const qw_ice_meta *m)
{
    return json_array_size(json_object_get(qw__ice_root(m), "snapshot-log"));
}

size_t qw_ice_meta_metadata_log_len(const qw_ice_meta *m)
{
    return json_array_size(json_object_get(qw__ice_root(m), "metadata-log"));
}

qw_err qw_ice_meta_dump(const qw_ice_meta *m, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    char *s = json_dumps(qw__ice_root(m), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s)
        return QW_NOMEM;
    size_t n = strlen(s);
    char *c = qw_malloc(n + 1);
    if (c)
        memcpy(c, s, n + 1);
    free(s); /* jansson's allocator */
    if (!c)
        return QW_NOMEM;
    *out = c;
    *len = n;
    return QW_OK;
}

static json_t *schema_json(const qw_ice_schema *s)
{
    json_t *fields = json_array();
    for (int i = 0; i < s->nfields; i++) {
        const qw_ice_field *f = &s->fields[i];
        char t[48];
        json_array_append_new(fields, json_pack("{s:i, s:s, s:b, s:s}", "id", f->id, "name",
                                                f->name, "required", f->required, "type",
                                                qw_ice_type_str(f, t, sizeof(t))));
    }
    return json_pack("{s:s, s:i, s:o}", "type", "struct", "schema-id", s->schema_id, "fields",
                     fields);
}

json_t *qw__ice_spec_json(const qw_ice_spec *sp)
{
    json_t *fields = json_array();
    for (int i = 0; i < sp->nfields; i++) {
        const qw_ice_part_field *f = &sp->fields[i];
        char t[32];
        json_array_append_new(fields,
                              json_pack("{s:s, s:s, s:i, s:i}", "name", f->name, "transform",
                                        qw_ice_transform_str(f, t, sizeof(t)), "source-id",
                                        f->source_id, "field-id", f->field_id));
    }
    return fields;
}

json_t *qw__ice_schema_json(const qw_ice_schema *s)
{
    return schema_json(s);
}

qw_err qw_ice_meta_new(qw_ice_meta **out, const char *location, const qw_ice_schema *schema,
                       const qw_ice_spec *spec, const qw_ice_kv *props, size_t nprops,
                       int64_t now_ms)
{
    *out = NULL;
    if (!location || !schema || schema->nfields == 0)
        return QW_INVAL;
    size_t ll = strlen(location);
    while (ll > 1 && location[ll - 1] == '/')
        ll--;
    int last_col = 0, last_part = 999;
    for (int i = 0; i < schema->nfields; i++) {
        if (schema->fields[i].id <= 0)
            return QW_INVAL;
        if (schema->fields[i].id > last_col)
            last_col = schema->fields[i].id;
    }
    qw_ice_spec empty = {0};
    if (!spec)
        spec = &empty;
    for (int i = 0; i < spec->nfields; i++) {
        const qw_ice_part_field *pf = &spec->fields[i];
        int found = 0;
        for (int k = 0; k < schema->nfields; k++)
            found |= schema->fields[k].id == pf->source_id;
        if (!found || pf->field_id < 1000 || pf->transform == QW_ICE_T_OTHER)
            return QW_INVAL;
        if (pf->field_id > last_part)
            last_part = pf->field_id;
    }
    char uuid[37];
    qw_ice_uuid(uuid);
    json_t *pr = json_object();
    for (size_t i = 0; i < nprops; i++)
        json_object_set_new(pr, props[i].key, json_string(props[i].value));
    json_t *root = json_pack(
        "{s:i, s:s, s:s%, s:I, s:I, s:i, s:i, s:[o], s:i, s:[{s:i, s:o}], s:i, s:i,"
        " s:[{s:i, s:[]}], s:o, s:I, s:{}, s:[], s:[], s:[], s:[]}",
        "format-version", 2, "table-uuid", uuid, "location", location, ll, "last-sequence-number",
        (json_int_t)0, "last-updated-ms", (json_int_t)now_ms, "last-column-id", last_col,
        "current-schema-id", schema->schema_id, "schemas", schema_json(schema), "default-spec-id",
        spec->spec_id, "partition-specs", "spec-id", spec->spec_id, "fields",
        qw__ice_spec_json(spec), "last-partition-id", last_part, "default-sort-order-id", 0,
        "sort-orders", "order-id", 0, "fields", "properties", pr, "current-snapshot-id",
        (json_int_t)-1, "refs", "snapshots", "statistics", "snapshot-log", "metadata-log");
    if (!root)
        return QW_NOMEM;
    return qw__ice_meta_wrap(root, out, NULL, 0);
}

int qw_ice_metadata_version(const char *location)
{
    const char *base = strrchr(location, '/');
    base = base ? base + 1 : location;
    int v = 0, used = 0;
    if (base[0] == 'v') {
        if (sscanf(base, "v%d.metadata.json%n", &v, &used) == 1 && base[used] == 0 && v >= 0)
            return v;
        return -1;
    }
    int digits = 0;
    while (base[digits] >= '0' && base[digits] <= '9' && digits < 9)
        v = v * 10 + (base[digits++] - '0');
    if (digits == 0 || base[digits] != '-')
        return -1;
    return v;
}

qw_ice_type qw__ice_part_type(const qw_ice_schema *s, const qw_ice_part_field *pf)
{
    for (int i = 0; i < s->nfields; i++)
        if (s->fields[i].id == pf->source_id)
            return qw_ice_transform_result(pf->transform, s->fields[i].type);
    return QW_ICE_UNKNOWN;
}

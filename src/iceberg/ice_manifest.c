/* ice_manifest.c: Iceberg v2 manifests (manifest_entry) and manifest lists
 * (manifest_file) as Avro container files, written with the same Avro
 * schemas, field ids and file metadata as Iceberg Java / pyiceberg:
 *   manifest metadata: schema, partition-spec, partition-spec-id,
 *     format-version "2", content "data";
 *   list metadata: snapshot-id, parent-snapshot-id, sequence-number,
 *     format-version "2".
 * Readers go through the generic Avro decoder (JSON values) and accept v1
 * and v2 files from other writers (field names of both versions). */
#include <stdio.h>
#include <string.h>

#include "avro/avro.h"
#include "core/alloc.h"
#include "iceberg/ice_int.h"

/* ---- Avro schemas ---- */

static json_t *fld(const char *name, json_t *type, int id, const char *doc, int nullable)
{
    json_t *f = json_pack("{s:s, s:o}", "name", name, "type",
                          nullable ? json_pack("[s, o]", "null", type) : type);
    if (doc)
        json_object_set_new(f, "doc", json_string(doc));
    if (nullable)
        json_object_set_new(f, "default", json_null());
    json_object_set_new(f, "field-id", json_integer(id));
    return f;
}

static json_t *int_map(const char *name, int id, int kid, int vid, const char *vtype,
                       const char *doc)
{
    char rname[32];
    snprintf(rname, sizeof(rname), "k%d_v%d", kid, vid);
    json_t *rec = json_pack("{s:s, s:s, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}", "type", "record",
                            "name", rname, "fields", "name", "key", "type", "int", "field-id", kid,
                            "name", "value", "type", vtype, "field-id", vid);
    json_t *arr = json_pack("{s:s, s:o, s:s}", "type", "array", "items", rec, "logicalType", "map");
    return fld(name, arr, id, doc, 1);
}

static json_t *avro_type(qw_ice_type t)
{
    switch (t) {
    case QW_ICE_BOOLEAN: return json_string("boolean");
    case QW_ICE_INT: return json_string("int");
    case QW_ICE_LONG: return json_string("long");
    case QW_ICE_FLOAT: return json_string("float");
    case QW_ICE_DOUBLE: return json_string("double");
    case QW_ICE_STRING: return json_string("string");
    case QW_ICE_BINARY: return json_string("bytes");
    case QW_ICE_DATE: return json_pack("{s:s, s:s}", "type", "int", "logicalType", "date");
    case QW_ICE_TIMESTAMP:
    case QW_ICE_TIMESTAMPTZ:
        return json_pack("{s:s, s:s, s:b}", "type", "long", "logicalType", "timestamp-micros",
                         "adjust-to-utc", t == QW_ICE_TIMESTAMPTZ);
    default: return NULL;
    }
}

static qw_err entry_schema(const qw_ice_meta *m, char **out)
{
    json_t *pfields = json_array();
    for (int i = 0; i < m->spec.nfields; i++) {
        const qw_ice_part_field *pf = &m->spec.fields[i];
        json_t *t = avro_type(qw__ice_part_type(&m->schema, pf));
        if (!t) {
            json_decref(pfields);
            return QW_UNSUPPORTED;
        }
        json_array_append_new(pfields, fld(pf->name, t, pf->field_id, NULL, 1));
    }
    json_t *part =
        json_pack("{s:s, s:s, s:o}", "type", "record", "name", "r102", "fields", pfields);
    json_t *df = json_pack(
        "[o, o, o, o, o, o, o, o, o, o, o, o, o, o, o, o]",
        fld("content", json_string("int"), 134,
            "Contents of the file: 0=data, 1=position deletes, 2=equality deletes", 0),
        fld("file_path", json_string("string"), 100, "Location URI with FS scheme", 0),
        fld("file_format", json_string("string"), 101, "File format name: avro, orc, or parquet",
            0),
        fld("partition", part, 102, "Partition data tuple, schema based on the partition spec", 0),
        fld("record_count", json_string("long"), 103, "Number of records in the file", 0),
        fld("file_size_in_bytes", json_string("long"), 104, "Total file size in bytes", 0),
        int_map("column_sizes", 108, 117, 118, "long", "Map of column id to total size on disk"),
        int_map("value_counts", 109, 119, 120, "long",
                "Map of column id to total count, including null and NaN"),
        int_map("null_value_counts", 110, 121, 122, "long", "Map of column id to null value count"),
        int_map("nan_value_counts", 137, 138, 139, "long",
                "Map of column id to number of NaN values in the column"),
        int_map("lower_bounds", 125, 126, 127, "bytes", "Map of column id to lower bound"),
        int_map("upper_bounds", 128, 129, 130, "bytes", "Map of column id to upper bound"),
        fld("key_metadata", json_string("bytes"), 131, "Encryption key metadata blob", 1),
        fld("split_offsets",
            json_pack("{s:s, s:s, s:i}", "type", "array", "items", "long", "element-id", 133), 132,
            "Splittable offsets", 1),
        fld("equality_ids",
            json_pack("{s:s, s:s, s:i}", "type", "array", "items", "int", "element-id", 136), 135,
            "Equality comparison field IDs", 1),
        fld("sort_order_id", json_string("int"), 140, "Sort order ID", 1));
    json_t *root = json_pack(
        "{s:s, s:s, s:[o, o, o, o, o]}", "type", "record", "name", "manifest_entry", "fields",
        fld("status", json_string("int"), 0, NULL, 0),
        fld("snapshot_id", json_string("long"), 1, NULL, 1),
        fld("sequence_number", json_string("long"), 3, NULL, 1),
        fld("file_sequence_number", json_string("long"), 4, NULL, 1),
        fld("data_file", json_pack("{s:s, s:s, s:o}", "type", "record", "name", "r2", "fields", df),
            2, NULL, 0));
    if (!root)
        return QW_NOMEM;
    *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *out ? QW_OK : QW_NOMEM;
}

static const char LIST_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
    "{\"name\":\"manifest_path\",\"type\":\"string\",\"doc\":\"Location URI with FS "
    "scheme\",\"field-id\":500},"
    "{\"name\":\"manifest_length\",\"type\":\"long\",\"doc\":\"Total file size in "
    "bytes\",\"field-id\":501},"
    "{\"name\":\"partition_spec_id\",\"type\":\"int\",\"doc\":\"Spec ID used to "
    "write\",\"field-id\":502},"
    "{\"name\":\"content\",\"type\":\"int\",\"doc\":\"Contents of the manifest: 0=data, "
    "1=deletes\",\"field-id\":517},"
    "{\"name\":\"sequence_number\",\"type\":\"long\",\"doc\":\"Sequence number when the manifest "
    "was added\",\"field-id\":515},"
    "{\"name\":\"min_sequence_number\",\"type\":\"long\",\"doc\":\"Lowest sequence number in the "
    "manifest\",\"field-id\":516},"
    "{\"name\":\"added_snapshot_id\",\"type\":\"long\",\"doc\":\"Snapshot ID that added the "
    "manifest\",\"field-id\":503},"
    "{\"name\":\"added_files_count\",\"type\":\"int\",\"doc\":\"Added entry "
    "count\",\"field-id\":504},"
    "{\"name\":\"existing_files_count\",\"type\":\"int\",\"doc\":\"Existing entry "
    "count\",\"field-id\":505},"
    "{\"name\":\"deleted_files_count\",\"type\":\"int\",\"doc\":\"Deleted entry "
    "count\",\"field-id\":506},"
    "{\"name\":\"added_rows_count\",\"type\":\"long\",\"doc\":\"Added rows "
    "count\",\"field-id\":512},"
    "{\"name\":\"existing_rows_count\",\"type\":\"long\",\"doc\":\"Existing rows "
    "count\",\"field-id\":513},"
    "{\"name\":\"deleted_rows_count\",\"type\":\"long\",\"doc\":\"Deleted rows "
    "count\",\"field-id\":514},"
    "{\"name\":\"partitions\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":"
    "\"record\","
    "\"name\":\"r508\",\"fields\":["
    "{\"name\":\"contains_null\",\"type\":\"boolean\",\"doc\":\"True if any file has a null "
    "partition value\",\"field-id\":509},"
    "{\"name\":\"contains_nan\",\"type\":[\"null\",\"boolean\"],\"doc\":\"True if any file has a "
    "nan partition value\",\"default\":null,\"field-id\":518},"
    "{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Partition lower bound for "
    "all files\",\"default\":null,\"field-id\":510},"
    "{\"name\":\"upper_bound\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Partition upper bound for "
    "all files\",\"default\":null,\"field-id\":511}]},"
    "\"element-id\":508}],\"doc\":\"Summary for each "
    "partition\",\"default\":null,\"field-id\":507},"
    "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"doc\":\"Encryption key metadata "
    "blob\",\"default\":null,\"field-id\":519}]}";

/* ---- manifest writer ---- */

static void put_datum(qw_avro_buf *b, const qw_ice_datum *d, qw_ice_type t)
{
    if (d->is_null) {
        qw_avro_put_union(b, 0);
        return;
    }
    qw_avro_put_union(b, 1);
    switch (t) {
    case QW_ICE_BOOLEAN: qw_avro_put_bool(b, (int)d->i); break;
    case QW_ICE_INT:
    case QW_ICE_DATE: qw_avro_put_int(b, (int32_t)d->i); break;
    case QW_ICE_FLOAT: qw_avro_put_float(b, (float)d->d); break;
    case QW_ICE_DOUBLE: qw_avro_put_double(b, d->d); break;
    case QW_ICE_STRING: qw_avro_put_string(b, d->s); break;
    default: qw_avro_put_long(b, d->i); break;
    }
}

typedef enum { M_SIZE, M_VALUES, M_NULLS, M_NANS, M_LOWER, M_UPPER } map_kind;

static void put_map(qw_avro_buf *b, const qw_ice_data_file *f, map_kind k)
{
    int n = 0;
    for (int i = 0; i < f->ncols; i++) {
        const qw_ice_col_stats *c = &f->cols[i];
        int64_t v = k == M_SIZE     ? c->column_size
                    : k == M_VALUES ? c->value_count
                    : k == M_NULLS  ? c->null_count
                                    : c->nan_count;
        n += k >= M_LOWER ? (k == M_LOWER ? c->lower.has : c->upper.has) : v >= 0;
    }
    if (n == 0) {
        qw_avro_put_union(b, 0);
        return;
    }
    qw_avro_put_union(b, 1);
    qw_avro_put_block(b, n);
    for (int i = 0; i < f->ncols; i++) {
        const qw_ice_col_stats *c = &f->cols[i];
        if (k >= M_LOWER) {
            const qw_ice_bytes *bb = k == M_LOWER ? &c->lower : &c->upper;
            if (bb->has) {
                qw_avro_put_int(b, c->field_id);
                qw_avro_put_bytes(b, bb->b, bb->len);
            }
            continue;
        }
        int64_t v = k == M_SIZE     ? c->column_size
                    : k == M_VALUES ? c->value_count
                    : k == M_NULLS  ? c->null_count
                                    : c->nan_count;
        if (v >= 0) {
            qw_avro_put_int(b, c->field_id);
            qw_avro_put_long(b, v);
        }
    }
    qw_avro_put_block(b, 0);
}

static qw_err check_file(const qw_ice_meta *m, const qw_ice_data_file *f)
{
    if (f->content != QW_ICE_CONTENT_DATA || !f->path[0] || f->record_count < 0 ||
        f->file_size_in_bytes < 0 || f->npart != m->spec.nfields)
        return QW_INVAL;
    for (int i = 0; i < f->npart; i++) {
        qw_ice_type t = qw__ice_part_type(&m->schema, &m->spec.fields[i]);
        if (!f->part[i].is_null && f->part[i].type != t)
            return QW_INVAL;
    }
    return QW_OK;
}

static qw_err write_entries(const qw_ice_meta *m, int64_t snapshot_id,
                            const qw_ice_data_file *files, size_t n, int explicit, uint8_t **out,
                            size_t *len);

qw_err qw_ice_manifest_write(const qw_ice_meta *m, int64_t snapshot_id,
                             const qw_ice_data_file *files, size_t n, uint8_t **out, size_t *len)
{
    return write_entries(m, snapshot_id, files, n, 0, out, len);
}

qw_err qw_ice_manifest_write_entries(const qw_ice_meta *m, const qw_ice_data_file *files, size_t n,
                                     uint8_t **out, size_t *len)
{
    return write_entries(m, -1, files, n, 1, out, len);
}

static void put_opt_long(qw_avro_buf *b, int64_t v)
{
    if (v < 0) {
        qw_avro_put_union(b, 0);
    } else {
        qw_avro_put_union(b, 1);
        qw_avro_put_long(b, v);
    }
}

/* explicit: status, snapshot id and sequence numbers from each file (-1:
 * null, inherited); else ADDED by snapshot_id with inherited sequences. */
static qw_err write_entries(const qw_ice_meta *m, int64_t snapshot_id,
                            const qw_ice_data_file *files, size_t n, int explicit, uint8_t **out,
                            size_t *len)
{
    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++)
        if (check_file(m, &files[i]) != QW_OK)
            return QW_INVAL;
    char *schema = NULL;
    qw_err e = entry_schema(m, &schema);
    if (e != QW_OK)
        return e;
    json_t *tschema = qw__ice_schema_json(&m->schema);
    json_t *tspec = qw__ice_spec_json(&m->spec);
    char *ts = json_dumps(tschema, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *sp = json_dumps(tspec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(tschema);
    json_decref(tspec);
    char spec_id[16];
    snprintf(spec_id, sizeof(spec_id), "%d", m->spec.spec_id);
    qw_avro_meta meta[] = {{"schema", ts},
                           {"partition-spec", sp},
                           {"partition-spec-id", spec_id},
                           {"format-version", "2"},
                           {"content", "data"}};
    qw_avro_writer *w = NULL;
    if (!ts || !sp)
        e = QW_NOMEM;
    else
        e = qw_avro_writer_create(&w, schema, meta, 5, QW_AVRO_CODEC_DEFLATE, NULL,
                                  QW__ICE_MAX_AVRO);
    for (size_t i = 0; e == QW_OK && i < n; i++) {
        const qw_ice_data_file *f = &files[i];
        qw_avro_buf *b = qw_avro_writer_record(w);
        if (explicit) {
            qw_avro_put_int(b, f->status);
            put_opt_long(b, f->snapshot_id);
            put_opt_long(b, f->sequence_number);
            put_opt_long(b, f->file_sequence_number);
        } else {
            qw_avro_put_int(b, QW_ICE_STATUS_ADDED);
            qw_avro_put_union(b, 1);
            qw_avro_put_long(b, snapshot_id);
            qw_avro_put_union(b, 0); /* sequence_number: inherited */
            qw_avro_put_union(b, 0); /* file_sequence_number: inherited */
        }
        qw_avro_put_int(b, f->content);
        qw_avro_put_string(b, f->path);
        qw_avro_put_string(b, f->format[0] ? f->format : "PARQUET");
        for (int k = 0; k < f->npart; k++)
            put_datum(b, &f->part[k], qw__ice_part_type(&m->schema, &m->spec.fields[k]));
        qw_avro_put_long(b, f->record_count);
        qw_avro_put_long(b, f->file_size_in_bytes);
        for (int k = M_SIZE; k <= M_UPPER; k++)
            put_map(b, f, (map_kind)k);
        qw_avro_put_union(b, 0); /* key_metadata */
        qw_avro_put_union(b, 0); /* split_offsets */
        qw_avro_put_union(b, 0); /* equality_ids */
        qw_avro_put_union(b, 0); /* sort_order_id */
        e = qw_avro_writer_end_record(w);
    }
    if (e == QW_OK)
        e = qw_avro_writer_finish(w, out, len);
    qw_avro_writer_destroy(w);
    free(schema); /* jansson allocations */
    free(ts);
    free(sp);
    return e;
}

static int datum_cmp(const qw_ice_datum *a, const qw_ice_datum *b)
{
    if (a->type == QW_ICE_STRING)
        return strcmp(a->s, b->s);
    if (a->type == QW_ICE_FLOAT || a->type == QW_ICE_DOUBLE)
        return (a->d > b->d) - (a->d < b->d);
    return (a->i > b->i) - (a->i < b->i);
}

qw_err qw_ice_manifest_summarize(const qw_ice_meta *m, int64_t snapshot_id,
                                 const qw_ice_data_file *files, size_t n, qw_ice_manifest_file *out)
{
    memset(out, 0, sizeof(*out));
    out->spec_id = m->spec.spec_id;
    out->added_snapshot_id = snapshot_id;
    out->added_files = (int32_t)n;
    out->npart = m->spec.nfields;
    for (size_t i = 0; i < n; i++)
        out->added_rows = qw__ice_sat_add(out->added_rows, files[i].record_count);
    for (int k = 0; k < m->spec.nfields; k++) {
        qw_ice_field_summary *s = &out->part[k];
        const qw_ice_datum *lo = NULL, *hi = NULL;
        for (size_t i = 0; i < n; i++) {
            const qw_ice_datum *d = &files[i].part[k];
            if (d->is_null) {
                s->contains_null = 1;
                continue;
            }
            if (!lo || datum_cmp(d, lo) < 0)
                lo = d;
            if (!hi || datum_cmp(d, hi) > 0)
                hi = d;
        }
        s->contains_nan = 0;
        qw_ice_bytes b;
        if (lo && qw_ice_bound_datum(&b, lo) == QW_OK && b.has) {
            memcpy(s->lower, b.b, b.len);
            s->lower_len = b.len;
            s->has_lower = 1;
        }
        if (hi && qw_ice_bound_datum(&b, hi) == QW_OK && b.has) {
            memcpy(s->upper, b.b, b.len);
            s->upper_len = b.len;
            s->has_upper = 1;
        }
    }
    return QW_OK;
}

qw_err qw_ice_manifest_list_write(int64_t snapshot_id, int64_t parent_id, int64_t seq,
                                  const qw_ice_manifest_file *mf, size_t n, uint8_t **out,
                                  size_t *len)
{
    char sid[24], pid[24], sq[24];
    snprintf(sid, sizeof(sid), "%lld", (long long)snapshot_id);
    if (parent_id >= 0)
        snprintf(pid, sizeof(pid), "%lld", (long long)parent_id);
    else
        snprintf(pid, sizeof(pid), "null");
    snprintf(sq, sizeof(sq), "%lld", (long long)seq);
    qw_avro_meta meta[] = {{"snapshot-id", sid},
                           {"parent-snapshot-id", pid},
                           {"sequence-number", sq},
                           {"format-version", "2"}};
    qw_avro_writer *w;
    qw_err e = qw_avro_writer_create(&w, LIST_SCHEMA, meta, 4, QW_AVRO_CODEC_DEFLATE, NULL,
                                     QW__ICE_MAX_AVRO);
    for (size_t i = 0; e == QW_OK && i < n; i++) {
        const qw_ice_manifest_file *f = &mf[i];
        qw_avro_buf *b = qw_avro_writer_record(w);
        qw_avro_put_string(b, f->path);
        qw_avro_put_long(b, f->length);
        qw_avro_put_int(b, f->spec_id);
        qw_avro_put_int(b, f->content);
        qw_avro_put_long(b, f->sequence_number);
        qw_avro_put_long(b, f->min_sequence_number);
        qw_avro_put_long(b, f->added_snapshot_id);
        qw_avro_put_int(b, f->added_files);
        qw_avro_put_int(b, f->existing_files);
        qw_avro_put_int(b, f->deleted_files);
        qw_avro_put_long(b, f->added_rows);
        qw_avro_put_long(b, f->existing_rows);
        qw_avro_put_long(b, f->deleted_rows);
        if (f->npart < 0) {
            qw_avro_put_union(b, 0);
        } else {
            qw_avro_put_union(b, 1);
            if (f->npart > 0)
                qw_avro_put_block(b, f->npart);
            for (int k = 0; k < f->npart; k++) {
                const qw_ice_field_summary *s = &f->part[k];
                qw_avro_put_bool(b, s->contains_null);
                if (s->contains_nan < 0) {
                    qw_avro_put_union(b, 0);
                } else {
                    qw_avro_put_union(b, 1);
                    qw_avro_put_bool(b, s->contains_nan);
                }
                qw_avro_put_union(b, s->has_lower);
                if (s->has_lower)
                    qw_avro_put_bytes(b, s->lower, s->lower_len);
                qw_avro_put_union(b, s->has_upper);
                if (s->has_upper)
                    qw_avro_put_bytes(b, s->upper, s->upper_len);
            }
            qw_avro_put_block(b, 0);
        }
        qw_avro_put_union(b, 0); /* key_metadata */
        e = qw_avro_writer_end_record(w);
    }
    if (e == QW_OK)
        e = qw_avro_writer_finish(w, out, len);
    qw_avro_writer_destroy(w);
    return e;
}

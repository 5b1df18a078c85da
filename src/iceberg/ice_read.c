/* ice_read.c: reading manifest lists, manifests and planning a scan.
 * Files come through the generic Avro decoder as JSON; field names of both
 * format versions are accepted (added_data_files_count / added_files_count),
 * missing v1 fields take their v1 defaults (content 0, sequence numbers 0),
 * and null sequence numbers/snapshot ids are inherited from the manifest list
 * entry as the spec says. Bounds longer than QW_ICE_BOUND_MAX are dropped
 * (no pruning on them); partition strings must fit QW_ICE_NAME_MAX. */
#include <stdio.h>
#include <string.h>

#include "avro/avro_json.h"
#include "core/alloc.h"
#include "iceberg/ice_int.h"

#define MANIFESTS_AHEAD 8 /* manifests hinted ahead of the one being read */

/* v2 name k1, else the v1 name k2 */
static int64_t jint2(const json_t *o, const char *k1, const char *k2, int64_t dflt)
{
    return qw__ice_jint(o, json_object_get(o, k1) ? k1 : k2, dflt);
}

/* Grow *arr (elements of size sz) to hold n+1. */
static qw_err grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return QW_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    if (nc > SIZE_MAX / sz)
        return QW_NOMEM;
    void *p = qw_realloc(*arr, nc * sz);
    if (!p)
        return QW_NOMEM;
    *arr = p;
    *cap = nc;
    return QW_OK;
}

static qw_err hex_field(const json_t *v, uint8_t *out, size_t cap, uint16_t *len, uint8_t *has)
{
    *has = 0;
    *len = 0;
    if (json_is_null(v) || !v)
        return QW_OK;
    if (!json_is_string(v))
        return QW_CORRUPT;
    size_t n;
    qw_err e = qw_avro_hex_decode(json_string_value(v), out, cap, &n);
    if (e == QW_TOO_LARGE)
        return QW_OK; /* too long to keep: absent */
    if (e != QW_OK)
        return e;
    *len = (uint16_t)n;
    *has = 1;
    return QW_OK;
}

static qw_err list_entry(const json_t *j, qw_ice_manifest_file *f)
{
    memset(f, 0, sizeof(*f));
    const char *path = json_string_value(json_object_get(j, "manifest_path"));
    if (!path || strlen(path) >= sizeof(f->path))
        return QW_CORRUPT;
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->length = qw__ice_jint(j, "manifest_length", -1);
    f->spec_id = (int)qw__ice_jint(j, "partition_spec_id", 0);
    f->content = (int)qw__ice_jint(j, "content", 0);
    f->sequence_number = qw__ice_jint(j, "sequence_number", 0);
    f->min_sequence_number = qw__ice_jint(j, "min_sequence_number", 0);
    f->added_snapshot_id = qw__ice_jint(j, "added_snapshot_id", -1);
    f->added_files = (int32_t)jint2(j, "added_files_count", "added_data_files_count", 0);
    f->existing_files = (int32_t)jint2(j, "existing_files_count", "existing_data_files_count", 0);
    f->deleted_files = (int32_t)jint2(j, "deleted_files_count", "deleted_data_files_count", 0);
    f->added_rows = qw__ice_jint(j, "added_rows_count", 0);
    f->existing_rows = qw__ice_jint(j, "existing_rows_count", 0);
    f->deleted_rows = qw__ice_jint(j, "deleted_rows_count", 0);
    const json_t *parts = json_object_get(j, "partitions");
    if (!json_is_array(parts)) {
        f->npart = -1;
        return QW_OK;
    }
    if (json_array_size(parts) > QW_ICE_MAX_PART)
        return QW_UNSUPPORTED;
    size_t i;
    const json_t *p;
    json_array_foreach(parts, i, p)
    {
        qw_ice_field_summary *s = &f->part[i];
        s->contains_null = json_is_true(json_object_get(p, "contains_null"));
        const json_t *nan = json_object_get(p, "contains_nan");
        s->contains_nan = json_is_boolean(nan) ? json_is_true(nan) : -1;
        /* partition bounds are never dropped: a null bound means "all null" */
        size_t n;
        const json_t *lo = json_object_get(p, "lower_bound"),
                     *hi = json_object_get(p, "upper_bound");
        if (json_is_string(lo)) {
            if (qw_avro_hex_decode(json_string_value(lo), s->lower, sizeof(s->lower), &n) != QW_OK)
                return QW_UNSUPPORTED;
            s->lower_len = (uint16_t)n;
            s->has_lower = 1;
        }
        if (json_is_string(hi)) {
            if (qw_avro_hex_decode(json_string_value(hi), s->upper, sizeof(s->upper), &n) != QW_OK)
                return QW_UNSUPPORTED;
            s->upper_len = (uint16_t)n;
            s->has_upper = 1;
        }
        f->npart = (int)i + 1;
    }
    return QW_OK;
}

qw_err qw_ice_manifest_list_read(const uint8_t *data, size_t len, qw_ice_manifest_file **out,
                                 size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    qw_avro_reader *r;
    qw_err e = qw_avro_reader_open(&r, data, len, NULL, err, errlen);
    if (e != QW_OK)
        return e;
    qw_ice_manifest_file *arr = NULL;
    size_t cnt = 0, cap = 0;
    for (;;) {
        json_t *rec;
        if ((e = qw_avro_reader_next(r, &rec)) != QW_OK) {
            QW_SETERR(err, errlen, "manifest list: %s", qw_avro_reader_errmsg(r));
            break;
        }
        if (!rec)
            break;
        if ((e = grow((void **)&arr, &cap, cnt, sizeof(*arr))) == QW_OK)
            e = list_entry(rec, &arr[cnt]);
        json_decref(rec);
        if (e != QW_OK) {
            QW_SETERR(err, errlen, "manifest list entry %zu: %s", cnt, qw_err_name(e));
            break;
        }
        cnt++;
    }
    qw_avro_reader_close(r);
    if (e != QW_OK) {
        qw_free(arr);
        return e;
    }
    *out = arr;
    *n = cnt;
    return QW_OK;
}

static qw_err part_datum(const json_t *v, qw_ice_type t, qw_ice_datum *d)
{
    memset(d, 0, sizeof(*d));
    d->type = t;
    if (json_is_null(v)) {
        d->is_null = 1;
    } else if (json_is_integer(v)) {
        d->i = json_integer_value(v);
        if (t == QW_ICE_UNKNOWN)
            d->type = QW_ICE_LONG;
    } else if (json_is_boolean(v)) {
        d->i = json_is_true(v);
    } else if (json_is_real(v)) {
        d->d = json_real_value(v);
        if (t == QW_ICE_UNKNOWN)
            d->type = QW_ICE_DOUBLE;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (t == QW_ICE_DECIMAL) { /* unscaled big-endian bytes, as hex */
            qw_ice_bytes b;
            size_t n;
            if (qw_avro_hex_decode(s, b.b, 8, &n) != QW_OK || n == 0)
                return QW_UNSUPPORTED;
            b.len = (uint16_t)n;
            b.has = 1;
            return qw_ice_bound_get_long(&b, QW_ICE_DECIMAL, &d->i);
        }
        if (strlen(s) >= sizeof(d->s))
            return QW_UNSUPPORTED;
        snprintf(d->s, sizeof(d->s), "%s", s);
        if (t == QW_ICE_UNKNOWN)
            d->type = QW_ICE_STRING;
    } else {
        return QW_CORRUPT;
    }
    return QW_OK;
}

static qw_err stat_map(qw_ice_data_file *f, const json_t *arr, int which)
{
    if (!arr || json_is_null(arr))
        return QW_OK;
    if (!json_is_array(arr))
        return QW_CORRUPT;
    size_t i;
    const json_t *kv;
    json_array_foreach(arr, i, kv)
    {
        const json_t *k = json_object_get(kv, "key"), *v = json_object_get(kv, "value");
        if (!json_is_integer(k) || !v)
            return QW_CORRUPT;
        qw_ice_col_stats *c = qw_ice_data_file_col(f, (int)json_integer_value(k));
        if (!c)
            continue; /* more columns than we keep: no stats for the rest */
        if (which >= 4) {
            qw_ice_bytes *b = which == 4 ? &c->lower : &c->upper;
            qw_err e = hex_field(v, b->b, sizeof(b->b), &b->len, &b->has);
            if (e != QW_OK)
                return e;
            continue;
        }
        if (!json_is_integer(v))
            return QW_CORRUPT;
        int64_t x = json_integer_value(v);
        if (which == 0)
            c->column_size = x;
        else if (which == 1)
            c->value_count = x;
        else if (which == 2)
            c->null_count = x;
        else
            c->nan_count = x;
    }
    return QW_OK;
}

static qw_err entry(const json_t *j, const qw_ice_manifest_file *mf, const qw_ice_spec *spec,
                    const qw_ice_schema *schema, qw_ice_data_file *f)
{
    memset(f, 0, sizeof(*f));
    const json_t *df = json_object_get(j, "data_file");
    const char *path = json_string_value(json_object_get(df, "file_path"));
    const char *fmt = json_string_value(json_object_get(df, "file_format"));
    if (!json_is_integer(json_object_get(j, "status")) || !path || !fmt ||
        strlen(path) >= sizeof(f->path))
        return QW_CORRUPT;
    f->status = (int)qw__ice_jint(j, "status", 0);
    if (f->status < 0 || f->status > 2)
        return QW_CORRUPT;
    snprintf(f->path, sizeof(f->path), "%s", path);
    snprintf(f->format, sizeof(f->format), "%s", fmt);
    f->spec_id = mf->spec_id;
    f->content = (int)qw__ice_jint(df, "content", mf->content == 1 ? 1 : 0);
    f->record_count = qw__ice_jint(df, "record_count", -1);
    f->file_size_in_bytes = qw__ice_jint(df, "file_size_in_bytes", -1);
    if (f->record_count < 0 || f->file_size_in_bytes < 0)
        return QW_CORRUPT;
    /* inheritance (spec: "Sequence Number Inheritance") */
    f->snapshot_id = qw__ice_jint(j, "snapshot_id", mf->added_snapshot_id);
    int64_t inherit = f->status == QW_ICE_STATUS_ADDED ? mf->sequence_number : 0;
    f->sequence_number = qw__ice_jint(j, "sequence_number", inherit);
    f->file_sequence_number = qw__ice_jint(j, "file_sequence_number", inherit);
    const json_t *part = json_object_get(df, "partition");
    if (json_is_object(part)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)part, k, v)
        {
            if (f->npart >= QW_ICE_MAX_PART)
                return QW_UNSUPPORTED;
            qw_ice_type t = QW_ICE_UNKNOWN;
            if (spec && f->npart < spec->nfields)
                t = qw__ice_part_type(schema, &spec->fields[f->npart]);
            qw_err e = part_datum(v, t, &f->part[f->npart]);
            if (e != QW_OK)
                return e;
            f->npart++;
        }
    }
    static const char *const maps[] = {"column_sizes",     "value_counts", "null_value_counts",
                                       "nan_value_counts", "lower_bounds", "upper_bounds"};
    for (int i = 0; i < 6; i++) {
        qw_err e = stat_map(f, json_object_get(df, maps[i]), i);
        if (e != QW_OK)
            return e;
    }
    return QW_OK;
}

qw_err qw_ice_manifest_read(const uint8_t *data, size_t len, const qw_ice_manifest_file *mf,
                            const qw_ice_meta *m, qw_ice_data_file **out, size_t *n, char *err,
                            size_t errlen)
{
    *out = NULL;
    *n = 0;
    qw_ice_spec spec;
    int have_spec = m && qw_ice_meta_spec(m, mf->spec_id, &spec) == QW_OK;
    qw_avro_reader *r;
    qw_err e = qw_avro_reader_open(&r, data, len, NULL, err, errlen);
    if (e != QW_OK)
        return e;
    qw_ice_data_file *arr = NULL;
    size_t cnt = 0, cap = 0;
    for (;;) {
        json_t *rec;
        if ((e = qw_avro_reader_next(r, &rec)) != QW_OK) {
            QW_SETERR(err, errlen, "manifest %s: %s", mf->path, qw_avro_reader_errmsg(r));
            break;
        }
        if (!rec)
            break;
        if ((e = grow((void **)&arr, &cap, cnt, sizeof(*arr))) == QW_OK)
            e = entry(rec, mf, have_spec ? &spec : NULL, m ? &m->schema : NULL, &arr[cnt]);
        json_decref(rec);
        if (e != QW_OK) {
            QW_SETERR(err, errlen, "manifest %s entry %zu: %s", mf->path, cnt, qw_err_name(e));
            break;
        }
        cnt++;
    }
    qw_avro_reader_close(r);
    if (e != QW_OK) {
        qw_free(arr);
        return e;
    }
    *out = arr;
    *n = cnt;
    return QW_OK;
}

/* ---- scan ---- */

typedef struct scan_filter {
    int (*keep)(void *ctx, const qw_ice_data_file *f);
    void *ctx;
} scan_filter;

static qw_err scan_manifest(qw_fileio *io, const qw_ice_meta *m, const qw_ice_manifest_file *mf,
                            const scan_filter *sf, qw_ice_scan *s, size_t *cap, char *err,
                            size_t errlen)
{
    uint8_t *data;
    size_t len;
    qw_err e = qw_fileio_read(io, mf->path, QW__ICE_MAX_AVRO, &data, &len);
    if (e != QW_OK) {
        QW_SETERR(err, errlen, "read manifest %s: %s", mf->path, qw_err_name(e));
        return e;
    }
    if (mf->length >= 0 && (uint64_t)mf->length != len) {
        QW_SETERR(err, errlen, "manifest %s: manifest_length %lld but the file has %zu bytes",
                  mf->path, (long long)mf->length, len);
        qw_free(data);
        return QW_CORRUPT;
    }
    qw_ice_data_file *files;
    size_t n;
    e = qw_ice_manifest_read(data, len, mf, m, &files, &n, err, errlen);
    qw_free(data);
    if (e != QW_OK)
        return e;
    for (size_t i = 0; e == QW_OK && i < n; i++) {
        if (files[i].status == QW_ICE_STATUS_DELETED || (sf->keep && !sf->keep(sf->ctx, &files[i])))
            continue;
        if ((e = grow((void **)&s->files, cap, s->nfiles, sizeof(*s->files))) != QW_OK)
            break;
        s->files[s->nfiles++] = files[i];
        if (files[i].content == QW_ICE_CONTENT_DATA) {
            s->ndata_files++;
            s->data_records = qw__ice_sat_add(s->data_records, files[i].record_count);
        } else {
            s->ndelete_files++;
        }
    }
    qw_free(files);
    return e;
}

qw_err qw_ice_scan_plan(qw_fileio *io, const qw_ice_meta *m, int64_t snapshot_id, qw_ice_scan *out,
                        char *err, size_t errlen)
{
    return qw_ice_scan_plan_where(io, m, snapshot_id, NULL, NULL, out, err, errlen);
}

qw_err qw_ice_scan_plan_where(qw_fileio *io, const qw_ice_meta *m, int64_t snapshot_id,
                              int (*keep)(void *ctx, const qw_ice_data_file *f), void *ctx,
                              qw_ice_scan *out, char *err, size_t errlen)
{
    scan_filter sf = {keep, ctx};
    memset(out, 0, sizeof(*out));
    out->snapshot_id = snapshot_id < 0 ? m->current_snapshot_id : snapshot_id;
    if (out->snapshot_id < 0)
        return QW_OK;
    const json_t *snap = qw__ice_snapshot_json(m, out->snapshot_id);
    if (!snap) {
        QW_SETERR(err, errlen, "no snapshot %lld", (long long)out->snapshot_id);
        return QW_NOT_FOUND;
    }
    qw_ice_manifest_file *mfs = NULL;
    size_t nmf = 0;
    qw_err e = QW_OK;
    const char *list = json_string_value(json_object_get(snap, "manifest-list"));
    if (list) {
        uint8_t *data;
        size_t len;
        e = qw_fileio_read(io, list, QW__ICE_MAX_AVRO, &data, &len);
        if (e != QW_OK) {
            QW_SETERR(err, errlen, "read manifest list %s: %s", list, qw_err_name(e));
            return e;
        }
        e = qw_ice_manifest_list_read(data, len, &mfs, &nmf, err, errlen);
        qw_free(data);
        if (e != QW_OK)
            return e;
    } else { /* v1: "manifests" array of paths */
        const json_t *arr = json_object_get(snap, "manifests");
        nmf = json_array_size(arr);
        mfs = nmf ? qw_calloc(nmf, sizeof(*mfs)) : NULL;
        if (nmf && !mfs)
            return QW_NOMEM;
        for (size_t i = 0; i < nmf; i++) {
            const char *p = json_string_value(json_array_get(arr, i));
            if (!p || strlen(p) >= sizeof(mfs[i].path)) {
                qw_free(mfs);
                return QW_CORRUPT;
            }
            snprintf(mfs[i].path, sizeof(mfs[i].path), "%s", p);
            mfs[i].length = -1;
            mfs[i].added_snapshot_id = out->snapshot_id;
        }
    }
    size_t cap = 0, hinted = 0;
    for (size_t i = 0; e == QW_OK && i < nmf; i++) {
        /* read-ahead on object stores (qw_fileio_prefetch): the next
         * manifests whole, one byte more than their length (a GET that
         * comes back short is known to hold the whole object) */
        for (; hinted < nmf && hinted <= i + MANIFESTS_AHEAD; hinted++)
            if (mfs[hinted].length > 0 && mfs[hinted].length < QW__ICE_MAX_AVRO)
                (void)qw_fileio_prefetch(io, mfs[hinted].path, 0, (size_t)mfs[hinted].length + 1);
        e = scan_manifest(io, m, &mfs[i], &sf, out, &cap, err, errlen);
    }
    out->nmanifests = nmf;
    qw_free(mfs);
    if (e != QW_OK)
        qw_ice_scan_free(out);
    return e;
}

void qw_ice_scan_free(qw_ice_scan *s)
{
    qw_free(s->files);
    s->files = NULL;
    s->nfiles = s->ndata_files = s->ndelete_files = 0;
    s->data_records = 0;
}

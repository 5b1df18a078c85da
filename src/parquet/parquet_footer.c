/* parquet_footer.c: opening a Parquet file for reading (parquet_read.h):
 * magic and FileMetaData (schema, row groups, column chunk locations),
 * from memory or through fileio with ranged reads, footer first. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "parquet/parquet_int.h"
#include "parquet/thrift.h"

#define MAX_COLS QW__PQR_MAX_COLS
#define MAX_RG QW__PQR_MAX_RG

/* ---- footer ---- */

static void parse_logical(qw_tr *t, qw_pqr_field *f)
{
    qw_tr_struct_begin(t);
    int16_t id;
    int ty;
    while (!t->err && (ty = qw_tr_field(t, &id)) != QW_TT_STOP) {
        if (ty != QW_TT_STRUCT) {
            qw_tr_skip(t, ty);
            continue;
        }
        f->logical = id;
        qw_tr_struct_begin(t);
        int16_t k;
        int kt;
        while (!t->err && (kt = qw_tr_field(t, &k)) != QW_TT_STOP) {
            if (id == 5 && k == 1 && kt == QW_TT_I32)
                f->scale = qw_tr_i32(t);
            else if (id == 5 && k == 2 && kt == QW_TT_I32)
                f->precision = qw_tr_i32(t);
            else if (id == 8 && k == 2 && kt == QW_TT_STRUCT) { /* TimeUnit union */
                qw_tr_struct_begin(t);
                int16_t u;
                int ut;
                while (!t->err && (ut = qw_tr_field(t, &u)) != QW_TT_STOP) {
                    f->ts_unit = u;
                    qw_tr_skip(t, ut);
                }
                qw_tr_struct_end(t);
            } else
                qw_tr_skip(t, kt);
        }
        qw_tr_struct_end(t);
    }
    qw_tr_struct_end(t);
}

static qw_err parse_schema(qw_pqr *r, qw_tr *t)
{
    size_t n;
    int et = qw_tr_list(t, &n);
    if (t->err || et != QW_TT_STRUCT || n < 1 || n > MAX_COLS + 1)
        return qw__pqr_bad(r, QW_CORRUPT, "bad schema list");
    r->f = qw_calloc(n, sizeof *r->f);
    if (!r->f)
        return QW_NOMEM;
    r->ncols = 0;
    for (size_t i = 0; i < n && !t->err; i++) {
        qw_pqr_field f = {.converted = -1, .phys = -1};
        int nchildren = -1, rep = 0;
        qw_tr_struct_begin(t);
        int16_t id;
        int ty;
        while (!t->err && (ty = qw_tr_field(t, &id)) != QW_TT_STOP) {
            if (id == 1 && ty == QW_TT_I32)
                f.phys = qw_tr_i32(t);
            else if (id == 2 && ty == QW_TT_I32)
                f.type_length = qw_tr_i32(t);
            else if (id == 3 && ty == QW_TT_I32)
                rep = qw_tr_i32(t);
            else if (id == 4 && ty == QW_TT_BINARY) {
                size_t ln;
                const uint8_t *s = qw_tr_binary(t, &ln);
                snprintf(f.name, sizeof f.name, "%.*s", (int)(ln < 127 ? ln : 127),
                         (const char *)s);
            } else if (id == 5 && ty == QW_TT_I32)
                nchildren = qw_tr_i32(t);
            else if (id == 6 && ty == QW_TT_I32)
                f.converted = qw_tr_i32(t);
            else if (id == 7 && ty == QW_TT_I32)
                f.scale = qw_tr_i32(t);
            else if (id == 8 && ty == QW_TT_I32)
                f.precision = qw_tr_i32(t);
            else if (id == 9 && ty == QW_TT_I32)
                f.field_id = qw_tr_i32(t);
            else if (id == 10 && ty == QW_TT_STRUCT)
                parse_logical(t, &f);
            else
                qw_tr_skip(t, ty);
        }
        qw_tr_struct_end(t);
        if (i == 0) {
            if (nchildren < 0)
                return qw__pqr_bad(r, QW_CORRUPT, "schema root without children");
            if ((size_t)nchildren != n - 1)
                return qw__pqr_bad(r, QW_UNSUPPORTED, "nested schema (only flat schemas are read)");
            continue;
        }
        if (nchildren > 0 || rep == 2)
            return qw__pqr_bad(r, QW_UNSUPPORTED, "nested or repeated column %s", f.name);
        if (f.phys < 0 || f.phys > 7)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad physical type", f.name);
        f.required = rep == 0;
        r->f[r->ncols++] = f;
    }
    return t->err ? qw__pqr_bad(r, QW_CORRUPT, "truncated schema") : QW_OK;
}

static void parse_chunk_meta(qw_tr *t, qw__pqr_chunk *c)
{
    qw_tr_struct_begin(t);
    int16_t id;
    int ty;
    while (!t->err && (ty = qw_tr_field(t, &id)) != QW_TT_STOP) {
        if (id == 4 && ty == QW_TT_I32)
            c->codec = qw_tr_i32(t);
        else if (id == 5 && ty == QW_TT_I64)
            c->num_values = qw_tr_varint_i64(t);
        else if (id == 7 && ty == QW_TT_I64)
            c->total_comp = qw_tr_varint_i64(t);
        else if (id == 9 && ty == QW_TT_I64)
            c->data_off = qw_tr_varint_i64(t);
        else if (id == 11 && ty == QW_TT_I64)
            c->dict_off = qw_tr_varint_i64(t);
        else
            qw_tr_skip(t, ty);
    }
    qw_tr_struct_end(t);
}

static qw_err parse_row_groups(qw_pqr *r, qw_tr *t)
{
    size_t n;
    int et = qw_tr_list(t, &n);
    if (t->err || (n && et != QW_TT_STRUCT) || n > MAX_RG)
        return qw__pqr_bad(r, QW_CORRUPT, "bad row group list");
    r->nrg = n;
    r->rg_rows = qw_calloc(n ? n : 1, sizeof *r->rg_rows);
    size_t nch = n * r->ncols;
    r->ch = qw_calloc(nch ? nch : 1, sizeof *r->ch);
    if (!r->rg_rows || !r->ch)
        return QW_NOMEM;
    for (size_t g = 0; g < n && !t->err; g++) {
        qw_tr_struct_begin(t);
        int16_t id;
        int ty;
        while (!t->err && (ty = qw_tr_field(t, &id)) != QW_TT_STOP) {
            if (id == 1 && ty == QW_TT_LIST) {
                size_t nc;
                int ct = qw_tr_list(t, &nc);
                if (ct != QW_TT_STRUCT || nc != r->ncols)
                    return qw__pqr_bad(r, QW_CORRUPT,
                                       "row group %zu: %zu column chunks for %zu columns", g, nc,
                                       r->ncols);
                for (size_t c = 0; c < nc && !t->err; c++) {
                    qw__pqr_chunk *ch = &r->ch[g * r->ncols + c];
                    ch->dict_off = -1;
                    qw_tr_struct_begin(t);
                    int16_t k;
                    int kt;
                    while (!t->err && (kt = qw_tr_field(t, &k)) != QW_TT_STOP) {
                        if (k == 3 && kt == QW_TT_STRUCT)
                            parse_chunk_meta(t, ch);
                        else if (k == 1 && kt == QW_TT_BINARY) {
                            size_t ln;
                            qw_tr_binary(t, &ln);
                            if (ln)
                                return qw__pqr_bad(r, QW_UNSUPPORTED,
                                                   "column chunks in other files");
                        } else
                            qw_tr_skip(t, kt);
                    }
                    qw_tr_struct_end(t);
                }
            } else if (id == 3 && ty == QW_TT_I64) {
                int64_t v = qw_tr_varint_i64(t);
                r->rg_rows[g] = v < 0 ? 0 : (uint64_t)v;
            } else
                qw_tr_skip(t, ty);
        }
        qw_tr_struct_end(t);
    }
    return t->err ? qw__pqr_bad(r, QW_CORRUPT, "truncated row groups") : QW_OK;
}

/* foot: the fl bytes of FileMetaData (checked against the file by the
 * callers). */
static qw_err parse_footer(qw_pqr *r, const uint8_t *foot, uint32_t fl)
{
    qw_tr t;
    qw_tr_init(&t, foot, fl);
    int16_t id;
    int ty, have_schema = 0, have_rg = 0;
    qw_err e = QW_OK;
    while (e == QW_OK && !t.err && (ty = qw_tr_field(&t, &id)) != QW_TT_STOP) {
        if ((id == 2 && ty == QW_TT_LIST && have_schema) ||
            (id == 4 && ty == QW_TT_LIST && have_rg))
            return qw__pqr_bad(r, QW_CORRUPT, "duplicate footer field %d", id);
        if (id == 2 && ty == QW_TT_LIST) {
            e = parse_schema(r, &t);
            have_schema = 1;
        } else if (id == 4 && ty == QW_TT_LIST) {
            if (!have_schema)
                return qw__pqr_bad(r, QW_CORRUPT, "row groups before the schema");
            e = parse_row_groups(r, &t);
            have_rg = 1;
        } else if (id == 3 && ty == QW_TT_I64) {
            int64_t v = qw_tr_varint_i64(&t);
            r->num_rows = v < 0 ? 0 : (uint64_t)v;
        } else if (id == 6 && ty == QW_TT_BINARY) {
            size_t ln;
            const uint8_t *s = qw_tr_binary(&t, &ln);
            snprintf(r->created_by, sizeof r->created_by, "%.*s", (int)(ln < 127 ? ln : 127),
                     (const char *)s);
        } else
            qw_tr_skip(&t, ty);
    }
    if (e != QW_OK)
        return e;
    if (t.err || !have_schema || !have_rg)
        return qw__pqr_bad(r, QW_CORRUPT, "truncated or incomplete footer");
    return QW_OK;
}

qw_err qw_pqr_open_mem(qw_pqr **out, const uint8_t *data, size_t len, char *errbuf, size_t errlen)
{
    qw_pqr *r = qw_calloc(1, sizeof *r);
    if (!r)
        return QW_NOMEM;
    r->s = &r->own_s;
    r->d = data;
    r->len = len;
    uint32_t fl = 0;
    qw_err e = QW_OK;
    if (len < 12 || memcmp(data, "PAR1", 4) != 0 || memcmp(data + len - 4, "PAR1", 4) != 0)
        e = qw__pqr_bad(r, QW_CORRUPT, "not a Parquet file (magic)");
    else if (memcpy(&fl, data + len - 8, 4), (uint64_t)fl + 12 > len)
        e = qw__pqr_bad(r, QW_CORRUPT, "footer length %u beyond the file", fl);
    else
        e = parse_footer(r, data + len - 8 - fl, fl);
    if (e != QW_OK) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", r->err[0] ? r->err : qw_strerror(e));
        qw_pqr_close(r);
        return e;
    }
    *out = r;
    return QW_OK;
}

/* Footer first: the tail (up to TAIL bytes, usually the whole footer),
 * then the rest of the footer if it is longer; column chunks are read when
 * asked for (qw_pqr_read). */
#define TAIL ((size_t)64 << 10)

qw_err qw_pqr_open_io(qw_pqr **out, qw_fileio *io, const char *uri, size_t max_bytes, char *errbuf,
                      size_t errlen)
{
    *out = NULL;
    qw_fileio_info fi;
    qw_err e = qw_fileio_stat(io, uri, &fi);
    uint64_t size = fi.size;
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "%s: %s", uri, qw_strerror(e));
        return e;
    }
    if (size > max_bytes) {
        QW_SETERR(errbuf, errlen, "%s: larger than %zu bytes", uri, max_bytes);
        return QW_TOO_LARGE;
    }
    qw_pqr *r = qw_calloc(1, sizeof *r);
    if (!r)
        return QW_NOMEM;
    r->s = &r->own_s;
    r->io = io;
    r->len = (size_t)size;
    if ((size_t)snprintf(r->uri, sizeof r->uri, "%s", uri) >= sizeof r->uri) {
        qw_pqr_close(r);
        return QW_TOO_LARGE;
    }
    uint8_t head[4];
    size_t tl = r->len < TAIL ? r->len : TAIL;
    if (r->len < 12)
        e = qw__pqr_bad(r, QW_CORRUPT, "not a Parquet file (magic)");
    else if (!(r->own = qw_malloc(tl)))
        e = QW_NOMEM;
    else if ((e = qw_fileio_read_range(io, uri, 0, head, 4)) != QW_OK ||
             (e = qw_fileio_read_range(io, uri, r->len - tl, r->own, tl)) != QW_OK)
        e = qw__pqr_bad(r, e == QW_CORRUPT ? QW_IO : e, "%s: short read", uri);
    else if (memcmp(head, "PAR1", 4) != 0 || memcmp(r->own + tl - 4, "PAR1", 4) != 0)
        e = qw__pqr_bad(r, QW_CORRUPT, "not a Parquet file (magic)");
    uint32_t fl = 0;
    if (e == QW_OK) {
        memcpy(&fl, r->own + tl - 8, 4);
        if ((uint64_t)fl + 12 > r->len)
            e = qw__pqr_bad(r, QW_CORRUPT, "footer length %u beyond the file", fl);
    }
    if (e == QW_OK && (size_t)fl + 8 > tl) { /* a footer longer than the tail */
        qw_free(r->own);
        tl = (size_t)fl + 8;
        if (!(r->own = qw_malloc(tl)))
            e = QW_NOMEM;
        else if ((e = qw_fileio_read_range(io, uri, r->len - tl, r->own, tl)) != QW_OK)
            e = qw__pqr_bad(r, e == QW_CORRUPT ? QW_IO : e, "%s: short read", uri);
    }
    if (e == QW_OK)
        e = parse_footer(r, r->own + tl - 8 - fl, fl);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "%s", r->err[0] ? r->err : qw_strerror(e));
        qw_pqr_close(r);
        return e;
    }
    qw_free(r->own); /* the footer is parsed; chunks are read on demand */
    r->own = NULL;
    *out = r;
    return QW_OK;
}

qw_err qw_pqr_open(qw_pqr **out, const char *path, size_t max_bytes, char *errbuf, size_t errlen)
{
    return qw_pqr_open_io(out, NULL, path, max_bytes, errbuf, errlen);
}

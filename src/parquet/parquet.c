/* parquet.c: Parquet writer (see parquet.h; format: apache/parquet-format
 * parquet.thrift and Encodings.md). */
#define QW_MODULE "parquet"
#include "parquet/parquet.h"

#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "parquet/parquet_int.h"
#include "parquet/thrift.h"

/* ---- context ---- */

qw_err qw_pq_ctx_new(qw_pq_ctx **out)
{
    qw_pq_ctx *x = qw_calloc(1, sizeof *x);
    if (!x)
        return QW_NOMEM;
    *out = x;
    return QW_OK;
}

void qw_pq_ctx_free(qw_pq_ctx *x)
{
    if (!x)
        return;
    ZSTD_freeCCtx(x->z);
    qw_tbuf_free(&x->page);
    qw_tbuf_free(&x->comp);
    qw_tbuf_free(&x->hdr);
    qw_free(x->codes);
    qw_free(x->lev);
    qw_free(x->slots);
    qw_free(x->first);
    qw_free(x->used);
    qw_free(x->dvals);
    qw_free(x);
}

/* ---- file ---- */

qw_err qw__pq_fail(qw_pq_writer *w, qw_err e, const char *what)
{
    w->failed = 1;
    QW_SETERR(w->errbuf, w->errlen, "%s: %s: %s", w->path, what, qw_strerror(e));
    return e;
}

/* Appends through the fileio stream (buffered there in large chunks). */
int qw__pq_write_all(qw_pq_writer *w, const void *p, size_t n)
{
    if (qw_fileio_writer_append(w->fw, p, n) != QW_OK)
        return -1;
    w->off += n;
    return 0;
}

static void free_writer(qw_pq_writer *w)
{
    for (size_t i = 0; i < w->ncols; i++) {
        qw__pq_col *c = &w->c[i];
        qw_free(c->iv);
        qw_free(c->dv);
        qw_free(c->soff);
        qw_free(c->valid);
        qw_tbuf_free(&c->sb);
    }
    qw_tbuf_free(&w->rgmeta);
    if (w->own_ctx)
        qw_pq_ctx_free(w->x);
    qw_free(w);
}

qw_err qw_pq_writer_open(qw_pq_writer **out, const char *path, const qw_pq_column *cols,
                         size_t ncols, const qw_pq_opts *o, char *errbuf, size_t errlen)
{
    if (ncols == 0 || ncols > QW_PQ_MAX_COLS) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "1..%d columns", QW_PQ_MAX_COLS);
        return QW_INVAL;
    }
    qw_pq_writer *w = qw_calloc(1, sizeof *w);
    if (!w)
        return QW_NOMEM;
    w->errbuf = errbuf;
    w->errlen = errlen;
    w->o = o ? *o : (qw_pq_opts){0};
    if (!w->o.row_group_bytes)
        w->o.row_group_bytes = (size_t)128 << 20;
    if (!w->o.page_bytes)
        w->o.page_bytes = (size_t)1 << 20;
    if (!w->o.zstd_level)
        w->o.zstd_level = 3;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        qw__pq_col *c = &w->c[i];
        c->def = cols[i];
        snprintf(c->name, sizeof c->name, "%s", cols[i].name ? cols[i].name : "");
        c->def.name = c->name;
        c->phys = qw__pq_phys(cols[i].type);
        c->st.field_id = cols[i].field_id;
        if (c->phys < 0 || !c->name[0]) {
            if (errbuf && errlen)
                snprintf(errbuf, errlen, "column %zu: bad type or empty name", i);
            qw_free(w);
            return QW_INVAL;
        }
    }
    if (w->o.ctx) {
        w->x = w->o.ctx;
    } else {
        if (qw_pq_ctx_new(&w->x) != QW_OK) {
            qw_free(w);
            return QW_NOMEM;
        }
        w->own_ctx = 1;
    }
    if (w->o.compression == QW_PQ_ZSTD && !w->x->z && !(w->x->z = ZSTD_createCCtx())) {
        free_writer(w);
        return QW_NOMEM;
    }
    qw_err oe =
        qw_fileio_writer_open(&w->fw, w->o.io, path, w->o.defer_sync ? QW_FILEIO_DEFER_SYNC : 0);
    if (oe != QW_OK) {
        QW_SETERR(errbuf, errlen, "%s: cannot create: %s", path, qw_strerror(oe));
        free_writer(w);
        return oe;
    }
    if (qw__pq_write_all(w, "PAR1", 4) != 0) {
        qw_err e = qw__pq_fail(w, QW_IO, "write");
        qw_pq_writer_abort(w);
        return e;
    }
    *out = w;
    return QW_OK;
}

/* ---- single-value appending ---- */

static qw_err slot(qw_pq_writer *w, size_t ci, qw__pq_col **out)
{
    if (w->failed || ci >= w->ncols)
        return QW_INVAL;
    qw__pq_col *c = &w->c[ci];
    if (c->got)
        return QW_INVAL;         /* two values for one row */
    if (w->rows + 1 > w->rcap) { /* grow every column: one capacity for all */
        size_t nc = w->rcap ? w->rcap * 2 : 1024;
        for (size_t i = 0; i < w->ncols; i++) {
            qw__pq_col *k = &w->c[i];
            size_t cap;
            cap = w->rcap;
            if (qw__pq_grow(&k->valid, &cap, nc, 1))
                return QW_NOMEM;
            cap = w->rcap;
            if (k->phys == QW_PQ_PHYS_DOUBLE ? qw__pq_grow(&k->dv, &cap, nc, sizeof *k->dv)
                : k->phys == QW_PQ_PHYS_BYTE_ARRAY
                    ? qw__pq_grow(&k->soff, &cap, nc + 1, sizeof *k->soff)
                    : qw__pq_grow(&k->iv, &cap, nc, sizeof *k->iv))
                return QW_NOMEM;
        }
        w->rcap = nc;
    }
    *out = c;
    return QW_OK;
}

static void took(qw_pq_writer *w, qw__pq_col *c, size_t bytes)
{
    c->valid[w->rows] = 1;
    c->got = 1;
    w->est += bytes;
}

static qw_err put_int(qw_pq_writer *w, size_t ci, int64_t v, int want_phys)
{
    qw__pq_col *c;
    qw_err e = slot(w, ci, &c);
    if (e != QW_OK)
        return e;
    if (c->phys != want_phys)
        return QW_INVAL;
    if (c->def.type == QW_PQ_DATE || c->def.type == QW_PQ_INT32)
        if (v < INT32_MIN || v > INT32_MAX)
            return QW_INVAL;
    if (c->def.type == QW_PQ_DECIMAL_18_8 &&
        (v > 999999999999999999LL || v < -999999999999999999LL))
        return QW_INVAL; /* does not fit decimal(18, 8) */
    c->iv[w->rows] = v;
    took(w, c, 8);
    return QW_OK;
}

qw_err qw_pq_put_i32(qw_pq_writer *w, size_t ci, int32_t v)
{
    return put_int(w, ci, v, QW_PQ_PHYS_INT32);
}

qw_err qw_pq_put_i64(qw_pq_writer *w, size_t ci, int64_t v)
{
    if (ci < w->ncols && w->c[ci].phys == QW_PQ_PHYS_INT32)
        return put_int(w, ci, v, QW_PQ_PHYS_INT32);
    if (ci < w->ncols && w->c[ci].phys == QW_PQ_PHYS_FLBA) /* DECIMAL(38, 8): any int64 fits */
        return put_int(w, ci, v, QW_PQ_PHYS_FLBA);
    return put_int(w, ci, v, QW_PQ_PHYS_INT64);
}

qw_err qw_pq_put_bool(qw_pq_writer *w, size_t ci, int v)
{
    return put_int(w, ci, v ? 1 : 0, QW_PQ_PHYS_BOOLEAN);
}

qw_err qw_pq_put_f64(qw_pq_writer *w, size_t ci, double v)
{
    qw__pq_col *c;
    qw_err e = slot(w, ci, &c);
    if (e != QW_OK)
        return e;
    if (c->phys != QW_PQ_PHYS_DOUBLE)
        return QW_INVAL;
    c->dv[w->rows] = v;
    took(w, c, 8);
    return QW_OK;
}

qw_err qw_pq_put_str(qw_pq_writer *w, size_t ci, const char *s, size_t n)
{
    qw__pq_col *c;
    qw_err e = slot(w, ci, &c);
    if (e != QW_OK)
        return e;
    if (c->phys != QW_PQ_PHYS_BYTE_ARRAY || n > (1u << 30))
        return QW_INVAL;
    if (w->rows == 0)
        c->sb.n = 0;
    c->soff[w->rows] = (uint32_t)c->sb.n;
    qw_tbuf_put(&c->sb, s, n);
    if (c->sb.oom || c->sb.n > UINT32_MAX - 1) {
        c->sb.oom = 0;
        c->sb.n = c->soff[w->rows];
        return QW_NOMEM;
    }
    c->soff[w->rows + 1] = (uint32_t)c->sb.n;
    took(w, c, n + 4);
    return QW_OK;
}

qw_err qw_pq_put_null(qw_pq_writer *w, size_t ci)
{
    qw__pq_col *c;
    qw_err e = slot(w, ci, &c);
    if (e != QW_OK)
        return e;
    if (c->def.required)
        return QW_INVAL;
    c->valid[w->rows] = 0;
    if (c->phys == QW_PQ_PHYS_BYTE_ARRAY) {
        if (w->rows == 0)
            c->sb.n = 0;
        c->soff[w->rows] = c->soff[w->rows + 1] = (uint32_t)c->sb.n;
    } else if (c->phys == QW_PQ_PHYS_DOUBLE) {
        c->dv[w->rows] = 0;
    } else {
        c->iv[w->rows] = 0;
    }
    c->got = 1;
    return QW_OK;
}

static qw_err flush_buffered(qw_pq_writer *w);

qw_err qw_pq_end_row(qw_pq_writer *w)
{
    if (w->failed)
        return QW_INVAL;
    int ok = 1;
    for (size_t i = 0; i < w->ncols; i++)
        ok &= w->c[i].got;
    for (size_t i = 0; i < w->ncols; i++) {
        qw__pq_col *c = &w->c[i];
        if (!ok && c->got && c->phys == QW_PQ_PHYS_BYTE_ARRAY)
            c->sb.n = c->soff[w->rows]; /* discard the partial row */
        c->got = 0;
    }
    if (!ok)
        return QW_INVAL;
    w->rows++;
    if (w->est >= w->o.row_group_bytes || w->rows >= INT32_MAX - 1)
        return flush_buffered(w);
    return QW_OK;
}

static qw_err flush_buffered(qw_pq_writer *w)
{
    if (w->rows == 0)
        return QW_OK;
    qw_pq_vec v[QW_PQ_MAX_COLS];
    memset(v, 0, w->ncols * sizeof v[0]);
    for (size_t i = 0; i < w->ncols; i++) {
        qw__pq_col *c = &w->c[i];
        v[i].i64 = c->iv;
        v[i].f64 = c->dv;
        v[i].valid = c->def.required ? NULL : c->valid;
        v[i].soff = c->soff;
        v[i].sbytes = c->sb.b;
    }
    qw_err e = qw__pq_write_group(w, v, w->rows);
    if (e != QW_OK) {
        w->failed = 1;
        return e;
    }
    w->rows = 0;
    w->est = 0;
    for (size_t i = 0; i < w->ncols; i++)
        w->c[i].sb.n = 0;
    return QW_OK;
}

qw_err qw_pq_write_rows(qw_pq_writer *w, const qw_pq_vec *cols, size_t n)
{
    if (w->failed)
        return QW_INVAL;
    qw_err e = flush_buffered(w);
    if (e != QW_OK)
        return e;
    if (n == 0)
        return QW_OK;
    size_t bpr = 0; /* bytes per row, for the row-group bound */
    for (size_t i = 0; i < w->ncols; i++) {
        const qw__pq_col *c = &w->c[i];
        if (c->phys == QW_PQ_PHYS_BYTE_ARRAY)
            bpr += cols[i].code   ? 1
                   : cols[i].soff ? 4 + (cols[i].soff[n] - cols[i].soff[0]) / n
                                  : 4;
        else
            bpr += c->phys == QW_PQ_PHYS_INT32     ? 4
                   : c->phys == QW_PQ_PHYS_BOOLEAN ? 1
                   : c->phys == QW_PQ_PHYS_FLBA    ? QW_PQ_DEC38_BYTES
                                                   : 8;
    }
    size_t per = w->o.row_group_bytes / (bpr ? bpr : 1);
    per = per < 1 ? 1 : per > INT32_MAX - 1 ? INT32_MAX - 1 : per;
    qw_pq_vec sh[QW_PQ_MAX_COLS];
    for (size_t at = 0; at < n;) {
        size_t k = n - at < per ? n - at : per;
        for (size_t i = 0; i < w->ncols; i++) {
            const qw_pq_vec *v = &cols[i];
            sh[i] = *v;
            sh[i].i64 = v->i64 ? v->i64 + at : NULL;
            sh[i].i128 = v->i128 ? v->i128 + at : NULL;
            sh[i].f64 = v->f64 ? v->f64 + at : NULL;
            sh[i].valid = v->valid ? v->valid + at : NULL;
            sh[i].code = v->code ? v->code + at : NULL;
            sh[i].soff = v->soff ? v->soff + at : NULL;
        }
        e = qw__pq_write_group(w, sh, k);
        if (e != QW_OK) {
            w->failed = 1;
            return e;
        }
        at += k;
    }
    return QW_OK;
}

/* ---- closing ---- */

void qw_pq_writer_abort(qw_pq_writer *w)
{
    if (!w)
        return;
    qw_fileio_writer_abort(w->fw);
    w->fw = NULL;
    free_writer(w);
}

qw_err qw_pq_writer_close(qw_pq_writer *w, qw_pq_file_stats *out)
{
    qw_err e = w->failed ? QW_IO : flush_buffered(w);
    qw_tbuf f = {0};
    if (e == QW_OK) {
        qw_tw t;
        qw_tw_init(&t, &f);
        qw_tw_i32(&t, 1, 2);
        qw_tw_list_begin(&t, 2, QW_TT_STRUCT, w->ncols + 1);
        qw_tw_elem_struct_begin(&t);
        qw_tw_string(&t, 4, "schema");
        qw_tw_i32(&t, 5, (int32_t)w->ncols);
        qw_tw_struct_end(&t);
        for (size_t i = 0; i < w->ncols; i++)
            qw__pq_schema_element(&t, &w->c[i]);
        qw_tw_i64(&t, 3, (int64_t)w->total_rows);
        qw_tw_list_begin(&t, 4, QW_TT_STRUCT, w->nrg);
        qw_tbuf_put(&f, w->rgmeta.b, w->rgmeta.n);
        t.last[0] = 4;
        qw_tw_string(&t, 6, "quotewatch version 0.1.0");
        qw_tw_list_begin(&t, 7, QW_TT_STRUCT, w->ncols);
        for (size_t i = 0; i < w->ncols; i++) {
            qw_tw_elem_struct_begin(&t);
            qw_tw_struct_begin(&t, 1);
            qw_tw_struct_end(&t);
            qw_tw_struct_end(&t);
        }
        qw_tw_stop(&t);
        uint8_t tail[8];
        uint32_t fl = (uint32_t)f.n;
        memcpy(tail, &fl, 4);
        memcpy(tail + 4, "PAR1", 4);
        if (f.oom)
            e = QW_NOMEM;
        else if (qw__pq_write_all(w, f.b, f.n) != 0 || qw__pq_write_all(w, tail, 8) != 0)
            e = qw__pq_fail(w, QW_IO, "write footer");
    }
    qw_tbuf_free(&f);
    if (e == QW_OK) {
        qw_err ce = qw_fileio_writer_commit(w->fw); /* frees the stream */
        w->fw = NULL;
        if (ce != QW_OK)
            e = qw__pq_fail(w, ce, "commit");
    } else {
        qw_fileio_writer_abort(w->fw);
        w->fw = NULL;
    }
    if (e == QW_OK && out) {
        memset(out, 0, sizeof *out);
        out->rows = w->total_rows;
        out->file_bytes = w->off;
        out->row_groups = w->nrg;
        out->ncols = w->ncols;
        for (size_t i = 0; i < w->ncols; i++)
            out->col[i] = w->c[i].st;
    }
    free_writer(w);
    return e;
}

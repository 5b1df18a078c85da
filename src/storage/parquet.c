/* parquet.c: Parquet writer (see parquet.h; format: apache/parquet-format
 * parquet.thrift and Encodings.md). */
#define QW_MODULE "parquet"
#include "storage/parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "storage/parquet_int.h"
#include "storage/thrift.h"



struct qw_pq_writer {
    int fd;
    char path[4096];
    qw_pq_opts o;
    size_t ncols;
    qw__pq_col c[QW_PQ_MAX_COLS];
    size_t rows;          /* in the current row group */
    uint64_t total_rows;
    uint64_t off;         /* file offset */
    size_t est;           /* buffered bytes estimate */
    qw_tbuf page, comp, hdr, rgmeta; /* scratch; rgmeta: serialized RowGroups */
    size_t nrg;
    ZSTD_CCtx *z;
    int failed;
    char *errbuf;
    size_t errlen;
};

static qw_err fail(qw_pq_writer *w, qw_err e, const char *what)
{
    w->failed = 1;
    if (w->errbuf && w->errlen)
        snprintf(w->errbuf, w->errlen, "%s: %s%s%s", w->path, what, errno ? ": " : "",
                 errno ? strerror(errno) : "");
    return e;
}

static int write_all(qw_pq_writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += k;
        n -= (size_t)k;
        w->off += (uint64_t)k;
    }
    return 0;
}

qw_err qw_pq_writer_open(qw_pq_writer **out, const char *path, const qw_pq_column *cols, size_t ncols,
                         const qw_pq_opts *o, char *errbuf, size_t errlen)
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
    if (w->o.compression == QW_COMP_ZSTD && !(w->z = ZSTD_createCCtx())) {
        qw_free(w);
        return QW_NOMEM;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        ZSTD_freeCCtx(w->z);
        qw_free(w);
        return QW_IO;
    }
    if (write_all(w, "PAR1", 4) != 0) {
        qw_err e = fail(w, QW_IO, "write");
        qw_pq_writer_abort(w);
        return e;
    }
    *out = w;
    return QW_OK;
}

/* ---- appending ---- */

static qw_err slot(qw_pq_writer *w, size_t ci, qw__pq_col **out)
{
    if (w->failed || ci >= w->ncols)
        return QW_INVAL;
    qw__pq_col *c = &w->c[ci];
    if (c->got)
        return QW_INVAL; /* two values for one row */
    if (w->rows + 1 > c->vcap) {
        size_t nc = c->vcap ? c->vcap * 2 : 1024;
        uint8_t *nv = qw_realloc(c->valid, nc);
        if (!nv)
            return QW_NOMEM;
        c->valid = nv;
        c->vcap = nc;
    }
    if (c->nvals + 1 > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        if (c->phys == QW_PQ_PHYS_DOUBLE) {
            double *nd = qw_realloc(c->dv, nc * sizeof *nd);
            if (!nd)
                return QW_NOMEM;
            c->dv = nd;
        } else if (c->phys == QW_PQ_PHYS_BYTE_ARRAY) {
            uint32_t *no = qw_realloc(c->soff, (nc + 1) * sizeof *no);
            if (!no)
                return QW_NOMEM;
            c->soff = no;
        } else {
            int64_t *ni = qw_realloc(c->iv, nc * sizeof *ni);
            if (!ni)
                return QW_NOMEM;
            c->iv = ni;
        }
        c->cap = nc;
    }
    *out = c;
    return QW_OK;
}

static void took(qw_pq_writer *w, qw__pq_col *c, size_t bytes)
{
    c->valid[w->rows] = 1;
    c->nvals++;
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
    if (c->def.type == QW_PQ_DECIMAL_18_8 && (v > 999999999999999999LL || v < -999999999999999999LL))
        return QW_INVAL; /* does not fit decimal(18, 8) */
    c->iv[c->nvals] = v;
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
    c->dv[c->nvals] = v;
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
    if (c->nvals == 0)
        c->sb.n = 0;
    c->soff[c->nvals] = (uint32_t)c->sb.n;
    qw_tbuf_put(&c->sb, s, n);
    if (c->sb.oom || c->sb.n > UINT32_MAX - 1)
        return QW_NOMEM;
    c->soff[c->nvals + 1] = (uint32_t)c->sb.n;
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
    c->got = 1;
    return QW_OK;
}

static qw_err flush_row_group(qw_pq_writer *w);

qw_err qw_pq_end_row(qw_pq_writer *w)
{
    if (w->failed)
        return QW_INVAL;
    int ok = 1;
    for (size_t i = 0; i < w->ncols; i++)
        ok &= w->c[i].got;
    if (!ok) { /* discard the partial row */
        for (size_t i = 0; i < w->ncols; i++) {
            qw__pq_col *c = &w->c[i];
            if (c->got && c->valid[w->rows]) {
                c->nvals--;
                if (c->phys == QW_PQ_PHYS_BYTE_ARRAY)
                    c->sb.n = c->soff[c->nvals];
            }
            c->got = 0;
        }
        return QW_INVAL;
    }
    for (size_t i = 0; i < w->ncols; i++)
        w->c[i].got = 0;
    w->rows++;
    if (w->est >= w->o.row_group_bytes || w->rows >= INT32_MAX - 1)
        return flush_row_group(w);
    return QW_OK;
}

/* ---- encoding a row group ---- */

static qw_err pq_compress(qw_pq_writer *w, const qw_tbuf *in, qw_tbuf *out, int *codec)
{
    out->n = 0;
    switch (w->o.compression) {
    case QW_COMP_ZSTD: {
        *codec = QW_PQ_CODEC_ZSTD;
        size_t bound = ZSTD_compressBound(in->n);
        qw_tbuf_put(out, NULL, 0);
        if (out->cap < bound) {
            uint8_t *nb = qw_realloc(out->b, bound);
            if (!nb)
                return QW_NOMEM;
            out->b = nb;
            out->cap = bound;
        }
        size_t k = ZSTD_compressCCtx(w->z, out->b, out->cap, in->b, in->n, w->o.zstd_level);
        if (ZSTD_isError(k))
            return QW_IO;
        out->n = k;
        return QW_OK;
    }
    case QW_COMP_SNAPPY: {
        *codec = QW_PQ_CODEC_SNAPPY;
        size_t bound = snappy_max_compressed_length(in->n);
        if (out->cap < bound) {
            uint8_t *nb = qw_realloc(out->b, bound);
            if (!nb)
                return QW_NOMEM;
            out->b = nb;
            out->cap = bound;
        }
        size_t k = bound;
        if (snappy_compress((const char *)in->b, in->n, (char *)out->b, &k) != SNAPPY_OK)
            return QW_IO;
        out->n = k;
        return QW_OK;
    }
    case QW_COMP_NONE:
    default:
        *codec = QW_PQ_CODEC_UNCOMPRESSED;
        qw_tbuf_put(out, in->b, in->n);
        return out->oom ? QW_NOMEM : QW_OK;
    }
}

/* Write one page: header (with CRC of the compressed body) + body. */
static qw_err emit_page(qw_pq_writer *w, int type, int32_t nvals, int encoding, int has_def,
                        int *codec, uint64_t *chunk_comp, uint64_t *chunk_uncomp)
{
    qw_err e = pq_compress(w, &w->page, &w->comp, codec);
    if (e != QW_OK)
        return e;
    if (w->page.n > INT32_MAX || w->comp.n > INT32_MAX)
        return QW_TOO_LARGE;
    uint32_t crc = (uint32_t)crc32(0L, w->comp.b, (uInt)w->comp.n);
    w->hdr.n = 0;
    qw_tw t;
    qw_tw_init(&t, &w->hdr);
    qw_tw_i32(&t, 1, type);
    qw_tw_i32(&t, 2, (int32_t)w->page.n);
    qw_tw_i32(&t, 3, (int32_t)w->comp.n);
    qw_tw_i32(&t, 4, (int32_t)crc);
    if (type == QW_PQ_PAGE_DATA) {
        qw_tw_struct_begin(&t, 5);
        qw_tw_i32(&t, 1, nvals);
        qw_tw_i32(&t, 2, encoding);
        qw_tw_i32(&t, 3, QW_PQ_ENC_RLE);
        qw_tw_i32(&t, 4, QW_PQ_ENC_RLE);
        qw_tw_struct_end(&t);
    } else {
        qw_tw_struct_begin(&t, 7);
        qw_tw_i32(&t, 1, nvals);
        qw_tw_i32(&t, 2, QW_PQ_ENC_PLAIN);
        qw_tw_struct_end(&t);
    }
    qw_tw_stop(&t);
    (void)has_def;
    if (w->hdr.oom || w->comp.oom || w->page.oom)
        return QW_NOMEM;
    if (write_all(w, w->hdr.b, w->hdr.n) != 0 || write_all(w, w->comp.b, w->comp.n) != 0)
        return fail(w, QW_IO, "write");
    *chunk_comp += w->hdr.n + w->comp.n;
    *chunk_uncomp += w->hdr.n + w->page.n;
    return QW_OK;
}

/* Dictionary for a string column: distinct values in first-seen order and
 * one index per non-null value. Returns 0 when a dictionary does not pay. */
static int build_dict(qw_pq_writer *w, qw__pq_col *c, uint32_t **idx_out, uint32_t **first_out, size_t *nd_out)
{
    if (!w->o.dictionary || c->phys != QW_PQ_PHYS_BYTE_ARRAY || c->nvals < 2)
        return 0;
    size_t cap = 64;
    while (cap < c->nvals * 2 && cap < (1u << 20))
        cap <<= 1;
    uint32_t *slots = qw_calloc(cap, sizeof *slots); /* value index + 1 of the first occurrence */
    uint32_t *idx = qw_malloc(c->nvals * sizeof *idx);
    uint32_t *first = qw_malloc(c->nvals * sizeof *first);
    if (!slots || !idx || !first) {
        qw_free(slots), qw_free(idx), qw_free(first);
        return 0;
    }
    size_t nd = 0, dbytes = 0;
    int ok = 1;
    for (size_t i = 0; i < c->nvals && ok; i++) {
        const uint8_t *p = c->sb.b + c->soff[i];
        size_t n = c->soff[i + 1] - c->soff[i];
        uint64_t h = 1469598103934665603ull;
        for (size_t k = 0; k < n; k++)
            h = (h ^ p[k]) * 1099511628211ull;
        size_t j = h & (cap - 1);
        for (;; j = (j + 1) & (cap - 1)) {
            uint32_t s = slots[j];
            if (!s) {
                if (nd + 1 > cap / 2 || nd >= 65535 || (dbytes += n + 4) > (1u << 20)) {
                    ok = 0;
                    break;
                }
                first[nd] = (uint32_t)i;
                slots[j] = (uint32_t)(nd + 1);
                idx[i] = (uint32_t)nd++;
                break;
            }
            uint32_t f = first[s - 1];
            if (c->soff[f + 1] - c->soff[f] == n && memcmp(c->sb.b + c->soff[f], p, n) == 0) {
                idx[i] = s - 1;
                break;
            }
        }
    }
    qw_free(slots);
    if (!ok || nd * 2 > c->nvals) { /* mostly distinct: PLAIN is as small */
        qw_free(idx), qw_free(first);
        return 0;
    }
    *idx_out = idx;
    *first_out = first;
    *nd_out = nd;
    return 1;
}

static qw_err write_chunk(qw_pq_writer *w, qw__pq_col *c, size_t nrows, qw_tw *rg, uint64_t *rg_comp,
                          uint64_t *rg_uncomp)
{
    uint64_t start = w->off, comp = 0, uncomp = 0, dict_off = 0;
    size_t nnull = 0;
    for (size_t r = 0; r < nrows; r++)
        nnull += !c->valid[r];
    uint32_t *idx = NULL, *first = NULL;
    size_t nd = 0;
    int dict = build_dict(w, c, &idx, &first, &nd);
    int codec = QW_PQ_CODEC_UNCOMPRESSED;
    qw_err e = QW_OK;
    if (dict) {
        dict_off = w->off;
        w->page.n = 0;
        for (size_t k = 0; k < nd; k++)
            qw__pq_plain_value(c, first[k], &w->page);
        e = emit_page(w, QW_PQ_PAGE_DICTIONARY, (int32_t)nd, QW_PQ_ENC_PLAIN, 0, &codec, &comp, &uncomp);
    }
    uint64_t data_off = w->off;
    int bw = dict ? qw__pq_bit_width(nd ? (uint32_t)(nd - 1) : 0) : 0;
    size_t r = 0, v = 0; /* next row, next non-null value */
    static uint32_t lev[1 << 16];
    while (e == QW_OK && (r < nrows || (nrows == 0 && r == 0 && 0))) {
        /* rows of this page: bounded by bytes and by the level scratch */
        size_t r0 = r, v0 = v, bytes = 0;
        while (r < nrows && r - r0 < (1u << 16) && bytes < w->o.page_bytes) {
            if (c->valid[r]) {
                bytes += c->phys == QW_PQ_PHYS_BYTE_ARRAY ? 4 + c->soff[v + 1] - c->soff[v]
                         : c->phys == QW_PQ_PHYS_INT32    ? 4
                                                          : 8;
                v++;
            }
            r++;
        }
        w->page.n = 0;
        if (!c->def.required) {
            for (size_t k = r0; k < r; k++)
                lev[k - r0] = c->valid[k];
            size_t at = w->page.n;
            qw__pq_put_le(&w->page, 0, 4);
            qw__pq_rle_encode(&w->page, lev, r - r0, 1);
            uint32_t ln = (uint32_t)(w->page.n - at - 4);
            if (!w->page.oom)
                memcpy(w->page.b + at, &ln, 4); /* little-endian hosts only (checked at build) */
        }
        int enc = QW_PQ_ENC_PLAIN;
        if (dict) {
            enc = QW_PQ_ENC_RLE_DICTIONARY;
            qw_tbuf_byte(&w->page, (uint8_t)bw);
            qw__pq_rle_encode(&w->page, idx + v0, v - v0, bw);
        } else if (c->phys == QW_PQ_PHYS_BOOLEAN) {
            uint8_t acc = 0;
            size_t k;
            for (k = v0; k < v; k++) {
                acc |= (uint8_t)((c->iv[k] & 1) << ((k - v0) & 7));
                if (((k - v0) & 7) == 7) {
                    qw_tbuf_byte(&w->page, acc);
                    acc = 0;
                }
            }
            if ((v - v0) & 7)
                qw_tbuf_byte(&w->page, acc);
        } else {
            for (size_t k = v0; k < v; k++)
                qw__pq_plain_value(c, k, &w->page);
        }
        e = emit_page(w, QW_PQ_PAGE_DATA, (int32_t)(r - r0), enc, !c->def.required, &codec, &comp, &uncomp);
    }
    if (e == QW_OK && nrows == 0) { /* an empty row group never happens: close() skips it */
    }
    qw_free(idx);
    qw_free(first);
    if (e != QW_OK)
        return e;
    qw__pq_update_stats(c);
    c->st.values += nrows;
    c->st.nulls += nnull;
    c->st.bytes += comp;
    *rg_comp += comp;
    *rg_uncomp += uncomp;
    /* ColumnChunk */
    qw_tw_elem_struct_begin(rg);
    qw_tw_i64(rg, 2, (int64_t)start);
    qw_tw_struct_begin(rg, 3);
    qw_tw_i32(rg, 1, c->phys);
    if (dict) {
        qw_tw_list_begin(rg, 2, QW_TT_I32, 3);
        qw_tw_elem_i32(rg, QW_PQ_ENC_PLAIN);
        qw_tw_elem_i32(rg, QW_PQ_ENC_RLE);
        qw_tw_elem_i32(rg, QW_PQ_ENC_RLE_DICTIONARY);
    } else {
        qw_tw_list_begin(rg, 2, QW_TT_I32, 2);
        qw_tw_elem_i32(rg, QW_PQ_ENC_PLAIN);
        qw_tw_elem_i32(rg, QW_PQ_ENC_RLE);
    }
    qw_tw_list_begin(rg, 3, QW_TT_BINARY, 1);
    qw_tw_elem_binary(rg, c->name, strlen(c->name));
    qw_tw_i32(rg, 4, codec);
    qw_tw_i64(rg, 5, (int64_t)nrows);
    qw_tw_i64(rg, 6, (int64_t)uncomp);
    qw_tw_i64(rg, 7, (int64_t)comp);
    qw_tw_i64(rg, 9, (int64_t)data_off);
    if (dict)
        qw_tw_i64(rg, 11, (int64_t)dict_off);
    qw__pq_chunk_stats(c, nnull, rg);
    qw_tw_struct_end(rg); /* ColumnMetaData */
    qw_tw_struct_end(rg); /* ColumnChunk */
    return QW_OK;
}

static qw_err flush_row_group(qw_pq_writer *w)
{
    if (w->rows == 0)
        return QW_OK;
    qw_tbuf rgb = {0};
    qw_tw t;
    qw_tw_init(&t, &rgb);
    uint64_t first = w->off, comp = 0, uncomp = 0;
    qw_tw_list_begin(&t, 1, QW_TT_STRUCT, w->ncols);
    qw_err e = QW_OK;
    for (size_t i = 0; i < w->ncols && e == QW_OK; i++)
        e = write_chunk(w, &w->c[i], w->rows, &t, &comp, &uncomp);
    if (e == QW_OK) {
        qw_tw_i64(&t, 2, (int64_t)uncomp);
        qw_tw_i64(&t, 3, (int64_t)w->rows);
        qw_tw_i64(&t, 5, (int64_t)first);
        qw_tw_i64(&t, 6, (int64_t)comp);
        qw_tw_i32(&t, 7, (int32_t)w->nrg); /* i16 on the wire: same varint */
        qw_tw_stop(&t);
        if (rgb.oom)
            e = QW_NOMEM;
        else
            qw_tbuf_put(&w->rgmeta, rgb.b, rgb.n);
    }
    qw_tbuf_free(&rgb);
    if (e != QW_OK) {
        w->failed = 1;
        return e;
    }
    w->nrg++;
    w->total_rows += w->rows;
    w->rows = 0;
    w->est = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        w->c[i].nvals = 0;
        w->c[i].sb.n = 0;
    }
    return QW_OK;
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
    qw_tbuf_free(&w->page);
    qw_tbuf_free(&w->comp);
    qw_tbuf_free(&w->hdr);
    qw_tbuf_free(&w->rgmeta);
    ZSTD_freeCCtx(w->z);
    qw_free(w);
}

void qw_pq_writer_abort(qw_pq_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->path);
    }
    free_writer(w);
}

qw_err qw_pq_writer_close(qw_pq_writer *w, qw_pq_file_stats *out)
{
    qw_err e = w->failed ? QW_IO : flush_row_group(w);
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
        else if (write_all(w, f.b, f.n) != 0 || write_all(w, tail, 8) != 0)
            e = fail(w, QW_IO, "write footer");
        else if (fsync(w->fd) != 0)
            e = fail(w, QW_IO, "fsync");
    }
    qw_tbuf_free(&f);
    if (close(w->fd) != 0 && e == QW_OK)
        e = fail(w, QW_IO, "close");
    w->fd = -1;
    if (e != QW_OK) {
        unlink(w->path);
    } else if (out) {
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

/* parquet_enc.c: Parquet writer, encoding side: column chunk statistics
 * (one pass, with range checks), dictionaries, definition levels, PLAIN /
 * RLE_DICTIONARY / DELTA_BINARY_PACKED pages, compression, page headers
 * with CRC, and the ColumnChunk / RowGroup metadata (see parquet.h). */
#include <errno.h>
#include <math.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/alloc.h"
#include "parquet/parquet_int.h"
#include "parquet/thrift.h"

#define PAGE_ROWS_MAX ((size_t)1 << 17) /* rows per data page at most */

/* Grow *p to hold n elements of size sz; 0 or -1. */
int qw__pq_grow(void *pp, size_t *cap, size_t n, size_t sz)
{
    void **p = pp;
    if (n <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < n)
        nc *= 2;
    void *q = qw_realloc(*p, nc * sz);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* ---- encoding ---- */

static qw_err pq_compress(qw_pq_writer *w, const qw_tbuf *in, qw_tbuf *out, int *codec)
{
    out->n = 0;
    switch (w->o.compression) {
    case QW_PQ_ZSTD: {
        *codec = QW_PQ_CODEC_ZSTD;
        size_t bound = ZSTD_compressBound(in->n);
        if (qw__pq_grow(&out->b, &out->cap, bound, 1))
            return QW_NOMEM;
        size_t k = ZSTD_compressCCtx(w->x->z, out->b, out->cap, in->b, in->n, w->o.zstd_level);
        if (ZSTD_isError(k))
            return QW_IO;
        out->n = k;
        return QW_OK;
    }
    case QW_PQ_SNAPPY: {
        *codec = QW_PQ_CODEC_SNAPPY;
        size_t bound = snappy_max_compressed_length(in->n);
        if (qw__pq_grow(&out->b, &out->cap, bound, 1))
            return QW_NOMEM;
        size_t k = bound;
        if (snappy_compress((const char *)in->b, in->n, (char *)out->b, &k) != SNAPPY_OK)
            return QW_IO;
        out->n = k;
        return QW_OK;
    }
    case QW_PQ_UNCOMPRESSED:
    default:
        *codec = QW_PQ_CODEC_UNCOMPRESSED;
        qw_tbuf_put(out, in->b, in->n);
        return out->oom ? QW_NOMEM : QW_OK;
    }
}

/* Write one page: header (with CRC of the compressed body) + body. */
static qw_err emit_page(qw_pq_writer *w, int type, int32_t nvals, int encoding, int *codec,
                        uint64_t *chunk_comp, uint64_t *chunk_uncomp)
{
    qw_pq_ctx *x = w->x;
    if (x->page.oom)
        return QW_NOMEM;
    qw_err e = pq_compress(w, &x->page, &x->comp, codec);
    if (e != QW_OK)
        return e;
    if (x->page.n > INT32_MAX || x->comp.n > INT32_MAX)
        return QW_TOO_LARGE;
    uint32_t crc = (uint32_t)crc32(0L, x->comp.b, (uInt)x->comp.n);
    x->hdr.n = 0;
    qw_tw t;
    qw_tw_init(&t, &x->hdr);
    qw_tw_i32(&t, 1, type);
    qw_tw_i32(&t, 2, (int32_t)x->page.n);
    qw_tw_i32(&t, 3, (int32_t)x->comp.n);
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
    if (x->hdr.oom || x->comp.oom) {
        x->hdr.oom = x->comp.oom = 0;
        return QW_NOMEM;
    }
    if (qw__pq_write_all(w, x->hdr.b, x->hdr.n) != 0 ||
        qw__pq_write_all(w, x->comp.b, x->comp.n) != 0)
        return qw__pq_fail(w, QW_IO, "write");
    *chunk_comp += x->hdr.n + x->comp.n;
    *chunk_uncomp += x->hdr.n + x->page.n;
    return QW_OK;
}

static inline const uint8_t *str_at(const qw_pq_vec *v, size_t r, size_t *n)
{
    *n = v->soff[r + 1] - v->soff[r];
    return v->sbytes ? v->sbytes + v->soff[r] : (const uint8_t *)"";
}

/* One pass over a chunk's rows: null count, range checks, min/max. */
static qw_err scan(qw_pq_writer *w, const qw__pq_col *c, const qw_pq_vec *v, size_t n,
                   qw__pq_cstats *cs)
{
    memset(cs, 0, sizeof *cs);
    const uint8_t *va = v->valid;
    if (va) {
        size_t present = 0;
        for (size_t r = 0; r < n; r++)
            present += va[r] != 0;
        cs->nnull = n - present;
    }
    if (c->def.required && cs->nnull)
        return QW_INVAL;
    if (cs->nnull == n)
        return QW_OK;
    switch (c->phys) {
    case QW_PQ_PHYS_DOUBLE: {
        if (!v->f64)
            return QW_INVAL;
        double lo = 0, hi = 0;
        int have = 0;
        for (size_t r = 0; r < n; r++) {
            double d = v->f64[r];
            if ((va && !va[r]) || isnan(d))
                continue;
            if (!have) {
                lo = hi = d;
                have = 1;
            }
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        cs->have = have;
        cs->dlo = lo == 0 ? -0.0 : lo; /* spec: a zero min is -0.0, a zero max +0.0 */
        cs->dhi = hi == 0 ? 0.0 : hi;
        return QW_OK;
    }
    case QW_PQ_PHYS_BYTE_ARRAY: {
        if (v->code) {
            if (!v->dict || !v->dict_len || !v->ndict)
                return QW_INVAL;
            qw_pq_ctx *x = w->x;
            if (qw__pq_grow(&x->used, &x->used_cap, v->ndict, 1))
                return QW_NOMEM;
            memset(x->used, 0, v->ndict);
            uint32_t prev = UINT32_MAX;
            for (size_t r = 0; r < n; r++) {
                uint32_t k = v->code[r];
                if ((va && !va[r]) || k == prev)
                    continue;
                if (k >= v->ndict)
                    return QW_INVAL;
                x->used[k] = 1;
                prev = k;
            }
            for (uint32_t k = 0; k < v->ndict; k++) {
                if (!x->used[k])
                    continue;
                const uint8_t *p = (const uint8_t *)v->dict[k];
                size_t len = v->dict_len[k];
                if (!cs->have || qw__pq_cmp_bytes(p, len, cs->smin, cs->sminl, 0) < 0)
                    cs->smin = p, cs->sminl = len;
                if (!cs->have || qw__pq_cmp_bytes(p, len, cs->smax, cs->smaxl, 0) > 0)
                    cs->smax = p, cs->smaxl = len;
                cs->have = 1;
            }
            return QW_OK;
        }
        if (!v->soff)
            return QW_INVAL;
        for (size_t r = 0; r < n; r++) {
            if (va && !va[r])
                continue;
            if (v->soff[r + 1] < v->soff[r])
                return QW_INVAL;
            size_t len;
            const uint8_t *p = str_at(v, r, &len);
            if (!cs->have || qw__pq_cmp_bytes(p, len, cs->smin, cs->sminl, 0) < 0)
                cs->smin = p, cs->sminl = len;
            if (!cs->have || qw__pq_cmp_bytes(p, len, cs->smax, cs->smaxl, 0) > 0)
                cs->smax = p, cs->smaxl = len;
            cs->have = 1;
        }
        return QW_OK;
    }
    case QW_PQ_PHYS_FLBA: { /* DECIMAL(38, 8) from 128-bit or 64-bit values */
        if (!v->i128 && !v->i64)
            return QW_INVAL;
        int have = 0;
        qw_sz lo = 0, hi = 0;
        for (size_t r = 0; r < n; r++) {
            if (va && !va[r])
                continue;
            qw_sz k = v->i128 ? v->i128[r] : v->i64[r];
            if (k > QW_SZ_MAX || k < -QW_SZ_MAX)
                return QW_INVAL; /* beyond what the lake's decimals promise */
            if (!have || k < lo)
                lo = k;
            if (!have || k > hi)
                hi = k;
            have = 1;
        }
        cs->have = have;
        cs->wlo = lo;
        cs->whi = hi;
        cs->lo = qw_sz_fits64(lo) ? (int64_t)lo : INT64_MIN; /* clamped: min_i/max_i */
        cs->hi = qw_sz_fits64(hi) ? (int64_t)hi : INT64_MAX;
        return QW_OK;
    }
    default: {
        if (!v->i64)
            return QW_INVAL;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        if (!va) {
            for (size_t r = 0; r < n; r++) {
                int64_t k = v->i64[r];
                lo = k < lo ? k : lo;
                hi = k > hi ? k : hi;
            }
        } else {
            for (size_t r = 0; r < n; r++) {
                if (!va[r])
                    continue;
                int64_t k = v->i64[r];
                lo = k < lo ? k : lo;
                hi = k > hi ? k : hi;
            }
        }
        switch (c->def.type) {
        case QW_PQ_BOOL:
            if (lo < 0 || hi > 1)
                return QW_INVAL;
            break;
        case QW_PQ_INT32:
        case QW_PQ_DATE:
            if (lo < INT32_MIN || hi > INT32_MAX)
                return QW_INVAL;
            break;
        case QW_PQ_DECIMAL_18_8:
            if (lo < -999999999999999999LL || hi > 999999999999999999LL)
                return QW_INVAL;
            break;
        default: break;
        }
        cs->have = 1;
        cs->lo = lo;
        cs->hi = hi;
        return QW_OK;
    }
    }
}

/* Fold a chunk's statistics into the file-wide ones (Iceberg metrics). */
static void merge_stats(qw__pq_col *c, const qw__pq_cstats *cs, size_t n)
{
    qw_pq_col_stats *s = &c->st;
    s->values += n;
    s->nulls += cs->nnull;
    if (!cs->have)
        return;
    switch (c->phys) {
    case QW_PQ_PHYS_DOUBLE:
        if (!s->has_bounds || cs->dlo < s->min_d)
            s->min_d = cs->dlo;
        if (!s->has_bounds || cs->dhi > s->max_d)
            s->max_d = cs->dhi;
        break;
    case QW_PQ_PHYS_BYTE_ARRAY: {
        size_t k = cs->sminl < QW_PQ_BOUND_MAX ? cs->sminl : QW_PQ_BOUND_MAX;
        if (!s->has_bounds || qw__pq_cmp_bytes(cs->smin, cs->sminl, (const uint8_t *)s->min_s,
                                               s->min_len, s->min_trunc) < 0) {
            memcpy(s->min_s, cs->smin, k);
            s->min_len = k;
            s->min_trunc = cs->sminl > k;
        }
        k = cs->smaxl < QW_PQ_BOUND_MAX ? cs->smaxl : QW_PQ_BOUND_MAX;
        if (!s->has_bounds || qw__pq_cmp_bytes(cs->smax, cs->smaxl, (const uint8_t *)s->max_s,
                                               s->max_len, s->max_trunc) > 0) {
            memcpy(s->max_s, cs->smax, k);
            s->max_len = k;
            s->max_trunc = cs->smaxl > k;
        }
        break;
    }
    case QW_PQ_PHYS_FLBA:
        if (!s->has_bounds || cs->wlo < s->min_w)
            s->min_w = cs->wlo;
        if (!s->has_bounds || cs->whi > s->max_w)
            s->max_w = cs->whi;
        s->min_i = qw_sz_fits64(s->min_w) ? (int64_t)s->min_w : INT64_MIN;
        s->max_i = qw_sz_fits64(s->max_w) ? (int64_t)s->max_w : INT64_MAX;
        break;
    default:
        if (!s->has_bounds || cs->lo < s->min_i)
            s->min_i = cs->lo;
        if (!s->has_bounds || cs->hi > s->max_i)
            s->max_i = cs->hi;
        break;
    }
    s->has_bounds = 1;
}

/* Footer Statistics of a chunk (PLAIN-encoded bounds, no length prefix). */
static void chunk_stats(qw_tw *t, const qw__pq_col *c, const qw__pq_cstats *cs)
{
    qw_tw_struct_begin(t, 12);
    qw_tw_i64(t, 3, (int64_t)cs->nnull);
    if (cs->have) {
        uint8_t mn[QW_PQ_DEC38_BYTES], mx[QW_PQ_DEC38_BYTES];
        const uint8_t *a = mn, *b = mx;
        size_t an = 8, bn = 8;
        switch (c->phys) {
        case QW_PQ_PHYS_FLBA: /* DECIMAL(38, 8): big-endian two's complement */
            an = bn = QW_PQ_DEC38_BYTES;
            qw__pq_dec38_be(cs->wlo, mn);
            qw__pq_dec38_be(cs->whi, mx);
            break;
        case QW_PQ_PHYS_DOUBLE:
            memcpy(mn, &cs->dlo, 8);
            memcpy(mx, &cs->dhi, 8);
            break;
        case QW_PQ_PHYS_BYTE_ARRAY:
            a = cs->smin, an = cs->sminl;
            b = cs->smax, bn = cs->smaxl;
            break;
        default:
            an = bn = c->phys == QW_PQ_PHYS_BOOLEAN ? 1 : c->phys == QW_PQ_PHYS_INT32 ? 4 : 8;
            for (int i = 0; i < 8; i++) {
                mn[i] = (uint8_t)((uint64_t)cs->lo >> (8 * i));
                mx[i] = (uint8_t)((uint64_t)cs->hi >> (8 * i));
            }
            break;
        }
        qw_tw_binary(t, 5, b, bn);
        qw_tw_binary(t, 6, a, an);
    }
    qw_tw_struct_end(t);
}

/* Dictionary for a string column without one: distinct values in
 * first-seen order (x->first: their rows) and one code per non-null row
 * (x->codes). Returns the number of entries, 0 when it does not pay, -1 on
 * allocation failure. */
static long build_dict(qw_pq_ctx *x, const qw_pq_vec *v, size_t n, size_t nv)
{
    size_t cap = 64;
    while (cap < nv * 2 && cap < (1u << 20))
        cap <<= 1;
    if (qw__pq_grow(&x->slots, &x->slots_cap, cap, sizeof *x->slots) ||
        qw__pq_grow(&x->codes, &x->codes_cap, nv, sizeof *x->codes) ||
        qw__pq_grow(&x->first, &x->first_cap, nv, sizeof *x->first))
        return -1;
    uint32_t *slots = x->slots;
    memset(slots, 0, cap * sizeof *slots); /* entry + 1 */
    size_t nd = 0, dbytes = 0, vi = 0;
    for (size_t r = 0; r < n; r++) {
        if (v->valid && !v->valid[r])
            continue;
        size_t len;
        const uint8_t *p = str_at(v, r, &len);
        uint64_t h = 1469598103934665603ull;
        for (size_t k = 0; k < len; k++)
            h = (h ^ p[k]) * 1099511628211ull;
        for (size_t j = h & (cap - 1);; j = (j + 1) & (cap - 1)) {
            uint32_t s = slots[j];
            if (!s) {
                if (nd + 1 > cap / 2 || nd >= 65535 || (dbytes += len + 4) > (1u << 20))
                    return 0;
                x->first[nd] = (uint32_t)r;
                slots[j] = (uint32_t)(nd + 1);
                x->codes[vi++] = (uint32_t)nd++;
                break;
            }
            size_t fl;
            const uint8_t *fp = str_at(v, x->first[s - 1], &fl);
            if (fl == len && memcmp(fp, p, len) == 0) {
                x->codes[vi++] = s - 1;
                break;
            }
        }
    }
    return nd * 2 > nv ? 0 : (long)nd; /* mostly distinct: PLAIN is as small */
}

/* Definition levels (bit width 1) of n rows, RLE/bit-packed hybrid. */
static int put_levels(qw_pq_ctx *x, const uint8_t *va, size_t n)
{
    if (!va || !memchr(va, 0, n)) {
        qw_tbuf_varint(&x->page, (uint64_t)n << 1);
        qw_tbuf_byte(&x->page, 1);
        return 0;
    }
    if (qw__pq_grow(&x->lev, &x->lev_cap, n, sizeof *x->lev))
        return -1;
    for (size_t k = 0; k < n; k++)
        x->lev[k] = va[k] != 0;
    qw__pq_rle_encode(&x->page, x->lev, n, 1);
    return 0;
}

static qw_err write_chunk(qw_pq_writer *w, qw__pq_col *c, const qw_pq_vec *v, size_t n,
                          const qw__pq_cstats *cs, qw_tw *rg, uint64_t *rg_comp,
                          uint64_t *rg_uncomp)
{
    qw_pq_ctx *x = w->x;
    const uint8_t *va = cs->nnull ? v->valid : NULL;
    uint64_t start = w->off, comp = 0, uncomp = 0, dict_off = 0;
    size_t nv = n - cs->nnull;
    int dict = 0; /* 1: the caller's, 2: built here */
    size_t nd = 0;
    const uint32_t *codes = NULL;
    if (c->phys == QW_PQ_PHYS_BYTE_ARRAY) {
        if (v->code) {
            dict = 1;
            nd = v->ndict;
            codes = v->code;
            if (va) { /* one code per non-null value */
                if (qw__pq_grow(&x->codes, &x->codes_cap, nv, sizeof *x->codes))
                    return QW_NOMEM;
                for (size_t r = 0, k = 0; r < n; r++)
                    if (va[r])
                        x->codes[k++] = v->code[r];
                codes = x->codes;
            }
        } else if (w->o.dictionary && nv >= 2) {
            long k = build_dict(x, v, n, nv);
            if (k < 0)
                return QW_NOMEM;
            if (k > 0) {
                dict = 2;
                nd = (size_t)k;
                codes = x->codes;
            }
        }
    }
    int codec = QW_PQ_CODEC_UNCOMPRESSED;
    qw_err e = QW_OK;
    if (dict) {
        dict_off = w->off;
        x->page.n = 0;
        for (size_t k = 0; k < nd; k++) {
            size_t len;
            const uint8_t *p;
            if (dict == 1) {
                p = (const uint8_t *)v->dict[k];
                len = v->dict_len[k];
            } else {
                p = str_at(v, x->first[k], &len);
            }
            qw__pq_put_le(&x->page, len, 4);
            qw_tbuf_put(&x->page, p, len);
        }
        e = emit_page(w, QW_PQ_PAGE_DICTIONARY, (int32_t)nd, QW_PQ_ENC_PLAIN, &codec, &comp,
                      &uncomp);
    }
    uint64_t data_off = w->off;
    int bw = dict ? qw__pq_bit_width(nd ? (uint32_t)(nd - 1) : 0) : 0;
    size_t width = c->phys == QW_PQ_PHYS_INT32             ? 4
                   : c->phys == QW_PQ_PHYS_BOOLEAN || dict ? 1
                   : c->phys == QW_PQ_PHYS_FLBA            ? QW_PQ_DEC38_BYTES
                                                           : 8;
    size_t r = 0, vi = 0; /* next row, next non-null value */
    while (e == QW_OK && r < n) {
        size_t r0 = r, v0 = vi;
        if (c->phys == QW_PQ_PHYS_BYTE_ARRAY && !dict) {
            size_t bytes = 0;
            while (r < n && r - r0 < PAGE_ROWS_MAX && bytes < w->o.page_bytes) {
                if (!va || va[r]) {
                    bytes += 4 + v->soff[r + 1] - v->soff[r];
                    vi++;
                }
                r++;
            }
        } else {
            size_t k = w->o.page_bytes / width;
            k = k < 1 ? 1 : k > PAGE_ROWS_MAX ? PAGE_ROWS_MAX : k;
            r = n - r0 < k ? n : r0 + k;
            if (va) {
                for (size_t i = r0; i < r; i++)
                    vi += va[i] != 0;
            } else {
                vi += r - r0;
            }
        }
        size_t pn = r - r0, pv = vi - v0;
        x->page.n = 0;
        if (!c->def.required) {
            size_t at = x->page.n;
            qw__pq_put_le(&x->page, 0, 4);
            if (put_levels(x, va ? va + r0 : NULL, pn))
                return QW_NOMEM;
            uint32_t ln = (uint32_t)(x->page.n - at - 4);
            if (!x->page.oom)
                memcpy(x->page.b + at, &ln, 4); /* little-endian hosts only (checked at build) */
        }
        int enc = QW_PQ_ENC_PLAIN;
        if (dict) {
            enc = QW_PQ_ENC_RLE_DICTIONARY;
            qw_tbuf_byte(&x->page, (uint8_t)bw);
            qw__pq_rle_encode(&x->page, codes + v0, pv, bw);
        } else if (c->phys == QW_PQ_PHYS_BOOLEAN) {
            uint8_t *o = qw_tbuf_append(&x->page, (pv + 7) / 8);
            if (!o)
                return QW_NOMEM;
            memset(o, 0, (pv + 7) / 8);
            for (size_t i = r0, k = 0; i < r; i++)
                if (!va || va[i]) {
                    o[k >> 3] |= (uint8_t)((v->i64[i] & 1) << (k & 7));
                    k++;
                }
        } else if (c->phys == QW_PQ_PHYS_BYTE_ARRAY) {
            for (size_t i = r0; i < r; i++) {
                if (va && !va[i])
                    continue;
                size_t len;
                const uint8_t *p = str_at(v, i, &len);
                qw__pq_put_le(&x->page, len, 4);
                qw_tbuf_put(&x->page, p, len);
            }
        } else if (c->phys == QW_PQ_PHYS_INT32) {
            uint8_t *o = qw_tbuf_append(&x->page, pv * 4);
            if (!o)
                return QW_NOMEM;
            for (size_t i = r0; i < r; i++)
                if (!va || va[i]) {
                    int32_t k = (int32_t)v->i64[i];
                    memcpy(o, &k, 4);
                    o += 4;
                }
        } else if (c->phys == QW_PQ_PHYS_FLBA) { /* DECIMAL(38, 8), PLAIN: 16 bytes BE */
            uint8_t *o = qw_tbuf_append(&x->page, pv * QW_PQ_DEC38_BYTES);
            if (!o)
                return QW_NOMEM;
            for (size_t i = r0; i < r; i++)
                if (!va || va[i]) {
                    qw__pq_dec38_be(v->i128 ? v->i128[i] : v->i64[i], o);
                    o += QW_PQ_DEC38_BYTES;
                }
        } else if (c->phys == QW_PQ_PHYS_INT64 && c->def.delta) {
            enc = QW_PQ_ENC_DELTA_BINARY_PACKED;
            const int64_t *src = v->i64 + r0;
            if (pv != pn) { /* the non-null values only */
                if (qw__pq_grow(&x->dvals, &x->dvals_cap, pv, sizeof *x->dvals))
                    return QW_NOMEM;
                for (size_t i = r0, k = 0; i < r; i++)
                    if (va[i])
                        x->dvals[k++] = v->i64[i];
                src = x->dvals;
            }
            qw__pq_delta_encode(&x->page, src, pv);
        } else { /* INT64, DOUBLE: 8 bytes little-endian */
            const uint8_t *src =
                c->phys == QW_PQ_PHYS_DOUBLE ? (const uint8_t *)v->f64 : (const uint8_t *)v->i64;
            uint8_t *o = qw_tbuf_append(&x->page, pv * 8);
            if (!o)
                return QW_NOMEM;
            if (pv == pn) {
                memcpy(o, src + r0 * 8, pn * 8);
            } else {
                for (size_t i = r0; i < r; i++)
                    if (va[i]) {
                        memcpy(o, src + i * 8, 8);
                        o += 8;
                    }
            }
        }
        e = emit_page(w, QW_PQ_PAGE_DATA, (int32_t)pn, enc, &codec, &comp, &uncomp);
    }
    if (e != QW_OK)
        return e;
    merge_stats(c, cs, n);
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
        qw_tw_elem_i32(rg, c->phys == QW_PQ_PHYS_INT64 && c->def.delta
                               ? QW_PQ_ENC_DELTA_BINARY_PACKED
                               : QW_PQ_ENC_PLAIN);
        qw_tw_elem_i32(rg, QW_PQ_ENC_RLE);
    }
    qw_tw_list_begin(rg, 3, QW_TT_BINARY, 1);
    qw_tw_elem_binary(rg, c->name, strlen(c->name));
    qw_tw_i32(rg, 4, codec);
    qw_tw_i64(rg, 5, (int64_t)n);
    qw_tw_i64(rg, 6, (int64_t)uncomp);
    qw_tw_i64(rg, 7, (int64_t)comp);
    qw_tw_i64(rg, 9, (int64_t)data_off);
    if (dict)
        qw_tw_i64(rg, 11, (int64_t)dict_off);
    chunk_stats(rg, c, cs);
    qw_tw_struct_end(rg); /* ColumnMetaData */
    qw_tw_struct_end(rg); /* ColumnChunk */
    return QW_OK;
}

/* One row group of n rows from the column vectors. */
qw_err qw__pq_write_group(qw_pq_writer *w, const qw_pq_vec *v, size_t n)
{
    if (n == 0)
        return QW_OK;
    if (n > INT32_MAX)
        return QW_TOO_LARGE;
    qw__pq_cstats cs[QW_PQ_MAX_COLS];
    for (size_t i = 0; i < w->ncols; i++) {
        qw_err e = scan(w, &w->c[i], &v[i], n, &cs[i]);
        if (e != QW_OK)
            return e;
    }
    qw_tbuf rgb = {0};
    qw_tw t;
    qw_tw_init(&t, &rgb);
    uint64_t first = w->off, comp = 0, uncomp = 0;
    qw_tw_list_begin(&t, 1, QW_TT_STRUCT, w->ncols);
    qw_err e = QW_OK;
    for (size_t i = 0; i < w->ncols && e == QW_OK; i++)
        e = write_chunk(w, &w->c[i], &v[i], n, &cs[i], &t, &comp, &uncomp);
    if (e == QW_OK) {
        qw_tw_i64(&t, 2, (int64_t)uncomp);
        qw_tw_i64(&t, 3, (int64_t)n);
        qw_tw_i64(&t, 5, (int64_t)first);
        qw_tw_i64(&t, 6, (int64_t)comp);
        qw_tw_i32(&t, 7, (int32_t)w->nrg); /* i16 on the wire: same varint */
        qw_tw_stop(&t);
        if (rgb.oom)
            e = QW_NOMEM;
        else
            qw_tbuf_put(&w->rgmeta, rgb.b, rgb.n);
        if (w->rgmeta.oom)
            e = QW_NOMEM;
    }
    qw_tbuf_free(&rgb);
    if (e != QW_OK)
        return e;
    w->nrg++;
    w->total_rows += n;
    return QW_OK;
}

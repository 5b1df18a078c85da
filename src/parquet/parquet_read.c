/* parquet_read.c: strict Parquet reader (see parquet_read.h). */
#include "parquet/parquet_read.h"

#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/alloc.h"
#include "parquet/parquet_int.h"
#include "parquet/thrift.h"

#define MAX_PAGE (256u << 20)

qw_err qw__pqr_bad(qw_pqr *r, qw_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return e;
}

static void scratch_fini(qw_pqr_scratch *s)
{
    qw_free(s->cbuf);
    qw_free(s->page);
    qw_free(s->lev);
    qw_free(s->idx);
    qw_free(s->dvals);
    qw_pqr_column_free(&s->dict);
    ZSTD_freeDCtx(s->zd);
}

void qw_pqr_close(qw_pqr *r)
{
    if (!r)
        return;
    qw_free(r->own);
    qw_free(r->f);
    qw_free(r->rg_rows);
    qw_free(r->ch);
    qw_free(r->stat);
    qw_free(r->typed);
    scratch_fini(&r->own_s);
    qw_free(r);
}

qw_pqr_scratch *qw_pqr_scratch_new(void)
{
    return qw_calloc(1, sizeof(qw_pqr_scratch));
}

void qw_pqr_scratch_free(qw_pqr_scratch *s)
{
    if (!s)
        return;
    scratch_fini(s);
    qw_free(s);
}

void qw_pqr_use_scratch(qw_pqr *r, qw_pqr_scratch *s)
{
    r->s = s ? s : &r->own_s;
}

void qw_pqr_typed_arrays(qw_pqr *r, int on)
{
    r->typed_only = on != 0;
}

void qw_pqr_dict_indices(qw_pqr *r, int on)
{
    r->dict_ids = on != 0;
}

size_t qw_pqr_ncols(const qw_pqr *r)
{
    return r->ncols;
}
const qw_pqr_field *qw_pqr_field_at(const qw_pqr *r, size_t i)
{
    return i < r->ncols ? &r->f[i] : NULL;
}
size_t qw_pqr_row_groups(const qw_pqr *r)
{
    return r->nrg;
}
uint64_t qw_pqr_rg_rows(const qw_pqr *r, size_t rg)
{
    return rg < r->nrg ? r->rg_rows[rg] : 0;
}
uint64_t qw_pqr_num_rows(const qw_pqr *r)
{
    return r->num_rows;
}
const char *qw_pqr_errmsg(const qw_pqr *r)
{
    return r->err;
}

qw_err qw_pqr_column_alloc(qw_pqr_column *c)
{
    memset(c, 0, sizeof *c);
    return QW_OK;
}

void qw_pqr_column_free(qw_pqr_column *c)
{
    qw_free(c->i64);
    qw_free(c->f64);
    qw_free(c->valid);
    qw_free(c->soff);
    qw_free(c->sbytes);
    qw_free(c->i128);
    qw_free(c->sid);
    qw_free(c->toff);
    memset(c, 0, sizeof *c);
}

const char *qw_pqr_str(const qw_pqr_column *c, size_t row, size_t *len)
{
    if (c->ids && row < c->n) {
        uint32_t x = c->sid[row];
        *len = c->toff[x + 1] - c->toff[x];
        return c->sbytes ? (const char *)c->sbytes + c->toff[x] : "";
    }
    if (row >= c->n || !c->soff || c->ids) {
        *len = 0;
        return "";
    }
    *len = c->soff[row + 1] - c->soff[row];
    return c->sbytes ? (const char *)c->sbytes + c->soff[row] : "";
}

/* ---- pages ---- */

/* Room for n + 1 rows. Every caller fills the arrays from row 0, so what
 * they held is not kept: fresh blocks instead of realloc's copies (a
 * pooled column set meeting a larger file copied its old rows for
 * nothing). */
static qw_err grow_col(qw_pqr_column *c, size_t n)
{
    if (n + 1 <= c->cap)
        return QW_OK;
    size_t nc = c->cap ? c->cap : 1024;
    while (nc < n + 1)
        nc *= 2;
    qw_free(c->i64);
    qw_free(c->f64);
    qw_free(c->valid);
    qw_free(c->soff);
    c->cap = 0;
    c->i64 = qw_malloc(nc * sizeof *c->i64);
    c->f64 = qw_malloc(nc * sizeof *c->f64);
    c->valid = qw_malloc(nc);
    c->soff = qw_malloc((nc + 1) * sizeof *c->soff);
    if (!c->i64 || !c->f64 || !c->valid || !c->soff)
        return QW_NOMEM; /* cap 0: the next read tries again; free() frees what is there */
    c->cap = nc;
    return QW_OK;
}

/* Room for n wide (decimal) values. */
static qw_err grow_wide(qw_pqr_column *c, size_t n)
{
    if (n <= c->wcap)
        return QW_OK;
    size_t nc = c->wcap ? c->wcap : 1024;
    while (nc < n)
        nc *= 2;
    qw_free(c->i128); /* filled from row 0 by every caller, as grow_col's */
    c->wcap = 0;
    if (!(c->i128 = qw_malloc(nc * sizeof *c->i128)))
        return QW_NOMEM;
    c->wcap = nc;
    return QW_OK;
}

/* Room for `need` string bytes in c. */
static qw_err grow_sb(qw_pqr_column *c, size_t need)
{
    if (need > UINT32_MAX - 1)
        return QW_TOO_LARGE;
    if (need <= c->scap)
        return QW_OK;
    size_t nc = c->scap ? c->scap : 4096;
    while (nc < need)
        nc *= 2;
    uint8_t *b = qw_realloc(c->sbytes, nc);
    if (!b)
        return QW_NOMEM;
    c->sbytes = b;
    c->scap = nc;
    return QW_OK;
}

static qw_err sb_put(qw_pqr_column *c, size_t row, const uint8_t *p, size_t n)
{
    size_t have = c->soff[row];
    qw_err e = grow_sb(c, have + n);
    if (e != QW_OK)
        return e;
    if (n)
        memcpy(c->sbytes + have, p, n);
    c->soff[row + 1] = (uint32_t)(have + n);
    return QW_OK;
}

/* Room for n more table strings in c (qw_pqr_dict_indices). */
static qw_err grow_tab(qw_pqr_column *c, size_t n)
{
    if (n > UINT32_MAX - 2 - c->nstr)
        return QW_TOO_LARGE;
    if (c->nstr + n + 1 <= c->tcap)
        return QW_OK;
    size_t nc = c->tcap ? c->tcap : 1024;
    while (nc < c->nstr + n + 1)
        nc *= 2;
    uint32_t *t = qw_realloc(c->toff, nc * sizeof *t);
    if (!t)
        return QW_NOMEM;
    c->toff = t;
    c->tcap = nc;
    return QW_OK;
}

/* Appends (p, n) to c's table (room for the string made by grow_tab). */
static qw_err tab_put(qw_pqr_column *c, const uint8_t *p, size_t n, uint32_t *id)
{
    size_t have = c->toff[c->nstr];
    qw_err e = grow_sb(c, have + n);
    if (e != QW_OK)
        return e;
    if (n)
        memcpy(c->sbytes + have, p, n);
    c->toff[c->nstr + 1] = (uint32_t)(have + n);
    *id = (uint32_t)c->nstr++;
    return QW_OK;
}

/* One page of a BYTE_ARRAY column as table indices (qw_pqr_dict_indices):
 * dictionary indices (idx, checked) or PLAIN values. */
static qw_err page_ids(qw_pqr *r, const qw_pqr_field *f, int dict, const uint8_t *p,
                       const uint8_t *end, size_t row0, size_t n, size_t nn, qw_pqr_column *dst)
{
    const uint8_t *valid = dst->valid + row0;
    uint32_t *sid = dst->sid + row0;
    qw_err e;
    if (nn < n && r->nullid == UINT32_MAX) { /* null rows read the empty string */
        if ((e = grow_tab(dst, 1)) != QW_OK || (e = tab_put(dst, p, 0, &r->nullid)) != QW_OK)
            return e;
    }
    if (dict) {
        const qw_pqr_column *d = &r->s->dict;
        if (r->dbase == UINT32_MAX && nn) { /* the dictionary, once per dictionary page */
            size_t have = dst->toff[dst->nstr], bytes = d->soff[d->n];
            if ((e = grow_tab(dst, d->n)) != QW_OK || (e = grow_sb(dst, have + bytes)) != QW_OK)
                return e;
            if (bytes)
                memcpy(dst->sbytes + have, d->sbytes, bytes);
            for (size_t j = 0; j < d->n; j++)
                dst->toff[dst->nstr + 1 + j] = (uint32_t)(have + d->soff[j + 1]);
            r->dbase = (uint32_t)dst->nstr;
            dst->nstr += d->n;
        }
        const uint32_t *idx = r->s->idx;
        if (nn == n) {
            for (size_t i = 0; i < n; i++)
                sid[i] = r->dbase + idx[i];
        } else {
            for (size_t i = 0, k = 0; i < n; i++)
                sid[i] = valid[i] ? r->dbase + idx[k++] : r->nullid;
        }
        return QW_OK;
    }
    if ((e = grow_tab(dst, nn)) != QW_OK)
        return e;
    for (size_t i = 0; i < n; i++) {
        if (!valid[i]) {
            sid[i] = r->nullid;
            continue;
        }
        if (end - p < 4)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated values");
        uint32_t len =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if ((size_t)(end - p - 4) < len)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: truncated byte array", f->name);
        if ((e = tab_put(dst, p + 4, len, &sid[i])) != QW_OK)
            return e;
        p += 4 + len;
    }
    return QW_OK;
}

static qw_err need_page(qw_pqr *r, size_t n)
{
    if (n > MAX_PAGE)
        return qw__pqr_bad(r, QW_CORRUPT, "page of %zu bytes", n);
    if (n <= r->s->pcap)
        return QW_OK;
    uint8_t *b = qw_realloc(r->s->page, n ? n : 1);
    if (!b)
        return QW_NOMEM;
    r->s->page = b;
    r->s->pcap = n;
    return QW_OK;
}

static qw_err decompress(qw_pqr *r, int codec, const uint8_t *src, size_t slen, size_t ulen,
                         const uint8_t **out)
{
    if (codec == QW_PQ_CODEC_UNCOMPRESSED) {
        if (slen != ulen)
            return qw__pqr_bad(r, QW_CORRUPT, "uncompressed page sizes differ");
        *out = src;
        return QW_OK;
    }
    qw_err e = need_page(r, ulen);
    if (e != QW_OK)
        return e;
    *out = r->s->page;
    if (codec == QW_PQ_CODEC_ZSTD) {
        if (!r->s->zd && !(r->s->zd = ZSTD_createDCtx()))
            return QW_NOMEM;
        size_t k = ZSTD_decompressDCtx(r->s->zd, r->s->page, ulen, src, slen);
        if (ZSTD_isError(k) || k != ulen)
            return qw__pqr_bad(r, QW_CORRUPT, "bad zstd page");
        return QW_OK;
    }
    if (codec == QW_PQ_CODEC_SNAPPY) {
        size_t k;
        if (snappy_uncompressed_length((const char *)src, slen, &k) != SNAPPY_OK || k != ulen ||
            snappy_uncompress((const char *)src, slen, (char *)r->s->page, &k) != SNAPPY_OK ||
            k != ulen)
            return qw__pqr_bad(r, QW_CORRUPT, "bad snappy page");
        return QW_OK;
    }
    if (codec == QW_PQ_CODEC_GZIP) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
            return QW_NOMEM;
        z.next_in = (Bytef *)(uintptr_t)src;
        z.avail_in = (uInt)slen;
        z.next_out = r->s->page;
        z.avail_out = (uInt)ulen;
        int rc = inflate(&z, Z_FINISH);
        size_t k = z.total_out;
        inflateEnd(&z);
        if (rc != Z_STREAM_END || k != ulen)
            return qw__pqr_bad(r, QW_CORRUPT, "bad gzip page");
        return QW_OK;
    }
    return qw__pqr_bad(r, QW_UNSUPPORTED, "compression codec %d", codec);
}

/* Decode one PLAIN value of physical type phys at *p (bounded by end) into
 * row `row` of dst. *bit: bit cursor for booleans. */
static qw_err plain_one(qw_pqr *r, const qw_pqr_field *f, const uint8_t **p, const uint8_t *end,
                        size_t *bit, qw_pqr_column *dst, size_t row)
{
    const uint8_t *q = *p;
    int phys = f->phys;
    switch (phys) {
    case QW_PQ_PHYS_FLBA: { /* a DECIMAL (checked by qw_pqr_read) */
        size_t n = (size_t)f->type_length;
        if ((size_t)(end - q) < n)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated values");
        qw_sz w;
        if (!dst->i128 || row >= dst->wcap || qw__pq_dec_be_to_i128(q, n, &w) != 0)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad decimal", f->name);
        dst->i128[row] = w;
        dst->i64[row] = qw_sz_fits64(w) ? (int64_t)w : w < 0 ? INT64_MIN : INT64_MAX;
        *p = q + n;
        return QW_OK;
    }
    case QW_PQ_PHYS_BOOLEAN:
        if ((size_t)(end - q) < (*bit >> 3) + 1)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated boolean values");
        dst->i64[row] = (q[*bit >> 3] >> (*bit & 7)) & 1;
        ++*bit;
        return QW_OK;
    case QW_PQ_PHYS_INT32:
    case QW_PQ_PHYS_FLOAT: {
        if (end - q < 4)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated values");
        uint32_t u =
            (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        if (phys == QW_PQ_PHYS_INT32)
            dst->i64[row] = (int32_t)u;
        else {
            float fl;
            memcpy(&fl, &u, 4);
            dst->f64[row] = fl;
        }
        *p = q + 4;
        return QW_OK;
    }
    case QW_PQ_PHYS_INT64:
    case QW_PQ_PHYS_DOUBLE: {
        if (end - q < 8)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated values");
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | q[i];
        if (phys == QW_PQ_PHYS_INT64)
            dst->i64[row] = (int64_t)u;
        else
            memcpy(&dst->f64[row], &u, 8);
        *p = q + 8;
        return QW_OK;
    }
    case QW_PQ_PHYS_BYTE_ARRAY: {
        if (end - q < 4)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated values");
        uint32_t n =
            (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        if ((size_t)(end - q - 4) < n)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated byte array");
        *p = q + 4 + n;
        return sb_put(dst, row, q + 4, n);
    }
    default: return qw__pqr_bad(r, QW_UNSUPPORTED, "physical type %d", phys);
    }
}

/* A big-endian two's complement integer of w (1..16) bytes, as
 * qw__pq_dec_be_to_i128 reads it; 16 bytes (DECIMAL(38, 8)) as two words. */
static inline qw_sz dec_be(const uint8_t *p, size_t w)
{
    if (w == 16) {
        uint64_t hi = 0, lo = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(&hi, p, 8); /* two loads, not sixteen byte shifts */
        memcpy(&lo, p + 8, 8);
        hi = __builtin_bswap64(hi);
        lo = __builtin_bswap64(lo);
#else
        for (int b = 0; b < 8; b++) {
            hi = hi << 8 | p[b];
            lo = lo << 8 | p[8 + b];
        }
#endif
        return (qw_sz)((unsigned __int128)hi << 64 | lo);
    }
    unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < w; i++)
        u = u << 8 | p[i];
    return (qw_sz)u;
}

static qw_err need_u32(uint32_t **b, size_t *cap, size_t n)
{
    if (n <= *cap)
        return QW_OK;
    uint32_t *nb = qw_realloc(*b, (n ? n : 1) * sizeof *nb);
    if (!nb)
        return QW_NOMEM;
    *b = nb;
    *cap = n;
    return QW_OK;
}

/* Values of one data page for rows [row0, row0 + n), def levels in r->s->lev
 * (NULL = all present). */
static qw_err page_values(qw_pqr *r, const qw_pqr_field *f, int enc, const uint8_t *p,
                          const uint8_t *end, size_t row0, size_t n, const uint32_t *lev,
                          qw_pqr_column *dst)
{
    size_t nn = 0;
    for (size_t i = 0; i < n; i++)
        nn += lev ? lev[i] != 0 : 1;
    int dict = enc == QW_PQ_ENC_PLAIN_DICTIONARY || enc == QW_PQ_ENC_RLE_DICTIONARY;
    int rle_bool = enc == QW_PQ_ENC_RLE && f->phys == QW_PQ_PHYS_BOOLEAN;
    int delta = enc == QW_PQ_ENC_DELTA_BINARY_PACKED &&
                (f->phys == QW_PQ_PHYS_INT64 || f->phys == QW_PQ_PHYS_INT32);
    if (!dict && !rle_bool && !delta && enc != QW_PQ_ENC_PLAIN)
        return qw__pqr_bad(r, QW_UNSUPPORTED, "column %s: encoding %d", f->name, enc);
    qw_err e;
    if (delta && nn == n && f->phys == QW_PQ_PHYS_INT64) { /* no nulls: into the rows at once */
        if (qw__pq_delta_decode(p, (size_t)(end - p), dst->i64 + row0, n) < 0)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad DELTA_BINARY_PACKED data", f->name);
        memset(dst->valid + row0, 1, n); /* nn == n: every row present */
        if (!r->typed_only) {
            memset(dst->f64 + row0, 0, n * sizeof *dst->f64);
            for (size_t i = 0; i < n; i++)
                dst->soff[row0 + i + 1] = dst->soff[row0];
        }
        return QW_OK;
    }
    if (delta) { /* decoded up front; INT32 wraps at 32 bits, the same modulo 2^32 */
        if (nn > r->s->dcap) {
            int64_t *nd = qw_realloc(r->s->dvals, nn * sizeof *nd);
            if (!nd)
                return QW_NOMEM;
            r->s->dvals = nd;
            r->s->dcap = nn;
        }
        if (qw__pq_delta_decode(p, (size_t)(end - p), r->s->dvals, nn) < 0)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad DELTA_BINARY_PACKED data", f->name);
    }
    if (dict || rle_bool) {
        int bw = 1;
        if (dict) {
            if (p >= end)
                return qw__pqr_bad(r, QW_CORRUPT, "missing dictionary bit width");
            bw = *p++;
        } else {
            if (end - p < 4)
                return qw__pqr_bad(r, QW_CORRUPT, "truncated RLE booleans");
            uint32_t l =
                (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            if (l > (size_t)(end - p - 4))
                return qw__pqr_bad(r, QW_CORRUPT, "truncated RLE booleans");
            p += 4;
            end = p + l;
        }
        if ((e = need_u32(&r->s->idx, &r->s->icap, nn)) != QW_OK)
            return e;
        if (nn && qw__pq_rle_decode(p, (size_t)(end - p), bw, r->s->idx, nn) != 0)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad RLE data", f->name);
    }
    if (dict && !r->s->dict.n && nn)
        return qw__pqr_bad(r, QW_CORRUPT, "column %s: dictionary page missing", f->name);
    /* Null rows and the arrays a type does not use read 0 (and an empty
     * string; see qw_pqr_typed_arrays); each encoding then fills its values in one tight loop over
     * the page (the per-value switch of the general path cost a quarter of
     * a lake backtest). */
    int strings = f->phys == QW_PQ_PHYS_BYTE_ARRAY;
    int dbl = f->phys == QW_PQ_PHYS_DOUBLE || f->phys == QW_PQ_PHYS_FLOAT;
    if (lev)
        for (size_t i = 0; i < n; i++)
            dst->valid[row0 + i] = lev[i] != 0;
    else
        memset(dst->valid + row0, 1, n);
    if (strings && dst->ids) {
        if (dict)
            for (size_t i = 0; i < nn; i++)
                if (r->s->idx[i] >= r->s->dict.n)
                    return qw__pqr_bad(r, QW_CORRUPT, "column %s: dictionary index out of range",
                                       f->name);
        return page_ids(r, f, dict, p, end, row0, n, nn, dst);
    }
    /* A type's own array gets a value in every present row below: only its
     * null rows need the 0. The other arrays are zeroed whole, unless the
     * reader reads only its types' arrays (qw_pqr_typed_arrays). */
    if (lev && !strings)
        for (size_t i = 0; i < n; i++)
            if (!lev[i]) {
                if (dbl)
                    dst->f64[row0 + i] = 0;
                else
                    dst->i64[row0 + i] = 0;
            }
    if (!r->typed_only) {
        if (strings || dbl)
            memset(dst->i64 + row0, 0, n * sizeof *dst->i64);
        if (!dbl)
            memset(dst->f64 + row0, 0, n * sizeof *dst->f64);
        if (!strings)
            for (size_t i = 0; i < n; i++)
                dst->soff[row0 + i + 1] = dst->soff[row0];
    }
    const uint8_t *valid = dst->valid + row0;
    size_t k = 0, bit = 0;
    if (dict) {
        const qw_pqr_column *d = &r->s->dict;
        for (size_t i = 0; i < nn; i++)
            if (r->s->idx[i] >= d->n)
                return qw__pqr_bad(r, QW_CORRUPT, "column %s: dictionary index out of range",
                                   f->name);
        if (strings) {
            size_t bytes = 0;
            for (size_t i = 0; i < nn; i++)
                bytes += d->soff[r->s->idx[i] + 1] - d->soff[r->s->idx[i]];
            size_t have = dst->soff[row0];
            if ((e = grow_sb(dst, have + bytes)) != QW_OK)
                return e;
            for (size_t i = 0; i < n; i++) {
                size_t row = row0 + i;
                dst->soff[row + 1] = (uint32_t)have;
                if (!valid[i])
                    continue;
                uint32_t x = r->s->idx[k++], len = d->soff[x + 1] - d->soff[x];
                if (len)
                    memcpy(dst->sbytes + have, d->sbytes + d->soff[x], len);
                have += len;
                dst->soff[row + 1] = (uint32_t)have;
            }
            return QW_OK;
        }
        for (size_t i = 0; i < n; i++) {
            if (!valid[i])
                continue;
            uint32_t x = r->s->idx[k++];
            if (dbl)
                dst->f64[row0 + i] = d->f64[x];
            else
                dst->i64[row0 + i] = d->i64[x];
            if (f->phys == QW_PQ_PHYS_FLBA)
                dst->i128[row0 + i] = d->i128[x];
        }
        return QW_OK;
    }
    if (rle_bool || delta) {
        for (size_t i = 0; i < n; i++) {
            if (!valid[i])
                continue;
            int64_t x = rle_bool ? (int64_t)(r->s->idx[k++] & 1) : r->s->dvals[k++];
            dst->i64[row0 + i] = delta && f->phys == QW_PQ_PHYS_INT32 ? (int32_t)(uint32_t)x : x;
        }
        return QW_OK;
    }
    if ((f->phys == QW_PQ_PHYS_INT64 || f->phys == QW_PQ_PHYS_DOUBLE) && !lev) {
        if ((size_t)(end - p) / 8 < n)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated values");
        void *to =
            f->phys == QW_PQ_PHYS_INT64 ? (void *)(dst->i64 + row0) : (void *)(dst->f64 + row0);
        for (size_t i = 0; i < n; i++) { /* little-endian 8-byte values, any host */
            uint64_t u = 0;
            for (int b = 7; b >= 0; b--)
                u = u << 8 | p[8 * i + (size_t)b];
            memcpy((uint8_t *)to + 8 * i, &u, 8);
        }
        return QW_OK;
    }
    if (f->phys == QW_PQ_PHYS_FLBA) { /* PLAIN decimals: 16 or fewer big-endian bytes each */
        size_t w = (size_t)f->type_length;
        if (w < 1 || w > 16 || !dst->i128 || row0 + n > dst->wcap)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad decimal", f->name);
        if ((size_t)(end - p) / w < nn)
            return qw__pqr_bad(r, QW_CORRUPT, "truncated values");
        for (size_t i = 0; i < n; i++) {
            if (!valid[i])
                continue;
            qw_sz v = dec_be(p, w);
            p += w;
            dst->i128[row0 + i] = v;
            dst->i64[row0 + i] = qw_sz_fits64(v) ? (int64_t)v : v < 0 ? INT64_MIN : INT64_MAX;
        }
        return QW_OK;
    }
    for (size_t i = 0; i < n; i++) {
        size_t row = row0 + i;
        if (strings)
            dst->soff[row + 1] = dst->soff[row];
        if (valid[i] && (e = plain_one(r, f, &p, end, &bit, dst, row)) != QW_OK)
            return e;
    }
    return QW_OK;
}

qw_err qw_pqr_read(qw_pqr *r, size_t rg, size_t col, qw_pqr_column *out)
{
    if (rg >= r->nrg || col >= r->ncols)
        return qw__pqr_bad(r, QW_INVAL, "no row group %zu / column %zu", rg, col);
    const qw_pqr_field *f = &r->f[col];
    const qw__pqr_chunk *ch = &r->ch[rg * r->ncols + col];
    uint64_t rows = r->rg_rows[rg];
    int dec_flba = f->phys == QW_PQ_PHYS_FLBA && (f->logical == 5 || f->converted == 5) &&
                   f->type_length >= 1 && f->type_length <= 16;
    if (f->phys == QW_PQ_PHYS_INT96 || (f->phys == QW_PQ_PHYS_FLBA && !dec_flba))
        return qw__pqr_bad(r, QW_UNSUPPORTED, "column %s: physical type %d", f->name, f->phys);
    if ((uint64_t)ch->num_values != rows || rows > (1u << 30))
        return qw__pqr_bad(r, QW_CORRUPT, "column %s: %lld values for %llu rows", f->name,
                           (long long)ch->num_values, (unsigned long long)rows);
    int64_t start = ch->dict_off > 0 && ch->dict_off < ch->data_off ? ch->dict_off : ch->data_off;
    if (start < 4 || ch->total_comp < 0 || (uint64_t)start + (uint64_t)ch->total_comp > r->len - 8)
        return qw__pqr_bad(r, QW_CORRUPT, "column %s: chunk outside the file", f->name);
    qw_err e = grow_col(out, (size_t)rows);
    if (e == QW_OK && dec_flba)
        e = grow_wide(out, (size_t)rows);
    if (e != QW_OK)
        return e;
    out->n = (size_t)rows;
    out->soff[0] = 0;
    out->ids = r->dict_ids && f->phys == QW_PQ_PHYS_BYTE_ARRAY;
    out->nstr = 0;
    r->dbase = r->nullid = UINT32_MAX;
    if (out->ids) { /* rows' indices; the table's first offset */
        if ((e = need_u32(&out->sid, &out->idcap, (size_t)rows)) != QW_OK ||
            (e = grow_tab(out, 0)) != QW_OK)
            return e;
        out->toff[0] = 0;
    }
    r->s->dict.n = 0;
    const uint8_t *p = r->d ? r->d + start : NULL;
    if (!r->d) { /* through fileio: this column chunk only */
        size_t need = (size_t)ch->total_comp ? (size_t)ch->total_comp : 1;
        if (need > r->s->ccap) {
            qw_free(r->s->cbuf);
            r->s->ccap = 0;
            if (!(r->s->cbuf = qw_malloc(need)))
                return QW_NOMEM;
            r->s->ccap = need;
        }
        e = qw_fileio_read_range(r->io, r->uri, (uint64_t)start, r->s->cbuf,
                                 (size_t)ch->total_comp);
        if (e != QW_OK)
            return qw__pqr_bad(r, e == QW_CORRUPT ? QW_IO : e, "column %s: short read", f->name);
        p = r->s->cbuf;
    }
    const uint8_t *end = p + ch->total_comp;
    size_t row = 0;
    while (row < rows) {
        qw__pqr_page h;
        if (qw__pqr_page_header(p, end, &h) != 0)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad page header", f->name);
        int type = h.type, has_crc = h.has_crc, enc = h.enc, v2_comp = h.v2_comp;
        int32_t usize = h.usize, csize = h.csize, crc = h.crc, nvals = h.nvals, def_len = h.def_len,
                rep_len = h.rep_len;
        const uint8_t *body = h.body;
        p = body + csize;
        if (has_crc && (uint32_t)crc32(0L, body, (uInt)csize) != (uint32_t)crc)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: page CRC mismatch", f->name);
        if (type == QW_PQ_PAGE_DICTIONARY) {
            if (nvals < 0 || (enc != QW_PQ_ENC_PLAIN && enc != QW_PQ_ENC_PLAIN_DICTIONARY))
                return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad dictionary page", f->name);
            const uint8_t *u;
            if ((e = decompress(r, ch->codec, body, (size_t)csize, (size_t)usize, &u)) != QW_OK)
                return e;
            if ((size_t)nvals > (size_t)usize * 8 + 1)
                return qw__pqr_bad(r, QW_CORRUPT, "column %s: dictionary count", f->name);
            if ((e = grow_col(&r->s->dict, (size_t)nvals)) != QW_OK ||
                (f->phys == QW_PQ_PHYS_FLBA &&
                 (e = grow_wide(&r->s->dict, (size_t)nvals)) != QW_OK))
                return e;
            r->s->dict.soff[0] = 0;
            const uint8_t *q = u, *qe = u + usize;
            size_t bit = 0;
            for (int32_t i = 0; i < nvals; i++) {
                r->s->dict.f64[i] = 0;
                r->s->dict.i64[i] = 0;
                if ((e = plain_one(r, f, &q, qe, &bit, &r->s->dict, (size_t)i)) != QW_OK)
                    return e;
            }
            r->s->dict.n = (size_t)nvals;
            r->dbase = UINT32_MAX; /* a new dictionary: appended to a table anew */
            continue;
        }
        if (type != QW_PQ_PAGE_DATA && type != QW_PQ_PAGE_DATA_V2)
            continue; /* index pages and unknown types are skipped */
        if (nvals < 0 || (uint64_t)nvals > rows - row)
            return qw__pqr_bad(r, QW_CORRUPT, "column %s: page value count", f->name);
        if ((e = need_u32(&r->s->lev, &r->s->lcap, (size_t)nvals)) != QW_OK)
            return e;
        const uint8_t *vals, *vend;
        const uint32_t *lev = NULL;
        if (type == QW_PQ_PAGE_DATA) {
            const uint8_t *u;
            if ((e = decompress(r, ch->codec, body, (size_t)csize, (size_t)usize, &u)) != QW_OK)
                return e;
            vals = u;
            vend = u + usize;
            if (!f->required) {
                if (vend - vals < 4)
                    return qw__pqr_bad(r, QW_CORRUPT, "column %s: truncated levels", f->name);
                uint32_t l = (uint32_t)vals[0] | (uint32_t)vals[1] << 8 | (uint32_t)vals[2] << 16 |
                             (uint32_t)vals[3] << 24;
                if (l > (size_t)(vend - vals - 4) ||
                    qw__pq_rle_decode(vals + 4, l, 1, r->s->lev, (size_t)nvals) != 0)
                    return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad definition levels", f->name);
                lev = r->s->lev;
                vals += 4 + l;
            }
        } else {
            if (rep_len < 0 || def_len < 0 || (int64_t)rep_len + def_len > csize || rep_len)
                return qw__pqr_bad(r, rep_len > 0 ? QW_UNSUPPORTED : QW_CORRUPT,
                                   "column %s: v2 levels", f->name);
            if (!f->required) {
                if (qw__pq_rle_decode(body + rep_len, (size_t)def_len, 1, r->s->lev,
                                      (size_t)nvals) != 0)
                    return qw__pqr_bad(r, QW_CORRUPT, "column %s: bad definition levels", f->name);
                lev = r->s->lev;
            }
            size_t off = (size_t)rep_len + (size_t)def_len;
            if ((size_t)usize < off)
                return qw__pqr_bad(r, QW_CORRUPT, "column %s: v2 sizes", f->name);
            if (v2_comp) {
                if ((e = decompress(r, ch->codec, body + off, (size_t)csize - off,
                                    (size_t)usize - off, &vals)) != QW_OK)
                    return e;
            } else {
                vals = body + off;
            }
            vend = vals + ((size_t)usize - off);
            if (!v2_comp && (size_t)csize != (size_t)usize)
                return qw__pqr_bad(r, QW_CORRUPT, "column %s: v2 sizes", f->name);
        }
        if ((e = page_values(r, f, enc, vals, vend, (size_t)row, (size_t)nvals, lev, out)) != QW_OK)
            return e;
        row += (uint64_t)nvals;
    }
    return QW_OK;
}

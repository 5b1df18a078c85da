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

/* ---- page headers ---- */

int qw__pqr_page_header(const uint8_t *p, const uint8_t *end, qw__pqr_page *h)
{
    qw_tr t;
    qw_tr_init(&t, p, (size_t)(end - p));
    int type = -1, has_crc = 0, enc = 0, v2_comp = 1;
    int32_t usize = -1, csize = -1, crc = 0, nvals = -1, def_len = 0, rep_len = 0;
    int16_t id;
    int ty;
    while (!t.err && (ty = qw_tr_field(&t, &id)) != QW_TT_STOP) {
        if (id == 1 && ty == QW_TT_I32)
            type = qw_tr_i32(&t);
        else if (id == 2 && ty == QW_TT_I32)
            usize = qw_tr_i32(&t);
        else if (id == 3 && ty == QW_TT_I32)
            csize = qw_tr_i32(&t);
        else if (id == 4 && ty == QW_TT_I32) {
            crc = qw_tr_i32(&t);
            has_crc = 1;
        } else if ((id == 5 || id == 7 || id == 8) && ty == QW_TT_STRUCT) {
            qw_tr_struct_begin(&t);
            int16_t k;
            int kt;
            while (!t.err && (kt = qw_tr_field(&t, &k)) != QW_TT_STOP) {
                if (k == 1 && kt == QW_TT_I32)
                    nvals = qw_tr_i32(&t);
                else if (k == 2 && kt == QW_TT_I32 && id != 8)
                    enc = qw_tr_i32(&t);
                else if (k == 4 && kt == QW_TT_I32 && id == 8)
                    enc = qw_tr_i32(&t);
                else if (k == 5 && kt == QW_TT_I32 && id == 8)
                    def_len = qw_tr_i32(&t);
                else if (k == 6 && kt == QW_TT_I32 && id == 8)
                    rep_len = qw_tr_i32(&t);
                else if (k == 7 && id == 8 && (kt == QW_TT_TRUE || kt == QW_TT_FALSE))
                    v2_comp = kt == QW_TT_TRUE;
                else
                    qw_tr_skip(&t, kt);
            }
            qw_tr_struct_end(&t);
        } else
            qw_tr_skip(&t, ty);
    }
    if (t.err || type < 0 || usize < 0 || csize < 0 || csize > end - t.p)
        return -1;
    *h = (qw__pqr_page){type, has_crc, enc,     v2_comp, usize, csize,
                        crc,  nvals,   def_len, rep_len, t.p};
    return 0;
}

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

/* Keeps a statistics bound of up to QW_PQR_STAT_MAX bytes in r->stat;
 * 0, or -1 when it is not kept (too long, out of memory: then unknown). */
static int stat_keep(qw_pqr *r, const uint8_t *p, size_t n, uint32_t *off)
{
    if (!p || n > QW_PQR_STAT_MAX || r->statlen + n > UINT32_MAX)
        return -1;
    if (r->statlen + n > r->statcap) {
        size_t nc = r->statcap ? r->statcap * 2 : 512;
        while (nc < r->statlen + n)
            nc *= 2;
        uint8_t *ns = qw_realloc(r->stat, nc);
        if (!ns)
            return -1;
        r->stat = ns;
        r->statcap = nc;
    }
    if (n)
        memcpy(r->stat + r->statlen, p, n);
    *off = (uint32_t)r->statlen;
    r->statlen += n;
    return 0;
}

/* Statistics: null_count, min_value, max_value and whether the writer
 * says they are exact (fields 3, 6, 5, 8, 7); bounds of any length are
 * skipped safely, kept only when short (stat_keep). */
static void parse_stats(qw_pqr *r, qw_tr *t, qw__pqr_chunk *c)
{
    const uint8_t *mn = NULL, *mx = NULL;
    size_t mnl = 0, mxl = 0;
    int mn_exact = 1, mx_exact = 1;
    qw_tr_struct_begin(t);
    int16_t id;
    int ty;
    while (!t->err && (ty = qw_tr_field(t, &id)) != QW_TT_STOP) {
        if (id == 3 && ty == QW_TT_I64) {
            int64_t v = qw_tr_varint_i64(t);
            c->null_count = v < 0 ? -1 : v;
        } else if (id == 5 && ty == QW_TT_BINARY) {
            mx = qw_tr_binary(t, &mxl);
        } else if (id == 6 && ty == QW_TT_BINARY) {
            mn = qw_tr_binary(t, &mnl);
        } else if ((id == 7 || id == 8) && (ty == QW_TT_TRUE || ty == QW_TT_FALSE)) {
            *(id == 7 ? &mx_exact : &mn_exact) = ty == QW_TT_TRUE; /* the type is the value */
        } else {
            qw_tr_skip(t, ty);
        }
    }
    qw_tr_struct_end(t);
    if (t->err)
        return;
    uint32_t off;
    if (mn_exact && stat_keep(r, mn, mnl, &off) == 0)
        c->smin = off, c->sminl = (uint8_t)mnl, c->sflags |= 1;
    if (mx_exact && stat_keep(r, mx, mxl, &off) == 0)
        c->smax = off, c->smaxl = (uint8_t)mxl, c->sflags |= 2;
}

static void parse_chunk_meta(qw_pqr *r, qw_tr *t, qw__pqr_chunk *c)
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
        else if (id == 12 && ty == QW_TT_STRUCT)
            parse_stats(r, t, c);
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
                    ch->null_count = -1;
                    qw_tr_struct_begin(t);
                    int16_t k;
                    int kt;
                    while (!t->err && (kt = qw_tr_field(t, &k)) != QW_TT_STOP) {
                        if (k == 3 && kt == QW_TT_STRUCT)
                            parse_chunk_meta(r, t, ch);
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

/* column_orders: one ColumnOrder union per column; TYPE_ORDER (field 1)
 * makes the column's min_value / max_value usable. Any other shape leaves
 * every column without usable bounds. */
static qw_err parse_column_orders(qw_pqr *r, qw_tr *t)
{
    size_t n;
    int et = qw_tr_list(t, &n);
    if (t->err)
        return qw__pqr_bad(r, QW_CORRUPT, "truncated column orders");
    int use = et == QW_TT_STRUCT && n == r->ncols && !r->typed;
    if (use && !(r->typed = qw_calloc(n ? n : 1, 1)))
        return QW_NOMEM;
    for (size_t i = 0; i < n && !t->err; i++) {
        if (et != QW_TT_STRUCT) { /* a boolean element is one byte */
            qw_tr_skip(t, et == QW_TT_TRUE || et == QW_TT_FALSE ? QW_TT_BYTE : et);
            continue;
        }
        qw_tr_struct_begin(t);
        int16_t id;
        int ty;
        while (!t->err && (ty = qw_tr_field(t, &id)) != QW_TT_STOP) {
            if (use && id == 1 && ty == QW_TT_STRUCT)
                r->typed[i] = 1;
            qw_tr_skip(t, ty);
        }
        qw_tr_struct_end(t);
    }
    return t->err ? qw__pqr_bad(r, QW_CORRUPT, "truncated column orders") : QW_OK;
}

int qw_pqr_stats_get(const qw_pqr *r, size_t rg, size_t col, qw_pqr_stats *s)
{
    memset(s, 0, sizeof *s);
    s->null_count = -1;
    if (rg >= r->nrg || col >= r->ncols)
        return -1;
    const qw__pqr_chunk *c = &r->ch[rg * r->ncols + col];
    s->null_count = c->null_count;
    if (!r->typed || !r->typed[col])
        return 0;
    if ((c->sflags & 1) && r->stat) /* no arena: only empty bounds, taken as unknown */
        s->min = r->stat + c->smin, s->min_len = c->sminl;
    if ((c->sflags & 2) && r->stat)
        s->max = r->stat + c->smax, s->max_len = c->smaxl;
    const qw_pqr_field *f = &r->f[col];
    size_t w = f->phys == 0 ? 1 : f->phys == 1 ? 4 : f->phys == 2 ? 8 : 0;
    /* UINT_8..UINT_64, or an INTEGER logical type not also marked INT_8..INT_64
     * (its signedness unread): unsigned order, not these integers' */
    int uns = (f->converted >= 11 && f->converted <= 14) ||
              (f->logical == 10 && !(f->converted >= 15 && f->converted <= 18));
    if (!w || uns)
        return 0;
    for (int k = 0; k < 2; k++) {
        const uint8_t *p = k ? s->max : s->min;
        if (!p || (k ? s->max_len : s->min_len) != w)
            continue;
        uint64_t u = 0;
        for (size_t i = 0; i < w; i++)
            u |= (uint64_t)p[i] << (8 * i);
        int64_t v;
        if (w == 1 && u > 1)
            continue; /* a boolean is 0 or 1 */
        v = w == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        if (k)
            s->has_imax = 1, s->imax = v;
        else
            s->has_imin = 1, s->imin = v;
    }
    if (s->has_imin && s->has_imax && s->imin > s->imax)
        s->has_imin = s->has_imax = 0; /* nonsense: know nothing */
    return 0;
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
        } else if (id == 7 && ty == QW_TT_LIST && have_schema) {
            e = parse_column_orders(r, &t);
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
    return qw_pqr_open_io_sized(out, io, uri, 0, max_bytes, errbuf, errlen);
}

qw_err qw_pqr_open_io_sized(qw_pqr **out, qw_fileio *io, const char *uri, uint64_t size,
                            size_t max_bytes, char *errbuf, size_t errlen)
{
    *out = NULL;
    qw_err e = QW_OK;
    int sized = size > 0; /* from a manifest: no stat (a HEAD on an object store) */
    if (!sized) {
        qw_fileio_info fi;
        e = qw_fileio_stat(io, uri, &fi);
        size = fi.size;
    }
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
    else if ((e = qw_fileio_read_range(io, uri, r->len - tl, r->own, tl)) != QW_OK ||
             (tl < r->len && !sized && (e = qw_fileio_read_range(io, uri, 0, head, 4)) != QW_OK))
        e = qw__pqr_bad(r, e == QW_CORRUPT ? QW_IO : e, "%s: short read", uri);
    else if (tl == r->len ||
             sized) /* the head is in the tail, or not read (as Arrow, parquet-mr) */
        memcpy(head, tl == r->len ? r->own : (const uint8_t *)"PAR1", 4);
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

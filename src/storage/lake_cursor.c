/* lake_cursor.c: one raw_orderbook or raw_trades data file as a stream of
 * rows for the lake reader (lake_read_int.h): columns by Iceberg field id,
 * decoded one row group at a time into column buffers taken from a pool
 * shared by the reader's cursors (a file closed hands its buffers to the
 * next one opened: no fresh pages per file); the product and since/until
 * selection of the old whole-window loader, row for row. A file whose rows
 * are not in merge order is loaded whole and sorted (qw__lcur_sort). */
#define QW_MODULE "lake"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "storage/lake_read_int.h"
#include "storage/tables.h"

int qw__lake_product_wanted(const qw_lake_opts *o, const char *p)
{
    if (!o->nproducts || strcmp(p, "*") == 0) /* markers concern every product */
        return 1;
    for (size_t i = 0; i < o->nproducts; i++)
        if (strcmp(o->products[i], p) == 0)
            return 1;
    return 0;
}

int qw__lake_intern(qw__strtab *t, const char *s, size_t n, uint32_t *out)
{
    for (size_t i = t->n; i-- > 0;) /* newest first: rows of one run come together */
        if (t->len[i] == n && memcmp(t->s[i], s, n) == 0) {
            *out = (uint32_t)i;
            return 0;
        }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **ns = qw_realloc(t->s, nc * sizeof *ns);
        if (!ns)
            return -1;
        t->s = ns;
        size_t *nl = qw_realloc(t->len, nc * sizeof *nl);
        if (!nl)
            return -1;
        t->len = nl;
        t->cap = nc;
    }
    char *c = qw_malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, s, n);
    c[n] = '\0';
    t->s[t->n] = c;
    t->len[t->n] = n;
    *out = (uint32_t)t->n++;
    return 0;
}

/* Column indexes (0-based) per table, from storage/tables.c. */
enum {
    OB_PRODUCT = 0,
    OB_EXTS = 1,
    OB_EXNS = 2,
    OB_RECVTS = 3,
    OB_RECVNS = 4,
    OB_SIDE = 5,
    OB_PRICE = 6,
    OB_SIZE = 7,
    OB_SNAP = 8,
    OB_SEQ = 9,
    OB_MSGID = 10,
    OB_RUN = 11,
    OB_MSGNS = 12
};
enum {
    TR_PRODUCT = 0,
    TR_EXTS = 1,
    TR_EXNS = 2,
    TR_ID = 3,
    TR_PRICE = 4,
    TR_SIZE = 5,
    TR_SIDE = 6,
    TR_RECVTS = 7,
    TR_RECVNS = 8,
    TR_SNAP = 9,
    TR_MSGID = 10,
    TR_RUN = 11
};

/* Columns a pass does without: the timestamps (the _ns columns carry the
 * same instants exactly) always; the scan (the plan's first pass) also
 * prices, sizes, receive times, sequence numbers, trade ids, the level
 * rows' snapshot flags and the trades' sides. Undecoded columns cost
 * nothing (a third of the scan's columns). */
static int skips(int trades, int c, int scan)
{
    if (trades)
        return c == TR_EXTS || c == TR_RECVTS ||
               (scan &&
                (c == TR_ID || c == TR_PRICE || c == TR_SIZE || c == TR_RECVNS || c == TR_SIDE));
    return c == OB_EXTS || c == OB_RECVTS ||
           (scan &&
            (c == OB_RECVNS || c == OB_PRICE || c == OB_SIZE || c == OB_SEQ || c == OB_SNAP));
}

qw_err qw__lcur_open(qw__lake_ctx *x, qw__lcur *c, int scan)
{
    char eb[256];
    /* A small file (writers flush a few MiB at most) is read whole, in one
     * request: a ranged reader costs an open/read/close (or a GET) per
     * column chunk, which was most of the reader's system time. */
    qw_fileio_info fi = {.size = c->size};
    qw_err e = c->size ? QW_OK : qw_fileio_stat(x->io, c->path, &fi); /* a HEAD on a store */
    /* up to 64 KiB the footer's read is the whole file anyway */
    c->footer = scan == QW__LCUR_FOOTER && c->size > ((uint64_t)64 << 10);
    if (c->footer) { /* the footer alone: a writer's file settles from it */
        e = qw_pqr_open_io_sized(&c->f, x->io, c->path, c->size, (size_t)4 << 30, eb, sizeof eb);
    } else if (e == QW_OK && fi.size >= 12 && fi.size <= QW__LAKE_WHOLE) {
        if (fi.size > c->fcap) {
            qw_free(c->fbuf);
            c->fcap = 0;
            if (!(c->fbuf = qw_malloc((size_t)fi.size)))
                return QW_NOMEM;
            c->fcap = (size_t)fi.size;
        }
        e = qw_fileio_read_range(x->io, c->path, 0, c->fbuf, (size_t)fi.size);
        if (e == QW_OK)
            e = qw_pqr_open_mem(&c->f, c->fbuf, (size_t)fi.size, eb, sizeof eb);
        else
            snprintf(eb, sizeof eb, "%s", qw_strerror(e == QW_CORRUPT ? QW_IO : e));
    } else {
        e = qw_pqr_open_io_sized(&c->f, x->io, c->path, c->size, (size_t)4 << 30, eb, sizeof eb);
    }
    if (e != QW_OK && c->size) { /* a manifest's size that does not fit: as if unknown */
        qw_pqr_close(c->f);
        c->f = NULL;
        c->size = 0;
        return qw__lcur_open(x, c, scan);
    }
    if (e != QW_OK) {
        c->f = NULL;
        snprintf(x->err, sizeof x->err, "%.100s: %.140s", c->path, eb);
        return e;
    }
    if (!x->scratch && !(x->scratch = qw_pqr_scratch_new()))
        return QW_NOMEM;
    qw_pqr_use_scratch(c->f, x->scratch);
    qw_pqr_typed_arrays(c->f, 1); /* the rows read each column's own array only */
    qw_pqr_dict_indices(c->f, 1); /* strings as table indices: no per-row copy or compare */
    if (x->npool) {
        c->cols = x->pool[--x->npool];
    } else {
        c->cols = qw_calloc(QW__LAKE_NCOLS, sizeof *c->cols);
        if (!c->cols)
            return QW_NOMEM;
    }
    int trades = c->table == QW_TBL_RAW_TRADES;
    const qw_tbl_def *d = &qw_tables[c->table];
    int ncols = trades ? 12 : 13;
    /* columns by Iceberg field id, not position: an optional field a file
     * lacks (added after it was written) reads as null, columns the table
     * does not know are ignored */
    for (int k = 0; k < QW__LAKE_NCOLS; k++)
        c->map[k] = -1;
    for (int k = 0; k < ncols; k++) {
        for (size_t j = 0; j < qw_pqr_ncols(c->f); j++)
            if (qw_pqr_field_at(c->f, j)->field_id == d->cols[k].id)
                c->map[k] = (int)j;
        if (c->map[k] < 0 && d->cols[k].required) {
            snprintf(x->err, sizeof x->err, "%.150s: no column for required field %d (%s)", c->path,
                     d->cols[k].id, d->cols[k].name);
            return QW_CORRUPT;
        }
        if (skips(trades, k, scan))
            c->map[k] = -1;
    }
    c->rg = c->i = c->rgrows = 0;
    c->seen = 0;
    return QW_OK;
}

/* The file's column of table column k (-1: none), whatever the pass skips. */
static int col_of(const qw__lcur *c, int k)
{
    int id = qw_tables[c->table].cols[k].id;
    for (size_t j = 0; j < qw_pqr_ncols(c->f); j++)
        if (qw_pqr_field_at(c->f, j)->field_id == id)
            return (int)j;
    return -1;
}

static void stats_of(const qw__lcur *c, int k, qw_pqr_stats *s)
{
    int j = col_of(c, k);
    if (j < 0 || qw_pqr_stats_get(c->f, 0, (size_t)j, s) != 0) {
        memset(s, 0, sizeof *s);
        s->null_count = -1;
    }
}

/* A string column holding one value in every row: *p, *n. */
static int one_string(const qw_pqr_stats *s, const char **p, size_t *n)
{
    if (s->null_count != 0 || !s->min || !s->max || s->min_len != s->max_len ||
        memcmp(s->min, s->max, s->min_len) != 0)
        return 0;
    *p = (const char *)s->min, *n = s->min_len;
    return 1;
}

/* Bytewise order of (p, n) against the string z. */
static int str_cmp(const uint8_t *p, size_t n, const char *z)
{
    size_t zn = strlen(z);
    int d = memcmp(p, z, n < zn ? n : zn);
    return d ? d : (n > zn) - (n < zn);
}

/* The minimum over rows of a time column where present and > 0, when the
 * statistics tell it: INT64_MAX when all rows are null. */
static int min_time(const qw_pqr_stats *s, uint64_t nrows, int64_t *t)
{
    if (s->null_count >= 0 && (uint64_t)s->null_count == nrows)
        return *t = INT64_MAX, 1;
    if (s->null_count < 0 || !s->has_imin || s->imin <= 0)
        return 0; /* zeros (no time) or unknown: the minimum > 0 is not known */
    return *t = s->imin, 1;
}

int qw__lcur_settle(qw__lake_ctx *x, qw__lcur *c)
{
    const qw_lake_opts *o = x->o;
    int trades = c->table == QW_TBL_RAW_TRADES;
    uint64_t n = qw_pqr_row_groups(c->f) == 1 ? qw_pqr_rg_rows(c->f, 0) : 0;
    if (n == 0 || n > UINT32_MAX)
        return 0;
    qw_pqr_stats sp, sr, sm, se, sx, sn;
    const char *prod, *run;
    size_t pl, rl;
    stats_of(c, trades ? TR_PRODUCT : OB_PRODUCT, &sp);
    if (!one_string(&sp, &prod, &pl))
        return 0;
    char pb[QW_PRODUCT_MAX]; /* as qw__lcur_row tests a row's product */
    snprintf(pb, sizeof pb, "%.*s", (int)pl, prod);
    if (!qw__lake_product_wanted(o, pb)) {
        c->nrows = 0; /* every row is skipped: nothing interned */
        return 1;
    }
    stats_of(c, trades ? TR_EXNS : OB_EXNS, &se);
    int timeless = se.null_count >= 0 && (uint64_t)se.null_count == n;
    if (o->since_ns && !timeless && !(se.has_imin && se.imin >= o->since_ns))
        return 0; /* the window may cut the file */
    if (o->until_ns && !timeless && !(se.has_imax && se.imax < o->until_ns))
        return 0;
    stats_of(c, trades ? TR_RUN : OB_RUN, &sr);
    stats_of(c, trades ? TR_MSGID : OB_MSGID, &sm);
    if (!one_string(&sr, &run, &rl) || sm.null_count != 0 || !sm.has_imin)
        return 0;
    int64_t t;
    uint8_t snap = 0;
    if (trades) { /* t = exchange_ns; snapshot trades all or none */
        stats_of(c, TR_SNAP, &sx);
        if (sx.null_count != 0 || !sx.has_imin || !sx.has_imax || sx.imin != sx.imax)
            return 0;
        snap = (uint8_t)sx.imax;
        if (!min_time(&se, n, &t))
            return 0;
    } else { /* no connect or gap markers; t = msg_ns, or exchange_ns where it is null */
        stats_of(c, OB_SIDE, &sx);
        if (!sx.max || str_cmp(sx.max, sx.max_len, "connect") >= 0)
            return 0;
        stats_of(c, OB_MSGNS, &sn);
        if (sn.null_count == 0 && sn.has_imin && sn.imin > 0)
            t = sn.imin;
        else if (!(sn.null_count >= 0 && (uint64_t)sn.null_count == n && min_time(&se, n, &t)))
            return 0;
    }
    uint32_t pid, rid;
    if (qw__lake_intern(&x->prods, prod, pl, &pid) != 0 ||
        qw__lake_intern(&x->runs, run, rl, &rid) != 0) {
        snprintf(x->err, sizeof x->err, "%.100s: out of memory", c->path);
        return -1;
    }
    c->nrows = n;
    c->run = c->srun = rid;
    c->sprod = pid;
    c->msg_id = sm.imin;
    c->kp = (uint32_t)(trades ? 2 : 1) << 30 | pid;
    c->seg[0] = rid;
    c->nseg = 1;
    c->ordered = 1; /* until its rows say otherwise (qw__lcur_verify) */
    c->settled = 1;
    c->ssnap = snap;
    c->tmin = t;
    return 1;
}

/* Decodes row group c->rg into c->cols. */
static qw_err load_rg(qw__lake_ctx *x, qw__lcur *c)
{
    size_t nrows = (size_t)qw_pqr_rg_rows(c->f, c->rg);
    qw_err e = QW_OK;
    for (int k = 0; k < QW__LAKE_NCOLS && e == QW_OK; k++) {
        if (c->map[k] < 0) /* absent optional column: all null (HAS) */
            continue;
        e = qw_pqr_read(c->f, c->rg, (size_t)c->map[k], &c->cols[k]);
        if (e == QW_OK && c->cols[k].n != nrows)
            e = QW_CORRUPT;
    }
    if (e != QW_OK)
        snprintf(x->err, sizeof x->err, "%.100s: %.140s", c->path,
                 e == QW_CORRUPT ? "columns of unequal length" : qw_pqr_errmsg(c->f));
    c->rgrows = nrows;
    c->i = 0;
    c->npf = 0;
    for (int k = 0; k < QW__LAKE_NCOLS && e == QW_OK; k++) {
        const qw_pqr_column *col = &c->cols[k];
        if (c->map[k] < 0)
            continue;
        c->pfb[c->npf] = col->valid, c->pfs[c->npf++] = 1;
        if (col->ids)
            c->pfb[c->npf] = (const uint8_t *)col->sid, c->pfs[c->npf++] = 4;
        else
            c->pfb[c->npf] = (const uint8_t *)col->i64, c->pfs[c->npf++] = 8;
        if (qw_pqr_field_at(c->f, (size_t)c->map[k])->phys == 7 && col->i128) /* decimals */
            c->pfb[c->npf] = (const uint8_t *)col->i128, c->pfs[c->npf++] = 16;
    }
    c->pp = c->rp = NULL; /* the bytes they pointed at are gone */
    c->ppx = c->rpx = c->sx = UINT32_MAX;
    return e;
}

qw_err qw__lcur_verify(qw__lake_ctx *x, qw__lcur *c, int *ordered)
{
    int trades = c->table == QW_TBL_RAW_TRADES;
    int km = trades ? TR_MSGID : OB_MSGID, ke = trades ? TR_EXNS : OB_EXNS;
    *ordered = 0;
    if (qw_pqr_row_groups(c->f) != 1 || qw_pqr_rg_rows(c->f, 0) != c->nrows || c->map[km] < 0) {
        snprintf(x->err, sizeof x->err, "%.150s: rows differ from the first read", c->path);
        return QW_CORRUPT;
    }
    if (load_rg(x, c) != QW_OK)
        return QW_CORRUPT;
    c->rg = 1;
    const qw_pqr_column *m = &c->cols[km], *e = c->map[ke] >= 0 ? &c->cols[ke] : NULL;
    const qw_pqr_column *ns = !trades && c->map[OB_MSGNS] >= 0 ? &c->cols[OB_MSGNS] : NULL;
    int64_t prev = INT64_MIN, mn = INT64_MAX, t = INT64_MAX;
    int ord = 1, bad = 0;
    for (size_t i = 0; i < c->rgrows; i++) { /* the scan's rules, row by row */
        int64_t v = m->i64[i];
        bad |= !m->valid[i];
        ord &= v >= prev;
        prev = v;
        mn = v < mn ? v : mn;
        int64_t ti = ns && ns->valid[i] ? ns->i64[i] : 0;
        if (!ti && e && e->valid[i])
            ti = e->i64[i];
        if (ti > 0 && ti < t)
            t = ti;
    }
    if (bad || mn != c->msg_id || t != c->tmin) {
        snprintf(x->err, sizeof x->err, "%.150s: rows differ from the footer statistics", c->path);
        return QW_CORRUPT;
    }
    *ordered = ord;
    return QW_OK;
}

static int sorted_row(qw__lcur *c, qw__lrow *out)
{
    if (c->ri >= c->nr)
        return 0;
    *out = c->rows[c->ri++];
    c->seen++;
    return 1;
}

static int stats_differ(qw__lake_ctx *x, const qw__lcur *c)
{
    snprintf(x->err, sizeof x->err, "%.150s: rows differ from the footer statistics", c->path);
    return -1;
}

/* A row's run or product id; after the scan (x->frozen) only one it
 * interned: a new one means the file changed (the merge would index
 * run_first past its end). 0, or -1 with x->err. */
static int intern_row(qw__lake_ctx *x, const qw__lcur *c, qw__strtab *t, const char *s, size_t n,
                      uint32_t *id)
{
    size_t had = t->n;
    if (qw__lake_intern(t, s, n, id) != 0) {
        snprintf(x->err, sizeof x->err, "%.100s: out of memory", c->path);
        return -1;
    }
    if (x->frozen && *id >= had) {
        snprintf(x->err, sizeof x->err, "%.150s: rows differ from the first read", c->path);
        return -1;
    }
    return 0;
}

#define PF_AHEAD 16 /* rows: prefetch the arrays' lines this far ahead, every 8 rows */

/* Row i's string table index (UINT32_MAX: the column is not in that form). */
static inline uint32_t tab_index(const qw_pqr_column *col, size_t i)
{
    return col->ids ? col->sid[i] : UINT32_MAX;
}

int qw__lcur_row(qw__lake_ctx *x, qw__lcur *c, qw__lrow *out)
{
    if (c->rows)
        return sorted_row(c, out);
    if (!c->f)
        return 0;
    const qw_lake_opts *o = x->o;
    int trades = c->table == QW_TBL_RAW_TRADES;
    const qw_pqr_column *cols = c->cols;
    const int *map = c->map;
    for (;;) {
        if (c->i >= c->rgrows) {
            if (c->rg >= qw_pqr_row_groups(c->f))
                return 0;
            if (load_rg(x, c) != QW_OK)
                return -1;
            c->rg++;
            continue;
        }
        size_t i = c->i++;
        if ((i & 7) == 0 && i + PF_AHEAD < c->rgrows)
            for (int k = 0; k < c->npf; k++) {
                const uint8_t *b = c->pfb[k] + (i + PF_AHEAD) * c->pfs[k];
                __builtin_prefetch(b);
                if (c->pfs[k] == 16)
                    __builtin_prefetch(b + 64);
            }
        qw__lrow *r = out; /* filled in place: a local copied out stalled on its byte stores */
        memset(r, 0, sizeof *r);
        /* a string's table index equal to the previous row's: the same
         * string (no compare); else its bytes decide */
        size_t plen = c->ppl, rl = c->rpl;
        const char *prod = c->pp, *run = c->rp;
        uint32_t px = tab_index(&cols[0], i), rx;
        int same_prod = px != UINT32_MAX && px == c->ppx;
        if (!same_prod) {
            prod = qw_pqr_str(&cols[0], i, &plen);
            same_prod = c->pp && c->ppl == plen && memcmp(c->pp, prod, plen) == 0;
        }
        if (!same_prod) { /* a wanted product, or the rest of the group is skipped */
            char pb[QW_PRODUCT_MAX];
            snprintf(pb, sizeof pb, "%.*s", (int)plen, prod);
            if (!qw__lake_product_wanted(o, pb)) {
                c->i = c->rgrows; /* one product per file (partitioned): skip the group */
                continue;
            }
        }
        r->kind = trades ? 2 : 1;
#define HAS(k) (map[k] >= 0 && cols[k].valid[i]) /* an optional value is present */
#define I64(k) (map[k] >= 0 ? cols[k].i64[i] : 0)
        r->t_ns = HAS(trades ? TR_EXNS : OB_EXNS) ? cols[trades ? TR_EXNS : OB_EXNS].i64[i] : 0;
        if (o->since_ns && r->t_ns && r->t_ns < o->since_ns)
            continue;
        if (o->until_ns && r->t_ns && r->t_ns >= o->until_ns)
            continue;
        r->recv_ns =
            HAS(trades ? TR_RECVNS : OB_RECVNS) ? cols[trades ? TR_RECVNS : OB_RECVNS].i64[i] : 0;
        r->px = I64(trades ? TR_PRICE : OB_PRICE);
        int szk = trades ? TR_SIZE : OB_SIZE;
        if (map[szk] >= 0) /* decimal(38, 8) or (18, 8) */
            r->sz = cols[szk].i128 ? cols[szk].i128[i] : cols[szk].i64[i];
        r->snap = (uint8_t)I64(trades ? TR_SNAP : OB_SNAP);
        r->msg_id = I64(trades ? TR_MSGID : OB_MSGID);
        int sidek = trades ? TR_SIDE : OB_SIDE;
        uint32_t sx = map[sidek] >= 0 ? tab_index(&cols[sidek], i) : UINT32_MAX;
        if (sx == UINT32_MAX || sx != c->sx) {
            size_t sl = 0;
            const char *side = map[sidek] >= 0 ? qw_pqr_str(&cols[sidek], i, &sl) : "";
            c->sside = trades ? (sl == 4 && memcmp(side, "sell", 4) == 0)
                              : (sl == 3 && memcmp(side, "ask", 3) == 0);
            c->smark = 0;
            if (!trades && sl == 7 && memcmp(side, "connect", 7) == 0)
                c->smark = 2;
            else if (!trades && sl == 3 && memcmp(side, "gap", 3) == 0)
                c->smark = 3;
            c->sx = sx;
        }
        r->side = c->sside;
        if (c->smark)
            r->kind = 0, r->mark = c->smark;
        const qw_pqr_column *rc = &cols[trades ? TR_RUN : OB_RUN];
        rx = tab_index(rc, i);
        int same_run = rx != UINT32_MAX && rx == c->rpx;
        if (!same_run) {
            run = qw_pqr_str(rc, i, &rl);
            same_run = c->rp && c->rpl == rl && memcmp(c->rp, run, rl) == 0;
        }
        /* interned in row order (ids as the old loader gave them); a repeat
         * of the previous row's string is not looked up again */
        if (same_prod) {
            r->prod = c->pid;
        } else if (c->settled) { /* the statistics' product, nothing new interned */
            r->prod = c->sprod;
            if (x->prods.len[r->prod] != plen || memcmp(x->prods.s[r->prod], prod, plen) != 0)
                return stats_differ(x, c);
        } else if (intern_row(x, c, &x->prods, prod, plen, &r->prod) != 0) {
            return -1;
        }
        if (same_run) {
            r->run = c->rid;
        } else if (c->settled) {
            r->run = c->srun;
            if (x->runs.len[r->run] != rl || memcmp(x->runs.s[r->run], run, rl) != 0)
                return stats_differ(x, c);
        } else if (intern_row(x, c, &x->runs, run, rl, &r->run) != 0) {
            return -1;
        }
        if (c->settled && (r->kind != (trades ? 2 : 1) || (trades && r->snap != c->ssnap)))
            return stats_differ(x, c);
        c->pp = prod, c->ppl = plen, c->pid = r->prod, c->ppx = px;
        c->rp = run, c->rpl = rl, c->rid = r->run, c->rpx = rx;
        if (trades) {
            if (map[TR_ID] >= 0) {
                size_t tl;
                r->tid = qw_pqr_str(&cols[TR_ID], i, &tl);
                r->tidlen =
                    (uint32_t)(tl < QW_FEED_TRADE_ID_MAX - 1 ? tl : QW_FEED_TRADE_ID_MAX - 1);
            }
            r->seq = -1;
        } else {
            r->seq = HAS(OB_SEQ) ? cols[OB_SEQ].i64[i] : -1;
            r->msg_ns = HAS(OB_MSGNS) ? cols[OB_MSGNS].i64[i] : 0;
        }
#undef HAS
#undef I64
        c->seen++;
        return 1;
    }
}

typedef struct skey {
    int64_t first, msg_id;
    uint32_t run, kp, idx;
} skey;

static int skey_cmp(const void *a, const void *b)
{
    const skey *p = a, *q = b;
    if (p->first != q->first)
        return p->first < q->first ? -1 : 1;
    if (p->run != q->run)
        return p->run < q->run ? -1 : 1;
    if (p->msg_id != q->msg_id)
        return p->msg_id < q->msg_id ? -1 : 1;
    if (p->kp != q->kp)
        return p->kp < q->kp ? -1 : 1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

qw_err qw__lcur_sort(qw__lake_ctx *x, qw__lcur *c, const int64_t *run_first)
{
    size_t cap = c->nrows ? (size_t)c->nrows : 1;
    qw__lrow *rows = qw_malloc(cap * sizeof *rows);
    skey *k = qw_malloc(cap * sizeof *k);
    qw_err e = rows && k ? QW_OK : QW_NOMEM;
    size_t n = 0;
    qw__lrow r;
    int rc = 0;
    while (e == QW_OK && (rc = qw__lcur_row(x, c, &r)) == 1) {
        if (n == cap) { /* the file changed since the scan */
            e = QW_CORRUPT;
            break;
        }
        if (r.tidlen) { /* the trade id outlives the row group */
            if (c->alen + r.tidlen > c->acap) {
                size_t nc = c->acap ? c->acap * 2 : 4096;
                while (nc < c->alen + r.tidlen)
                    nc *= 2;
                char *na = qw_realloc(c->arena, nc);
                if (!na) {
                    e = QW_NOMEM;
                    break;
                }
                c->arena = na;
                c->acap = nc;
            }
            memcpy(c->arena + c->alen, r.tid, r.tidlen);
            r.tidoff = (uint32_t)c->alen;
            c->alen += r.tidlen;
        }
        k[n] =
            (skey){run_first[r.run], r.msg_id, r.run, (uint32_t)r.kind << 30 | r.prod, (uint32_t)n};
        rows[n++] = r;
    }
    if (e == QW_OK && (rc < 0 || n != c->nrows))
        e = QW_CORRUPT;
    if (e == QW_OK) {
        qsort(k, n, sizeof *k, skey_cmp);
        c->rows = qw_malloc(cap * sizeof *c->rows);
        if (!c->rows)
            e = QW_NOMEM;
        for (size_t i = 0; e == QW_OK && i < n; i++) {
            c->rows[i] = rows[k[i].idx];
            c->rows[i].tid = c->arena ? c->arena + c->rows[i].tidoff : NULL;
        }
        c->nr = n;
        c->ri = 0;
        c->seen = 0;
    }
    if (e != QW_OK && rc >= 0)
        snprintf(x->err, sizeof x->err, "%.100s: %s", c->path,
                 e == QW_CORRUPT ? "rows differ from the first read" : qw_strerror(e));
    qw_free(rows);
    qw_free(k);
    if (c->f) { /* the rows are in memory now */
        qw_pqr_close(c->f);
        c->f = NULL;
        qw_free(c->fbuf); /* the file's bytes too */
        c->fbuf = NULL;
        c->fcap = 0;
        if (c->cols && x->npool < x->poolcap)
            x->pool[x->npool++] = c->cols, c->cols = NULL;
    }
    return e;
}

void qw__lcur_close(qw__lake_ctx *x, qw__lcur *c)
{
    qw_pqr_close(c->f);
    c->f = NULL;
    if (c->cols) {
        if (x->npool < x->poolcap) {
            x->pool[x->npool++] = c->cols;
        } else {
            for (int k = 0; k < QW__LAKE_NCOLS; k++)
                qw_pqr_column_free(&c->cols[k]);
            qw_free(c->cols);
        }
        c->cols = NULL;
    }
    qw_free(c->rows);
    c->rows = NULL;
    qw_free(c->arena);
    c->arena = NULL;
    qw_free(c->fbuf);
    c->fbuf = NULL;
    c->fcap = 0;
    c->nr = c->ri = c->alen = c->acap = 0;
}

void qw__lake_ctx_fini(qw__lake_ctx *x)
{
    for (size_t i = 0; i < x->prods.n; i++)
        qw_free(x->prods.s[i]);
    for (size_t i = 0; i < x->runs.n; i++)
        qw_free(x->runs.s[i]);
    qw_free(x->prods.s);
    qw_free(x->prods.len);
    qw_free(x->runs.s);
    qw_free(x->runs.len);
    for (size_t i = 0; i < x->npool; i++) {
        for (int k = 0; k < QW__LAKE_NCOLS; k++)
            qw_pqr_column_free(&x->pool[i][k]);
        qw_free(x->pool[i]);
    }
    qw_free(x->pool);
    qw_pqr_scratch_free(x->scratch);
}

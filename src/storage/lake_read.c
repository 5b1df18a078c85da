/* lake_read.c: raw tables back into messages (see lake_read.h). */
#define QW_MODULE "lake"
#include "storage/lake_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "core/log.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "parquet/parquet_read.h"
#include "storage/store.h"
#include "storage/tables.h"

typedef struct lrow {
    int64_t t_ns, msg_ns, recv_ns, px, msg_id, seq;
    qw_sz sz;
    uint32_t run, prod, file, idx;
    uint32_t tid; /* trade id offset in the arena */
    uint8_t kind; /* sort rank: 0 marker (connect/gap), 1 level, 2 trade */
    uint8_t mark; /* 2 connect, 3 gap */
    uint8_t side, snap;
} lrow;

typedef struct strtab {
    char **s;
    size_t n, cap;
} strtab;

struct qw_lake_reader {
    qw_lake_opts o;
    lrow *rows;
    size_t n, cap, pos;
    strtab prods, runs;
    int64_t *run_first; /* first exchange time per run */
    char *arena;
    size_t alen, acap;
    uint32_t nfile;
    qw_pqr_column cols[13]; /* reused by every file: no fresh pages per file */
    /* the message handed out */
    qw_group *groups;
    qw_chg *chg;
    qw_trade *trades;
    size_t gcap, ccap, tcap;
    qw_lake_stats st;
    char err[256];
};

static int intern(strtab *t, const char *s, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->s[i]) == n && memcmp(t->s[i], s, n) == 0) {
            *out = (uint32_t)i;
            return 0;
        }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **ns = qw_realloc(t->s, nc * sizeof *ns);
        if (!ns)
            return -1;
        t->s = ns;
        t->cap = nc;
    }
    char *c = qw_malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, s, n);
    c[n] = '\0';
    t->s[t->n] = c;
    *out = (uint32_t)t->n++;
    return 0;
}

static int product_wanted(const qw_lake_reader *r, const char *p)
{
    if (!r->o.nproducts || strcmp(p, "*") == 0) /* markers concern every product */
        return 1;
    for (size_t i = 0; i < r->o.nproducts; i++)
        if (strcmp(r->o.products[i], p) == 0)
            return 1;
    return 0;
}

static int push_row(qw_lake_reader *r, const lrow *x)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 65536;
        lrow *nr = qw_realloc(r->rows, nc * sizeof *nr);
        if (!nr)
            return -1;
        r->rows = nr;
        r->cap = nc;
    }
    r->rows[r->n++] = *x;
    return 0;
}

static uint32_t arena_add(qw_lake_reader *r, const char *s, size_t n)
{
    if (n > QW_FEED_TRADE_ID_MAX - 1)
        n = QW_FEED_TRADE_ID_MAX - 1;
    if (r->alen + n + 1 > r->acap) {
        size_t nc = r->acap ? r->acap * 2 : 65536;
        while (nc < r->alen + n + 1)
            nc *= 2;
        char *na = qw_realloc(r->arena, nc);
        if (!na)
            return UINT32_MAX;
        r->arena = na;
        r->acap = nc;
    }
    uint32_t off = (uint32_t)r->alen;
    memcpy(r->arena + off, s, n);
    r->arena[off + n] = '\0';
    r->alen += n + 1;
    return off;
}

/* Column indexes (0-based) per table, from storage/tables.c. */
enum {
    OB_PRODUCT = 0,
    OB_EXNS = 2,
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
    TR_EXNS = 2,
    TR_ID = 3,
    TR_PRICE = 4,
    TR_SIZE = 5,
    TR_SIDE = 6,
    TR_RECVNS = 8,
    TR_SNAP = 9,
    TR_MSGID = 10,
    TR_RUN = 11
};

/* Files are named <writer's file sequence>-<uuid>.parquet: the rows of a
 * message split across two flushes come back in the order they were
 * written when files are ordered by that number (not by scan order). */
static uint32_t file_order(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    unsigned long long v = 0;
    for (; *base >= '0' && *base <= '9'; base++)
        v = v * 10 + (unsigned)(*base - '0');
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static qw_err load_file(qw_lake_reader *r, qw_fileio *io, int table, const char *path)
{
    qw_pqr *f;
    char eb[256];
    qw_err e = qw_pqr_open_io(&f, io, path, (size_t)4 << 30, eb, sizeof eb);
    if (e != QW_OK) {
        snprintf(r->err, sizeof r->err, "%.100s: %.140s", path, eb);
        return e;
    }
    uint32_t file = file_order(path);
    r->nfile++;
    int trades = table == QW_TBL_RAW_TRADES;
    const qw_tbl_def *d = &qw_tables[table];
    int ncols = trades ? 12 : 13;
    qw_pqr_column *cols = r->cols; /* reused across files */
    /* columns by Iceberg field id, not position: an optional field a file
     * lacks (added after it was written) reads as null, columns the table
     * does not know are ignored */
    int map[13];
    for (int c = 0; c < ncols && e == QW_OK; c++) {
        map[c] = -1;
        for (size_t j = 0; j < qw_pqr_ncols(f); j++)
            if (qw_pqr_field_at(f, j)->field_id == d->cols[c].id)
                map[c] = (int)j;
        if (map[c] < 0 && d->cols[c].required) {
            snprintf(r->err, sizeof r->err, "%.150s: no column for required field %d (%s)", path,
                     d->cols[c].id, d->cols[c].name);
            e = QW_CORRUPT;
        }
    }
    for (size_t rg = 0; rg < qw_pqr_row_groups(f) && e == QW_OK; rg++) {
        size_t nrows = (size_t)qw_pqr_rg_rows(f, rg);
        for (int c = 0; c < ncols && e == QW_OK; c++) {
            if (map[c] < 0) /* absent optional column: all null (HAS) */
                continue;
            e = qw_pqr_read(f, rg, (size_t)map[c], &cols[c]);
            if (e == QW_OK && cols[c].n != nrows)
                e = QW_CORRUPT;
        }
        if (e != QW_OK) {
            snprintf(r->err, sizeof r->err, "%.100s: %.140s", path,
                     e == QW_CORRUPT ? "columns of unequal length" : qw_pqr_errmsg(f));
            break;
        }
        for (size_t i = 0; i < nrows; i++) {
            lrow x;
            memset(&x, 0, sizeof x);
            size_t plen;
            const char *prod = qw_pqr_str(&cols[0], i, &plen);
            char pb[QW_PRODUCT_MAX];
            snprintf(pb, sizeof pb, "%.*s", (int)plen, prod);
            if (!product_wanted(r, pb))
                break; /* one product per file (partitioned) */
            x.kind = trades ? 2 : 1;
            x.file = file;
            x.idx = (uint32_t)(r->n);
#define HAS(c) (map[c] >= 0 && cols[c].valid[i]) /* an optional value is present */
            x.t_ns = HAS(trades ? TR_EXNS : OB_EXNS) ? cols[trades ? TR_EXNS : OB_EXNS].i64[i] : 0;
            if (r->o.since_ns && x.t_ns && x.t_ns < r->o.since_ns)
                continue;
            if (r->o.until_ns && x.t_ns && x.t_ns >= r->o.until_ns)
                continue;
            x.recv_ns = HAS(trades ? TR_RECVNS : OB_RECVNS)
                            ? cols[trades ? TR_RECVNS : OB_RECVNS].i64[i]
                            : 0;
            x.px = cols[trades ? TR_PRICE : OB_PRICE].i64[i];
            const qw_pqr_column *szc = &cols[trades ? TR_SIZE : OB_SIZE];
            x.sz = szc->i128 ? szc->i128[i] : szc->i64[i]; /* decimal(38, 8) or (18, 8) */
            x.snap = (uint8_t)cols[trades ? TR_SNAP : OB_SNAP].i64[i];
            x.msg_id = cols[trades ? TR_MSGID : OB_MSGID].i64[i];
            size_t sl, rl;
            const char *side = qw_pqr_str(&cols[trades ? TR_SIDE : OB_SIDE], i, &sl);
            x.side = trades ? (sl == 4 && memcmp(side, "sell", 4) == 0)
                            : (sl == 3 && memcmp(side, "ask", 3) == 0);
            if (!trades && sl == 7 && memcmp(side, "connect", 7) == 0)
                x.kind = 0, x.mark = 2;
            else if (!trades && sl == 3 && memcmp(side, "gap", 3) == 0)
                x.kind = 0, x.mark = 3;
            const char *run = qw_pqr_str(&cols[trades ? TR_RUN : OB_RUN], i, &rl);
            if (intern(&r->prods, prod, plen, &x.prod) != 0 ||
                intern(&r->runs, run, rl, &x.run) != 0) {
                e = QW_NOMEM;
                break;
            }
            if (trades) {
                size_t tl;
                const char *tid = qw_pqr_str(&cols[TR_ID], i, &tl);
                x.tid = arena_add(r, tid, tl);
                x.seq = -1;
            } else {
                x.seq = HAS(OB_SEQ) ? cols[OB_SEQ].i64[i] : -1;
                x.msg_ns = HAS(OB_MSGNS) ? cols[OB_MSGNS].i64[i] : 0;
#undef HAS
            }
            if (push_row(r, &x) != 0) {
                e = QW_NOMEM;
                break;
            }
            r->st.rows++;
        }
    }
    qw_pqr_close(f);
    r->st.files_read++;
    return e;
}

/* Ingest order: runs by their first exchange time, then message id, kind,
 * product, file, row index (a total order: idx is unique). The rows (~96
 * bytes) are not sorted themselves: a 32-byte key per row is, then the rows
 * are permuted in place into key order, each moved once (sorting the rows
 * cost a quarter of a lake backtest's CPU time, mostly moving them). */
typedef struct skey {
    int64_t first, msg_id; /* run_first[run], msg_id */
    uint32_t run, kp;      /* kp: kind << 30 | prod */
    uint32_t file, idx;
} skey;

static int cmp(const void *a, const void *b)
{
    const skey *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    if (x->msg_id != y->msg_id)
        return x->msg_id < y->msg_id ? -1 : 1;
    if (x->kp != y->kp)
        return x->kp < y->kp ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static qw_err sort_rows(qw_lake_reader *r)
{
    if (r->prods.n >= (1u << 30))
        return QW_TOO_MANY_PRODUCTS;
    skey *k = qw_malloc((r->n ? r->n : 1) * sizeof *k);
    if (!k)
        return QW_NOMEM;
    for (size_t i = 0; i < r->n; i++) {
        const lrow *x = &r->rows[i];
        k[i] = (skey){.first = r->run_first[x->run],
                      .msg_id = x->msg_id,
                      .run = x->run,
                      .kp = (uint32_t)x->kind << 30 | x->prod,
                      .file = x->file,
                      .idx = (uint32_t)i};
    }
    qsort(k, r->n, sizeof *k, cmp);
    /* in place, one cycle of the permutation at a time: row j takes row
     * k[j].idx; a placed position is marked k[j].idx = j */
    for (size_t i = 0; i < r->n; i++) {
        if (k[i].idx == i)
            continue;
        lrow t = r->rows[i];
        size_t j = i;
        for (;;) {
            size_t from = k[j].idx;
            k[j].idx = (uint32_t)j;
            if (from == i) {
                r->rows[j] = t;
                break;
            }
            r->rows[j] = r->rows[from];
            j = from;
        }
    }
    qw_free(k);
    return QW_OK;
}

static qw_err load_table(qw_lake_reader *r, const qw_ice_catalog_ops *ops, qw_fileio *io, int table)
{
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX] = "";
    qw_err e = qw_ice_load_table(ops, io, QW_TBL_NS, qw_tables[table].name, &m, loc, sizeof loc);
    if (e == QW_NOT_FOUND)
        return QW_OK;
    if (e != QW_OK) { /* the catalog names the table: unreadable is an error, not "empty" */
        snprintf(r->err, sizeof r->err,
                 "table %s.%s is in the catalog but cannot be read (%s%s%.120s)", QW_TBL_NS,
                 qw_tables[table].name, qw_strerror(e), loc[0] ? ": " : "", loc);
        return e;
    }
    qw_ice_scan scan;
    e = qw_ice_scan_plan(io, m, -1, &scan, r->err, sizeof r->err);
    if (e == QW_OK) {
        for (size_t i = 0; i < scan.nfiles && e == QW_OK; i++) {
            const qw_ice_data_file *f = &scan.files[i];
            if (f->content != QW_ICE_CONTENT_DATA)
                continue;
            r->st.files_total++;
            if (f->npart >= 1 && !f->part[0].is_null && !product_wanted(r, f->part[0].s))
                continue;
            int64_t lo = r->o.since_ns ? r->o.since_ns : INT64_MIN;
            int64_t hi = r->o.until_ns ? r->o.until_ns - 1 : INT64_MAX;
            int timeless = f->npart >= 2 && f->part[1].is_null; /* e.g. Exchange snapshots */
            if ((r->o.since_ns || r->o.until_ns) && !timeless &&
                !qw_ice_file_may_overlap_long(f, QW_TBL_F_EXCHANGE_NS, QW_ICE_LONG, lo, hi))
                continue;
            e = load_file(r, io, table, f->path); /* ranged reads through fileio */
        }
        qw_ice_scan_free(&scan);
    }
    qw_ice_meta_free(m);
    return e;
}

qw_err qw_lake_open(qw_lake_reader **out, const qw_lake_opts *o, char *errbuf, size_t errlen)
{
    char wh[4200], cat[4200];
    qw_err e = qw_store_resolve(o->warehouse, o->catalog_uri, wh, sizeof wh, cat, sizeof cat,
                                errbuf, errlen);
    if (e != QW_OK)
        return e;
    qw_lake_reader *r = qw_calloc(1, sizeof *r);
    if (!r)
        return QW_NOMEM;
    r->o = *o;
    qw_catalog *c = NULL;
    qw_fileio *io = NULL;
    qw_ice_catalog_ops ops;
    if ((e = qw_store_fileio(&io, wh, &o->os, errbuf, errlen)) != QW_OK)
        goto done;
    if ((e = qw_catalog_open(&c, cat, "quotewatch", errbuf, errlen)) != QW_OK)
        goto done;
    qw_ice_catalog_sql(&ops, c);
    e = load_table(r, &ops, io, QW_TBL_RAW_ORDERBOOK);
    if (e == QW_OK)
        e = load_table(r, &ops, io, QW_TBL_RAW_TRADES);
    for (int k = 0; k < 13; k++) /* only needed while loading */
        qw_pqr_column_free(&r->cols[k]);
    if (e != QW_OK) {
        snprintf(errbuf, errlen, "%s", r->err);
        goto done;
    }
    r->run_first = qw_calloc(r->runs.n ? r->runs.n : 1, sizeof *r->run_first);
    if (!r->run_first) {
        e = QW_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < r->runs.n; i++)
        r->run_first[i] = INT64_MAX;
    /* snapshot trades repeat trades older than the run (a restarted writer's
     * first market_trades snapshot reaches back into the run before it): they
     * count only for a run that has nothing else (kept negated meanwhile) */
    for (size_t i = 0; i < r->n; i++) {
        const lrow *x = &r->rows[i];
        int64_t t = x->msg_ns ? x->msg_ns : x->t_ns, *f = &r->run_first[x->run];
        if (t > 0 && !(x->kind == 2 && x->snap) && t < *f)
            *f = t;
    }
    for (size_t i = 0; i < r->n; i++) {
        const lrow *x = &r->rows[i];
        int64_t t = x->msg_ns ? x->msg_ns : x->t_ns, *f = &r->run_first[x->run];
        if (t > 0 && x->kind == 2 && x->snap && (*f == INT64_MAX || (*f < 0 && t < -*f)))
            *f = -t;
    }
    for (size_t i = 0; i < r->runs.n; i++)
        if (r->run_first[i] < 0)
            r->run_first[i] = -r->run_first[i];
    if ((e = sort_rows(r)) != QW_OK) {
        snprintf(errbuf, errlen, "sorting %zu rows: %s", r->n, qw_strerror(e));
        goto done;
    }
    r->st.runs = r->runs.n;
done:
    qw_fileio_destroy(io);
    qw_catalog_close(c);
    if (e != QW_OK) {
        qw_lake_close(r);
        return e;
    }
    *out = r;
    return QW_OK;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 256;
    while (nc < need)
        nc *= 2;
    void *np = qw_realloc(*p, nc * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}

qw_err qw_lake_next(qw_lake_reader *r, qw_msg *m, int64_t *recv_ns, int *connect)
{
    *connect = 0;
    if (r->pos >= r->n)
        return QW_NOT_FOUND;
    size_t a = r->pos, z = a + 1;
    while (z < r->n && r->rows[z].run == r->rows[a].run && r->rows[z].msg_id == r->rows[a].msg_id)
        z++;
    r->pos = z;
    size_t ng = 0, nc = 0, nt = 0;
    if (grow((void **)&r->chg, &r->ccap, z - a, sizeof *r->chg) ||
        grow((void **)&r->trades, &r->tcap, z - a, sizeof *r->trades) ||
        grow((void **)&r->groups, &r->gcap, z - a, sizeof *r->groups))
        return QW_NOMEM;
    memset(m, 0, sizeof *m);
    m->seq = -1;
    *recv_ns = r->rows[a].recv_ns;
    for (size_t i = a; i < z; i++) {
        const lrow *x = &r->rows[i];
        const char *prod = r->prods.s[x->prod];
        size_t pl = strlen(prod);
        if (x->kind == 0) {
            if (x->mark == 2)
                *connect = 1;
            else
                m->gap = 1;
            continue;
        }
        if (x->kind == 1) {
            qw_group *g = ng ? &r->groups[ng - 1] : NULL;
            qw_grp_kind k = x->snap ? QW_GRP_SNAPSHOT : QW_GRP_UPDATE;
            if (!g || g->kind != k || strcmp(g->product, prod) != 0) {
                g = &r->groups[ng++];
                memset(g, 0, sizeof *g);
                g->kind = k;
                g->product_len = (uint8_t)pl;
                memcpy(g->product, prod, pl + 1);
                g->t_ns = x->msg_ns;
                g->first = (uint32_t)nc;
            }
            qw_chg *c = &r->chg[nc++];
            c->px = x->px;
            c->sz = x->sz;
            c->t_ns = x->t_ns;
            c->side = x->side;
            g->count++;
            if (x->seq >= 0)
                m->seq = x->seq;
            if (x->msg_ns > m->t_ns)
                m->t_ns = x->msg_ns;
        } else {
            qw_trade *t = &r->trades[nt++];
            memset(t, 0, sizeof *t);
            t->px = x->px;
            t->sz = x->sz;
            t->t_ns = x->t_ns;
            t->seq = -1;
            t->aggressor = x->side;
            t->snapshot = x->snap;
            t->product_len = (uint8_t)pl;
            memcpy(t->product, prod, pl + 1);
            snprintf(t->trade_id, sizeof t->trade_id, "%s", r->arena + x->tid);
            if (!m->t_ns || x->t_ns > m->t_ns)
                m->t_ns = x->t_ns;
        }
    }
    m->type = ng ? QW_MSG_BOOK : QW_MSG_TRADES;
    m->ngroups = ng;
    m->nchg = nc;
    m->ntrades = nt;
    m->groups = r->groups;
    m->chg = r->chg;
    m->trades = r->trades;
    r->st.messages++;
    return QW_OK;
}

const qw_lake_stats *qw_lake_get_stats(const qw_lake_reader *r)
{
    return &r->st;
}

void qw_lake_close(qw_lake_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->prods.n; i++)
        qw_free(r->prods.s[i]);
    for (size_t i = 0; i < r->runs.n; i++)
        qw_free(r->runs.s[i]);
    qw_free(r->prods.s);
    qw_free(r->runs.s);
    qw_free(r->run_first);
    qw_free(r->rows);
    qw_free(r->arena);
    qw_free(r->groups);
    qw_free(r->chg);
    qw_free(r->trades);
    for (int c = 0; c < 13; c++)
        qw_pqr_column_free(&r->cols[c]);
    qw_free(r);
}

void qw_lake_opts_from_config(qw_lake_opts *o, const char **ids, const qw_config *cfg)
{
    for (size_t i = 0; i < cfg->nproducts; i++)
        ids[i] = cfg->products[i];
    *o = (qw_lake_opts){.warehouse = cfg->warehouse,
                        .catalog_uri = cfg->catalog_uri,
                        .products = cfg->products_set ? ids : NULL,
                        .nproducts = cfg->products_set ? cfg->nproducts : 0,
                        .since_ns = cfg->since_ns,
                        .until_ns = cfg->until_ns,
                        .os = {cfg->s3_endpoint, cfg->s3_path_style}};
}

void qw_lake_log_stats(const qw_lake_reader *r)
{
    const qw_lake_stats *ls = qw_lake_get_stats(r);
    QW_LOG(INFO, "lake: %llu messages from %llu rows in %llu of %llu files, %llu run(s)",
           (unsigned long long)ls->messages, (unsigned long long)ls->rows,
           (unsigned long long)ls->files_read, (unsigned long long)ls->files_total,
           (unsigned long long)ls->runs);
}

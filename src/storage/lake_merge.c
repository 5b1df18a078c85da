/* lake_merge.c: one compaction bin (lake_compact.c) written as a k-way
 * merge of its input files, so that a bin's memory does not grow with the
 * bin (docs/STORAGE.md "Maintenance", Memory).
 *
 * The order of the new file is the one lake_compact.c documents: raw tables
 * by (the run's first exchange time in the bin, the run, msg_id), features
 * and labels by exchange_ns; ties keep the read order (files in the given
 * order, rows in file order). That is a stable sort of the concatenated
 * files, and because the writer's files are already in that order (one run,
 * msg_id non-decreasing; features/labels in time order), the stable sort
 * is a merge of per-file cursors compared by (key, file index).
 *
 * Pass 1 reads only the key columns (run_id, msg_id, exchange_ns), one
 * column of one row group at a time: it numbers the runs (in order of
 * first appearance, as a sort of the whole bin would), takes each run's
 * first exchange time, each file's first key and whether the file is in
 * key order. Pass 2 merges: a cursor is opened when its file's first key
 * reaches the head of the heap and holds one decoded row group; it is
 * closed when its file is exhausted. A file not in key order (another
 * engine's file, a compacted file whose runs the bin reorders) is read
 * whole and sorted on its own: its cursor holds that file's rows. Rows go
 * to an output batch written as one row group when it reaches
 * QW_MERGE_GROUP_BYTES.
 *
 * Memory of a bin: the output batch (QW_MERGE_GROUP_BYTES) + one decoded
 * row group per open cursor (the files whose key range spans the current
 * output position: one or two for the writer's time-ordered files) + a
 * whole unsorted file per open unsorted cursor + ~100 bytes per input
 * file + the run table. It does not depend on the number of rows in the
 * bin. */
#define QW_MODULE "lake"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "parquet/parquet_read.h"
#include "storage/lake_admin_int.h"
#include "storage/tables.h"

/* ---- rows as columns (one row group, one file, or the output batch) ---- */
typedef struct ccol {
    int64_t *i;
    qw_sz *w;
    double *d;
    uint8_t *v;
    uint32_t *soff;
    uint8_t *sb;
    size_t slen, scap;
} ccol;

typedef struct rows {
    const qw_tbl_def *def;
    size_t n, cap;
    ccol c[QW_TBL_MAX_COLS];
} rows;

static void rows_free(rows *r)
{
    for (int k = 0; k < QW_TBL_MAX_COLS; k++) {
        qw_free(r->c[k].i), qw_free(r->c[k].w), qw_free(r->c[k].d), qw_free(r->c[k].v);
        qw_free(r->c[k].soff), qw_free(r->c[k].sb);
    }
    memset(r->c, 0, sizeof r->c);
    r->n = r->cap = 0;
}

static void rows_clear(rows *r)
{
    r->n = 0;
    for (int k = 0; k < QW_TBL_MAX_COLS; k++)
        r->c[k].slen = 0;
}

#define GROW(p, n)                                                                                 \
    do {                                                                                           \
        void *q_ = qw_realloc((p), (n) * sizeof *(p));                                             \
        if (!q_)                                                                                   \
            return QW_NOMEM;                                                                       \
        (p) = q_;                                                                                  \
    } while (0)

static qw_err rows_reserve(rows *r, size_t need)
{
    if (need <= r->cap)
        return QW_OK;
    size_t nc = r->cap ? r->cap : 1024;
    while (nc < need)
        nc *= 2;
    for (int k = 0; k < r->def->ncols; k++) {
        ccol *c = &r->c[k];
        switch (r->def->cols[k].kind) {
        case QW_COL_DOUBLE: GROW(c->d, nc); break;
        case QW_COL_DEC: GROW(c->w, nc); break;
        case QW_COL_STRING:
            GROW(c->soff, nc + 1);
            c->soff[0] = 0;
            break;
        default: GROW(c->i, nc); break;
        }
        GROW(c->v, nc);
    }
    r->cap = nc;
    return QW_OK;
}

static qw_err put_str(ccol *c, size_t row, const char *s, size_t n)
{
    if (row == 0)
        c->slen = 0, c->soff[0] = 0;
    if (c->slen + n > UINT32_MAX - 1)
        return QW_TOO_LARGE;
    if (c->slen + n > c->scap) {
        size_t nc = c->scap ? c->scap * 2 : 65536;
        while (nc < c->slen + n)
            nc *= 2;
        GROW(c->sb, nc);
        c->scap = nc;
    }
    memcpy(c->sb + c->slen, s, n);
    c->slen += n;
    c->soff[row + 1] = (uint32_t)c->slen;
    return QW_OK;
}

/* Opens path and maps table column k to file column map[k] (-1: absent). */
static qw_err file_open(qw_lake_admin *L, const qw_tbl_def *d, const char *path, qw_pqr **out,
                        int *map, char *eb, size_t ebl)
{
    qw_pqr *f;
    qw_err e = qw_pqr_open_io(&f, L->io, path, (size_t)4 << 30, eb, ebl);
    if (e != QW_OK)
        return e;
    size_t nc = qw_pqr_ncols(f);
    for (int k = 0; k < d->ncols; k++) {
        map[k] = -1;
        for (size_t j = 0; j < nc; j++)
            if (qw_pqr_field_at(f, j)->field_id == d->cols[k].id)
                map[k] = (int)j;
        if (map[k] < 0 && d->cols[k].required) {
            snprintf(eb, ebl, "%s: no column %s", path, d->cols[k].name);
            qw_pqr_close(f);
            return QW_UNSUPPORTED;
        }
    }
    *out = f;
    return QW_OK;
}

/* Reads column k of row group g into col; QW_NOT_FOUND when the file lacks it. */
static qw_err read_col(qw_pqr *f, const qw_tbl_def *d, const int *map, size_t g, int k,
                       qw_pqr_column *col, const char *path, char *eb, size_t ebl)
{
    if (map[k] < 0)
        return QW_NOT_FOUND;
    qw_err e = qw_pqr_read(f, g, (size_t)map[k], col);
    if (e != QW_OK) {
        snprintf(eb, ebl, "%s: %s", path, qw_pqr_errmsg(f));
        return e;
    }
    if (col->n != (size_t)qw_pqr_rg_rows(f, g)) {
        snprintf(eb, ebl, "%s: column %s has %zu rows, not %llu", path, d->cols[k].name, col->n,
                 (unsigned long long)qw_pqr_rg_rows(f, g));
        return QW_CORRUPT;
    }
    return QW_OK;
}

/* Appends every row of row group g to r. */
static qw_err read_rg(qw_pqr *f, const int *map, size_t g, rows *r, qw_pqr_column *col,
                      const char *path, char *eb, size_t ebl)
{
    const qw_tbl_def *d = r->def;
    size_t base = r->n, n = (size_t)qw_pqr_rg_rows(f, g);
    qw_err e = rows_reserve(r, base + n);
    for (int k = 0; k < d->ncols && e == QW_OK; k++) {
        ccol *c = &r->c[k];
        qw_col_kind kind = d->cols[k].kind;
        if (kind == QW_COL_STRING && base == 0)
            c->slen = 0, c->soff[0] = 0;
        e = read_col(f, d, map, g, k, col, path, eb, ebl);
        if (e == QW_NOT_FOUND) { /* an optional column the file lacks: nulls */
            e = QW_OK;
            for (size_t x = 0; x < n; x++) {
                c->v[base + x] = 0;
                if (kind == QW_COL_STRING)
                    c->soff[base + x + 1] = (uint32_t)c->slen;
            }
            continue;
        }
        int wide = e == QW_OK && qw_pqr_field_at(f, (size_t)map[k])->phys == 7;
        for (size_t x = 0; x < n && e == QW_OK; x++) {
            size_t row = base + x;
            c->v[row] = col->valid[x];
            switch (kind) {
            case QW_COL_DOUBLE: c->d[row] = col->valid[x] ? col->f64[x] : 0; break;
            case QW_COL_DEC:
                c->w[row] = !col->valid[x] ? 0 : wide ? col->i128[x] : (qw_sz)col->i64[x];
                break;
            case QW_COL_STRING: {
                size_t len = 0;
                const char *s = col->valid[x] ? qw_pqr_str(col, x, &len) : "";
                e = put_str(c, row, s, len);
                break;
            }
            default: c->i[row] = col->valid[x] ? col->i64[x] : 0; break;
            }
        }
    }
    if (e == QW_OK)
        r->n = base + n;
    return e;
}

/* ---- keys ---- */
typedef struct bkey {
    int64_t a, b, c;
} bkey;

static int bkey_cmp(const bkey *p, const bkey *q)
{
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    return (p->c > q->c) - (p->c < q->c);
}

typedef struct run {
    char *s;
    size_t len;
    int64_t first; /* earliest exchange_ns in the bin, INT64_MAX if none */
} run;

/* A bin: its key columns, runs and files. */
typedef struct fstate fstate;
typedef struct bin {
    const qw_tbl_def *d;
    int run, msg, ts, raw; /* key column indexes (-1: none) */
    run *runs;
    size_t nruns, rcap, last;
    fstate *f;
    size_t nf;
    size_t open, max_open, max_rows, unsorted; /* for the debug log */
} bin;

/* The run's number, in order of first appearance (a new run is added). */
static qw_err run_id(bin *B, const char *s, size_t len, uint32_t *rid)
{
    if (B->nruns && B->runs[B->last].len == len && !memcmp(B->runs[B->last].s, s, len)) {
        *rid = (uint32_t)B->last;
        return QW_OK;
    }
    for (size_t x = 0; x < B->nruns; x++)
        if (B->runs[x].len == len && !memcmp(B->runs[x].s, s, len)) {
            *rid = (uint32_t)(B->last = x);
            return QW_OK;
        }
    if (B->nruns == B->rcap) {
        size_t nc = B->rcap ? B->rcap * 2 : 16;
        GROW(B->runs, nc);
        B->rcap = nc;
    }
    char *c = qw_malloc(len + 1);
    if (!c)
        return QW_NOMEM;
    memcpy(c, s, len);
    B->runs[B->nruns] = (run){c, len, INT64_MAX};
    *rid = (uint32_t)(B->last = B->nruns++);
    return QW_OK;
}

/* The key of row i of r (raw: the run's first time must be final). */
static qw_err row_key(bin *B, const rows *r, size_t i, bkey *k)
{
    if (!B->raw) {
        k->a = B->ts >= 0 && r->c[B->ts].v[i] ? r->c[B->ts].i[i] : INT64_MIN;
        k->b = k->c = 0;
        return QW_OK;
    }
    const ccol *rc = &r->c[B->run];
    uint32_t rid;
    qw_err e = run_id(B, (const char *)rc->sb + rc->soff[i], rc->soff[i + 1] - rc->soff[i], &rid);
    k->a = B->runs[rid].first, k->b = rid, k->c = r->c[B->msg].i[i];
    return e;
}

/* ---- per input file ---- */
typedef struct cursor {
    qw_pqr *f;
    int map[QW_TBL_MAX_COLS];
    size_t g, ng; /* next row group */
    rows r;       /* the current row group, or the whole file (unsorted) */
    size_t *perm; /* unsorted: the file's rows in key order */
    size_t at;
} cursor;

/* raw: one run of a file, in order of first appearance in the file */
typedef struct frun {
    uint32_t rid;
    int64_t minc; /* its smallest msg_id in the file */
} frun;

struct fstate {
    uint64_t rows;
    bkey head; /* the next row's key (before opening: the file's smallest) */
    frun *fr;  /* raw: the file's runs */
    uint32_t nfr, frcap;
    int unsorted;
    cursor *cur;
};

/* Run rid of file F (added when new); its index in *x. A run that comes
 * back after another makes the file unsorted. */
static qw_err file_run(fstate *F, uint32_t rid, uint32_t cur, uint32_t *x)
{
    if (F->nfr && F->fr[cur].rid == rid) {
        *x = cur;
        return QW_OK;
    }
    for (uint32_t k = 0; k < F->nfr; k++)
        if (F->fr[k].rid == rid) {
            F->unsorted = 1;
            *x = k;
            return QW_OK;
        }
    if (F->nfr == F->frcap) {
        uint32_t nc = F->frcap ? F->frcap * 2 : 2;
        GROW(F->fr, nc);
        F->frcap = nc;
    }
    F->fr[F->nfr] = (frun){rid, INT64_MAX};
    *x = F->nfr++;
    return QW_OK;
}

/* Pass 1 over one file's key columns. */
static qw_err scan_keys(qw_lake_admin *L, bin *B, size_t fi, const char *path, qw_pqr_column *kc,
                        char *eb, size_t ebl)
{
    fstate *F = &B->f[fi];
    qw_pqr *f;
    int map[QW_TBL_MAX_COLS];
    qw_err e = file_open(L, B->d, path, &f, map, eb, ebl);
    if (e != QW_OK)
        return e;
    int have[3] = {0, 0, 0}, kcol[3] = {B->run, B->msg, B->ts};
    int64_t prev = INT64_MIN;
    uint32_t cur = 0; /* raw: index of the current run in F->fr */
    F->head = (bkey){INT64_MAX, 0, 0};
    for (size_t g = 0; g < qw_pqr_row_groups(f) && e == QW_OK; g++) {
        size_t n = (size_t)qw_pqr_rg_rows(f, g);
        for (int j = 0; j < 3 && e == QW_OK; j++) {
            have[j] = 0;
            if (kcol[j] < 0)
                continue;
            e = read_col(f, B->d, map, g, kcol[j], &kc[j], path, eb, ebl);
            have[j] = e == QW_OK;
            if (e == QW_NOT_FOUND)
                e = QW_OK;
        }
        for (size_t x = 0; x < n && e == QW_OK; x++) {
            int tv = have[2] && kc[2].valid[x];
            int64_t ts = tv ? kc[2].i64[x] : INT64_MIN, c = ts;
            if (B->raw) {
                size_t len = 0;
                const char *s = have[0] && kc[0].valid[x] ? qw_pqr_str(&kc[0], x, &len) : "";
                uint32_t rid, k;
                if ((e = run_id(B, s, len, &rid)) != QW_OK ||
                    (e = file_run(F, rid, cur, &k)) != QW_OK)
                    break;
                if (tv && ts < B->runs[rid].first)
                    B->runs[rid].first = ts;
                c = have[1] && kc[1].valid[x] ? kc[1].i64[x] : 0;
                if (k != cur)
                    cur = k, prev = INT64_MIN;
                if (c < F->fr[k].minc)
                    F->fr[k].minc = c;
            } else if (c < F->head.a) {
                F->head.a = c;
            }
            F->unsorted |= c < prev;
            prev = c;
        }
        F->rows += n;
    }
    qw_pqr_close(f);
    return e;
}

/* After pass 1 (raw: the runs' first times are final): each file's smallest
 * key, and whether a raw file's runs come in key order. */
static void finish_keys(bin *B)
{
    for (size_t i = 0; B->raw && i < B->nf; i++) {
        fstate *F = &B->f[i];
        for (uint32_t k = 0; k < F->nfr; k++) {
            const frun *r = &F->fr[k];
            bkey q = {B->runs[r->rid].first, r->rid, r->minc};
            if (k > 0) { /* a later run that sorts before the one before it */
                bkey p = {B->runs[F->fr[k - 1].rid].first, F->fr[k - 1].rid, INT64_MIN};
                F->unsorted |= bkey_cmp(&q, &p) < 0;
            }
            if (k == 0 || bkey_cmp(&q, &F->head) < 0)
                F->head = q;
        }
    }
}

/* ---- the heap of files by (head key, file index) ---- */
static int fcmp(const bin *B, size_t x, size_t y)
{
    int c = bkey_cmp(&B->f[x].head, &B->f[y].head);
    return c ? c : (x > y) - (x < y);
}

static void heap_down(const bin *B, size_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && fcmp(B, h[l], h[m]) < 0)
            m = l;
        if (l + 1 < n && fcmp(B, h[l + 1], h[m]) < 0)
            m = l + 1;
        if (m == i)
            return;
        size_t t = h[i];
        h[i] = h[m], h[m] = t, i = m;
    }
}

static void heap_up(const bin *B, size_t *h, size_t i)
{
    while (i && fcmp(B, h[i], h[(i - 1) / 2]) < 0) {
        size_t p = (i - 1) / 2, t = h[i];
        h[i] = h[p], h[p] = t, i = p;
    }
}

typedef struct skey {
    bkey k;
    size_t pos;
} skey;

static int skey_cmp(const void *x, const void *y)
{
    const skey *p = x, *q = y;
    int c = bkey_cmp(&p->k, &q->k);
    return c ? c : (p->pos > q->pos) - (p->pos < q->pos);
}

static void cursor_close(cursor *c)
{
    if (!c)
        return;
    if (c->f)
        qw_pqr_close(c->f);
    rows_free(&c->r);
    qw_free(c->perm);
    qw_free(c);
}

/* Loads the cursor's next rows: the next non-empty row group, or (unsorted)
 * the whole file in key order; leaves r.n == 0 at the end of the file. */
static qw_err cursor_fill(bin *B, cursor *c, int unsorted, qw_pqr_column *col, const char *path,
                          char *eb, size_t ebl)
{
    qw_err e = QW_OK;
    rows_clear(&c->r);
    c->at = 0;
    while (e == QW_OK && c->g < c->ng && (unsorted || c->r.n == 0))
        e = read_rg(c->f, c->map, c->g++, &c->r, col, path, eb, ebl);
    B->max_rows = c->r.n > B->max_rows ? c->r.n : B->max_rows;
    if (e != QW_OK || !unsorted || !c->r.n)
        return e;
    skey *k = qw_malloc(c->r.n * sizeof *k);
    c->perm = qw_malloc(c->r.n * sizeof *c->perm);
    if (!k || !c->perm) {
        qw_free(k);
        return QW_NOMEM;
    }
    for (size_t i = 0; i < c->r.n && e == QW_OK; i++)
        e = row_key(B, &c->r, i, &k[i].k), k[i].pos = i;
    qsort(k, c->r.n, sizeof *k, skey_cmp);
    for (size_t i = 0; i < c->r.n; i++)
        c->perm[i] = k[i].pos;
    qw_free(k);
    return e;
}

/* Appends row p of src to the output batch o. */
static qw_err out_put(rows *o, const rows *src, size_t p)
{
    const qw_tbl_def *d = o->def;
    size_t i = o->n;
    qw_err e = rows_reserve(o, i + 1);
    for (int k = 0; k < d->ncols && e == QW_OK; k++) {
        const ccol *c = &src->c[k];
        ccol *oc = &o->c[k];
        oc->v[i] = c->v[p];
        switch (d->cols[k].kind) {
        case QW_COL_DOUBLE: oc->d[i] = c->d[p]; break;
        case QW_COL_DEC: oc->w[i] = c->w[p]; break;
        case QW_COL_STRING:
            e = put_str(oc, i, (const char *)c->sb + c->soff[p], c->soff[p + 1] - c->soff[p]);
            break;
        default: oc->i[i] = c->i[p]; break;
        }
    }
    if (e == QW_OK)
        o->n = i + 1;
    return e;
}

/* The writer's view of the batch o. */
static void out_vecs(const rows *o, qw_pq_vec *vec)
{
    const qw_tbl_def *d = o->def;
    memset(vec, 0, QW_TBL_MAX_COLS * sizeof *vec);
    for (int k = 0; k < d->ncols; k++) {
        vec[k].valid = d->cols[k].required ? NULL : o->c[k].v;
        vec[k].i64 = o->c[k].i;
        vec[k].i128 = o->c[k].w;
        vec[k].f64 = o->c[k].d;
        if (d->cols[k].kind == QW_COL_STRING) {
            vec[k].soff = o->c[k].soff;
            vec[k].sbytes = o->c[k].sb ? o->c[k].sb : (const uint8_t *)"";
        }
    }
}

static qw_err out_flush(qw_pq_writer *w, rows *o)
{
    if (!o->n)
        return QW_OK;
    qw_pq_vec vec[QW_TBL_MAX_COLS];
    out_vecs(o, vec);
    qw_err e = qw_pq_write_rows(w, vec, o->n);
    rows_clear(o);
    return e;
}

/* Pass 2: merges the files into w; *nout counts the rows written. */
static qw_err merge(qw_lake_admin *L, bin *B, const qw_ice_data_file *files, qw_pq_writer *w,
                    uint64_t *nout, char *eb, size_t ebl)
{
    const qw_tbl_def *d = B->d;
    size_t per = 0; /* fixed bytes per output row: the batch bound */
    for (int k = 0; k < d->ncols; k++)
        per += 1 + (d->cols[k].kind == QW_COL_DEC      ? sizeof(qw_sz)
                    : d->cols[k].kind == QW_COL_STRING ? 4
                                                       : 8);
    size_t cap = 1024, sbytes = 0; /* rows: a power of two (rows_reserve's sizes) */
    while (cap * 2 * per <= QW_MERGE_GROUP_BYTES)
        cap *= 2;
    size_t *h = qw_malloc((B->nf ? B->nf : 1) * sizeof *h), nh = 0;
    rows o = {.def = d};
    qw_pqr_column col;
    qw_pqr_column_alloc(&col);
    qw_err e = h ? QW_OK : QW_NOMEM;
    for (size_t i = 0; i < B->nf && e == QW_OK; i++)
        if (B->f[i].rows)
            h[nh] = i, heap_up(B, h, nh++);
    while (nh && e == QW_OK) {
        size_t i = h[0];
        fstate *F = &B->f[i];
        if (!F->cur) { /* the file's first row is next: open it */
            if (!(F->cur = qw_calloc(1, sizeof *F->cur)))
                e = QW_NOMEM;
            else if ((e = file_open(L, d, files[i].path, &F->cur->f, F->cur->map, eb, ebl)) ==
                     QW_OK) {
                F->cur->r.def = d;
                F->cur->ng = qw_pqr_row_groups(F->cur->f);
                e = cursor_fill(B, F->cur, F->unsorted, &col, files[i].path, eb, ebl);
                B->max_open = ++B->open > B->max_open ? B->open : B->max_open;
            }
        }
        cursor *c = F->cur;
        int more = 0;
        while (e == QW_OK && c->at < c->r.n) {
            size_t p = c->perm ? c->perm[c->at] : c->at;
            if ((e = out_put(&o, &c->r, p)) != QW_OK)
                break;
            (*nout)++;
            for (int k = 0; k < d->ncols; k++)
                if (d->cols[k].kind == QW_COL_STRING)
                    sbytes += c->r.c[k].soff[p + 1] - c->r.c[k].soff[p];
            if (o.n == cap || sbytes >= QW_MERGE_GROUP_BYTES / 2) {
                e = out_flush(w, &o), sbytes = 0;
                if (e != QW_OK)
                    break;
            }
            if (++c->at == c->r.n && !F->unsorted &&
                (e = cursor_fill(B, c, 0, &col, files[i].path, eb, ebl)) != QW_OK)
                break;
            if (c->at == c->r.n)
                break; /* file done */
            if ((e = row_key(B, &c->r, c->perm ? c->perm[c->at] : c->at, &F->head)) != QW_OK)
                break;
            if (nh > 1 && (fcmp(B, i, h[1]) > 0 || (nh > 2 && fcmp(B, i, h[2]) > 0))) {
                more = 1; /* another file's row comes first */
                break;
            }
        }
        if (e != QW_OK)
            break;
        if (more) {
            heap_down(B, h, nh, 0);
        } else {
            cursor_close(c);
            F->cur = NULL, B->open--;
            h[0] = h[--nh];
            heap_down(B, h, nh, 0);
        }
    }
    if (e == QW_OK)
        e = out_flush(w, &o);
    for (size_t i = 0; i < B->nf; i++)
        cursor_close(B->f[i].cur), B->f[i].cur = NULL;
    qw_pqr_column_free(&col);
    rows_free(&o);
    qw_free(h);
    return e;
}

static int col_named(const qw_tbl_def *d, const char *name)
{
    for (int k = 0; k < d->ncols; k++)
        if (strcmp(d->cols[k].name, name) == 0)
            return k;
    return -1;
}

qw_err qw__lake_merge_bin(qw_lake_admin *L, const qw_tbl_def *d, const qw_ice_data_file *files,
                          size_t n, const char *path, qw_ice_data_file *df, char *eb, size_t ebl)
{
    bin B = {.d = d, .nf = n};
    if (ebl)
        eb[0] = 0;
    B.run = col_named(d, "run_id"), B.msg = col_named(d, "msg_id");
    B.ts = col_named(d, "exchange_ns");
    B.raw = B.run >= 0 && B.msg >= 0;
    if (!B.raw)
        B.run = B.msg = -1;
    B.f = qw_calloc(n ? n : 1, sizeof *B.f);
    qw_pqr_column kc[3];
    for (int j = 0; j < 3; j++)
        qw_pqr_column_alloc(&kc[j]);
    qw_err e = B.f ? QW_OK : QW_NOMEM;
    uint64_t want = 0;                             /* rows read, each file's as its manifest says */
    for (size_t i = 0; i < n && e == QW_OK; i++) { /* file by file: no sum to overflow */
        e = scan_keys(L, &B, i, files[i].path, kc, eb, ebl);
        if (e == QW_OK && (int64_t)B.f[i].rows != files[i].record_count) {
            snprintf(eb, ebl, "read %lld rows of %s, its manifest says %lld",
                     (long long)B.f[i].rows, files[i].path, (long long)files[i].record_count);
            e = QW_CORRUPT;
        }
        want += e == QW_OK ? (uint64_t)B.f[i].rows : 0;
    }
    for (int j = 0; j < 3; j++)
        qw_pqr_column_free(&kc[j]);
    if (e == QW_OK)
        finish_keys(&B);
    for (size_t i = 0; i < n; i++)
        B.unsorted += B.f && B.f[i].unsorted;
    qw_pq_column cols[QW_TBL_MAX_COLS];
    for (int k = 0; k < d->ncols; k++) {
        qw_col_kind kind = d->cols[k].kind;
        cols[k] = (qw_pq_column){d->cols[k].name, d->cols[k].id, qw_tbl_pq_type(kind),
                                 d->cols[k].required, kind == QW_COL_TSTZ || kind == QW_COL_LONG};
    }
    /* one row group per batch: the writer's own split never applies */
    qw_pq_opts po = {.compression = QW_PQ_ZSTD,
                     .dictionary = 1,
                     .io = L->io,
                     .row_group_bytes = (size_t)4 * QW_MERGE_GROUP_BYTES};
    qw_pq_writer *w = NULL;
    uint64_t nout = 0;
    if (e == QW_OK)
        e = qw_pq_writer_open(&w, path, cols, (size_t)d->ncols, &po, eb, ebl);
    if (e == QW_OK && (e = merge(L, &B, files, w, &nout, eb, ebl)) != QW_OK) {
        qw_pq_writer_abort(w);
        if (!*eb)
            snprintf(eb, ebl, "write %.300s: %s", path, qw_strerror(e));
    }
    if (e == QW_OK && nout != want) {
        qw_pq_writer_abort(w);
        snprintf(eb, ebl, "merged %llu rows, the manifests say %llu", (unsigned long long)nout,
                 (unsigned long long)want);
        e = QW_CORRUPT;
    }
    qw_pq_file_stats *ps = e == QW_OK ? qw_malloc(sizeof *ps) : NULL;
    if (e == QW_OK && !ps) {
        qw_pq_writer_abort(w);
        e = QW_NOMEM;
    }
    if (e == QW_OK && (e = qw_pq_writer_close(w, ps)) != QW_OK)
        snprintf(eb, ebl, "close %.300s: %s", path, qw_strerror(e));
    if (e == QW_OK) {
        memset(df, 0, sizeof *df);
        df->content = QW_ICE_CONTENT_DATA;
        snprintf(df->path, sizeof df->path, "%s", path);
        snprintf(df->format, sizeof df->format, "PARQUET");
        df->npart = files[0].npart;
        memcpy(df->part, files[0].part, sizeof df->part);
        df->record_count = (int64_t)ps->rows;
        df->file_size_in_bytes = (int64_t)ps->file_bytes;
        qw_tbl_ice_stats(d, ps, df);
    }
    qw_free(ps);
    QW_LOG(DEBUG,
           "merged %zu file(s), %zu not in key order, %lld rows: at most %zu open, %zu rows held",
           n, B.unsorted, (long long)want, B.max_open, B.max_rows);
    for (size_t i = 0; B.f && i < n; i++)
        qw_free(B.f[i].fr);
    qw_free(B.f);
    for (size_t x = 0; x < B.nruns; x++)
        qw_free(B.runs[x].s);
    qw_free(B.runs);
    return e;
}

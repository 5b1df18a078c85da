/* lake_compact.c: `quotewatch lake compact` (lake_admin.h, docs/STORAGE.md
 * "Maintenance"): per table and partition (product, day), the small data
 * files of the current snapshot are packed into bins of at most the target
 * size (--target-size, else the table's write.target-file-size-bytes,
 * default 128 MiB); the rows of each bin of two or more files are read,
 * ordered (raw tables: by run and ingest message, which is time order and
 * keeps each message's rows together for replay --lake; features and
 * labels: by exchange time) and written to one new file; then one Iceberg
 * "replace" snapshot per table swaps them (qw_ice_replace: a file replaced
 * meanwhile makes it give up, appends meanwhile are kept).
 *
 * The compactor holds a commit lease on the table while its new files are
 * uncommitted (clean-orphans and expire leave them alone). It deletes
 * nothing: the replaced files stay referenced by older snapshots until
 * `lake expire` expires those. Memory: one bin's rows at a time. */
#define QW_MODULE "lake"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/time.h"
#include "parquet/parquet_read.h"
#include "storage/lake_admin_int.h"
#include "storage/store.h"
#include "storage/tables.h"

#define DEFAULT_TARGET (128ull << 20)

/* ---- one bin's rows as columns ---- */
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
    size_t nc = r->cap ? r->cap : 4096;
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

/* Append every row of one data file. */
static qw_err read_file(qw_lake_admin *L, rows *r, const char *path, char *eb, size_t ebl)
{
    qw_pqr *f;
    qw_err e = qw_pqr_open_io(&f, L->io, path, (size_t)4 << 30, eb, ebl);
    if (e != QW_OK)
        return e;
    const qw_tbl_def *d = r->def;
    int map[QW_TBL_MAX_COLS]; /* table column -> file column (-1: absent) */
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
    qw_pqr_column col;
    qw_pqr_column_alloc(&col);
    for (size_t g = 0; g < qw_pqr_row_groups(f) && e == QW_OK; g++) {
        size_t base = r->n, n = (size_t)qw_pqr_rg_rows(f, g);
        if ((e = rows_reserve(r, base + n)) != QW_OK)
            break;
        for (int k = 0; k < d->ncols && e == QW_OK; k++) {
            ccol *c = &r->c[k];
            qw_col_kind kind = d->cols[k].kind;
            if (map[k] < 0) { /* an optional column the file lacks: nulls */
                for (size_t x = 0; x < n; x++) {
                    c->v[base + x] = 0;
                    if (kind == QW_COL_STRING)
                        c->soff[base + x + 1] = (uint32_t)c->slen;
                }
                continue;
            }
            if ((e = qw_pqr_read(f, g, (size_t)map[k], &col)) != QW_OK) {
                snprintf(eb, ebl, "%s: %s", path, qw_pqr_errmsg(f));
                break;
            }
            if (col.n != n) {
                snprintf(eb, ebl, "%s: column %s has %zu rows, not %zu", path, d->cols[k].name,
                         col.n, n);
                e = QW_CORRUPT;
                break;
            }
            int wide = qw_pqr_field_at(f, (size_t)map[k])->phys == 7;
            for (size_t x = 0; x < n && e == QW_OK; x++) {
                size_t row = base + x;
                c->v[row] = col.valid[x];
                switch (kind) {
                case QW_COL_DOUBLE: c->d[row] = col.valid[x] ? col.f64[x] : 0; break;
                case QW_COL_DEC:
                    c->w[row] = !col.valid[x] ? 0 : wide ? col.i128[x] : (qw_sz)col.i64[x];
                    break;
                case QW_COL_STRING: {
                    size_t len = 0;
                    const char *s = col.valid[x] ? qw_pqr_str(&col, x, &len) : "";
                    e = put_str(c, row, s, len);
                    break;
                }
                default: c->i[row] = col.valid[x] ? col.i64[x] : 0; break;
                }
            }
        }
        if (e == QW_OK)
            r->n = base + n;
    }
    qw_pqr_column_free(&col);
    qw_pqr_close(f);
    return e;
}

/* ---- order: raw tables by (run, msg_id), the others by exchange time;
 * ties keep the read order (files in name order: the writer's order) ---- */
typedef struct okey {
    int64_t a, b, c;
    size_t pos;
} okey;

static int okey_cmp(const void *x, const void *y)
{
    const okey *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    if (p->c != q->c)
        return p->c < q->c ? -1 : 1;
    return (p->pos > q->pos) - (p->pos < q->pos);
}

static int col_named(const qw_tbl_def *d, const char *name)
{
    for (int k = 0; k < d->ncols; k++)
        if (strcmp(d->cols[k].name, name) == 0)
            return k;
    return -1;
}

/* The row order of the new file: raw tables by (run, msg_id), runs by
 * their first exchange time; features and labels by exchange time. Ties
 * keep the read order. */
static qw_err order(const rows *r, size_t **perm)
{
    const qw_tbl_def *d = r->def;
    size_t n = r->n ? r->n : 1;
    okey *k = qw_malloc(n * sizeof *k);
    uint32_t *rid = qw_malloc(n * sizeof *rid);
    *perm = qw_malloc(n * sizeof **perm);
    int run = col_named(d, "run_id"), msg = col_named(d, "msg_id");
    int ts = col_named(d, "exchange_ns");
    int raw = run >= 0 && msg >= 0;
    size_t nruns = 0, rcap = 16;
    struct {
        uint32_t off, len;
        int64_t first;
    } *runs = qw_malloc(rcap * sizeof *runs);
    if (!k || !rid || !*perm || !runs) {
        qw_free(k), qw_free(rid), qw_free(runs);
        return QW_NOMEM;
    }
    const ccol *rc = raw ? &r->c[run] : NULL;
    for (size_t i = 0; raw && i < r->n; i++) {
        uint32_t off = rc->soff[i], len = rc->soff[i + 1] - off;
        size_t x = nruns;
        if (nruns && runs[nruns - 1].len == len &&
            !memcmp(rc->sb + runs[nruns - 1].off, rc->sb + off, len))
            x = nruns - 1;
        else
            for (x = 0; x < nruns; x++)
                if (runs[x].len == len && !memcmp(rc->sb + runs[x].off, rc->sb + off, len))
                    break;
        if (x == nruns) {
            if (nruns == rcap) {
                void *nr = qw_realloc(runs, rcap * 2 * sizeof *runs);
                if (!nr) {
                    qw_free(k), qw_free(rid), qw_free(runs);
                    return QW_NOMEM;
                }
                runs = nr;
                rcap *= 2;
            }
            runs[nruns].off = off, runs[nruns].len = len, runs[nruns].first = INT64_MAX;
            nruns++;
        }
        rid[i] = (uint32_t)x;
        if (ts >= 0 && r->c[ts].v[i] && r->c[ts].i[i] < runs[x].first)
            runs[x].first = r->c[ts].i[i];
    }
    for (size_t i = 0; i < r->n; i++) {
        k[i].pos = i;
        if (raw) { /* (run's first time, run, msg_id) */
            k[i].a = runs[rid[i]].first;
            k[i].b = (int64_t)rid[i];
            k[i].c = r->c[msg].i[i];
        } else {
            k[i].a = ts >= 0 && r->c[ts].v[i] ? r->c[ts].i[i] : INT64_MIN;
            k[i].b = k[i].c = 0;
        }
    }
    qsort(k, r->n, sizeof *k, okey_cmp);
    for (size_t i = 0; i < r->n; i++)
        (*perm)[i] = k[i].pos;
    qw_free(k);
    qw_free(rid);
    qw_free(runs);
    return QW_OK;
}

/* ---- write the bin's rows (in perm order) to path ---- */
static qw_err write_rows(qw_lake_admin *L, const rows *r, const size_t *perm, const char *path,
                         qw_ice_data_file *df, const qw_ice_data_file *like, char *eb, size_t ebl)
{
    const qw_tbl_def *d = r->def;
    rows o = {.def = d};
    qw_err e = rows_reserve(&o, r->n);
    for (int k = 0; k < d->ncols && e == QW_OK; k++) {
        const ccol *c = &r->c[k];
        ccol *oc = &o.c[k];
        for (size_t i = 0; i < r->n && e == QW_OK; i++) {
            size_t p = perm[i];
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
    }
    qw_pq_column cols[QW_TBL_MAX_COLS];
    qw_pq_vec vec[QW_TBL_MAX_COLS];
    memset(vec, 0, sizeof vec);
    for (int k = 0; k < d->ncols; k++) {
        qw_col_kind kind = d->cols[k].kind;
        cols[k] = (qw_pq_column){d->cols[k].name, d->cols[k].id, qw_tbl_pq_type(kind),
                                 d->cols[k].required, kind == QW_COL_TSTZ || kind == QW_COL_LONG};
        vec[k].valid = d->cols[k].required ? NULL : o.c[k].v;
        vec[k].i64 = o.c[k].i;
        vec[k].i128 = o.c[k].w;
        vec[k].f64 = o.c[k].d;
        if (kind == QW_COL_STRING) {
            vec[k].soff = o.c[k].soff;
            vec[k].sbytes = o.c[k].sb ? o.c[k].sb : (const uint8_t *)"";
        }
    }
    qw_pq_opts po = {.compression = QW_PQ_ZSTD, .dictionary = 1, .io = L->io};
    qw_pq_writer *w = NULL;
    if (e == QW_OK)
        e = qw_pq_writer_open(&w, path, cols, (size_t)d->ncols, &po, eb, ebl);
    if (e == QW_OK && (e = qw_pq_write_rows(w, vec, r->n)) != QW_OK) {
        qw_pq_writer_abort(w);
        snprintf(eb, ebl, "write %.300s: %s", path, qw_strerror(e));
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
        df->npart = like->npart;
        memcpy(df->part, like->part, sizeof df->part);
        df->record_count = (int64_t)ps->rows;
        df->file_size_in_bytes = (int64_t)ps->file_bytes;
        qw_tbl_ice_stats(d, ps, df);
    }
    qw_free(ps);
    rows_free(&o);
    return e;
}

/* ---- planning ---- */
static int same_part(const qw_ice_data_file *a, const qw_ice_data_file *b)
{
    if (a->npart != b->npart || a->spec_id != b->spec_id)
        return 0;
    for (int k = 0; k < a->npart; k++) {
        const qw_ice_datum *x = &a->part[k], *y = &b->part[k];
        if (x->is_null != y->is_null)
            return 0;
        if (!x->is_null && (x->i != y->i || strcmp(x->s, y->s) != 0))
            return 0;
    }
    return 1;
}

static uint64_t name_order(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    uint64_t v = 0;
    for (; *b >= '0' && *b <= '9'; b++)
        v = v * 10 + (uint64_t)(*b - '0');
    return v;
}

static int file_cmp(const void *x, const void *y)
{
    const qw_ice_data_file *a = x, *b = y;
    int c = strcmp(a->part[0].s, b->part[0].s);
    if (c)
        return c;
    if (a->npart > 1 && (a->part[1].is_null != b->part[1].is_null || a->part[1].i != b->part[1].i))
        return a->part[1].is_null            ? -1
               : b->part[1].is_null          ? 1
               : a->part[1].i < b->part[1].i ? -1
                                             : 1;
    uint64_t p = name_order(a->path), q = name_order(b->path);
    if (p != q)
        return p < q ? -1 : 1;
    return strcmp(a->path, b->path);
}

static int wanted(const qw_lake_compact_opts *o, const qw_ice_data_file *f)
{
    if (f->content != QW_ICE_CONTENT_DATA || f->npart < 1)
        return 0;
    if (!o->nproducts)
        return 1;
    for (size_t i = 0; i < o->nproducts; i++)
        if (!f->part[0].is_null && strcmp(o->products[i], f->part[0].s) == 0)
            return 1;
    return 0;
}

typedef struct tally {
    size_t in, out, parts, rows;
    uint64_t bin, bout;
} tally;

/* Compact one bin files[0..n) into out; the new file is named after the
 * first input (its writer order number keeps replay --lake's order). */
static qw_err do_bin(qw_lake_admin *L, int t, const qw_ice_data_file *files, size_t n,
                     qw_ice_data_file *out, char *eb, size_t ebl)
{
    rows r = {.def = &qw_tables[t]};
    qw_err e = QW_OK;
    for (size_t i = 0; i < n && e == QW_OK; i++)
        e = read_file(L, &r, files[i].path, eb, ebl);
    int64_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += files[i].record_count;
    if (e == QW_OK && (int64_t)r.n != want) {
        snprintf(eb, ebl, "read %zu rows, the manifests say %lld", r.n, (long long)want);
        e = QW_CORRUPT;
    }
    size_t *perm = NULL;
    if (e == QW_OK)
        e = order(&r, &perm);
    if (e == QW_OK) {
        char path[QW_ICE_LOC_MAX], uuid[37];
        const char *slash = strrchr(files[0].path, '/');
        int dl = slash ? (int)(slash - files[0].path) : 0;
        qw_ice_uuid(uuid);
        snprintf(path, sizeof path, "%.*s/%05llu-c%s.parquet", dl, files[0].path,
                 (unsigned long long)name_order(files[0].path), uuid);
        e = write_rows(L, &r, perm, path, out, &files[0], eb, ebl);
    }
    qw_free(perm);
    rows_free(&r);
    return e;
}

static void remove_files(qw_fileio *io, const qw_ice_data_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)qw_fileio_remove(io, f[i].path);
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Tiered selection (opts.tiered, the --maintain thread): of a partition's
 * n small files, the ones no larger than the sum of the smaller ones taken
 * (the two smallest always) are moved, in order, to the front; returns how
 * many. A compacted file is so rewritten only once the files written since
 * add up to its size: geometric, like a size-tiered LSM tree. Without it
 * every round re-read and rewrote the partition's whole compacted file
 * (a 64-product live run with --maintain 60: rounds of minutes, 856 MiB
 * peak RSS, docs/PERFORMANCE.md). */
static qw_err tier(qw_ice_data_file *f, size_t n, size_t *keep)
{
    uint64_t *sz = qw_malloc((n ? n : 1) * sizeof *sz);
    if (!sz)
        return QW_NOMEM;
    for (size_t k = 0; k < n; k++)
        sz[k] = (uint64_t)f[k].file_size_in_bytes;
    qsort(sz, n, sizeof *sz, u64_cmp);
    uint64_t acc = 0, cut = 0;
    for (size_t k = 0; k < n && (k < 2 || sz[k] <= acc); k++)
        acc += sz[k], cut = sz[k];
    qw_free(sz);
    size_t nin = 0, nout = 0;
    for (size_t k = 0; k < n; k++)
        nout += (uint64_t)f[k].file_size_in_bytes > cut;
    qw_ice_data_file *out = qw_malloc((nout ? nout : 1) * sizeof *out);
    if (!out)
        return QW_NOMEM;
    nout = 0;
    for (size_t k = 0; k < n; k++) {
        if ((uint64_t)f[k].file_size_in_bytes > cut)
            out[nout++] = f[k];
        else if (nin++ != k)
            f[nin - 1] = f[k];
    }
    memcpy(f + nin, out, nout * sizeof *out);
    qw_free(out);
    *keep = nin;
    return QW_OK;
}

static qw_err compact_table(qw_lake_admin *L, int t, const qw_lake_compact_opts *o,
                            const qw_lake_sink *s, tally *ty)
{
    const char *table = qw_tables[t].name;
    char loc[QW_ICE_LOC_MAX], eb[512];
    qw_ice_meta *m = NULL;
    qw_err e = qw__lake_admin_load(L, table, &m, loc, sizeof loc);
    if (e != QW_OK)
        return e == QW_NOT_FOUND ? QW_OK : e;
    uint64_t target = o->target_bytes;
    if (!target) {
        const char *v = qw_ice_meta_property(m, "write.target-file-size-bytes");
        target = v && atoll(v) > 0 ? (uint64_t)atoll(v) : DEFAULT_TARGET;
    }
    qw_ice_scan sc;
    if ((e = qw_ice_scan_plan(L->io, m, -1, &sc, eb, sizeof eb)) != QW_OK) {
        fprintf(s->err, "%s: %s: %s\n", s->prefix, table, eb);
        qw_ice_meta_free(m);
        return e;
    }
    qw_ice_meta_free(m);
    /* small files of the wanted partitions, grouped by partition */
    qw_ice_data_file *f = qw_malloc((sc.nfiles ? sc.nfiles : 1) * sizeof *f);
    qw_ice_data_file *add = qw_malloc((sc.nfiles ? sc.nfiles : 1) * sizeof *add);
    qw_ice_data_file *del = qw_malloc((sc.nfiles ? sc.nfiles : 1) * sizeof *del);
    size_t nf = 0, nadd = 0, ndel = 0;
    if (!f || !add || !del)
        e = QW_NOMEM;
    for (size_t i = 0; e == QW_OK && i < sc.nfiles; i++)
        if (wanted(o, &sc.files[i]) && (uint64_t)sc.files[i].file_size_in_bytes < target)
            f[nf++] = sc.files[i];
    qw_ice_scan_free(&sc);
    if (e == QW_OK)
        qsort(f, nf, sizeof *f, file_cmp);
    /* lease before the first new file exists (store_lease.c's contract) */
    char holder[128], host[64] = "";
    (void)gethostname(host, sizeof host - 1);
    snprintf(holder, sizeof holder, "compact pid %ld on %.60s", (long)getpid(), host);
    int64_t now = qw_now_wall_ns() / 1000000;
    int leased = 0;
    if (e == QW_OK && nf > 1) {
        if ((e = qw_catalog_lease_set(L->c, QW_TBL_NS, table, holder, now, now)) != QW_OK)
            fprintf(s->err, "%s: %s: cannot take a commit lease: %s\n", s->prefix, table,
                    qw_catalog_errmsg(L->c));
        leased = e == QW_OK;
    }
    size_t parts = 0;
    for (size_t i = 0; e == QW_OK && i < nf;) {
        size_t j = i + 1;
        while (j < nf && same_part(&f[i], &f[j]))
            j++;
        int touched = 0;
        size_t jb = j; /* bins over f[i, jb) */
        if (o->tiered && (e = tier(f + i, j - i, &jb)) == QW_OK)
            jb += i;
        for (size_t b = i; b < jb && e == QW_OK;) { /* greedy bins of <= target bytes */
            size_t c = b + 1;
            uint64_t sum = (uint64_t)f[b].file_size_in_bytes;
            while (c < jb && sum + (uint64_t)f[c].file_size_in_bytes <= target)
                sum += (uint64_t)f[c++].file_size_in_bytes;
            if (c - b >= 2) {
                e = do_bin(L, t, f + b, c - b, &add[nadd], eb, sizeof eb);
                if (e == QW_OK) {
                    memcpy(del + ndel, f + b, (c - b) * sizeof *f);
                    ndel += c - b;
                    ty->rows += (size_t)add[nadd].record_count;
                    ty->bout += (uint64_t)add[nadd].file_size_in_bytes;
                    ty->bin += sum;
                    nadd++;
                    touched = 1;
                } else {
                    fprintf(s->err, "%s: %s: %s\n", s->prefix, table, eb);
                }
            }
            b = c;
        }
        parts += touched;
        i = j;
    }
    qw_ice_replace_result rr = {0};
    if (e == QW_OK && nadd) {
        qw_ice_kv kv[1] = {{"quotewatch.compact", "true"}};
        /* a writer may commit every few ms: many quick retries (manifests cached) */
        qw_ice_replace_opts ro = {
            .summary = kv, .nsummary = 1, .max_attempts = 40, .backoff_ms = 5};
        e = qw_ice_replace(&L->ops, L->io, QW_TBL_NS, table, del, ndel, add, nadd, &ro, &rr);
        if (e == QW_OK) {
            fprintf(s->out,
                    "%s: compacted %zu file(s) into %zu in %zu partition(s): %zu rows, %llu -> "
                    "%llu bytes (snapshot %lld)\n",
                    table, ndel, nadd, parts, ty->rows, (unsigned long long)ty->bin,
                    (unsigned long long)ty->bout, (long long)rr.snapshot_id);
            ty->in += ndel;
            ty->out += nadd;
            ty->parts += parts;
        } else {
            fprintf(rr.stale ? s->out : s->err, "%s%s%s: gave up: %s\n", rr.stale ? "" : s->prefix,
                    rr.stale ? "" : ": ", table, rr.err);
            if (rr.stale)
                e = QW_OK; /* another compaction won: nothing lost, nothing to do */
        }
    } else if (e == QW_OK) {
        fprintf(s->out, "%s: nothing to compact (%zu small file(s))\n", table, nf);
    }
    if (nadd && (e != QW_OK || rr.stale) && !rr.outcome_unknown)
        remove_files(L->io, add, nadd); /* never committed */
    if (leased && !rr.outcome_unknown)
        (void)qw_catalog_lease_release(L->c, QW_TBL_NS, table, holder);
    qw_free(f);
    qw_free(add);
    qw_free(del);
    return e;
}

qw_err qw_lake_admin_compact(qw_lake_admin *L, const qw_lake_compact_opts *o, const qw_lake_sink *s)
{
    if (o->table && *o->table && qw_tbl_find(o->table) < 0) {
        fprintf(s->err, "%s: %s is not a QuoteWatch table\n", s->prefix, o->table);
        return QW_INVAL;
    }
    qw_err first = QW_OK;
    tally all = {0};
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        if (o->table && *o->table && strcmp(o->table, qw_tables[t].name) != 0)
            continue;
        tally ty = {0};
        qw_err e = compact_table(L, t, o, s, &ty);
        if (e != QW_OK && first == QW_OK)
            first = e;
        all.in += ty.in, all.out += ty.out, all.parts += ty.parts;
    }
    if (o->totals)
        o->totals->files_compacted += all.in, o->totals->files_written += all.out;
    fprintf(s->out, "total: %zu file(s) compacted into %zu in %zu partition(s)\n", all.in, all.out,
            all.parts);
    return first;
}

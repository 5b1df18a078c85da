/* lake_read.c: raw tables back into messages (see lake_read.h), streamed.
 *
 * DESIGN. The order is the one a global sort of every selected row by
 * (run_first[run], run, msg_id, kind << 30 | product, file, load index)
 * gives, where run_first is a run's first exchange time (below), the ids
 * of runs and products are interned in plan order (table raw_orderbook
 * then raw_trades, files in scan-plan order, rows in file order) and the
 * load index counts rows in that same order. It is produced without
 * holding the rows:
 *
 *   1. plan   the catalog's scan of each table, pruned by product
 *             partition and exchange_ns bounds; one cursor per file.
 *   2. scan   every file is read once, without prices, sizes or trade ids
 *             (lake_cursor.c): it interns runs and products in plan order,
 *             counts the selected rows, takes each run's minimum times and
 *             notes the file's first key and the runs in it, in order. A
 *             file is "ordered" when within each run (msg_id, kind,
 *             product) never decreases and each run forms one segment;
 *             after the scan its segments must also ascend by
 *             (run_first, run). Writers flush rows in ingest order, one
 *             run per file, so their files are ordered; a compacted file
 *             (lake_compact.c orders runs by exchange time alone) may not
 *             be: it is loaded whole and sorted (qw__lcur_sort).
 *             Most files need no decoding here: a file with one row
 *             group, one run, one product (min = max), no markers (side
 *             max < "connect"), trades all snapshots or none, not cut by
 *             the window and its times known (msg_ns with no nulls and
 *             min > 0, or all null and exchange_ns so) is settled from
 *             its footer statistics (qw__lcur_settle): its rows are
 *             counted, its first key is (run, min msg_id, kind, product)
 *             -- the file's minimum key, whatever its row order -- and
 *             the run's times take the column minimum. Anything else
 *             (compacted files, other writers' files without usable
 *             statistics) is decoded as described.
 *   3. merge  a binary heap of cursors keyed by their head row's
 *             (run_first, run, msg_id, kind << 30 | product, file, plan
 *             position). An ordered cursor's rows ascend in that key with
 *             ties in file order, the plan position stands for the load
 *             index across files, so popping the heap repeats the global
 *             sort row for row. A cursor opens its file when its first row
 *             is taken (its key is known from the scan) and closes it at
 *             its last: only files whose rows interleave are open together.
 *             A settled file is checked on that one decode
 *             (qw__lcur_verify: msg_id minimum, time minimum; run,
 *             product, kind and snapshot flag row by row); if its msg_ids
 *             ever decrease it is sorted then -- its heap key was its
 *             minimum key, which is the sorted file's first -- and rows
 *             that contradict the statistics stop the stream (QW_CORRUPT).
 *             So does a row whose run or product the scan did not intern
 *             (its file changed since): the merge interns nothing, so a
 *             row's run always has its run_first slot (x->frozen).
 *
 * run_first is exactly the old loader's: the minimum over the run's
 * selected rows of msg_ns (level rows) or exchange_ns (others) where that
 * is > 0, snapshot trades left out -- they repeat trades older than the
 * run (a restarted writer's first market_trades snapshot reaches back into
 * the run before it) -- unless the run has nothing else. The scan sees
 * every selected row, so no bound from metadata is needed (column bounds
 * do not tell snapshot trades apart and cover unselected rows); a file's
 * own Parquet statistics are used only where they decide this exactly
 * (one product, wholly inside the window, snapshot flags all equal).
 *
 * Messages: the popped rows of one (run, msg_id) form one message.
 *
 * Cost (docs/PERFORMANCE.md "Backtest"): a writer's file is decoded once
 * (merge; its scan reads the footer); a file decoded twice (scan, merge)
 * decodes only the columns each pass uses (lake_cursor.c); the cursors'
 * readers fill only each column's own array (qw_pqr_typed_arrays),
 * a small file is read whole in one request (not one per column chunk),
 * every cursor's Parquet reader decodes in one shared scratch (pages,
 * levels, dictionary, zstd context) and the column buffer sets are pooled
 * from the scan on: a file opened costs no fresh pages. Strings (product,
 * side, run, trade id) come as string-table indices
 * (qw_pqr_dict_indices): no per-row copy, and a row whose index repeats the
 * previous row's needs no compare. The heap holds the cursors' keys.
 */
#define QW_MODULE "lake"
#include "storage/lake_read.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "core/log.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "storage/lake_read_int.h"
#include "storage/store.h"
#include "storage/tables.h"

/* A heap entry: a cursor and a copy of its merge key, so the heap's
 * compares read one array, not the cursors. */
typedef struct hent {
    int64_t first, msg_id;
    uint32_t run, kp, file, pos;
    qw__lcur *c;
} hent;

struct qw_lake_reader {
    qw_lake_opts o;
    qw__lake_ctx x;
    qw__lcur *cur;
    size_t ncur, capcur;
    hent *heap;
    size_t nheap;
    int64_t *run_first, *run_snap; /* per run: minimum time, of snapshot trades */
    size_t rcap;
    size_t *plen;  /* per product: strlen of its name (the merge interns nothing) */
    qw_err failed; /* sticky: a file that failed while streaming */
    /* the message handed out */
    qw__lrow *mrows;
    char *marena;
    size_t mcap, macap, malen;
    qw_group *groups;
    qw_chg *chg;
    qw_trade *trades;
    size_t gcap, ccap, tcap;
    qw_lake_stats st;
    /* read-ahead (qw_fileio_prefetch; object stores): the scan hints the
     * next files' footers, the merge the next files to open -- cursors
     * open in the order of their first keys (order[], built at the
     * merge's start) */
    size_t scan_hinted;
    qw__lcur **order;
    size_t norder, nopened, merge_hinted;
};

#define SCAN_AHEAD 16 /* footers (at most 64 KiB each) */
#define MERGE_AHEAD 8 /* whole files (at most QW__LAKE_WHOLE each) */

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

static qw_err add_file(qw_lake_reader *r, int table, const char *path, int64_t size)
{
    if (grow((void **)&r->cur, &r->capcur, r->ncur + 1, sizeof *r->cur))
        return QW_NOMEM;
    qw__lcur *c = &r->cur[r->ncur];
    memset(c, 0, sizeof *c);
    size_t n = strlen(path);
    if (!(c->path = qw_malloc(n + 1)))
        return QW_NOMEM;
    memcpy(c->path, path, n + 1);
    c->size = size > 0 ? (uint64_t)size : 0;
    c->table = table;
    c->file = file_order(path);
    c->pos = (uint32_t)r->ncur++;
    return QW_OK;
}

static qw_err plan_table(qw_lake_reader *r, const qw_ice_catalog_ops *ops, qw_fileio *io, int table)
{
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX] = "";
    char *err = r->x.err;
    size_t errlen = sizeof r->x.err;
    qw_err e = qw_ice_load_table(ops, io, QW_TBL_NS, qw_tables[table].name, &m, loc, sizeof loc);
    if (e == QW_NOT_FOUND)
        return QW_OK;
    if (e != QW_OK) { /* the catalog names the table: unreadable is an error, not "empty" */
        snprintf(err, errlen, "table %s.%s is in the catalog but cannot be read (%s%s%.120s)",
                 QW_TBL_NS, qw_tables[table].name, qw_strerror(e), loc[0] ? ": " : "", loc);
        return e;
    }
    qw_ice_scan scan;
    e = qw_ice_scan_plan(io, m, -1, &scan, err, errlen);
    if (e == QW_OK) {
        for (size_t i = 0; i < scan.nfiles && e == QW_OK; i++) {
            const qw_ice_data_file *f = &scan.files[i];
            if (f->content != QW_ICE_CONTENT_DATA)
                continue;
            r->st.files_total++;
            if (f->npart >= 1 && !f->part[0].is_null &&
                !qw__lake_product_wanted(&r->o, f->part[0].s))
                continue;
            int64_t lo = r->o.since_ns ? r->o.since_ns : INT64_MIN;
            int64_t hi = r->o.until_ns ? r->o.until_ns - 1 : INT64_MAX;
            int timeless = f->npart >= 2 && f->part[1].is_null; /* e.g. Exchange snapshots */
            if ((r->o.since_ns || r->o.until_ns) && !timeless &&
                !qw_ice_file_may_overlap_long(f, QW_TBL_F_EXCHANGE_NS, QW_ICE_LONG, lo, hi))
                continue;
            e = add_file(r, table, f->path, f->file_size_in_bytes);
        }
        qw_ice_scan_free(&scan);
    }
    qw_ice_meta_free(m);
    return e;
}

/* Room in run_first and run_snap for run id `run` (new slots: none yet). */
static int runs_fit(qw_lake_reader *r, uint32_t run)
{
    size_t nc = r->rcap ? r->rcap * 2 : 16;
    while (nc <= run)
        nc *= 2;
    int64_t *a = qw_realloc(r->run_first, nc * sizeof *a);
    if (!a)
        return -1;
    r->run_first = a;
    int64_t *b = qw_realloc(r->run_snap, nc * sizeof *b);
    if (!b)
        return -1;
    r->run_snap = b;
    for (size_t i = r->rcap; i < nc; i++)
        a[i] = b[i] = INT64_MAX;
    r->rcap = nc;
    return 0;
}

/* Scan one file (DESIGN step 2). */
static qw_err scan_file(qw_lake_reader *r, qw__lcur *c)
{
    qw_err e = qw__lcur_open(&r->x, c, QW__LCUR_FOOTER);
    r->st.files_read++;
    qw__lrow w;
    uint32_t prun = 0, pkp = 0;
    int64_t pmsg = 0;
    int rc = e == QW_OK ? qw__lcur_settle(&r->x, c) : 0;
    if (e == QW_OK && rc == 0 && c->footer) { /* to be decoded: the whole file after all */
        qw__lcur_close(&r->x, c);
        e = qw__lcur_open(&r->x, c, 1);
    }
    if (rc != 0) { /* settled by the footer: no page decoded */
        e = rc < 0 ? QW_NOMEM : QW_OK;
        if (rc > 0 && c->nrows && c->srun >= r->rcap && runs_fit(r, c->srun) != 0)
            e = QW_NOMEM;
        if (e == QW_OK && c->nrows) {
            int64_t *f = c->ssnap ? &r->run_snap[c->srun] : &r->run_first[c->srun];
            if (c->tmin < *f)
                *f = c->tmin;
        }
        if (e == QW_NOMEM)
            snprintf(r->x.err, sizeof r->x.err, "%.100s: out of memory", c->path);
        r->st.rows += c->nrows;
        qw__lcur_close(&r->x, c);
        return e;
    }
    c->ordered = 1;
    while (e == QW_OK && (rc = qw__lcur_row(&r->x, c, &w)) == 1) {
        if (w.run >= r->rcap && runs_fit(r, w.run) != 0) {
            e = QW_NOMEM;
            break;
        }
        uint32_t kp = (uint32_t)w.kind << 30 | w.prod;
        if (c->nrows == 0) {
            c->run = w.run, c->msg_id = w.msg_id, c->kp = kp;
        } else if (w.run == prun) {
            if (w.msg_id < pmsg || (w.msg_id == pmsg && kp < pkp))
                c->ordered = 0;
        }
        if (c->nrows == 0 || w.run != prun) {
            for (size_t s = 0; s < c->nseg; s++)
                if (c->seg[s] == w.run)
                    c->ordered = 0; /* a run in two pieces */
            if (c->nseg < QW__LAKE_SEGS)
                c->seg[c->nseg++] = w.run;
            else
                c->ordered = 0;
        }
        prun = w.run, pmsg = w.msg_id, pkp = kp;
        c->nrows++;
        int64_t t = w.msg_ns ? w.msg_ns : w.t_ns;
        int snap = w.kind == 2 && w.snap;
        int64_t *f = snap ? &r->run_snap[w.run] : &r->run_first[w.run];
        if (t > 0 && t < *f)
            *f = t;
    }
    if (e == QW_OK && rc < 0)
        e = QW_CORRUPT;
    if (e == QW_NOMEM)
        snprintf(r->x.err, sizeof r->x.err, "%.100s: out of memory", c->path);
    r->st.rows += c->nrows;
    qw__lcur_close(&r->x, c);
    return e;
}

static hent hent_of(qw__lcur *c)
{
    return (hent){c->first, c->msg_id, c->run, c->kp, c->file, c->pos, c};
}

static int key_lt(const hent *a, const hent *b)
{
    if (a->first != b->first)
        return a->first < b->first;
    if (a->run != b->run)
        return a->run < b->run;
    if (a->msg_id != b->msg_id)
        return a->msg_id < b->msg_id;
    if (a->kp != b->kp)
        return a->kp < b->kp;
    if (a->file != b->file)
        return a->file < b->file;
    return a->pos < b->pos;
}

static void sift_down(qw_lake_reader *r, size_t i)
{
    hent *h = r->heap, c = h[i];
    size_t n = r->nheap;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= n)
            break;
        if (k + 1 < n && key_lt(&h[k + 1], &h[k]))
            k++;
        if (!key_lt(&h[k], &c))
            break;
        h[i] = h[k];
        i = k;
    }
    h[i] = c;
}

static void set_key(qw_lake_reader *r, qw__lcur *c)
{
    c->run = c->head.run;
    c->first = r->run_first[c->run];
    c->msg_id = c->head.msg_id;
    c->kp = (uint32_t)c->head.kind << 30 | c->head.prod;
    c->have = 1;
}

static int order_cmp(const void *a, const void *b)
{
    hent x = hent_of(*(qw__lcur *const *)a), y = hent_of(*(qw__lcur *const *)b);
    return key_lt(&x, &y) ? -1 : key_lt(&y, &x) ? 1 : 0;
}

/* The merge's start (DESIGN step 3): run_first settled, cursors checked
 * and heaped. */
static qw_err start_merge(qw_lake_reader *r)
{
    size_t nr = r->x.runs.n;
    for (size_t i = 0; i < nr; i++)
        if (r->run_first[i] == INT64_MAX)
            r->run_first[i] = r->run_snap[i];
    r->heap = qw_calloc(r->ncur + 1, sizeof *r->heap);
    r->plen = qw_calloc(r->x.prods.n + 1, sizeof *r->plen);
    if (!r->heap || !r->plen)
        return QW_NOMEM;
    for (size_t i = 0; i < r->x.prods.n; i++)
        r->plen[i] = strlen(r->x.prods.s[i]);
    for (size_t i = 0; i < r->ncur; i++) {
        qw__lcur *c = &r->cur[i];
        if (!c->nrows)
            continue;
        for (size_t s = 1; s < c->nseg; s++) {
            uint32_t a = c->seg[s - 1], b = c->seg[s];
            if (r->run_first[a] > r->run_first[b] || (r->run_first[a] == r->run_first[b] && a > b))
                c->ordered = 0;
        }
        if (c->ordered) {
            c->first = r->run_first[c->run];
        } else {
            qw_err e = qw__lcur_open(&r->x, c, 0);
            if (e == QW_OK)
                e = qw__lcur_sort(&r->x, c, r->run_first);
            if (e != QW_OK)
                return e;
            if (qw__lcur_row(&r->x, c, &c->head) != 1)
                return QW_CORRUPT;
            set_key(r, c);
        }
        r->heap[r->nheap++] = hent_of(c);
    }
    for (size_t i = r->nheap / 2; i-- > 0;)
        sift_down(r, i);
    /* the files still to open, in the order the merge opens them */
    if (!(r->order = qw_calloc(r->nheap + 1, sizeof *r->order)))
        return QW_NOMEM;
    for (size_t i = 0; i < r->nheap; i++)
        if (!r->heap[i].c->have)
            r->order[r->norder++] = r->heap[i].c;
    qsort(r->order, r->norder, sizeof *r->order, order_cmp);
    return QW_OK;
}

/* A file opens: hint the next ones (whole files only: what the merge's
 * open of a small file reads). */
static void hint_merge(qw_lake_reader *r)
{
    r->nopened++;
    for (; r->merge_hinted < r->norder && r->merge_hinted < r->nopened + MERGE_AHEAD;
         r->merge_hinted++) {
        const qw__lcur *h = r->order[r->merge_hinted];
        if (h->size >= 12 && h->size <= QW__LAKE_WHOLE)
            (void)qw_fileio_prefetch(r->x.io, h->path, 0, (size_t)h->size);
    }
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
    r->x.o = &r->o;
    qw_catalog *c = NULL;
    qw_ice_catalog_ops ops;
    if ((e = qw_store_fileio(&r->x.io, wh, &o->os, errbuf, errlen)) != QW_OK)
        goto done;
    if ((e = qw_catalog_open(&c, cat, "quotewatch", errbuf, errlen)) != QW_OK)
        goto done;
    qw_ice_catalog_sql(&ops, c);
    e = plan_table(r, &ops, r->x.io, QW_TBL_RAW_ORDERBOOK);
    if (e == QW_OK)
        e = plan_table(r, &ops, r->x.io, QW_TBL_RAW_TRADES);
    qw_catalog_close(c);
    c = NULL;
    /* column buffer sets go back to the pool when a file closes, from the
     * scan on: the scan's files share one set instead of faulting in
     * fresh pages each */
    if (e == QW_OK && !(r->x.pool = qw_calloc(r->ncur + 1, sizeof *r->x.pool)))
        e = QW_NOMEM;
    if (e == QW_OK)
        r->x.poolcap = r->ncur + 1;
    for (size_t i = 0; i < r->ncur && e == QW_OK; i++) {
        for (; r->scan_hinted < r->ncur && r->scan_hinted <= i + SCAN_AHEAD; r->scan_hinted++) {
            const qw__lcur *h = &r->cur[r->scan_hinted]; /* what scan_file's open reads */
            uint64_t tail = h->size > ((uint64_t)64 << 10) ? (uint64_t)64 << 10 : h->size;
            if (h->size)
                (void)qw_fileio_prefetch(r->x.io, h->path, h->size - tail, (size_t)tail);
        }
        e = scan_file(r, &r->cur[i]);
    }
    if (e == QW_OK && r->x.prods.n >= (1u << 30))
        e = QW_TOO_MANY_PRODUCTS;
    r->x.frozen = 1; /* the merge's rows may only repeat the scan's runs and products */
    if (e == QW_OK)
        e = start_merge(r);
    if (e != QW_OK)
        snprintf(errbuf, errlen, "%s", r->x.err[0] ? r->x.err : qw_strerror(e));
    r->st.runs = r->x.runs.n;
done:
    qw_catalog_close(c);
    if (e != QW_OK) {
        qw_lake_close(r);
        return e;
    }
    *out = r;
    return QW_OK;
}

/* Copies the heap top's head row into the message, then moves that cursor
 * to its next row (opening its file first if the head was only a key). */
static qw_err take(qw_lake_reader *r, size_t n)
{
    qw__lcur *c = r->heap[0].c;
    qw_err e;
    if (!c->have) {
        uint32_t run = c->run, kp = c->kp;
        int64_t msg = c->msg_id;
        hint_merge(r);
        if ((e = qw__lcur_open(&r->x, c, 0)) != QW_OK)
            return e;
        if (c->settled) { /* order checked now, on the file's one decode */
            int ordered;
            if ((e = qw__lcur_verify(&r->x, c, &ordered)) != QW_OK)
                return e;
            if (!ordered && (e = qw__lcur_sort(&r->x, c, r->run_first)) != QW_OK)
                return e;
        }
        int rc = qw__lcur_row(&r->x, c, &c->head);
        if (rc < 0)
            return QW_CORRUPT;
        set_key(r, c);
        if (rc == 0 || c->run != run || c->msg_id != msg || c->kp != kp) {
            snprintf(r->x.err, sizeof r->x.err, "%.150s: rows differ from the first read", c->path);
            return QW_CORRUPT;
        }
    }
    if (grow((void **)&r->mrows, &r->mcap, n + 1, sizeof *r->mrows))
        return QW_NOMEM;
    qw__lrow *w = &r->mrows[n];
    *w = c->head;
    if (w->tidlen) { /* the cursor's next row group would overwrite it */
        if (grow((void **)&r->marena, &r->macap, r->malen + w->tidlen, 1))
            return QW_NOMEM;
        memcpy(r->marena + r->malen, w->tid, w->tidlen);
        w->tidoff = (uint32_t)r->malen;
        r->malen += w->tidlen;
    }
    int rc = qw__lcur_row(&r->x, c, &c->head);
    if (rc < 0)
        return QW_CORRUPT;
    if (rc == 1) {
        hent was = r->heap[0];
        set_key(r, c);
        r->heap[0] = hent_of(c);
        /* the same message continues in this file (most rows): its key
         * differs only in pos, and no other file's key lies in between (a
         * file's is unique), so it is still the least: no sift */
        if (c->first == was.first && c->run == was.run && c->msg_id == was.msg_id &&
            c->kp == was.kp)
            return QW_OK;
    } else {
        if (c->seen != c->nrows) {
            snprintf(r->x.err, sizeof r->x.err, "%.150s: rows differ from the first read", c->path);
            return QW_CORRUPT;
        }
        qw__lcur_close(&r->x, c);
        r->heap[0] = r->heap[--r->nheap];
    }
    if (r->nheap)
        sift_down(r, 0);
    return QW_OK;
}

qw_err qw_lake_next(qw_lake_reader *r, qw_msg *m, int64_t *recv_ns, int *connect)
{
    *connect = 0;
    if (r->failed)
        return r->failed;
    if (!r->nheap)
        return QW_NOT_FOUND;
    uint32_t run = r->heap[0].run;
    int64_t msg = r->heap[0].msg_id;
    size_t z = 0;
    qw_err e;
    r->malen = 0;
    do {
        if ((e = take(r, z++)) != QW_OK) {
            r->failed = e;
            QW_LOG(ERROR, "lake: %s", r->x.err[0] ? r->x.err : qw_strerror(e));
            return e;
        }
    } while (r->nheap && r->heap[0].run == run && r->heap[0].msg_id == msg);
    size_t ng = 0, nc = 0, nt = 0;
    uint32_t gprod = UINT32_MAX; /* the last group's product id */
    if (grow((void **)&r->chg, &r->ccap, z, sizeof *r->chg) ||
        grow((void **)&r->trades, &r->tcap, z, sizeof *r->trades) ||
        grow((void **)&r->groups, &r->gcap, z, sizeof *r->groups)) {
        r->failed = QW_NOMEM;
        return QW_NOMEM;
    }
    memset(m, 0, offsetof(qw_msg, text)); /* text (256 bytes): the empty string */
    m->text[0] = '\0';
    m->seq = -1;
    *recv_ns = r->mrows[0].recv_ns;
    for (size_t i = 0; i < z; i++) {
        const qw__lrow *x = &r->mrows[i];
        const char *prod = r->x.prods.s[x->prod];
        size_t pl = r->plen[x->prod];
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
            if (!g || g->kind != k || (x->prod != gprod && strcmp(g->product, prod) != 0)) {
                g = &r->groups[ng++];
                memset(g, 0, sizeof *g);
                g->kind = k;
                g->product_len = (uint8_t)pl;
                memcpy(g->product, prod, pl + 1);
                g->t_ns = x->msg_ns;
                g->first = (uint32_t)nc;
            }
            gprod = x->prod; /* g->product is its name (or one strcmp-equal to it) */
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
            if (x->tidlen) { /* up to a NUL, as "%s" of the old arena copy */
                const char *tid = r->marena + x->tidoff;
                const char *nul = memchr(tid, '\0', x->tidlen);
                size_t tl = nul ? (size_t)(nul - tid) : x->tidlen;
                memcpy(t->trade_id, tid, tl); /* tidlen < QW_FEED_TRADE_ID_MAX */
                t->trade_id[tl] = '\0';
            }
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

const char *qw_lake_error(const qw_lake_reader *r)
{
    if (!r->failed)
        return NULL;
    return r->x.err[0] ? r->x.err : qw_strerror(r->failed);
}

void qw_lake_close(qw_lake_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ncur; i++) {
        qw__lcur_close(&r->x, &r->cur[i]);
        qw_free(r->cur[i].path);
    }
    qw_free(r->cur);
    qw_free(r->heap);
    qw_free(r->order);
    qw_free(r->plen);
    qw__lake_ctx_fini(&r->x);
    qw_fileio_destroy(r->x.io);
    qw_free(r->run_first);
    qw_free(r->run_snap);
    qw_free(r->mrows);
    qw_free(r->marena);
    qw_free(r->groups);
    qw_free(r->chg);
    qw_free(r->trades);
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

int qw_lake_log_stats(const qw_lake_reader *r)
{
    const qw_lake_stats *ls = qw_lake_get_stats(r);
    QW_LOG(INFO, "lake: %llu messages from %llu rows in %llu of %llu files, %llu run(s)",
           (unsigned long long)ls->messages, (unsigned long long)ls->rows,
           (unsigned long long)ls->files_read, (unsigned long long)ls->files_total,
           (unsigned long long)ls->runs);
    if (qw_lake_error(r)) {
        QW_LOG(ERROR, "lake: stopped early: %s", qw_lake_error(r));
        return 1;
    }
    return 0;
}

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
 * `lake expire` expires those. Memory: a bin is merged from per-file
 * cursors (lake_merge.c), bounded by row groups, not by the bin.
 *
 * The new files carry this version's columns (tables.c); a table written
 * by an earlier version, whose schema lacks some of them, is first evolved
 * in place (qw_ice_evolve_schema: the promotions and added optional fields
 * a writer of this version applies when it opens the table), so no file
 * holds a field id its table's schema does not know. */
#define QW_MODULE "lake"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/time.h"
#include "storage/lake_admin_int.h"
#include "storage/store.h"
#include "storage/tables.h"

#define DEFAULT_TARGET (128ull << 20)

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

typedef struct cand_ctx {
    const qw_lake_compact_opts *o;
    uint64_t target;
} cand_ctx;

static int candidate(void *ctx, const qw_ice_data_file *f)
{
    const cand_ctx *c = ctx;
    return wanted(c->o, f) && (uint64_t)f->file_size_in_bytes < c->target;
}

typedef struct tally {
    size_t in, out, parts, rows;
    uint64_t bin, bout;
} tally;

/* Compact one bin files[0..n) into out (lake_merge.c); the new file is
 * named after the first input (its writer order number keeps replay
 * --lake's order). */
static qw_err do_bin(qw_lake_admin *L, int t, const qw_ice_data_file *files, size_t n,
                     qw_ice_data_file *out, char *eb, size_t ebl)
{
    char path[QW_ICE_LOC_MAX], uuid[37];
    const char *slash = strrchr(files[0].path, '/');
    int dl = slash ? (int)(slash - files[0].path) : 0;
    qw_ice_uuid(uuid);
    snprintf(path, sizeof path, "%.*s/%05llu-c%s.parquet", dl, files[0].path,
             (unsigned long long)name_order(files[0].path), uuid);
    return qw__lake_merge_bin(L, &qw_tables[t], files, n, path, out, eb, ebl);
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
    qw_ice_schema want;
    qw_tbl_schema(&qw_tables[t], &want);
    qw_ice_schema next;
    qw_ice_evolution ev = {0};
    int evolved = 0; /* the usual case, nothing to evolve, needs no second load */
    int need = qw_ice_schema_evolution(&m->schema, m->last_column_id, &want, &next, &ev, eb,
                                       sizeof eb) != QW_OK ||
               ev.promoted + ev.added > 0;
    if (need && (e = qw_ice_evolve_schema(&L->ops, L->io, QW_TBL_NS, table, &want, &evolved, eb,
                                          sizeof eb)) != QW_OK) {
        fprintf(s->err, "%s: %s: cannot evolve its schema to this version's: %s\n", s->prefix,
                table, eb);
        qw_ice_meta_free(m);
        return e;
    }
    if (evolved) { /* the metadata the scan plans from is the evolved one */
        qw_ice_meta_free(m);
        m = NULL;
        if ((e = qw__lake_admin_load(L, table, &m, loc, sizeof loc)) != QW_OK)
            return e;
    }
    uint64_t target = o->target_bytes;
    if (!target) {
        const char *v = qw_ice_meta_property(m, "write.target-file-size-bytes");
        char *end = NULL;
        errno = 0;
        long long x = v ? strtoll(v, &end, 10) : 0; /* atoll: UB out of range */
        target = v && !*end && errno != ERANGE && x > 0 ? (uint64_t)x : DEFAULT_TARGET;
    }
    qw_ice_scan sc;
    int64_t tp0 = qw_now_mono_ns(), tp1 = 0, tp2 = 0;
    cand_ctx cc = {o, target}; /* only the small files of the wanted partitions are held */
    if ((e = qw_ice_scan_plan_where(L->io, m, -1, candidate, &cc, &sc, eb, sizeof eb)) != QW_OK) {
        fprintf(s->err, "%s: %s: %s\n", s->prefix, table, eb);
        qw_ice_meta_free(m);
        return e;
    }
    qw_ice_meta_free(m);
    /* small files of the wanted partitions (the scan's own array), grouped
     * by partition; the replaced ones are moved to its front (del) */
    qw_ice_data_file *f = sc.files, *del = sc.files;
    size_t nf = sc.nfiles, nadd = 0, ndel = 0, sc_n = sc.nfiles;
    sc.files = NULL;
    qw_ice_scan_free(&sc);
    qw_ice_data_file *add = qw_malloc((nf ? nf : 1) * sizeof *add);
    if (!add)
        e = QW_NOMEM;
    if (e == QW_OK && nf) /* f is NULL when there is no candidate */
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
                    memmove(del + ndel, f + b, (c - b) * sizeof *f); /* ndel <= b */
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
    tp1 = qw_now_mono_ns();
    if (e == QW_OK && nadd) {
        qw_ice_kv kv[1] = {{"quotewatch.compact", "true"}};
        /* a writer may commit every few ms: many quick retries (manifests cached) */
        qw_ice_replace_opts ro = {
            .summary = kv, .nsummary = 1, .max_attempts = 40, .backoff_ms = 5};
        ro.turn = o->turn, ro.turn_ctx = o->turn_ctx, ro.turn_after = 2;
        e = qw_ice_replace(&L->ops, L->io, QW_TBL_NS, table, del, ndel, add, nadd, &ro, &rr);
        tp2 = qw_now_mono_ns();
        QW_LOG(DEBUG,
               "%s: compact plan+merge %.1f ms (%zu small files, %zu replaced), replace %.1f ms"
               " (%d attempt(s))",
               table, (double)(tp1 - tp0) / 1e6, sc_n, ndel, (double)(tp2 - tp1) / 1e6,
               rr.attempts);
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
    qw_free(f); /* del is its front */
    qw_free(add);
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

/* ice_compact.c: the "replace" commit behind compaction (iceberg.h
 * "rewrite files"), Iceberg Java's RewriteFiles for QuoteWatch's tables.
 *
 *   LOAD      parent P
 *   CHECK     every file to replace is live in P's current snapshot; if
 *             one is not (another compaction replaced it, an engine
 *             deleted it), give up: QW_CONFLICT with res->stale, nothing
 *             committed (the caller removes its new files)
 *   MANIFESTS the new files: one manifest of ADDED entries (written once,
 *             sequence numbers inherited); every manifest of P that holds
 *             a replaced file is rewritten into ONE manifest: the replaced
 *             files as DELETED, the others as EXISTING (their snapshot ids
 *             and sequence numbers kept); the other manifests unchanged
 *   LIST      [added, rewritten, unchanged...]; METADATA snapshot with
 *             operation "replace"; CAS
 *   CAS conflict: remove list, rewritten manifest and metadata, back off,
 *             LOAD again and re-CHECK (a writer's appends only add
 *             manifests: they are carried over untouched).
 * Rows are never lost or duplicated: the snapshot removes exactly the files
 * that were read and are still live, and adds files holding their rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/time.h"
#include "iceberg/ice_int.h"

#define QW_MODULE "iceberg"
#include "core/log.h"

static int pcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct rctx {
    const qw_ice_catalog_ops *cat;
    qw_fileio *io;
    const char *ns, *table;
    const qw_ice_data_file *del, *add;
    size_t ndel, nadd;
    const char **dpaths; /* sorted paths of del */
    const qw_ice_replace_opts *o;
    qw_ice_replace_result *res;
    char uuid[37];
    int64_t snap_id;
    char added[QW_ICE_LOC_MAX]; /* manifest of the new files ("" until written) */
    int64_t added_len;
    char added_table[40];
    /* manifests are immutable: how many files to replace each holds live
     * is counted once, so a retry reads only the manifests committed
     * meanwhile (and those holding replaced files, to rewrite them) and
     * wins the race against a writer that commits every few ms. Only the
     * count is kept, not the entries (~25 KB each in memory): a manifest
     * holding none of them is carried over without its entries. */
    struct mcache {
        char *path;
        size_t hit;
    } * cache;
    size_t ncache, ccap;
} rctx;

static int is_replaced(const rctx *c, const char *path);

static qw_err read_entries(rctx *c, const qw_ice_meta *p, const qw_ice_manifest_file *mf,
                           qw_ice_data_file **df, size_t *n)
{
    uint8_t *buf;
    size_t len;
    qw_err e = qw_fileio_read(c->io, mf->path, QW__ICE_MAX_AVRO, &buf, &len);
    if (e != QW_OK) {
        snprintf(c->res->err, sizeof c->res->err, "read manifest %.200s: %s", mf->path,
                 qw_err_name(e));
        return e;
    }
    e = qw_ice_manifest_read(buf, len, mf, p, df, n, c->res->err, sizeof c->res->err);
    qw_free(buf);
    return e;
}

/* How many files of del mf holds live (read once per replace). */
static qw_err hits(rctx *c, const qw_ice_meta *p, const qw_ice_manifest_file *mf, size_t *hit)
{
    for (size_t i = 0; i < c->ncache; i++)
        if (strcmp(c->cache[i].path, mf->path) == 0) {
            *hit = c->cache[i].hit;
            return QW_OK;
        }
    qw_ice_data_file *d;
    size_t n;
    qw_err e = read_entries(c, p, mf, &d, &n);
    if (e != QW_OK)
        return e;
    *hit = 0;
    for (size_t j = 0; j < n; j++)
        *hit += d[j].status != QW_ICE_STATUS_DELETED && is_replaced(c, d[j].path);
    qw_free(d);
    if (c->ncache == c->ccap) {
        size_t nc = c->ccap ? c->ccap * 2 : 64;
        struct mcache *ncch = qw_realloc(c->cache, nc * sizeof *ncch);
        if (!ncch)
            return QW_NOMEM;
        c->cache = ncch;
        c->ccap = nc;
    }
    size_t pl = strlen(mf->path) + 1;
    char *path = qw_malloc(pl);
    if (!path)
        return QW_NOMEM;
    memcpy(path, mf->path, pl);
    c->cache[c->ncache++] = (struct mcache){path, *hit};
    return QW_OK;
}

static int is_replaced(const rctx *c, const char *path)
{
    return bsearch(&path, c->dpaths, c->ndel, sizeof *c->dpaths, pcmp) != NULL;
}

typedef struct dfv {
    qw_ice_data_file *v;
    size_t n, cap;
} dfv;

static int dfv_push(dfv *d, const qw_ice_data_file *f)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 64;
        qw_ice_data_file *nv = qw_realloc(d->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        d->v = nv;
        d->cap = nc;
    }
    d->v[d->n++] = *f;
    return 0;
}

static qw_err write_added(rctx *c, const qw_ice_meta *p)
{
    if (c->added[0] && strcmp(c->added_table, p->uuid) == 0)
        return QW_OK;
    uint8_t *bytes;
    size_t len;
    if ((size_t)snprintf(c->added, sizeof c->added, "%s/metadata/%s-m0.avro", p->location,
                         c->uuid) >= sizeof c->added) {
        c->added[0] = 0;
        return QW_TOO_LARGE;
    }
    qw_err e = qw_ice_manifest_write(p, c->snap_id, c->add, c->nadd, &bytes, &len);
    if (e == QW_OK)
        e = qw_fileio_write(c->io, c->added, bytes, len);
    qw_free(bytes);
    if (e != QW_OK) {
        c->added[0] = 0;
        return e;
    }
    c->added_len = (int64_t)len;
    snprintf(c->added_table, sizeof c->added_table, "%s", p->uuid);
    return QW_OK;
}

static json_t *summary(const qw_ice_meta *p, const rctx *c)
{
    const json_t *ps = NULL;
    if (p->current_snapshot_id >= 0)
        ps = json_object_get(qw__ice_snapshot_json(p, p->current_snapshot_id), "summary");
    int64_t arows = 0, abytes = 0, drows = 0, dbytes = 0;
    for (size_t i = 0; i < c->nadd; i++)
        arows = qw__ice_sat_add(arows, c->add[i].record_count),
        abytes = qw__ice_sat_add(abytes, c->add[i].file_size_in_bytes);
    for (size_t i = 0; i < c->ndel; i++)
        drows = qw__ice_sat_add(drows, c->del[i].record_count),
        dbytes = qw__ice_sat_add(dbytes, c->del[i].file_size_in_bytes);
    json_t *s = json_object();
    char b[24];
    json_object_set_new(s, "operation", json_string("replace"));
    for (size_t i = 0; c->o && i < c->o->nsummary; i++)
        if (strcmp(c->o->summary[i].key, "operation") != 0)
            json_object_set_new(s, c->o->summary[i].key, json_string(c->o->summary[i].value));
#define PUT(k, v)                                                                                  \
    (snprintf(b, sizeof b, "%lld", (long long)(v)), json_object_set_new(s, k, json_string(b)))
    PUT("added-data-files", c->nadd);
    PUT("deleted-data-files", c->ndel);
    PUT("added-records", arows);
    PUT("deleted-records", drows);
    PUT("added-files-size", abytes);
    PUT("removed-files-size", dbytes);
#undef PUT
    qw__ice_put_total(s, ps, "total-records", arows - drows);
    qw__ice_put_total(s, ps, "total-files-size", abytes - dbytes);
    qw__ice_put_total(s, ps, "total-data-files", (int64_t)c->nadd - (int64_t)c->ndel);
    qw__ice_put_total(s, ps, "total-delete-files", 0);
    qw__ice_put_total(s, ps, "total-position-deletes", 0);
    qw__ice_put_total(s, ps, "total-equality-deletes", 0);
    return s;
}

/* The manifests of P: replaced files found (and their manifests rewritten
 * into rw), the manifests kept as they are into keep. */
static qw_err split(rctx *c, const qw_ice_meta *p, const qw_ice_manifest_file *mfs, size_t nmf,
                    dfv *rw, qw_ice_manifest_file *keep, size_t *nkeep, size_t *found)
{
    qw_ice_replace_result *res = c->res;
    *nkeep = 0;
    *found = 0;
    for (size_t k = 0; k < nmf; k++) {
        size_t hit;
        qw_err e = hits(c, p, &mfs[k], &hit);
        if (e != QW_OK)
            return e;
        if (!hit) {
            keep[(*nkeep)++] = mfs[k];
            continue;
        }
        if (mfs[k].spec_id != p->spec.spec_id || mfs[k].content != 0) {
            snprintf(res->err, sizeof res->err, "a replaced file is in a manifest of spec %d",
                     mfs[k].spec_id);
            return QW_UNSUPPORTED;
        }
        qw_ice_data_file *df; /* the entries of a manifest to rewrite: one at a time */
        size_t ndf;
        if ((e = read_entries(c, p, &mfs[k], &df, &ndf)) != QW_OK)
            return e;
        for (size_t j = 0; j < ndf; j++) {
            if (df[j].status == QW_ICE_STATUS_DELETED)
                continue; /* deleted by the snapshot that wrote this manifest: dropped */
            qw_ice_data_file f = df[j];
            if (is_replaced(c, f.path)) {
                f.status = QW_ICE_STATUS_DELETED;
                f.snapshot_id = c->snap_id;
                (*found)++;
            } else {
                f.status = QW_ICE_STATUS_EXISTING;
            }
            if (dfv_push(rw, &f) != 0) {
                qw_free(df);
                return QW_NOMEM;
            }
        }
        qw_free(df);
    }
    return QW_OK;
}

/* Summary entry of the rewritten manifest. */
static void rw_summary(const qw_ice_meta *p, const rctx *c, const dfv *rw, int64_t seq,
                       qw_ice_manifest_file *out)
{
    qw_ice_manifest_summarize(p, c->snap_id, rw->v, rw->n, out);
    out->added_files = 0;
    out->added_rows = 0;
    out->sequence_number = seq;
    out->min_sequence_number = seq;
    for (size_t i = 0; i < rw->n; i++) {
        const qw_ice_data_file *f = &rw->v[i];
        if (f->status == QW_ICE_STATUS_DELETED)
            out->deleted_files++,
                out->deleted_rows = qw__ice_sat_add(out->deleted_rows, f->record_count);
        else
            out->existing_files++,
                out->existing_rows = qw__ice_sat_add(out->existing_rows, f->record_count);
        if (f->sequence_number >= 0 && f->sequence_number < out->min_sequence_number)
            out->min_sequence_number = f->sequence_number;
    }
}

static qw_err attempt(rctx *c, int n)
{
    qw_ice_replace_result *res = c->res;
    char ploc[QW_ICE_LOC_MAX], list[QW_ICE_LOC_MAX], nloc[QW_ICE_LOC_MAX], rwm[QW_ICE_LOC_MAX];
    qw_ice_meta *p = NULL, *nm = NULL;
    qw_ice_manifest_file *mfs = NULL, *all = NULL;
    dfv rw = {0};
    uint8_t *bytes = NULL;
    size_t len, nmf = 0, nkeep = 0, found = 0;
    rwm[0] = list[0] = 0;
    qw_err e = qw_ice_load_table(c->cat, c->io, c->ns, c->table, &p, ploc, sizeof ploc);
    if (e != QW_OK) {
        snprintf(res->err, sizeof res->err, "load %.100s.%.100s: %s", c->ns, c->table,
                 qw_err_name(e));
        return e;
    }
    while (qw__ice_snapshot_json(p, c->snap_id))
        c->snap_id = qw_ice_random_id(), c->added[0] = 0;
    if ((e = qw__ice_parent_manifests(c->io, p, &mfs, &nmf, res->err, sizeof res->err)) != QW_OK)
        goto out;
    all = qw_calloc(nmf + 2, sizeof *all);
    if (!all) {
        e = QW_NOMEM;
        goto out;
    }
    if ((e = split(c, p, mfs, nmf, &rw, all + 2, &nkeep, &found)) != QW_OK)
        goto out;
    if (found != c->ndel) { /* replaced meanwhile: its rows are elsewhere now */
        res->stale = 1;
        snprintf(res->err, sizeof res->err,
                 "%zu of the %zu files to replace are no longer live in %.150s", c->ndel - found,
                 c->ndel, ploc);
        e = QW_CONFLICT;
        goto out;
    }
    if ((e = write_added(c, p)) != QW_OK) {
        snprintf(res->err, sizeof res->err, "write manifest: %s", qw_err_name(e));
        goto out;
    }
    int64_t seq = p->last_sequence_number + 1;
    qw_ice_manifest_summarize(p, c->snap_id, c->add, c->nadd, &all[0]);
    snprintf(all[0].path, sizeof all[0].path, "%s", c->added);
    all[0].length = c->added_len;
    all[0].sequence_number = all[0].min_sequence_number = seq;
    snprintf(rwm, sizeof rwm, "%.900s/metadata/%s-r%d.avro", p->location, c->uuid, n);
    e = qw_ice_manifest_write_entries(p, rw.v, rw.n, &bytes, &len);
    if (e == QW_OK)
        e = qw_fileio_write(c->io, rwm, bytes, len);
    qw_free(bytes);
    bytes = NULL;
    if (e != QW_OK) {
        snprintf(res->err, sizeof res->err, "write rewritten manifest: %s", qw_err_name(e));
        rwm[0] = 0;
        goto out;
    }
    rw_summary(p, c, &rw, seq, &all[1]);
    snprintf(all[1].path, sizeof all[1].path, "%s", rwm);
    all[1].length = (int64_t)len;
    snprintf(list, sizeof list, "%.900s/metadata/snap-%lld-%d-%s.avro", p->location,
             (long long)c->snap_id, n, c->uuid);
    e = qw_ice_manifest_list_write(c->snap_id, p->current_snapshot_id, seq, all, nkeep + 2, &bytes,
                                   &len);
    if (e == QW_OK)
        e = qw_fileio_write(c->io, list, bytes, len);
    if (e != QW_OK) {
        snprintf(res->err, sizeof res->err, "write manifest list: %s", qw_err_name(e));
        list[0] = 0;
        goto out;
    }
    int64_t ts = c->o && c->o->now_ms ? c->o->now_ms : qw_now_wall_ns() / 1000000;
    if (ts <= p->last_updated_ms)
        ts = p->last_updated_ms + 1;
    e = qw__ice_next_meta(p, ploc, c->snap_id, seq, list, summary(p, c), ts, &nm);
    if (e == QW_OK)
        e = qw__ice_write_meta(c->io, nm, qw__ice_next_version(ploc, qw__ice_root(nm)), nloc,
                               sizeof nloc);
    if (e != QW_OK) {
        snprintf(res->err, sizeof res->err, "write metadata: %s", qw_err_name(e));
        goto out;
    }
    e = c->cat->commit(c->cat->ctx, c->ns, c->table, ploc, nloc);
    if (e == QW_OK) {
        res->snapshot_id = c->snap_id;
        snprintf(res->metadata_location, sizeof res->metadata_location, "%s", nloc);
        qw__ice_after_commit(c->io, p, nm, nloc, 1);
        rwm[0] = list[0] = 0; /* referenced now */
    } else if (e == QW_CONFLICT || e == QW_AGAIN) {
        qw_fileio_remove(c->io, nloc);
        snprintf(res->err, sizeof res->err, "commit conflict on %.200s", ploc);
        e = QW_CONFLICT;
    } else {
        res->outcome_unknown = 1;
        rwm[0] = list[0] = 0; /* may be referenced */
        snprintf(res->err, sizeof res->err, "catalog commit: %s (outcome unknown, files kept)",
                 qw_err_name(e));
    }
out:
    if (list[0])
        qw_fileio_remove(c->io, list);
    if (rwm[0])
        qw_fileio_remove(c->io, rwm);
    qw_free(bytes);
    qw_free(all);
    qw_free(mfs);
    qw_free(rw.v);
    qw_ice_meta_free(nm);
    qw_ice_meta_free(p);
    return e;
}

qw_err qw_ice_replace(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                      const char *table, const qw_ice_data_file *del, size_t ndel,
                      const qw_ice_data_file *add, size_t nadd, const qw_ice_replace_opts *o,
                      qw_ice_replace_result *res)
{
    memset(res, 0, sizeof *res);
    if (!cat || !io || !del || !ndel || !add || !nadd)
        return QW_INVAL;
    rctx c = {.cat = cat,
              .io = io,
              .ns = ns,
              .table = table,
              .del = del,
              .add = add,
              .ndel = ndel,
              .nadd = nadd,
              .o = o,
              .res = res};
    c.dpaths = qw_malloc(ndel * sizeof *c.dpaths);
    if (!c.dpaths)
        return QW_NOMEM;
    for (size_t i = 0; i < ndel; i++)
        c.dpaths[i] = del[i].path;
    qsort(c.dpaths, ndel, sizeof *c.dpaths, pcmp);
    for (size_t i = 1; i < ndel; i++)
        if (strcmp(c.dpaths[i - 1], c.dpaths[i]) == 0) {
            qw_free(c.dpaths);
            return QW_INVAL; /* a file replaced twice */
        }
    qw_ice_uuid(c.uuid);
    c.snap_id = qw_ice_random_id();
    int max = o && o->max_attempts > 0 ? o->max_attempts : 10;
    qw_err e = QW_CONFLICT;
    for (int i = 0; i < max; i++) {
        res->attempts = i + 1;
        int turn = o && o->turn && i >= o->turn_after;
        if (turn)
            o->turn(o->turn_ctx, 1);
        e = attempt(&c, i);
        if (turn)
            o->turn(o->turn_ctx, 0);
        if (e != QW_CONFLICT || res->stale)
            break;
        QW_LOG(INFO, "%s.%s: replace lost the commit race (attempt %d of %d), retrying", ns, table,
               i + 1, max);
        if (i + 1 < max)
            qw__ice_backoff(i, o && o->backoff_ms > 0 ? o->backoff_ms : 20);
    }
    if (e != QW_OK && !res->outcome_unknown && c.added[0])
        qw_fileio_remove(io, c.added); /* nobody references it */
    for (size_t i = 0; i < c.ncache; i++)
        qw_free(c.cache[i].path);
    qw_free(c.cache);
    qw_free(c.dpaths);
    return e;
}

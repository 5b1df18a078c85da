/* ice_orphans.c: orphan files of a table: files under the table location
 * that no metadata version (current + metadata log), manifest list,
 * manifest or data/delete file entry of any snapshot references. Files a
 * commit in progress may still reference are left alone whatever their
 * age: those modified since the oldest live commit lease
 * (qw_ice_protected_since, ice_lease.c). Files younger than
 * opts.older_than_ms are also left (writers that keep no lease). The
 * leases are read BEFORE the table's metadata: a writer advances its lease
 * only after its commit landed, so a file older than the lease read is
 * either referenced by the metadata read next or not any commit's in
 * progress; files newer than the lease read are protected anyway. Snapshot
 * expiry and compaction, which also decide what a table still references,
 * belong next to this file and must use the same protection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "iceberg/ice_int.h"

typedef struct refset {
    char **s;
    size_t n, cap;
    int oom;
} refset;

/* References compare as local paths when they are local (file:///a and /a
 * name the same file), else as written. */
static void norm(const char *uri, char *out, size_t cap)
{
    if (qw_fileio_local_path(uri, out, cap) != QW_OK)
        snprintf(out, cap, "%s", uri);
}

static void ref_add(refset *r, const char *uri)
{
    if (!uri || r->oom)
        return;
    char p[QW_ICE_LOC_MAX];
    norm(uri, p, sizeof p);
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        char **ns = qw_realloc(r->s, nc * sizeof *ns);
        if (!ns) {
            r->oom = 1;
            return;
        }
        r->s = ns;
        r->cap = nc;
    }
    size_t n = strlen(p) + 1;
    if (!(r->s[r->n] = qw_malloc(n))) {
        r->oom = 1;
        return;
    }
    memcpy(r->s[r->n++], p, n);
}

static int ref_has(const refset *r, const char *p)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->s[i], p) == 0)
            return 1;
    return 0;
}

/* Everything any snapshot or metadata version of m references. */
static qw_err collect(qw_fileio *io, const qw_ice_meta *m, const char *loc, refset *refs,
                      char *errbuf, size_t errlen)
{
    ref_add(refs, loc);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(qw__ice_root(m), "metadata-log"), i, e)
        ref_add(refs, json_string_value(json_object_get(e, "metadata-file")));
    json_array_foreach(json_object_get(qw__ice_root(m), "snapshots"), i, e)
    {
        const char *list = json_string_value(json_object_get(e, "manifest-list"));
        ref_add(refs, list);
        qw_ice_scan scan;
        qw_err err =
            qw_ice_scan_plan(io, m, qw__ice_jint(e, "snapshot-id", -1), &scan, errbuf, errlen);
        if (err != QW_OK)
            return err;
        for (size_t k = 0; k < scan.nfiles; k++)
            ref_add(refs, scan.files[k].path);
        qw_ice_scan_free(&scan);
        uint8_t *buf;
        size_t len;
        if (list && qw_fileio_read(io, list, QW__ICE_MAX_AVRO, &buf, &len) == QW_OK) {
            qw_ice_manifest_file *mf;
            size_t nmf;
            char eb[128];
            if (qw_ice_manifest_list_read(buf, len, &mf, &nmf, eb, sizeof eb) == QW_OK) {
                for (size_t k = 0; k < nmf; k++)
                    ref_add(refs, mf[k].path);
                qw_free(mf);
            }
            qw_free(buf);
        }
    }
    return refs->oom ? QW_NOMEM : QW_OK;
}

typedef struct visit_ctx {
    qw_fileio *io;
    const refset *refs;
    const qw_ice_orphan_opts *o;
    int64_t now_ns;
    qw_ice_orphan_fn fn;
    void *fctx;
    qw_ice_orphan_result *res;
} visit_ctx;

static int visit(void *ctx, const char *uri, uint64_t size)
{
    visit_ctx *v = ctx;
    char p[QW_ICE_LOC_MAX];
    norm(uri, p, sizeof p);
    if (ref_has(v->refs, p))
        return 0;
    const char *base = strrchr(p, '/');
    if (strcmp(base ? base + 1 : p, "version-hint.text") == 0)
        return 0; /* written after every commit (ice_upkeep.c), never referenced */
    qw_fileio_info fi;
    if (qw_fileio_stat(v->io, uri, &fi) != QW_OK) {
        if (v->res->prot.live) { /* age unknown: maybe the lease holder's */
            v->res->leased++;
            return 0;
        }
    } else if (qw_ice_protected(&v->res->prot, fi.mtime_ns / 1000000)) {
        if (v->res->prot.live) /* else: created after the leases were read */
            v->res->leased++;
        else
            v->res->young++;
        return 0;
    } else if (v->now_ns - fi.mtime_ns < v->o->older_than_ms * 1000000) {
        v->res->young++;
        return 0;
    }
    v->res->orphans++;
    v->res->bytes += size;
    qw_err removed = QW_OK;
    if (v->o->remove && (removed = qw_fileio_remove(v->io, uri)) != QW_OK)
        v->res->remove_failed++;
    if (v->fn)
        v->fn(v->fctx, uri, size, v->o->remove ? removed : QW_OK);
    return 0;
}

qw_err qw_ice_orphans(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                      const char *table, const qw_ice_orphan_opts *o, qw_ice_orphan_fn fn,
                      void *fctx, qw_ice_orphan_result *res, char *errbuf, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ns = o->now_ms ? o->now_ms * 1000000 : (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    qw_err e = qw_ice_protected_since(cat, ns, table, now_ns / 1000000, &res->prot);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "cannot read the commit leases of %s.%s: %s", ns, table,
                  qw_strerror(e));
        return e;
    }
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    e = qw_ice_load_table(cat, io, ns, table, &m, loc, sizeof loc);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "no readable table %s.%s: %s", ns, table, qw_strerror(e));
        return e;
    }
    /* everything under the location that the table does not reference is
     * an orphan: a location above the table's own folder (a bucket, a
     * warehouse, "/": a damaged or hand-edited metadata file) would make
     * every other table's files orphans. The folder must be named after
     * the table, as every catalog's default layout does. */
    const char *end = m->location + strlen(m->location), *seg;
    while (end > m->location && end[-1] == '/')
        end--;
    for (seg = end; seg > m->location && seg[-1] != '/'; seg--)
        ;
    const char *path = m->location, *auth = strstr(path, "://"); /* path: after the authority */
    if (auth) {
        const char *sl = strchr(auth + 3, '/');
        path = sl ? sl : m->location + strlen(m->location);
    }
    if ((size_t)(end - seg) != strlen(table) || strncmp(seg, table, (size_t)(end - seg)) != 0 ||
        seg <= path) {
        QW_SETERR(errbuf, errlen,
                  "the location of %s.%s, %.300s, is not a folder named %s: refusing to clean "
                  "orphans under it (other tables' files would count as orphans)",
                  ns, table, m->location, table);
        qw_ice_meta_free(m);
        return QW_UNSUPPORTED;
    }
    refset refs = {0};
    e = collect(io, m, loc, &refs, errbuf, errlen);
    if (e == QW_OK) { /* nothing is removed unless every reference and lease is known */
        visit_ctx v = {io, &refs, o, now_ns, fn, fctx, res};
        e = qw_fileio_list(io, m->location, visit, &v);
        if (e != QW_OK)
            QW_SETERR(errbuf, errlen, "cannot list %s: %s", m->location, qw_strerror(e));
    }
    for (size_t k = 0; k < refs.n; k++)
        qw_free(refs.s[k]);
    qw_free(refs.s);
    qw_ice_meta_free(m);
    return e;
}

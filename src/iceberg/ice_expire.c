/* ice_expire.c: snapshot expiry (iceberg.h "snapshot expiry"), Iceberg
 * Java's ExpireSnapshots for QuoteWatch's tables.
 *
 *   LEASES   qw_ice_protected_since, BEFORE the table is read (as orphans)
 *   LOAD     parent P
 *   SELECT   refs' snapshots, last N ancestors of each branch, snapshots
 *            not older than the cutoff (never later than the oldest live
 *            lease: a writer retrying an unknown outcome looks for its
 *            snapshot): kept; the rest expire
 *   METADATA P minus the expired snapshots; snapshot-log without them (and,
 *            as Java, without any entry before an expired one); statistics
 *            of expired snapshots dropped; metadata-log += P (bounded)
 *   CAS      conflict: remove our file, back off, LOAD again, re-SELECT
 *   AFTER    version-hint / old metadata (ice_upkeep.c), then DELETE:
 *            lists of expired snapshots, manifests no kept list names, data
 *            files no kept manifest names live (a DELETED entry, written by
 *            a replace such as compaction, keeps nothing); never a file modified at or
 *            after the lease horizon. Data files before manifests before
 *            lists; a crash leaves only unreferenced files (orphans).
 *
 * Safe against a concurrent writer: its commit copies the CURRENT
 * snapshot's manifests (never expired) and adds files of its own (younger
 * than its lease), so nothing it will reference is deleted; a writer that
 * loaded P before our swap loses its CAS and re-applies on our metadata.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/time.h"
#include "iceberg/ice_int.h"

#define QW_MODULE "iceberg"
#include "core/log.h"

#define DEFAULT_MAX_AGE_MS (5LL * 24 * 3600 * 1000)

/* ---- snapshot id index ---- */
typedef struct sid {
    int64_t id;
    size_t i;
} sid;

static int sid_cmp(const void *a, const void *b)
{
    int64_t x = ((const sid *)a)->id, y = ((const sid *)b)->id;
    return (x > y) - (x < y);
}

static long sid_find(const sid *ix, size_t n, int64_t id)
{
    sid k = {id, 0};
    const sid *f = bsearch(&k, ix, n, sizeof *ix, sid_cmp);
    return f ? (long)f->i : -1;
}

/* Keep the branch head and its ancestors while fewer than min_keep are
 * kept or they are not older than the cutoff. */
static void walk_branch(const json_t *snaps, const sid *ix, size_t n, int64_t head,
                        int64_t min_keep, int64_t older, uint8_t *expire)
{
    int64_t count = 0;
    long i = sid_find(ix, n, head);
    while (i >= 0 && count <= (int64_t)n) {
        const json_t *s = json_array_get(snaps, (size_t)i);
        if (!(count < min_keep || qw__ice_jint(s, "timestamp-ms", 0) >= older))
            break;
        expire[i] = 0;
        count++;
        int64_t parent = qw__ice_jint(s, "parent-snapshot-id", -1);
        i = parent >= 0 ? sid_find(ix, n, parent) : -1;
    }
}

size_t qw_ice_expire_select(const qw_ice_meta *m, int64_t older_than_ms, int retain_last,
                            uint8_t *expire, qw_err *err)
{
    const json_t *root = qw__ice_root(m), *snaps = json_object_get(root, "snapshots");
    size_t n = json_array_size(snaps), nexp = 0;
    *err = QW_OK;
    if (!n)
        return 0;
    sid *ix = qw_malloc(n * sizeof *ix);
    if (!ix) {
        *err = QW_NOMEM;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        ix[i].id = qw__ice_jint(json_array_get(snaps, i), "snapshot-id", -1);
        ix[i].i = i;
        expire[i] = 1;
    }
    qsort(ix, n, sizeof *ix, sid_cmp);
    if (retain_last < 1)
        retain_last = 1;
    const json_t *refs = json_object_get(root, "refs");
    const char *name;
    const json_t *ref;
    int main_seen = 0;
    json_object_foreach((json_t *)refs, name, ref)
    {
        int64_t head = qw__ice_jint(ref, "snapshot-id", -1);
        const char *type = json_string_value(json_object_get(ref, "type"));
        long i = sid_find(ix, n, head);
        if (i >= 0)
            expire[i] = 0; /* a ref's snapshot is never expired */
        if (type && strcmp(type, "tag") == 0)
            continue;
        main_seen |= strcmp(name, "main") == 0;
        int64_t keep = qw__ice_jint(ref, "min-snapshots-to-keep", retain_last);
        walk_branch(snaps, ix, n, head, keep, older_than_ms, expire);
    }
    if (!main_seen && m->current_snapshot_id >= 0)
        walk_branch(snaps, ix, n, m->current_snapshot_id, retain_last, older_than_ms, expire);
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(snaps, i);
        if (expire[i] && (qw__ice_jint(s, "timestamp-ms", 0) >= older_than_ms ||
                          qw__ice_jint(s, "snapshot-id", -1) == m->current_snapshot_id))
            expire[i] = 0;
        nexp += expire[i];
    }
    qw_free(ix);
    return nexp;
}

/* ---- string set (open addressing, FNV-1a) ---- */
typedef struct strset {
    char **slot;
    size_t cap, n;
    int oom;
} strset;

static uint64_t fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static int set_has(const strset *s, const char *k)
{
    if (!s->cap)
        return 0;
    for (size_t i = fnv(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i])
            return 0;
        if (strcmp(s->slot[i], k) == 0)
            return 1;
    }
}

/* 1 when added, 0 when present (or out of memory: s->oom) */
static int set_add(strset *s, const char *k)
{
    if (s->oom || set_has(s, k))
        return 0;
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        char **ns = qw_calloc(nc, sizeof *ns);
        if (!ns) {
            s->oom = 1;
            return 0;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i]) {
                size_t j = fnv(s->slot[i]) & (nc - 1);
                while (ns[j])
                    j = (j + 1) & (nc - 1);
                ns[j] = s->slot[i];
            }
        qw_free(s->slot);
        s->slot = ns;
        s->cap = nc;
    }
    size_t len = strlen(k) + 1, i = fnv(k) & (s->cap - 1);
    char *c = qw_malloc(len);
    if (!c) {
        s->oom = 1;
        return 0;
    }
    memcpy(c, k, len);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = c;
    s->n++;
    return 1;
}

static void set_free(strset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        qw_free(s->slot[i]);
    qw_free(s->slot);
    memset(s, 0, sizeof *s);
}

/* ---- the new metadata ---- */
static int id_kept(const json_t *o, const sid *ix, size_t n)
{
    return sid_find(ix, n, qw__ice_jint(o, "snapshot-id", -1)) >= 0;
}

static qw_err build_meta(const qw_ice_meta *p, const char *ploc, const uint8_t *expire, int64_t ts,
                         qw_ice_meta **out)
{
    json_t *r = json_deep_copy(qw__ice_root(p));
    if (!r)
        return QW_NOMEM;
    json_t *snaps = json_object_get(r, "snapshots"), *keep = json_array();
    size_t n = json_array_size(snaps), k = 0;
    sid *ix = qw_malloc((n ? n : 1) * sizeof *ix);
    if (!ix || !keep) {
        qw_free(ix);
        json_decref(keep);
        json_decref(r);
        return QW_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (!expire[i]) {
            json_t *s = json_array_get(snaps, i);
            json_array_append(keep, s);
            ix[k].id = qw__ice_jint(s, "snapshot-id", -1);
            ix[k++].i = i;
        }
    qsort(ix, k, sizeof *ix, sid_cmp);
    json_object_set_new(r, "snapshots", keep);
    /* snapshot-log: as Java, an expired entry drops the history before it */
    json_t *slog = json_object_get(r, "snapshot-log"), *nlog = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(slog, i, e)
    {
        if (id_kept(e, ix, k))
            json_array_append(nlog, e);
        else
            json_array_clear(nlog);
    }
    json_object_set_new(r, "snapshot-log", nlog);
    static const char *const stats[] = {"statistics", "partition-statistics"};
    for (int s = 0; s < 2; s++) {
        json_t *st = json_object_get(r, stats[s]);
        for (size_t j = json_array_size(st); j-- > 0;)
            if (!id_kept(json_array_get(st, j), ix, k))
                json_array_remove(st, j);
    }
    qw_free(ix);
    qw__ice_metadata_log_push(r, p->last_updated_ms, ploc);
    json_object_set_new(r, "last-updated-ms", json_integer(ts));
    return qw__ice_meta_wrap(r, out, NULL, 0); /* validates (current snapshot kept) */
}

/* ---- files only expired snapshots reference ---- */
typedef struct mlist {
    qw_ice_manifest_file *v;
    size_t n, cap;
} mlist;

static int ml_push(mlist *l, const qw_ice_manifest_file *mf)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        qw_ice_manifest_file *nv = qw_realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = *mf;
    return 0;
}

typedef struct plan {
    qw_fileio *io;
    const qw_ice_meta *m; /* the table P (spec, schema) */
    strset keep_m, keep_d, seen_exp;
    mlist kept, cand; /* unique manifests of kept / expired snapshots */
    const qw_ice_expire_opts *o;
    qw_ice_expire_result *res;
    qw_ice_expire_fn fn;
    void *fctx;
    char *err;
    size_t errlen;
} plan;

static qw_err read_manifest(plan *pl, const qw_ice_manifest_file *mf, qw_ice_data_file **df,
                            size_t *n)
{
    uint8_t *buf;
    size_t len;
    qw_err e = qw_fileio_read(pl->io, mf->path, QW__ICE_MAX_AVRO, &buf, &len);
    if (e != QW_OK) {
        QW_SETERR(pl->err, pl->errlen, "read manifest %s: %s", mf->path, qw_err_name(e));
        return e;
    }
    e = qw_ice_manifest_read(buf, len, mf, pl->m, df, n, pl->err, pl->errlen);
    qw_free(buf);
    return e;
}

/* Delete one file unless a lease protects it. */
static void drop(plan *pl, const char *uri, int64_t size, size_t *count)
{
    qw_fileio_info fi;
    qw_err e = qw_fileio_stat(pl->io, uri, &fi);
    if (e == QW_NOT_FOUND)
        return; /* an earlier, interrupted expire got it */
    if (e != QW_OK || qw_ice_protected(&pl->res->prot, fi.mtime_ns / 1000000)) {
        pl->res->leased++;
        return;
    }
    uint64_t sz = size >= 0 ? (uint64_t)size : fi.size;
    qw_err r = QW_OK;
    if (pl->o->remove && (r = qw_fileio_remove(pl->io, uri)) != QW_OK && r != QW_NOT_FOUND) {
        pl->res->remove_failed++;
    } else {
        (*count)++;
        pl->res->bytes += sz;
    }
    if (pl->fn)
        pl->fn(pl->fctx, uri, sz, r);
}

/* snaps: the snapshots of P; kept: sorted ids of the snapshots that stay. */
static qw_err delete_unreferenced(plan *pl, const json_t *snaps, const sid *kept, size_t nkept)
{
    qw_err e = QW_OK;
    size_t i;
    const json_t *s;
    json_t *explists = json_array();
    /* pass 1: lists -> manifests of kept and expired snapshots */
    for (int pass = 0; pass < 2 && e == QW_OK; pass++) {
        json_array_foreach(snaps, i, s)
        {
            int is_kept = id_kept(s, kept, nkept);
            if (is_kept != (pass == 0))
                continue;
            const char *list = json_string_value(json_object_get(s, "manifest-list"));
            if (!list)
                continue;
            if (!is_kept)
                json_array_append_new(explists, json_string(list));
            const qw_ice_manifest_file **mfs; /* ice_refcache.c: read once per process */
            size_t nmf;
            if ((e = qw__ice_refcache_list(pl->io, list, &mfs, &nmf, pl->err, pl->errlen)) !=
                QW_OK) {
                if (!is_kept && e == QW_NOT_FOUND) { /* deleted by an interrupted expire */
                    e = QW_OK;
                    continue;
                }
                break;
            }
            for (size_t k = 0; k < nmf && e == QW_OK; k++) {
                char p[QW_ICE_LOC_MAX];
                if (qw_fileio_local_path(mfs[k]->path, p, sizeof p) != QW_OK)
                    snprintf(p, sizeof p, "%s", mfs[k]->path);
                if (is_kept ? set_add(&pl->keep_m, p) && ml_push(&pl->kept, mfs[k])
                            : !set_has(&pl->keep_m, p) && set_add(&pl->seen_exp, p) &&
                                  ml_push(&pl->cand, mfs[k]))
                    e = QW_NOMEM;
            }
            qw_free(mfs);
            if (pl->keep_m.oom || pl->seen_exp.oom)
                e = QW_NOMEM;
        }
    }
    /* data files of candidate manifests that no kept manifest lists live
     * (a DELETED entry, written by a replace or delete, keeps nothing) */
    qw_ice_data_file *df = NULL;
    size_t ndf;
    for (size_t k = 0; e == QW_OK && pl->cand.n && k < pl->kept.n; k++) {
        const char *const *live;
        size_t nlive;
        if ((e = qw__ice_refcache_live(pl->io, pl->m, &pl->kept.v[k], &live, &nlive, pl->err,
                                       pl->errlen)) != QW_OK)
            break;
        for (size_t j = 0; j < nlive; j++)
            set_add(&pl->keep_d, live[j]);
        if (pl->keep_d.oom)
            e = QW_NOMEM;
    }
    /* nothing is deleted unless every kept reference is known */
    for (size_t k = 0; e == QW_OK && k < pl->cand.n; k++) {
        if (read_manifest(pl, &pl->cand.v[k], &df, &ndf) != QW_OK)
            continue; /* unreadable: its data files stay (orphans later) */
        for (size_t j = 0; j < ndf; j++) {
            char p[QW_ICE_LOC_MAX];
            if (qw_fileio_local_path(df[j].path, p, sizeof p) != QW_OK)
                snprintf(p, sizeof p, "%s", df[j].path);
            if (set_add(&pl->keep_d, p)) /* also dedupes across candidates */
                drop(pl, df[j].path, df[j].file_size_in_bytes, &pl->res->data_files);
        }
        qw_free(df);
    }
    for (size_t k = 0; e == QW_OK && k < pl->cand.n; k++)
        drop(pl, pl->cand.v[k].path, pl->cand.v[k].length, &pl->res->manifests);
    json_t *l;
    json_array_foreach(explists, i, l)
    {
        if (e == QW_OK)
            drop(pl, json_string_value(l), -1, &pl->res->lists);
    }
    json_decref(explists);
    return e;
}

static qw_err plan_and_delete(plan *pl, const qw_ice_meta *p, const qw_ice_meta *kept_in)
{
    const json_t *ks = json_object_get(qw__ice_root(kept_in), "snapshots");
    size_t nk = json_array_size(ks);
    sid *ix = qw_malloc((nk ? nk : 1) * sizeof *ix);
    if (!ix)
        return QW_NOMEM;
    for (size_t i = 0; i < nk; i++) {
        ix[i].id = qw__ice_jint(json_array_get(ks, i), "snapshot-id", -1);
        ix[i].i = i;
    }
    qsort(ix, nk, sizeof *ix, sid_cmp);
    pl->m = p;
    qw__ice_refcache_begin();
    qw_err e = delete_unreferenced(pl, json_object_get(qw__ice_root(p), "snapshots"), ix, nk);
    qw__ice_refcache_end();
    qw_free(ix);
    set_free(&pl->keep_m);
    set_free(&pl->keep_d);
    set_free(&pl->seen_exp);
    qw_free(pl->kept.v);
    qw_free(pl->cand.v);
    memset(&pl->kept, 0, sizeof pl->kept);
    memset(&pl->cand, 0, sizeof pl->cand);
    return e;
}

qw_err qw_ice_expire(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                     const char *table, const qw_ice_expire_opts *o, qw_ice_expire_fn fn,
                     void *fctx, qw_ice_expire_result *res, char *errbuf, size_t errlen)
{
    memset(res, 0, sizeof *res);
    int64_t now = o->now_ms ? o->now_ms : qw_now_wall_ns() / 1000000;
    qw_err e = qw_ice_protected_since(cat, ns, table, now, &res->prot);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "cannot read the commit leases of %s.%s: %s", ns, table,
                  qw_strerror(e));
        return e;
    }
    int max = o->max_attempts > 0 ? o->max_attempts : 10;
    plan pl = {
        .io = io, .o = o, .res = res, .fn = fn, .fctx = fctx, .err = errbuf, .errlen = errlen};
    for (int attempt = 0; attempt < max; attempt++) {
        res->attempts = attempt + 1;
        qw_ice_meta *p = NULL, *nm = NULL;
        char ploc[QW_ICE_LOC_MAX], nloc[QW_ICE_LOC_MAX];
        int turn = o->turn && attempt >= o->turn_after;
        if (turn)
            o->turn(o->turn_ctx, 1);
        if ((e = qw_ice_load_table(cat, io, ns, table, &p, ploc, sizeof ploc)) != QW_OK) {
            if (turn)
                o->turn(o->turn_ctx, 0);
            QW_SETERR(errbuf, errlen, "no readable table %s.%s: %s", ns, table, qw_strerror(e));
            return e;
        }
        const json_t *root = qw__ice_root(p);
        /* the table's properties, as another engine or a user may have set
         * them: a negative age is the default, an age past 1970 keeps all,
         * a count is clamped to int (now - INT64_MIN overflowed before) */
        int64_t age =
            qw__ice_prop_int(root, "history.expire.max-snapshot-age-ms", DEFAULT_MAX_AGE_MS);
        int64_t keep = qw__ice_prop_int(root, "history.expire.min-snapshots-to-keep", 1);
        if (age < 0)
            age = DEFAULT_MAX_AGE_MS;
        res->older_than_ms = o->older_than_ms ? o->older_than_ms : age > now ? 0 : now - age;
        res->retain_last = o->retain_last > 0 ? o->retain_last
                           : keep > INT_MAX   ? INT_MAX
                                              : (int)keep;
        if (res->retain_last < 1)
            res->retain_last = 1;
        /* a live writer whose commit outcome was unknown retries with the
         * same snapshot id and looks for it in the table (landed_before):
         * a snapshot committed since the oldest live lease must stay, or
         * the retry would commit its rows twice */
        res->lease_limited = res->prot.live && res->prot.since_ms < res->older_than_ms;
        if (res->lease_limited)
            res->older_than_ms = res->prot.since_ms;
        size_t n = qw_ice_meta_nsnapshots(p);
        uint8_t *expire = qw_malloc(n ? n : 1);
        if (!expire) {
            if (turn)
                o->turn(o->turn_ctx, 0);
            qw_ice_meta_free(p);
            return QW_NOMEM;
        }
        res->snapshots_expired =
            qw_ice_expire_select(p, res->older_than_ms, res->retain_last, expire, &e);
        res->snapshots_kept = n - res->snapshots_expired;
        if (e == QW_OK && res->snapshots_expired)
            e = build_meta(p, ploc, expire, now > p->last_updated_ms ? now : p->last_updated_ms + 1,
                           &nm);
        qw_free(expire);
        if (turn && (e != QW_OK || !res->snapshots_expired || !o->remove)) {
            o->turn(o->turn_ctx, 0);
            turn = 0;
        }
        if (e != QW_OK || !res->snapshots_expired || !o->remove) {
            if (e == QW_OK && nm) /* dry run: what would go */
                e = plan_and_delete(&pl, p, nm);
            else if (e != QW_OK)
                QW_SETERR(errbuf, errlen, "plan: %s", qw_strerror(e));
            qw_ice_meta_free(nm);
            qw_ice_meta_free(p);
            return e;
        }
        e = qw__ice_write_meta(io, nm, qw__ice_next_version(ploc, qw__ice_root(nm)), nloc,
                               sizeof nloc);
        if (e == QW_OK)
            e = cat->commit(cat->ctx, ns, table, ploc, nloc);
        if (turn) /* the delete phase needs no turn: the swap is done */
            o->turn(o->turn_ctx, 0);
        if (e == QW_OK) {
            snprintf(res->metadata_location, sizeof res->metadata_location, "%s", nloc);
            qw__ice_after_commit(io, p, nm, nloc, 1);
            int64_t td = qw_now_mono_ns();
            e = plan_and_delete(&pl, p, nm);
            qw_ice_refcache_stats rs;
            qw__ice_refcache_stats(&rs);
            QW_LOG(DEBUG,
                   "%s.%s: expire of %zu of %zu snapshot(s): delete phase %.1f ms (reference "
                   "cache: %llu lists read, %llu hit; %llu manifests read, %llu hit)",
                   ns, table, res->snapshots_expired, n, (double)(qw_now_mono_ns() - td) / 1e6,
                   (unsigned long long)rs.lists_read, (unsigned long long)rs.lists_hit,
                   (unsigned long long)rs.manifests_read, (unsigned long long)rs.manifests_hit);
        } else if (e == QW_CONFLICT || e == QW_AGAIN) {
            qw_fileio_remove(io, nloc); /* not applied: nobody references it */
            QW_SETERR(errbuf, errlen, "catalog commit: %s", qw_strerror(e));
        } else {
            QW_SETERR(errbuf, errlen, "write or commit metadata: %s%s", qw_strerror(e),
                      " (outcome unknown: nothing deleted; run expire again)");
        }
        qw_ice_meta_free(nm);
        qw_ice_meta_free(p);
        if (e != QW_CONFLICT)
            return e;
        if (attempt + 1 == max)
            break;
        QW_LOG(INFO, "%s.%s: expire lost the commit race (attempt %d of %d), retrying", ns, table,
               attempt + 1, max);
        qw__ice_backoff(attempt, 20);
    }
    return e;
}

/* ice_commit.c: create table, load table and the fast-append commit.
 *
 * append:  LOAD  cat->load + read metadata (parent P)
 *       -> MANIFEST  write <loc>/metadata/<uuid>-m0.avro once (entries carry
 *                    the snapshot id; sequence numbers are inherited, so the
 *                    same manifest is valid on any parent), on a short-lived
 *                    thread while this one builds and writes LIST: both are
 *                    durable before METADATA (one round trip fewer per
 *                    commit on an object store)
 *       -> LIST      snap-<id>-<attempt>-<uuid>.avro: new manifest (seq N) +
 *                    every manifest of P's current snapshot, unchanged, or,
 *                    past commit.manifest.min-count-to-merge, the small ones
 *                    merged into <uuid>-g<attempt>.avro (ice_merge.c)
 *       -> METADATA  <5-digit version+1>-<uuid>.metadata.json: snapshot N,
 *                    refs.main, snapshot-log, metadata-log += P's file
 *       -> CAS       cat->commit(expected = P's location)
 *   CAS QW_CONFLICT -> remove LIST + METADATA, back off (exp + jitter), LOAD
 *   any other error -> stop; files are kept when the CAS outcome is unknown.
 * Every file is durable (fileio write = temp, fsync, rename) before the CAS.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/time.h"
#include "iceberg/ice_int.h"

#define QW_MODULE "iceberg"
#include "core/log.h"

qw_err qw_ice_meta_read(qw_fileio *io, const char *loc, qw_ice_meta **out, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t *data;
    size_t len;
    qw_err e = qw_fileio_read(io, loc, QW__ICE_MAX_META, &data, &len);
    if (e != QW_OK) {
        if (err && errlen)
            snprintf(err, errlen, "read %s: %s", loc, qw_err_name(e));
        return e;
    }
    e = qw_ice_meta_parse((const char *)data, len, out, err, errlen);
    qw_free(data);
    return e;
}

qw_err qw_ice_load_table(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                         const char *table, qw_ice_meta **out, char *loc, size_t cap)
{
    *out = NULL;
    qw_err e = cat->load(cat->ctx, ns, table, loc, cap);
    if (e != QW_OK)
        return e;
    e = qw_ice_meta_read(io, loc, out, NULL, 0);
    /* the catalog names this file: missing is damage, never "no table" */
    return e == QW_NOT_FOUND ? QW_CORRUPT : e;
}

qw_err qw__ice_write_meta(qw_fileio *io, const qw_ice_meta *m, int version, char *loc, size_t cap)
{
    char uuid[37];
    qw_ice_uuid(uuid);
    if ((size_t)snprintf(loc, cap, "%s/metadata/%05d-%s.metadata.json", m->location, version,
                         uuid) >= cap)
        return QW_TOO_LARGE;
    char *text;
    size_t len;
    qw_err e = qw_ice_meta_dump(m, &text, &len);
    if (e != QW_OK)
        return e;
    e = qw_fileio_write(io, loc, text, len);
    qw_free(text);
    return e;
}

static int64_t now_ms(const qw_ice_append_opts *o)
{
    return o && o->now_ms ? o->now_ms : qw_now_wall_ns() / 1000000;
}

typedef struct latest_ctx {
    int version;
    char *loc;
    size_t cap;
} latest_ctx;

static int latest_fn(void *vctx, const char *uri, uint64_t size)
{
    latest_ctx *c = vctx;
    (void)size;
    size_t n = strlen(uri);
    if (n < 14 || strcmp(uri + n - 14, ".metadata.json") != 0)
        return 0;
    int v = qw_ice_metadata_version(uri);
    if (v > c->version || (v == c->version && c->loc[0] && strcmp(uri, c->loc) > 0)) {
        c->version = v;
        snprintf(c->loc, c->cap, "%s", uri);
    }
    return 0;
}

qw_err qw_ice_find_latest_metadata(qw_fileio *io, const char *location, char *loc, size_t cap,
                                   int *version)
{
    char dir[QW_ICE_LOC_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s/metadata", location) >= sizeof dir)
        return QW_TOO_LARGE;
    loc[0] = '\0';
    latest_ctx c = {-1, loc, cap};
    qw_err e = qw_fileio_list(io, dir, latest_fn, &c);
    if (e != QW_OK && e != QW_NOT_FOUND)
        return e;
    *version = c.version;
    return loc[0] ? QW_OK : QW_NOT_FOUND;
}

qw_err qw_ice_create_table(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                           const char *table, const char *location, const qw_ice_schema *schema,
                           const qw_ice_spec *spec, const qw_ice_kv *props, size_t nprops,
                           char *loc_out, size_t cap)
{
    qw_err e = cat->create_namespace(cat->ctx, ns);
    if (e != QW_OK)
        return e;
    e = cat->load(cat->ctx, ns, table, loc_out, cap);
    if (e != QW_NOT_FOUND)
        return e; /* QW_OK: it exists already */
    /* The catalog has no entry, but the folder may hold a table that has
     * committed data (metadata version >= 1: a catalog lost or emptied).
     * A new table over it would orphan every earlier file: refuse. A bare
     * version 0 is a table being created by a concurrent writer, or one
     * that never committed: nothing is lost by creating over it. */
    int version = -1;
    char found[QW_ICE_LOC_MAX];
    if (qw_ice_find_latest_metadata(io, location, found, sizeof found, &version) == QW_OK &&
        version >= 1) {
        snprintf(loc_out, cap, "%s", found);
        return QW_EXISTS;
    }
    qw_ice_meta *m;
    e = qw_ice_meta_new(&m, location, schema, spec, props, nprops, now_ms(NULL));
    if (e != QW_OK)
        return e;
    char loc[QW_ICE_LOC_MAX];
    e = qw__ice_write_meta(io, m, 0, loc, sizeof(loc));
    qw_ice_meta_free(m);
    if (e != QW_OK)
        return e;
    e = cat->create(cat->ctx, ns, table, loc);
    if (e == QW_EXISTS) { /* lost the race: use the winner's table */
        qw_fileio_remove(io, loc);
        return cat->load(cat->ctx, ns, table, loc_out, cap);
    }
    if (e == QW_OK && (size_t)snprintf(loc_out, cap, "%s", loc) >= cap)
        return QW_TOO_LARGE;
    return e;
}

qw_err qw_ice_register_table(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                             const char *table, const char *location, const char *metadata_loc,
                             char *loc_out, size_t cap)
{
    qw_err e = cat->create_namespace(cat->ctx, ns);
    if (e != QW_OK)
        return e;
    char cur[QW_ICE_LOC_MAX];
    if ((e = cat->load(cat->ctx, ns, table, cur, sizeof cur)) != QW_NOT_FOUND) {
        if (e == QW_OK)
            snprintf(loc_out, cap, "%s", cur);
        return e == QW_OK ? QW_EXISTS : e;
    }
    int version;
    if (metadata_loc && *metadata_loc)
        snprintf(loc_out, cap, "%s", metadata_loc);
    else if ((e = qw_ice_find_latest_metadata(io, location, loc_out, cap, &version)) != QW_OK)
        return e;
    qw_ice_meta *m;
    if ((e = qw_ice_meta_read(io, loc_out, &m, NULL, 0)) != QW_OK)
        return e == QW_NOT_FOUND ? QW_NOT_FOUND : QW_CORRUPT;
    qw_ice_meta_free(m);
    return cat->create(cat->ctx, ns, table, loc_out);
}

/* Summary totals: parent's total-* (if numeric) + this append. */
void qw__ice_put_total(json_t *sum, const json_t *parent, const char *key, int64_t add)
{
    int64_t base = 0;
    const char *v = json_string_value(json_object_get(parent, key));
    if (v) {
        char *end;
        long long x = strtoll(v, &end, 10);
        if (*end == 0 && end != v && x >= 0)
            base = x;
    }
    char buf[24];
    snprintf(buf, sizeof(buf), "%lld", (long long)qw__ice_sat_add(base, add));
    json_object_set_new(sum, key, json_string(buf));
}

static void put_num(json_t *o, const char *key, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    json_object_set_new(o, key, json_string(buf));
}

static json_t *summary(const qw_ice_meta *p, const qw_ice_data_file *files, size_t n,
                       const qw_ice_append_opts *o)
{
    const json_t *ps = NULL;
    if (p->current_snapshot_id >= 0)
        ps = json_object_get(qw__ice_snapshot_json(p, p->current_snapshot_id), "summary");
    int64_t rows = 0, bytes = 0;
    size_t parts = 0;
    for (size_t i = 0; i < n; i++) {
        rows = qw__ice_sat_add(rows, files[i].record_count);
        bytes = qw__ice_sat_add(bytes, files[i].file_size_in_bytes);
        int seen = 0; /* distinct partition tuples */
        for (size_t k = 0; k < i && !seen; k++)
            seen = memcmp(files[k].part, files[i].part,
                          sizeof(files[i].part[0]) * (size_t)files[i].npart) == 0;
        parts += !seen;
    }
    json_t *s = json_object();
    json_object_set_new(s, "operation", json_string("append"));
    for (size_t i = 0; o && i < o->nsummary; i++)
        if (strcmp(o->summary[i].key, "operation") != 0)
            json_object_set_new(s, o->summary[i].key, json_string(o->summary[i].value));
    put_num(s, "added-data-files", (int64_t)n);
    put_num(s, "added-records", rows);
    put_num(s, "added-files-size", bytes);
    put_num(s, "changed-partition-count", (int64_t)parts);
    qw__ice_put_total(s, ps, "total-records", rows);
    qw__ice_put_total(s, ps, "total-files-size", bytes);
    qw__ice_put_total(s, ps, "total-data-files", (int64_t)n);
    qw__ice_put_total(s, ps, "total-delete-files", 0);
    qw__ice_put_total(s, ps, "total-position-deletes", 0);
    qw__ice_put_total(s, ps, "total-equality-deletes", 0);
    return s;
}

/* The new metadata document: a deep copy of the parent plus the snapshot. */
qw_err qw__ice_next_meta(const qw_ice_meta *p, const char *parent_loc, int64_t snap_id, int64_t seq,
                         const char *list_loc, json_t *sum, int64_t ts, qw_ice_meta **out)
{
    json_t *r = json_deep_copy(qw__ice_root(p));
    if (!r) {
        json_decref(sum);
        return QW_NOMEM;
    }
    json_t *snap =
        json_pack("{s:I, s:I, s:I, s:o, s:s, s:i}", "sequence-number", (json_int_t)seq,
                  "snapshot-id", (json_int_t)snap_id, "timestamp-ms", (json_int_t)ts, "summary",
                  sum, "manifest-list", list_loc, "schema-id", p->current_schema_id);
    if (snap && p->current_snapshot_id >= 0)
        json_object_set_new(snap, "parent-snapshot-id", json_integer(p->current_snapshot_id));
    json_t *snaps = json_object_get(r, "snapshots");
    if (!json_is_array(snaps)) {
        snaps = json_array();
        json_object_set_new(r, "snapshots", snaps);
    }
    json_t *slog = json_object_get(r, "snapshot-log");
    if (!json_is_array(slog)) {
        slog = json_array();
        json_object_set_new(r, "snapshot-log", slog);
    }
    if (!snap || json_array_append_new(snaps, snap) != 0) {
        json_decref(r);
        return QW_NOMEM;
    }
    json_array_append_new(slog, json_pack("{s:I, s:I}", "timestamp-ms", (json_int_t)ts,
                                          "snapshot-id", (json_int_t)snap_id));
    qw__ice_metadata_log_push(r, p->last_updated_ms, parent_loc);
    json_object_set_new(r, "format-version", json_integer(2));
    json_object_set_new(r, "last-sequence-number", json_integer(seq));
    json_object_set_new(r, "last-updated-ms", json_integer(ts));
    json_object_set_new(r, "current-snapshot-id", json_integer(snap_id));
    json_t *refs = json_object_get(r, "refs");
    if (!json_is_object(refs)) {
        refs = json_object();
        json_object_set_new(r, "refs", refs);
    }
    json_object_set_new(
        refs, "main",
        json_pack("{s:I, s:s}", "snapshot-id", (json_int_t)snap_id, "type", "branch"));
    char *text = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(r);
    if (!text)
        return QW_NOMEM;
    qw_err e = qw_ice_meta_parse(text, strlen(text), out, NULL, 0); /* validates the result */
    free(text);
    return e;
}

/* Manifests of the parent's current snapshot (n = 0 if none). */
qw_err qw__ice_parent_manifests(qw_fileio *io, const qw_ice_meta *p, qw_ice_manifest_file **mfs,
                                size_t *n, char *err, size_t errlen)
{
    *mfs = NULL;
    *n = 0;
    if (p->current_snapshot_id < 0)
        return QW_OK;
    const json_t *snap = qw__ice_snapshot_json(p, p->current_snapshot_id);
    const char *list = json_string_value(json_object_get(snap, "manifest-list"));
    if (!list) {
        snprintf(err, errlen, "parent snapshot has no manifest-list (v1 inline manifests)");
        return QW_UNSUPPORTED;
    }
    uint8_t *data;
    size_t len;
    qw_err e = qw_fileio_read(io, list, QW__ICE_MAX_AVRO, &data, &len);
    if (e != QW_OK) {
        snprintf(err, errlen, "read manifest list %s: %s", list, qw_err_name(e));
        return e;
    }
    e = qw_ice_manifest_list_read(data, len, mfs, n, err, errlen);
    qw_free(data);
    return e;
}

void qw__ice_backoff(int attempt, int base_ms)
{
    int64_t ms = (int64_t)base_ms << (attempt < 7 ? attempt : 7);
    if (ms > 2000)
        ms = 2000;
    ms = ms / 2 + (qw_ice_random_id() % (ms / 2 + 1)); /* jitter: [ms/2, ms] */
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct attempt_ctx {
    const qw_ice_catalog_ops *cat;
    qw_fileio *io;
    const char *ns, *table;
    const qw_ice_data_file *files;
    size_t n;
    const qw_ice_append_opts *o;
    qw_ice_commit_result *res;
    char commit_uuid[37];
    int64_t snap_id;
    char manifest[QW_ICE_LOC_MAX]; /* written once ("" until then) */
    int64_t manifest_len;
    char manifest_table[QW_ICE_LOC_MAX]; /* table uuid the manifest was built for */
} attempt_ctx;

/* The manifest's write, off the committing thread. */
typedef struct bg_write {
    qw_fileio *io;
    const char *uri;
    uint8_t *bytes; /* owned */
    size_t len;
    qw_err e;
    pthread_t th;
    int running;
} bg_write;

static void *bg_write_main(void *arg)
{
    bg_write *b = arg;
    b->e = qw_fileio_write(b->io, b->uri, b->bytes, b->len);
    return NULL;
}

/* Start writing bytes (taken) to uri; on a thread when one can be made. */
static void bg_start(bg_write *b, qw_fileio *io, const char *uri, uint8_t *bytes, size_t len)
{
    *b = (bg_write){.io = io, .uri = uri, .bytes = bytes, .len = len};
    if (pthread_create(&b->th, NULL, bg_write_main, b) == 0)
        b->running = 1;
    else
        bg_write_main(b);
}

/* The write's outcome, once it ended (QW_OK when none was started). */
static qw_err bg_finish(bg_write *b)
{
    if (b->running)
        pthread_join(b->th, NULL);
    b->running = 0;
    qw_free(b->bytes);
    b->bytes = NULL;
    qw_err e = b->e;
    b->e = QW_OK;
    return e;
}

static qw_err one_attempt(attempt_ctx *a, int attempt)
{
    qw_ice_commit_result *res = a->res;
    char ploc[QW_ICE_LOC_MAX], list[QW_ICE_LOC_MAX], nloc[QW_ICE_LOC_MAX], mpath[QW_ICE_LOC_MAX];
    qw_ice_meta *p = NULL, *nm = NULL;
    qw_ice_manifest_file *mfs = NULL;
    mpath[0] = 0;
    uint8_t *bytes = NULL;
    size_t len, nmf = 0;
    bg_write mw = {0}; /* the manifest's write, when this attempt makes it */
    qw_err e = qw_ice_load_table(a->cat, a->io, a->ns, a->table, &p, ploc, sizeof(ploc));
    if (e != QW_OK) {
        snprintf(res->err, sizeof(res->err), "load %.100s.%.100s: %s", a->ns, a->table,
                 qw_err_name(e));
        return e;
    }
    if (a->o && a->o->snapshot_id && qw__ice_snapshot_json(p, a->snap_id)) {
        /* the caller's id is in the table: an earlier call whose outcome
         * was unknown did commit; committing again would duplicate rows */
        const json_t *sn = qw__ice_snapshot_json(p, a->snap_id);
        res->snapshot_id = a->snap_id;
        res->sequence_number = json_integer_value(json_object_get(sn, "sequence-number"));
        res->landed_before = 1;
        snprintf(res->metadata_location, sizeof(res->metadata_location), "%s", ploc);
        qw_ice_meta_free(p);
        return QW_OK;
    }
    while (qw__ice_snapshot_json(p, a->snap_id)) /* collision: a new id, a new manifest */
        a->snap_id = qw_ice_random_id(), a->manifest[0] = 0;
    if (a->manifest[0] && strcmp(a->manifest_table, p->uuid) != 0)
        a->manifest[0] = 0; /* table was replaced: its spec may differ */
    if (!a->manifest[0]) {
        if ((size_t)snprintf(a->manifest, sizeof(a->manifest), "%s/metadata/%s-m0.avro",
                             p->location, a->commit_uuid) >= sizeof(a->manifest)) {
            a->manifest[0] = 0;
            e = QW_TOO_LARGE;
            goto out;
        }
        e = qw_ice_manifest_write(p, a->snap_id, a->files, a->n, &bytes, &len);
        if (e != QW_OK) {
            a->manifest[0] = 0;
            snprintf(res->err, sizeof(res->err), "write manifest: %s", qw_err_name(e));
            goto out;
        }
        bg_start(&mw, a->io, a->manifest, bytes, len); /* joined before METADATA */
        bytes = NULL;
        a->manifest_len = (int64_t)len;
        snprintf(a->manifest_table, sizeof(a->manifest_table), "%s", p->uuid);
    }
    e = qw__ice_parent_manifests(a->io, p, &mfs, &nmf, res->err, sizeof(res->err));
    if (e != QW_OK)
        goto out;
    int64_t seq = p->last_sequence_number + 1;
    int merged = 0;
    snprintf(mpath, sizeof mpath, "%.900s/metadata/%s-g%d.avro", p->location, a->commit_uuid,
             attempt);
    e = qw__ice_merge_manifests(a->io, p, a->snap_id, seq, mpath, mfs, &nmf, &merged, res->err,
                                sizeof res->err);
    if (e != QW_OK)
        goto out;
    if (!merged)
        mpath[0] = 0;
    res->manifests_merged = merged;
    qw_ice_manifest_file *all = qw_calloc(nmf + 1, sizeof(*all));
    if (!all) {
        e = QW_NOMEM;
        goto out;
    }
    qw_ice_manifest_summarize(p, a->snap_id, a->files, a->n, &all[0]);
    snprintf(all[0].path, sizeof(all[0].path), "%s", a->manifest);
    all[0].length = a->manifest_len;
    all[0].sequence_number = all[0].min_sequence_number = seq;
    if (nmf)
        memcpy(all + 1, mfs, nmf * sizeof(*mfs));
    if ((size_t)snprintf(list, sizeof(list), "%s/metadata/snap-%lld-%d-%s.avro", p->location,
                         (long long)a->snap_id, attempt, a->commit_uuid) >= sizeof(list))
        e = QW_TOO_LARGE;
    else
        e = qw_ice_manifest_list_write(a->snap_id, p->current_snapshot_id, seq, all, nmf + 1,
                                       &bytes, &len);
    qw_free(all);
    if (e == QW_OK)
        e = qw_fileio_write(a->io, list, bytes, len);
    qw_err me = bg_finish(&mw);
    if (me != QW_OK) { /* the manifest is written again on the next attempt */
        a->manifest[0] = 0;
        if (e == QW_OK)
            qw_fileio_remove(a->io, list);
        e = me;
        snprintf(res->err, sizeof(res->err), "write manifest: %s", qw_err_name(e));
        goto out;
    }
    if (e != QW_OK) {
        snprintf(res->err, sizeof(res->err), "write manifest list: %s", qw_err_name(e));
        goto out;
    }
    int64_t ts = now_ms(a->o);
    if (ts <= p->last_updated_ms)
        ts = p->last_updated_ms + 1; /* keep the logs ordered */
    e = qw__ice_next_meta(p, ploc, a->snap_id, seq, list, summary(p, a->files, a->n, a->o), ts,
                          &nm);
    if (e == QW_OK)
        e = qw__ice_write_meta(a->io, nm, qw__ice_next_version(ploc, qw__ice_root(nm)), nloc,
                               sizeof(nloc));
    if (e != QW_OK) {
        snprintf(res->err, sizeof(res->err), "write metadata: %s", qw_err_name(e));
        qw_fileio_remove(a->io, list);
        goto out;
    }
    e = a->cat->commit(a->cat->ctx, a->ns, a->table, ploc, nloc);
    if (e == QW_OK) {
        mpath[0] = 0; /* referenced now */
        res->snapshot_id = a->snap_id;
        res->sequence_number = seq;
        snprintf(res->metadata_location, sizeof(res->metadata_location), "%s", nloc);
        qw__ice_after_commit(a->io, p, nm, nloc, !(a->o && a->o->defer_hint));
    } else if (e == QW_CONFLICT) {
        qw_fileio_remove(a->io, nloc); /* nobody can reference the loser's files */
        qw_fileio_remove(a->io, list);
        snprintf(res->err, sizeof(res->err), "commit conflict on %.200s", ploc);
    } else {
        /* QW_AGAIN: the catalog was locked and did not apply the swap */
        res->outcome_unknown = e != QW_AGAIN;
        if (!res->outcome_unknown) { /* nobody references them */
            qw_fileio_remove(a->io, nloc);
            qw_fileio_remove(a->io, list);
        } else {
            mpath[0] = 0; /* may be referenced */
        }
        snprintf(res->err, sizeof(res->err), "catalog commit: %s%s", qw_err_name(e),
                 res->outcome_unknown ? " (outcome unknown, files kept)" : " (not applied)");
    }
out:
    if (bg_finish(&mw) != QW_OK) /* an earlier step failed while it ran */
        a->manifest[0] = 0;
    if (mpath[0]) /* a merged manifest nobody references */
        qw_fileio_remove(a->io, mpath);
    qw_free(bytes);
    qw_free(mfs);
    qw_ice_meta_free(nm);
    qw_ice_meta_free(p);
    return e;
}

qw_err qw_ice_append(const qw_ice_catalog_ops *cat, qw_fileio *io, const char *ns,
                     const char *table, const qw_ice_data_file *files, size_t n,
                     const qw_ice_append_opts *opts, qw_ice_commit_result *res)
{
    qw_ice_commit_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    if (!cat || !io || !ns || !table || !files || n == 0)
        return QW_INVAL;
    attempt_ctx a = {.cat = cat,
                     .io = io,
                     .ns = ns,
                     .table = table,
                     .files = files,
                     .n = n,
                     .o = opts,
                     .res = res};
    qw_ice_uuid(a.commit_uuid);
    a.snap_id = opts && opts->snapshot_id ? opts->snapshot_id : qw_ice_random_id();
    int max = opts && opts->max_attempts > 0 ? opts->max_attempts : 10;
    int base = opts && opts->backoff_ms > 0 ? opts->backoff_ms : 20;
    qw_err e = QW_CONFLICT;
    for (int i = 0; i < max; i++) {
        res->attempts = i + 1;
        e = one_attempt(&a, i);
        if (e != QW_CONFLICT)
            break;
        QW_LOG(INFO, "%s.%s: commit conflict (attempt %d of %d), retrying", ns, table, i + 1, max);
        if (i + 1 < max)
            qw__ice_backoff(i, base);
    }
    if (e != QW_OK)
        QW_LOG(WARN, "%s.%s: append failed after %d attempt(s): %s", ns, table, res->attempts,
               res->err);
    if ((e == QW_CONFLICT || (e != QW_OK && res->attempts && !res->outcome_unknown)) &&
        a.manifest[0])
        qw_fileio_remove(io, a.manifest); /* gave up: the manifest is unreferenced */
    return e;
}

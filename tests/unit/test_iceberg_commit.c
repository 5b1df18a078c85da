/* test_iceberg_commit.c: create table and fast-append commits against an
 * in-memory compare-and-swap catalog with the semantics of
 * storage/catalog.h: chains of appends, injected conflicts (a rival append
 * lands between our load and our CAS), concurrent writers in threads with no
 * lost files, and failure paths. */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/time.h"
#include "harness.h"
#include "iceberg/ice_int.h" /* the reference cache's counters */
#include "iceberg/iceberg.h"

/* ---- in-memory catalog (CAS on metadata_location) ---- */
typedef struct memcat {
    pthread_mutex_t mu;
    char ns[8][64];
    int nns;
    struct {
        char ns[64], table[64], loc[QW_ICE_LOC_MAX];
    } t[8];
    int nt;
    int commits, conflicts;
    /* conflict injection: before each of the next `inject` commits, run a
     * rival append through the same catalog so our CAS fails */
    int inject;
    qw_fileio *io;
    int in_rival;
    int lost_after_swap; /* the next commits apply, then report a lost connection */
    int locked;          /* the next commits are refused without applying (QW_AGAIN) */
} memcat;

static qw_err mc_ns(void *ctx, const char *ns)
{
    memcat *c = ctx;
    pthread_mutex_lock(&c->mu);
    int found = 0;
    for (int i = 0; i < c->nns; i++)
        found |= strcmp(c->ns[i], ns) == 0;
    if (!found && c->nns < 8)
        snprintf(c->ns[c->nns++], 64, "%s", ns);
    pthread_mutex_unlock(&c->mu);
    return QW_OK;
}

static int find(memcat *c, const char *ns, const char *table)
{
    for (int i = 0; i < c->nt; i++)
        if (strcmp(c->t[i].ns, ns) == 0 && strcmp(c->t[i].table, table) == 0)
            return i;
    return -1;
}

static qw_err mc_load(void *ctx, const char *ns, const char *table, char *loc, size_t cap)
{
    memcat *c = ctx;
    pthread_mutex_lock(&c->mu);
    int i = find(c, ns, table);
    if (i >= 0)
        snprintf(loc, cap, "%s", c->t[i].loc);
    pthread_mutex_unlock(&c->mu);
    return i >= 0 ? QW_OK : QW_NOT_FOUND;
}

static qw_err mc_create(void *ctx, const char *ns, const char *table, const char *loc)
{
    memcat *c = ctx;
    pthread_mutex_lock(&c->mu);
    qw_err e = QW_OK;
    if (find(c, ns, table) >= 0) {
        e = QW_EXISTS;
    } else {
        snprintf(c->t[c->nt].ns, 64, "%s", ns);
        snprintf(c->t[c->nt].table, 64, "%s", table);
        snprintf(c->t[c->nt].loc, QW_ICE_LOC_MAX, "%s", loc);
        c->nt++;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

static qw_ice_catalog_ops mc_ops(memcat *c);
static void one_file(qw_ice_data_file *f, const char *name, int day, int64_t rows);

static qw_err mc_commit(void *ctx, const char *ns, const char *table, const char *expected,
                        const char *loc)
{
    memcat *c = ctx;
    if (c->inject > 0 && !c->in_rival) {
        c->inject--;
        c->in_rival = 1; /* a rival writer commits first */
        qw_ice_catalog_ops ops = mc_ops(c);
        qw_ice_data_file *f = qw_calloc(1, sizeof(*f));
        char name[64];
        snprintf(name, sizeof(name), "rival-%d", c->commits);
        one_file(f, name, 18734, 1);
        qw_err re = qw_ice_append(&ops, c->io, ns, table, f, 1, NULL, NULL);
        qw_free(f);
        c->in_rival = 0;
        if (re != QW_OK)
            return QW_IO;
    }
    if (c->locked > 0) {
        c->locked--;
        return QW_AGAIN;
    }
    pthread_mutex_lock(&c->mu);
    int i = find(c, ns, table);
    qw_err e = QW_OK;
    if (i < 0) {
        e = QW_NOT_FOUND;
    } else if (strcmp(c->t[i].loc, expected) != 0) {
        e = QW_CONFLICT;
        c->conflicts++;
    } else {
        snprintf(c->t[i].loc, QW_ICE_LOC_MAX, "%s", loc);
        c->commits++;
        if (c->lost_after_swap > 0) {
            c->lost_after_swap--;
            e = QW_IO; /* applied, but the caller cannot know */
        }
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

static qw_ice_catalog_ops mc_ops(memcat *c)
{
    qw_ice_catalog_ops o = {c, mc_ns, mc_load, mc_create, mc_commit, NULL};
    return o;
}

/* ---- table fixtures ---- */

static void schema(qw_ice_schema *s, qw_ice_spec *sp)
{
    memset(s, 0, sizeof(*s));
    s->nfields = 3;
    s->fields[0] = (qw_ice_field){1, "product_id", QW_ICE_STRING, 0, 0, 1};
    s->fields[1] = (qw_ice_field){2, "exchange_ts", QW_ICE_TIMESTAMPTZ, 0, 0, 1};
    s->fields[2] = (qw_ice_field){3, "price", QW_ICE_DECIMAL, 18, 8, 0};
    memset(sp, 0, sizeof(*sp));
    sp->nfields = 2;
    sp->fields[0] = (qw_ice_part_field){1, 1000, "product_id", QW_ICE_T_IDENTITY, 0};
    sp->fields[1] = (qw_ice_part_field){2, 1001, "exchange_ts_day", QW_ICE_T_DAY, 0};
}

static void one_file(qw_ice_data_file *f, const char *name, int day, int64_t rows)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "data/%s.parquet", name);
    f->npart = 2;
    f->part[0].type = QW_ICE_STRING;
    snprintf(f->part[0].s, sizeof(f->part[0].s), "BTC-USD");
    f->part[1].type = QW_ICE_DATE;
    f->part[1].i = day;
    f->record_count = rows;
    f->file_size_in_bytes = 1000 + rows;
}

typedef struct env {
    char dir[64], loc[QW_ICE_LOC_MAX];
    memcat cat;
    qw_ice_catalog_ops ops;
    qw_fileio *io;
} env;

static void env_init_props(env *e, const qw_ice_kv *props, size_t nprops);
static void env_init(env *e)
{
    env_init_props(e, NULL, 0);
}

static void env_init_props(env *e, const qw_ice_kv *props, size_t nprops)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/qw_icecommit_XXXXXX");
    ASSERT_TRUE(mkdtemp(e->dir) != NULL);
    pthread_mutex_init(&e->cat.mu, NULL);
    ASSERT_OK(qw_fileio_create(&e->io, NULL, NULL));
    e->cat.io = e->io;
    e->ops = mc_ops(&e->cat);
    qw_ice_schema s;
    qw_ice_spec sp;
    schema(&s, &sp);
    char location[128];
    snprintf(location, sizeof(location), "file://%s/quotewatch/raw_trades", e->dir);
    ASSERT_OK(qw_ice_create_table(&e->ops, e->io, "quotewatch", "raw_trades", location, &s, &sp,
                                  props, nprops, e->loc, sizeof(e->loc)));
}

static void env_fini(env *e)
{
    qw_fileio_destroy(e->io);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
    ASSERT_EQ(system(cmd), 0);
}

static int count_files(void *ctx, const char *uri, uint64_t size)
{
    (void)uri;
    (void)size;
    (*(int *)ctx)++;
    return 0;
}

TEST(ice_create_table_and_appends)
{
    env e;
    env_init(&e);
    ASSERT_TRUE(strstr(e.loc, "/quotewatch/raw_trades/metadata/00000-") != NULL);
    /* creating again finds the existing table */
    qw_ice_schema s;
    qw_ice_spec sp;
    schema(&s, &sp);
    char again[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_create_table(&e.ops, e.io, "quotewatch", "raw_trades", "file:///elsewhere", &s,
                                  &sp, NULL, 0, again, sizeof(again)));
    ASSERT_STREQ(again, e.loc);

    qw_ice_data_file *f = qw_calloc(3, sizeof(*f));
    int64_t prev_snap = -1;
    for (int k = 0; k < 3; k++) {
        char name[32];
        for (int j = 0; j < 3; j++) {
            snprintf(name, sizeof(name), "c%d-%d", k, j);
            one_file(&f[j], name, 18734 + j, 10 * (k + 1));
        }
        qw_ice_kv extra[] = {{"quotewatch.writer", "test"}};
        qw_ice_append_opts o = {.summary = extra, .nsummary = 1};
        qw_ice_commit_result res;
        ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 3, &o, &res));
        ASSERT_EQ(res.attempts, 1);
        ASSERT_EQ(res.sequence_number, k + 1);
        ASSERT_TRUE(res.snapshot_id > 0);
        char want[32];
        snprintf(want, sizeof(want), "/metadata/%05d-", k + 1);
        ASSERT_TRUE(strstr(res.metadata_location, want) != NULL);

        qw_ice_meta *m;
        char loc[QW_ICE_LOC_MAX];
        ASSERT_OK(
            qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof(loc)));
        ASSERT_STREQ(loc, res.metadata_location);
        ASSERT_EQ(m->current_snapshot_id, res.snapshot_id);
        ASSERT_EQ(m->last_sequence_number, k + 1);
        qw_ice_snapshot snap;
        ASSERT_OK(qw_ice_meta_snapshot(m, res.snapshot_id, &snap));
        ASSERT_EQ(snap.parent_snapshot_id, prev_snap < 0 ? -1 : prev_snap);
        ASSERT_EQ(snap.sequence_number, k + 1);
        ASSERT_STREQ(snap.operation, "append");
        ASSERT_TRUE(strstr(snap.manifest_list, "/metadata/snap-") != NULL);
        ASSERT_STREQ(qw_ice_meta_summary(m, res.snapshot_id, "added-data-files"), "3");
        ASSERT_STREQ(qw_ice_meta_summary(m, res.snapshot_id, "quotewatch.writer"), "test");
        char buf[32];
        snprintf(buf, sizeof(buf), "%d", 3 * (k + 1));
        ASSERT_STREQ(qw_ice_meta_summary(m, res.snapshot_id, "total-data-files"), buf);
        snprintf(buf, sizeof(buf), "%d", 30 * (k + 1) * (k + 2) / 2);
        ASSERT_STREQ(qw_ice_meta_summary(m, res.snapshot_id, "total-records"), buf);
        ASSERT_STREQ(qw_ice_meta_summary(m, res.snapshot_id, "changed-partition-count"), "3");
        ASSERT_EQ(qw_ice_meta_snapshot_log_len(m), k + 1);
        ASSERT_EQ(qw_ice_meta_metadata_log_len(m), k + 1);
        ASSERT_EQ(qw_ice_meta_nsnapshots(m), k + 1);
        ASSERT_OK(qw_ice_meta_snapshot_at(m, (size_t)k, &snap));
        ASSERT_EQ(snap.snapshot_id, res.snapshot_id);
        char *text;
        size_t tlen;
        ASSERT_OK(qw_ice_meta_dump(m, &text, &tlen));
        json_t *doc = json_loadb(text, tlen, 0, NULL);
        ASSERT_EQ(json_integer_value(json_object_get(
                      json_object_get(json_object_get(doc, "refs"), "main"), "snapshot-id")),
                  res.snapshot_id);
        json_decref(doc);
        qw_free(text);

        qw_ice_scan sc;
        char err[256];
        ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, err, sizeof(err)));
        ASSERT_EQ(sc.nmanifests, k + 1);
        ASSERT_EQ(sc.ndata_files, 3 * (k + 1));
        ASSERT_EQ(sc.data_records, 30 * (k + 1) * (k + 2) / 2);
        /* newest manifest first; every file keeps the sequence number it was added with */
        for (size_t i = 0; i < sc.nfiles; i++) {
            int added_in = sc.files[i].path[6] - '0'; /* "data/c<k>-..." */
            ASSERT_EQ(sc.files[i].sequence_number, added_in + 1);
            ASSERT_EQ(sc.files[i].part[1].i, 18734 + (sc.files[i].path[8] - '0'));
        }
        qw_ice_scan_free(&sc);
        prev_snap = res.snapshot_id;
        qw_ice_meta_free(m);
    }
    /* 4 metadata + 3 manifests + 3 lists + version-hint.text, no leftovers */
    int n = 0;
    char meta_dir[128];
    snprintf(meta_dir, sizeof(meta_dir), "%s/quotewatch/raw_trades/metadata", e.dir);
    ASSERT_OK(qw_fileio_list(e.io, meta_dir, count_files, &n));
    ASSERT_EQ(n, 11);
    qw_free(f);
    env_fini(&e);
}

TEST(ice_append_conflict_retry_keeps_all_files)
{
    env e;
    env_init(&e);
    qw_ice_data_file *f = qw_calloc(2, sizeof(*f));
    one_file(&f[0], "mine-0", 18734, 5);
    one_file(&f[1], "mine-1", 18735, 7);
    e.cat.inject = 3; /* three rivals win the race before we do */
    qw_ice_append_opts o = {.backoff_ms = 1};
    qw_ice_commit_result res;
    ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 2, &o, &res));
    ASSERT_EQ(res.attempts, 4);
    ASSERT_EQ(e.cat.conflicts, 3);
    ASSERT_EQ(res.sequence_number, 4);
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX], err[256];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof(loc)));
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, err, sizeof(err)));
    ASSERT_EQ(sc.ndata_files, 5); /* 3 rivals + our 2 */
    ASSERT_EQ(sc.data_records, 3 + 12);
    int mine = 0;
    for (size_t i = 0; i < sc.nfiles; i++)
        mine += strstr(sc.files[i].path, "mine-") != NULL;
    ASSERT_EQ(mine, 2);
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    /* losers' lists and metadata were removed: 1 + 4 metadata, 4 manifests, 4 lists,
     * version-hint.text */
    int n = 0;
    char meta_dir[128];
    snprintf(meta_dir, sizeof(meta_dir), "%s/quotewatch/raw_trades/metadata", e.dir);
    ASSERT_OK(qw_fileio_list(e.io, meta_dir, count_files, &n));
    ASSERT_EQ(n, 14);
    /* bounded: when every attempt loses, QW_CONFLICT and no orphan manifest */
    e.cat.inject = 100;
    o.max_attempts = 2;
    ASSERT_ERR(QW_CONFLICT,
               qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 2, &o, &res));
    ASSERT_EQ(res.attempts, 2);
    n = 0;
    ASSERT_OK(qw_fileio_list(e.io, meta_dir, count_files, &n));
    ASSERT_EQ(n, 14 + 2 * 3); /* only the two rivals' commits */
    e.cat.inject = 0;
    qw_free(f);
    env_fini(&e);
}

typedef struct worker {
    env *e;
    int id;
    qw_err err;
    int attempts;
} worker;

static void *append_thread(void *arg)
{
    worker *w = arg;
    qw_ice_data_file *f = qw_calloc(1, sizeof(*f));
    for (int k = 0; k < 5; k++) {
        char name[32];
        snprintf(name, sizeof(name), "w%d-%d", w->id, k);
        one_file(f, name, 18734 + w->id, 1 + w->id);
        qw_ice_append_opts o = {.backoff_ms = 1, .max_attempts = 50};
        qw_ice_commit_result res;
        qw_err e = qw_ice_append(&w->e->ops, w->e->io, "quotewatch", "raw_trades", f, 1, &o, &res);
        w->attempts += res.attempts;
        if (e != QW_OK)
            w->err = e;
    }
    qw_free(f);
    return NULL;
}

TEST(ice_concurrent_appends_lose_nothing)
{
    env e;
    env_init(&e);
    enum { T = 4 };
    pthread_t th[T];
    worker w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (worker){&e, i, QW_OK, 0};
        ASSERT_EQ(pthread_create(&th[i], NULL, append_thread, &w[i]), 0);
    }
    int attempts = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        ASSERT_OK(w[i].err);
        attempts += w[i].attempts;
    }
    ASSERT_EQ(e.cat.commits, T * 5);
    ASSERT_EQ(attempts, T * 5 + e.cat.conflicts);
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX], err[256];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof(loc)));
    ASSERT_EQ(m->last_sequence_number, T * 5);
    ASSERT_EQ(qw_ice_meta_nsnapshots(m), T * 5);
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, err, sizeof(err)));
    ASSERT_EQ(sc.ndata_files, T * 5);
    ASSERT_EQ(sc.data_records, 5 * (1 + 2 + 3 + 4));
    /* sequence numbers are unique per commit and match the snapshot order */
    int seen[T * 5 + 1] = {0};
    for (size_t i = 0; i < sc.nfiles; i++) {
        ASSERT_TRUE(sc.files[i].sequence_number >= 1 && sc.files[i].sequence_number <= T * 5);
        seen[sc.files[i].sequence_number]++;
    }
    for (int i = 1; i <= T * 5; i++)
        ASSERT_EQ(seen[i], 1);
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    env_fini(&e);
}

TEST(ice_append_errors)
{
    env e;
    env_init(&e);
    qw_ice_data_file *f = qw_calloc(1, sizeof(*f));
    one_file(f, "x", 18734, 1);
    qw_ice_commit_result res;
    ASSERT_ERR(QW_NOT_FOUND, qw_ice_append(&e.ops, e.io, "quotewatch", "nope", f, 1, NULL, &res));
    ASSERT_ERR(QW_INVAL, qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 0, NULL, &res));
    f->part[1].type = QW_ICE_STRING; /* does not match the spec's date */
    ASSERT_ERR(QW_INVAL, qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 1, NULL, &res));
    /* the catalog points at a corrupt metadata file */
    one_file(f, "x", 18734, 1);
    char bad[QW_ICE_LOC_MAX];
    snprintf(bad, sizeof(bad), "%s/bad.metadata.json", e.dir);
    ASSERT_OK(qw_fileio_write(e.io, bad, "{\"format-version\":2", 19));
    snprintf(e.cat.t[0].loc, QW_ICE_LOC_MAX, "%s", bad);
    ASSERT_ERR(QW_BAD_JSON,
               qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 1, NULL, &res));
    qw_free(f);
    env_fini(&e);
}

static int count_meta(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls %s/quotewatch/raw_trades/metadata | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* A retry after an unknown outcome (the swap happened, the reply was lost)
 * with the same snapshot id finds its snapshot and does not commit twice;
 * a locked catalog (QW_AGAIN) is a known "not applied": nothing is left. */
TEST(ice_append_unknown_outcome_and_locked)
{
    env e;
    env_init(&e);
    qw_ice_data_file *f = qw_calloc(2, sizeof(*f));
    one_file(&f[0], "a", 18734, 5);
    one_file(&f[1], "b", 18735, 7);
    qw_ice_commit_result res;
    qw_ice_append_opts o = {.snapshot_id = 123456789};
    e.cat.lost_after_swap = 1;
    ASSERT_ERR(QW_IO, qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 2, &o, &res));
    ASSERT_EQ(res.outcome_unknown, 1);
    ASSERT_EQ(e.cat.commits, 1); /* it did land */
    ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 2, &o, &res));
    ASSERT_EQ(res.landed_before, 1);
    ASSERT_EQ(res.snapshot_id, 123456789);
    ASSERT_EQ(e.cat.commits, 1); /* not committed twice */
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof(loc)));
    ASSERT_EQ(qw_ice_meta_nsnapshots(m), 1u);
    qw_ice_meta_free(m);
    /* locked: refused, known not applied, its metadata files removed */
    int before = count_meta(e.dir);
    e.cat.locked = 1;
    o.snapshot_id = 0;
    ASSERT_ERR(QW_AGAIN, qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 2, &o, &res));
    ASSERT_EQ(res.outcome_unknown, 0);
    ASSERT_EQ(count_meta(e.dir), before);
    ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", f, 2, &o, &res));
    ASSERT_EQ(e.cat.commits, 2);
    qw_free(f);
    env_fini(&e);
}

/* Table for the independent readers (tests/e2e/test_iceberg_readers.sh):
 * with QW_ICE_E2E_DIR set, registers the Parquet files listed in
 * $QW_ICE_E2E_DIR/files.json (written by tests/js/iceberg_make_parquet.mjs)
 * in two appends and writes result.json; without it, uses made-up files. */
TEST(ice_e2e_table)
{
    const char *out = getenv("QW_ICE_E2E_DIR");
    char dir[256];
    if (out) {
        snprintf(dir, sizeof(dir), "%s", out);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/qw_icee2e_XXXXXX");
        ASSERT_TRUE(mkdtemp(dir) != NULL);
    }
    qw_fileio *io;
    ASSERT_OK(qw_fileio_create(&io, NULL, NULL));
    json_t *list = NULL;
    char p[512];
    snprintf(p, sizeof(p), "%s/files.json", dir);
    if (out) {
        json_error_t je;
        list = json_load_file(p, 0, &je);
        ASSERT_TRUE(json_is_array(list));
    } else {
        list = json_pack(
            "[{s:s, s:i, s:i, s:s, s:I, s:I}, {s:s, s:i, s:i, s:s, s:I, s:I},"
            " {s:s, s:i, s:i, s:s, s:I, s:I}]",
            "path", "file:///nowhere/a.parquet", "size", 100, "rows", 3, "product", "BTC-USD",
            "ts_min", (json_int_t)1618617600000000LL, "ts_max", (json_int_t)1618617601000000LL,
            "path", "file:///nowhere/b.parquet", "size", 200, "rows", 4, "product", "ETH-USD",
            "ts_min", (json_int_t)1618617600000000LL, "ts_max", (json_int_t)1618617602000000LL,
            "path", "file:///nowhere/c.parquet", "size", 300, "rows", 5, "product", "BTC-USD",
            "ts_min", (json_int_t)1618704000000000LL, "ts_max", (json_int_t)1618704003000000LL);
    }
    size_t n = json_array_size(list);
    ASSERT_TRUE(n >= 2);
    qw_ice_data_file *f = qw_calloc(n, sizeof(*f));
    int64_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_array_get(list, i);
        const char *prod = json_string_value(json_object_get(j, "product"));
        int64_t t0 = json_integer_value(json_object_get(j, "ts_min"));
        int64_t t1 = json_integer_value(json_object_get(j, "ts_max"));
        snprintf(f[i].path, sizeof(f[i].path), "%s", json_string_value(json_object_get(j, "path")));
        f[i].file_size_in_bytes = json_integer_value(json_object_get(j, "size"));
        f[i].record_count = json_integer_value(json_object_get(j, "rows"));
        rows += f[i].record_count;
        f[i].npart = 2;
        f[i].part[0].type = QW_ICE_STRING;
        snprintf(f[i].part[0].s, sizeof(f[i].part[0].s), "%s", prod);
        f[i].part[1].type = QW_ICE_DATE;
        f[i].part[1].i = qw_ice_day_from_us(t0);
        qw_ice_col_stats *c = qw_ice_data_file_col(&f[i], 1);
        c->value_count = f[i].record_count;
        c->null_count = 0;
        qw_ice_bound_string_lower(&c->lower, prod, strlen(prod));
        qw_ice_bound_string_upper(&c->upper, prod, strlen(prod));
        c = qw_ice_data_file_col(&f[i], 2);
        c->value_count = f[i].record_count;
        c->null_count = 0;
        qw_ice_bound_long(&c->lower, t0);
        qw_ice_bound_long(&c->upper, t1);
    }
    /* schema of the parquet files: product_id, exchange_ts, price, trade_id */
    qw_ice_schema s;
    memset(&s, 0, sizeof(s));
    s.nfields = 4;
    s.fields[0] = (qw_ice_field){1, "product_id", QW_ICE_STRING, 0, 0, 1};
    s.fields[1] = (qw_ice_field){2, "exchange_ts", QW_ICE_TIMESTAMPTZ, 0, 0, 1};
    s.fields[2] = (qw_ice_field){3, "price", QW_ICE_DOUBLE, 0, 0, 0};
    s.fields[3] = (qw_ice_field){4, "trade_id", QW_ICE_LONG, 0, 0, 0};
    qw_ice_spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.nfields = 2;
    sp.fields[0] = (qw_ice_part_field){1, 1000, "product_id", QW_ICE_T_IDENTITY, 0};
    sp.fields[1] = (qw_ice_part_field){2, 1001, "exchange_ts_day", QW_ICE_T_DAY, 0};
    memcat cat;
    memset(&cat, 0, sizeof(cat));
    pthread_mutex_init(&cat.mu, NULL);
    cat.io = io;
    qw_ice_catalog_ops ops = mc_ops(&cat);
    char location[300], loc[QW_ICE_LOC_MAX];
    snprintf(location, sizeof(location), "file://%s/warehouse/quotewatch/raw_trades", dir);
    ASSERT_OK(qw_ice_create_table(&ops, io, "quotewatch", "raw_trades", location, &s, &sp, NULL, 0,
                                  loc, sizeof(loc)));
    qw_ice_commit_result r1, r2;
    ASSERT_OK(qw_ice_append(&ops, io, "quotewatch", "raw_trades", f, n - 1, NULL, &r1));
    ASSERT_OK(qw_ice_append(&ops, io, "quotewatch", "raw_trades", f + n - 1, 1, NULL, &r2));
    qw_ice_meta *m;
    char err[256];
    ASSERT_OK(qw_ice_meta_read(io, r2.metadata_location, &m, err, sizeof(err)));
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(io, m, -1, &sc, err, sizeof(err)));
    ASSERT_EQ(sc.ndata_files, n);
    ASSERT_EQ(sc.data_records, rows);
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    char s1[24], s2[24]; /* strings: JSON readers in JS lose 64-bit precision */
    snprintf(s1, sizeof(s1), "%lld", (long long)r1.snapshot_id);
    snprintf(s2, sizeof(s2), "%lld", (long long)r2.snapshot_id);
    json_t *res = json_pack("{s:s, s:s, s:s, s:s, s:I}", "table_location", location,
                            "metadata_location", r2.metadata_location, "snapshot_1", s1,
                            "snapshot_2", s2, "rows", (json_int_t)rows);
    snprintf(p, sizeof(p), "%s/result.json", dir);
    ASSERT_EQ(json_dump_file(res, p, JSON_INDENT(1)), 0);
    json_decref(res);
    json_decref(list);
    qw_free(f);
    qw_fileio_destroy(io);
    if (!out) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
    }
}

/* Schema evolution by promotion: decimal(18, 8) -> decimal(38, 8) adds
 * schema 1 and makes it current in one CAS commit (a rival append in
 * between is retried over), keeps the snapshots and their schema ids,
 * later appends record schema 1; the same schema again is a no-op;
 * anything but a promotion is refused and leaves the table alone. */
TEST(ice_evolve_schema_by_promotion)
{
    env e;
    env_init(&e);
    qw_ice_data_file f;
    one_file(&f, "old", 18734, 5);
    qw_ice_commit_result res;
    ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", &f, 1, NULL, &res));
    int64_t old_snap = res.snapshot_id;
    qw_ice_schema s, want;
    qw_ice_spec sp;
    schema(&s, &sp);
    want = s;
    want.fields[2].precision = 38;
    int changed = -1;
    char err[256] = "";
    e.cat.inject = 1; /* a rival append lands between our load and our swap */
    ASSERT_OK(qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &want, &changed, err,
                                   sizeof err));
    ASSERT_EQ(changed, 1);
    ASSERT_TRUE(e.cat.conflicts >= 1);
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_EQ(m->current_schema_id, 1);
    ASSERT_EQ(m->schema.schema_id, 1);
    ASSERT_EQ(m->schema.fields[2].precision, 38);
    ASSERT_EQ(m->schema.fields[2].scale, 8);
    ASSERT_EQ(qw_ice_meta_nsnapshots(m), 2); /* ours and the rival's: nothing lost */
    qw_ice_snapshot snap;
    ASSERT_OK(qw_ice_meta_snapshot(m, old_snap, &snap));
    ASSERT_EQ(snap.schema_id, 0);
    qw_ice_meta_free(m);
    /* later appends are written under schema 1 */
    one_file(&f, "new", 18735, 7);
    ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", &f, 1, NULL, &res));
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_OK(qw_ice_meta_snapshot(m, res.snapshot_id, &snap));
    ASSERT_EQ(snap.schema_id, 1);
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, err, sizeof err));
    ASSERT_EQ(sc.data_records, 5 + 1 + 7); /* ours, the rival's one row, the new one */
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    /* again: nothing to do, no commit */
    int commits = e.cat.commits;
    ASSERT_OK(qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &want, &changed, err,
                                   sizeof err));
    ASSERT_EQ(changed, 0);
    ASSERT_EQ(e.cat.commits, commits);
    /* narrowing, a scale change, a type change, a renamed field: refused */
    qw_ice_schema bad = want;
    bad.fields[2].precision = 18;
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    ASSERT_TRUE(strstr(err, "price") != NULL);
    bad = want;
    bad.fields[2].scale = 6;
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    bad = want;
    bad.fields[1].type = QW_ICE_LONG;
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    bad = want;
    snprintf(bad.fields[0].name, sizeof bad.fields[0].name, "product");
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    ASSERT_EQ(e.cat.commits, commits);
    env_fini(&e);
}

/* Schema evolution by added optional fields (Iceberg spec): one CAS commit
 * adds schema 1 with the new fields after the old ones, raises
 * last-column-id and keeps every old id, name and snapshot; a promotion and
 * additions go together in that one commit; the same schema again is a
 * no-op; a required addition, a reused id, a duplicate id or name and a
 * dropped field are refused and leave the table alone. */
TEST(ice_evolve_schema_by_added_fields)
{
    env e;
    env_init(&e);
    qw_ice_data_file f;
    one_file(&f, "old", 18734, 5);
    qw_ice_commit_result res;
    ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", &f, 1, NULL, &res));
    int64_t old_snap = res.snapshot_id;
    qw_ice_schema s, want;
    qw_ice_spec sp;
    schema(&s, &sp);
    want = s;
    want.fields[2].precision = 38; /* a promotion too */
    want.fields[want.nfields++] = (qw_ice_field){4, "ofi", QW_ICE_DOUBLE, 0, 0, 0};
    want.fields[want.nfields++] = (qw_ice_field){5, "venue", QW_ICE_STRING, 0, 0, 0};
    int changed = -1, commits = e.cat.commits;
    char err[256] = "";
    ASSERT_OK(qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &want, &changed, err,
                                   sizeof err));
    ASSERT_EQ(changed, 3);
    ASSERT_EQ(e.cat.commits, commits + 1); /* one metadata commit */
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_EQ(m->current_schema_id, 1);
    ASSERT_EQ(m->last_column_id, 5);
    ASSERT_EQ(m->schema.nfields, 5);
    for (int i = 0; i < 3; i++) { /* old ids and names kept, in their order */
        ASSERT_EQ(m->schema.fields[i].id, s.fields[i].id);
        ASSERT_STREQ(m->schema.fields[i].name, s.fields[i].name);
        ASSERT_EQ(m->schema.fields[i].required, s.fields[i].required);
    }
    ASSERT_EQ(m->schema.fields[2].precision, 38);
    ASSERT_EQ(m->schema.fields[3].id, 4);
    ASSERT_STREQ(m->schema.fields[3].name, "ofi");
    ASSERT_EQ(m->schema.fields[3].required, 0);
    ASSERT_EQ(m->schema.fields[4].type, QW_ICE_STRING);
    qw_ice_snapshot snap;
    ASSERT_OK(qw_ice_meta_snapshot(m, old_snap, &snap));
    ASSERT_EQ(snap.schema_id, 0);
    qw_ice_meta_free(m);
    /* both schemas are in the document: the old one unchanged */
    json_t *doc = NULL;
    {
        uint8_t *text = NULL;
        size_t len = 0;
        ASSERT_OK(qw_fileio_read(e.io, loc, 1 << 20, &text, &len));
        doc = json_loadb((const char *)text, len, 0, NULL);
        qw_free(text);
    }
    ASSERT_TRUE(doc != NULL);
    json_t *schemas = json_object_get(doc, "schemas");
    ASSERT_EQ(json_array_size(schemas), 2);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(schemas, 0), "schema-id")), 0);
    ASSERT_EQ(json_array_size(json_object_get(json_array_get(schemas, 0), "fields")), 3);
    ASSERT_EQ(json_array_size(json_object_get(json_array_get(schemas, 1), "fields")), 5);
    json_decref(doc);
    /* again: nothing to do, no commit */
    commits = e.cat.commits;
    ASSERT_OK(qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &want, &changed, err,
                                   sizeof err));
    ASSERT_EQ(changed, 0);
    ASSERT_EQ(e.cat.commits, commits);
    /* a required field cannot be added */
    qw_ice_schema bad = want;
    bad.fields[bad.nfields++] = (qw_ice_field){6, "seq", QW_ICE_LONG, 0, 0, 1};
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    ASSERT_TRUE(strstr(err, "required") != NULL);
    /* a duplicate id, a duplicate name, a dropped field */
    bad = want;
    bad.fields[bad.nfields++] = (qw_ice_field){4, "ofi2", QW_ICE_DOUBLE, 0, 0, 0};
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    ASSERT_TRUE(strstr(err, "twice") != NULL);
    bad = want;
    bad.fields[bad.nfields++] = (qw_ice_field){6, "price", QW_ICE_DOUBLE, 0, 0, 0};
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    bad = want;
    bad.nfields = 4; /* venue dropped */
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_evolve_schema(&e.ops, e.io, "quotewatch", "raw_trades", &bad,
                                                    &changed, err, sizeof err));
    ASSERT_TRUE(strstr(err, "venue") != NULL);
    ASSERT_EQ(e.cat.commits, commits);
    env_fini(&e);
}

/* qw_ice_schema_evolution alone: an id at or below last-column-id that the
 * schema lacks (a dropped field's) is never reused; the result keeps the
 * table's field order whatever order want lists them in. */
TEST(ice_schema_evolution_ids)
{
    qw_ice_schema cur, want, out;
    qw_ice_spec sp;
    schema(&cur, &sp); /* ids 1..3 */
    want = cur;
    want.fields[want.nfields++] = (qw_ice_field){4, "ofi", QW_ICE_DOUBLE, 0, 0, 0};
    qw_ice_evolution ev = {-1, -1, -1};
    char err[256] = "";
    /* last-column-id 4: id 4 belonged to a dropped field */
    memset(&out, 0x5a, sizeof out);
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_schema_evolution(&cur, 4, &want, &out, &ev, err, sizeof err));
    ASSERT_TRUE(strstr(err, "reuse") != NULL);
    ASSERT_EQ(ev.added, -1); /* unchanged on error */
    ASSERT_EQ(out.nfields, 0x5a5a5a5a);
    /* an id below an existing one is a reuse too */
    cur.fields[2].id = 9;
    want = cur;
    want.fields[want.nfields++] = (qw_ice_field){7, "ofi", QW_ICE_DOUBLE, 0, 0, 0};
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_schema_evolution(&cur, 3, &want, &out, &ev, err, sizeof err));
    schema(&cur, &sp);
    /* want in another order: the table's order, then the additions */
    memset(&want, 0, sizeof want);
    want.nfields = 5;
    want.fields[0] = (qw_ice_field){5, "b", QW_ICE_LONG, 0, 0, 0};
    want.fields[1] = cur.fields[2];
    want.fields[2] = (qw_ice_field){4, "a", QW_ICE_DOUBLE, 0, 0, 0};
    want.fields[3] = cur.fields[0];
    want.fields[4] = cur.fields[1];
    ASSERT_OK(qw_ice_schema_evolution(&cur, 3, &want, &out, &ev, err, sizeof err));
    ASSERT_EQ(ev.added, 2);
    ASSERT_EQ(ev.promoted, 0);
    ASSERT_EQ(ev.last_column_id, 5);
    ASSERT_EQ(out.nfields, 5);
    int ids[] = {1, 2, 3, 5, 4};
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(out.fields[i].id, ids[i]);
    /* promotion alone still refuses any addition */
    int changes = -1;
    ASSERT_ERR(QW_UNSUPPORTED, qw_ice_schema_promotion(&cur, &want, &changes, err, sizeof err));
}

/* ---- snapshot expiry and bounded metadata ---- */

static int64_t lease_since_ms; /* 0: no lease */
static qw_err mc_leases(void *ctx, const char *ns, const char *table,
                        int (*fn)(void *, const char *, int64_t, int64_t), void *fctx)
{
    (void)ctx, (void)ns, (void)table;
    if (lease_since_ms)
        fn(fctx, "test-writer", lease_since_ms, qw_now_wall_ns() / 1000000);
    return QW_OK;
}

static int count_suffix(const char *dir, const char *suffix)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c -e '%s$'", dir, suffix);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* n appends of one file each at now_ms = t0, t0 + 1000, ... */
static void appends(env *e, int n, int64_t t0, int64_t *ids)
{
    qw_ice_data_file f;
    for (int k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "x%lld-%d", (long long)t0, k);
        one_file(&f, name, 18734, 5);
        qw_ice_append_opts o = {.now_ms = t0 + 1000 * k};
        qw_ice_commit_result r;
        ASSERT_OK(qw_ice_append(&e->ops, e->io, "quotewatch", "raw_trades", &f, 1, &o, &r));
        if (ids)
            ids[k] = r.snapshot_id;
    }
}

TEST(ice_expire_select_age_and_retain_last)
{
    env e;
    env_init(&e);
    int64_t ids[6];
    appends(&e, 6, 1000000, ids); /* timestamps 1000000 .. 1005000 */
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    uint8_t x[6];
    qw_err err;
    qw_ice_snapshot s3; /* commit times never go back: read them */
    ASSERT_OK(qw_ice_meta_snapshot_at(m, 3, &s3));
    int64_t cut = s3.timestamp_ms;
    /* older than the fourth: the first three expire (last 1 kept anyway) */
    ASSERT_EQ(qw_ice_expire_select(m, cut, 1, x, &err), 3);
    ASSERT_OK(err);
    ASSERT_TRUE(x[0] && x[1] && x[2] && !x[3] && !x[4] && !x[5]);
    /* retain the last 5: only the first */
    ASSERT_EQ(qw_ice_expire_select(m, cut, 5, x, &err), 1);
    ASSERT_TRUE(x[0] && !x[1]);
    /* everything old: all but the current one */
    ASSERT_EQ(qw_ice_expire_select(m, INT64_MAX, 1, x, &err), 5);
    ASSERT_TRUE(!x[5]);
    /* nothing old enough */
    ASSERT_EQ(qw_ice_expire_select(m, 0, 1, x, &err), 0);
    qw_ice_meta_free(m);
    env_fini(&e);
}

/* Expiry and commits by the table's own properties, set to nonsense by
 * another engine or a user: no overflow (the ASan+UBSan build runs this),
 * a negative age is the default (nothing of this table is 5 days old), an
 * age past 1970 keeps everything, an out-of-range or huge count is clamped,
 * and a commit still lands (metadata-log and manifest merge read them too). */
/* Record counts and sizes at INT64_MAX (another writer's manifests may
 * claim them): the summaries, manifest counts and scan totals saturate
 * instead of overflowing (the ASan+UBSan build runs this), and the table
 * stays readable with every file. */
TEST(ice_commit_counts_saturate)
{
    env e;
    env_init(&e);
    for (int k = 0; k < 3; k++) {
        qw_ice_data_file f;
        char name[32];
        snprintf(name, sizeof name, "huge-%d", k);
        one_file(&f, name, 18734, 5);
        f.record_count = INT64_MAX;
        f.file_size_in_bytes = INT64_MAX;
        qw_ice_append_opts o = {0};
        qw_ice_commit_result r;
        ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", &f, 1, &o, &r));
    }
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX], eb[256];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_STREQ(qw_ice_meta_summary(m, m->current_snapshot_id, "total-records"),
                 "9223372036854775807");
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, eb, sizeof eb));
    ASSERT_EQ(sc.ndata_files, 3);
    ASSERT_EQ(sc.data_records, INT64_MAX);
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    env_fini(&e);
}

/* clean-orphans only under a folder named after the table: a location at
 * a warehouse, a bucket or "/" (a damaged or hand-edited metadata file)
 * would make every other table's file an orphan. Refused with a message,
 * the other files untouched; the table's own folder still gets cleaned. */
TEST(ice_orphans_only_under_the_table_folder)
{
    static const char *const bad[] = {"", "/quotewatch", "/quotewatch/raw_trades/x",
                                      "/quotewatch/raw_tradesX"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0] + 1; k++) {
        env e;
        memset(&e, 0, sizeof e);
        snprintf(e.dir, sizeof(e.dir), "/tmp/qw_iceorph_XXXXXX");
        ASSERT_TRUE(mkdtemp(e.dir) != NULL);
        pthread_mutex_init(&e.cat.mu, NULL);
        ASSERT_OK(qw_fileio_create(&e.io, NULL, NULL));
        e.cat.io = e.io;
        e.ops = mc_ops(&e.cat);
        qw_ice_schema sc;
        qw_ice_spec sp;
        schema(&sc, &sp);
        char location[160], other[200];
        int good = k == sizeof bad / sizeof bad[0];
        snprintf(location, sizeof location, "file://%s%s", e.dir,
                 good ? "/quotewatch/raw_trades" : bad[k]);
        ASSERT_OK(qw_ice_create_table(&e.ops, e.io, "quotewatch", "raw_trades", location, &sc, &sp,
                                      NULL, 0, e.loc, sizeof(e.loc)));
        snprintf(other, sizeof other, "%s/quotewatch/raw_trades/data/stray.parquet", e.dir);
        ASSERT_OK(qw_fileio_write(e.io, other, "PAR1", 4));
        struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}}; /* old: not protected */
        ASSERT_EQ(utimensat(AT_FDCWD, other, ts, 0), 0);
        qw_ice_orphan_opts o = {.older_than_ms = 0, .remove = 1};
        qw_ice_orphan_result r;
        char eb[512] = "";
        qw_err err = qw_ice_orphans(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r,
                                    eb, sizeof eb);
        if (good) { /* under the table's own folder: the stray file goes */
            ASSERT_OK(err);
            ASSERT_EQ(r.orphans, 1);
            ASSERT_TRUE(access(other, F_OK) != 0);
        } else {
            ASSERT_ERR(QW_UNSUPPORTED, err);
            ASSERT_TRUE(strstr(eb, "is not a folder named raw_trades") != NULL);
            ASSERT_EQ(access(other, F_OK), 0);
        }
        env_fini(&e);
    }
}

TEST(ice_expire_absurd_table_properties)
{
    static const char *const ages[] = {"-9223372036854775808", "9223372036854775807",
                                       "99999999999999999999", "-1", "12abc"};
    for (size_t k = 0; k < sizeof ages / sizeof ages[0]; k++) {
        qw_ice_kv props[] = {{"history.expire.max-snapshot-age-ms", ages[k]},
                             {"history.expire.min-snapshots-to-keep", "99999999999999"},
                             {"write.metadata.previous-versions-max", "-9223372036854775808"},
                             {"commit.manifest.min-count-to-merge", "99999999999999999999"},
                             {"commit.manifest.target-size-bytes", "-5"}};
        env e;
        env_init_props(&e, props, sizeof props / sizeof props[0]);
        int64_t now = qw_now_wall_ns() / 1000000;
        appends(&e, 3, now - 100000, NULL);
        qw_ice_expire_opts o = {.remove = 1}; /* cutoff and count from the properties */
        qw_ice_expire_result r;
        char eb[256];
        ASSERT_OK(qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb,
                                sizeof eb));
        ASSERT_EQ(r.snapshots_expired, 0);
        ASSERT_EQ(r.retain_last, INT_MAX);
        int64_t dflt = now - 5LL * 24 * 3600 * 1000; /* the default age, or 0: keep all */
        ASSERT_TRUE(r.older_than_ms == 0 ||
                    (r.older_than_ms >= dflt && r.older_than_ms < dflt + 60000));
        o.retain_last = 1; /* the count given: the age still from the property */
        ASSERT_OK(qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb,
                                sizeof eb));
        ASSERT_EQ(r.snapshots_expired, 0);
        env_fini(&e);
    }
}

TEST(ice_expire_commits_then_deletes_only_unreferenced_unleased)
{
    env e;
    env_init(&e);
    e.ops.leases = mc_leases;
    int64_t now = qw_now_wall_ns() / 1000000;
    appends(&e, 8, now - 100000, NULL);
    char mdir[128];
    snprintf(mdir, sizeof mdir, "%s/quotewatch/raw_trades/metadata", e.dir);
    ASSERT_EQ(count_suffix(mdir, "snap-.*avro"), 8);

    /* a live lease from before the commits: it may be retrying one of
     * them (unknown outcome), so none of them expires */
    lease_since_ms = now - 60000;
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    qw_ice_snapshot s4;
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_OK(qw_ice_meta_snapshot_at(m, 4, &s4));
    qw_ice_meta_free(m);
    qw_ice_expire_opts o = {.older_than_ms = s4.timestamp_ms, .retain_last = 1, .remove = 1};
    qw_ice_expire_result r;
    char eb[256];
    ASSERT_OK(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 0);
    ASSERT_TRUE(r.lease_limited && r.prot.live == 1);
    ASSERT_EQ(r.metadata_location[0], 0);

    /* no lease: the first four expire and are committed away, but their
     * lists were written in the last 5 s (the skew margin: a writer may
     * have started after the lease read), so they are kept */
    lease_since_ms = 0;
    ASSERT_OK(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 4); /* the first four */
    ASSERT_EQ(r.snapshots_kept, 4);
    ASSERT_EQ(r.lists + r.manifests + r.data_files, 0);
    ASSERT_EQ(r.leased, 4);
    ASSERT_TRUE(r.metadata_location[0] != 0);
    ASSERT_EQ(count_suffix(mdir, "snap-.*avro"), 8);

    /* a clock 60 s ahead: the lists of the now expired snapshots go;
     * manifests (the current snapshot lists them all) stay */
    qw_ice_expire_opts o2 = {
        .older_than_ms = INT64_MAX, .retain_last = 2, .remove = 1, .now_ms = now + 60000};
    ASSERT_OK(qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o2, NULL, NULL, &r, eb,
                            sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 2);
    ASSERT_EQ(r.lists, 2);
    ASSERT_EQ(r.manifests + r.data_files + r.leased, 0);
    ASSERT_EQ(count_suffix(mdir, "snap-.*avro"), 6); /* 4 from the leased run remain: orphans */
    ASSERT_EQ(count_suffix(mdir, "-m0.avro"), 8);

    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_STREQ(loc, r.metadata_location);
    ASSERT_EQ(qw_ice_meta_nsnapshots(m), 2);
    ASSERT_EQ(qw_ice_meta_snapshot_log_len(m), 2);
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, eb, sizeof eb));
    ASSERT_EQ(sc.ndata_files, 8); /* every committed row is still there */
    qw_ice_scan_free(&sc);
    /* version-hint.text names the current metadata file */
    char hint[256];
    snprintf(hint, sizeof hint, "%s/version-hint.text", mdir);
    uint8_t *txt;
    size_t len;
    ASSERT_OK(qw_fileio_read(e.io, hint, 4096, &txt, &len));
    ASSERT_TRUE(len > 6 && strstr(loc, (char *)txt) != NULL);
    ASSERT_TRUE(strstr((char *)txt, ".metadata.json") == NULL);
    qw_free(txt);
    qw_ice_meta_free(m);

    /* a dry run changes nothing; nothing left to expire */
    qw_ice_expire_opts o3 = {.older_than_ms = INT64_MAX, .retain_last = 2, .now_ms = now + 60000};
    ASSERT_OK(qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o3, NULL, NULL, &r, eb,
                            sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 0);
    ASSERT_EQ(r.metadata_location[0], 0);
    o3.retain_last = 1; /* would expire one, deletes nothing */
    ASSERT_OK(qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o3, NULL, NULL, &r, eb,
                            sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 1);
    ASSERT_EQ(r.lists, 1);
    ASSERT_EQ(r.metadata_location[0], 0);
    ASSERT_EQ(count_suffix(mdir, "snap-.*avro"), 6);
    env_fini(&e);
}

/* ice_refcache.c: a second expiry reads only the lists committed since the
 * first (the ones it expires now were kept, hence read, then), and what
 * the cache says is what the files say: the data files of a replaced
 * manifest go exactly when no kept manifest lists them live. */
TEST(ice_expire_reference_cache_reads_only_new_lists)
{
    env e;
    env_init(&e);
    qw__ice_refcache_clear();
    int64_t now = qw_now_wall_ns() / 1000000;
    appends(&e, 6, now - 100000, NULL);
    char eb[256];
    qw_ice_expire_result r;
    qw_ice_expire_opts o = {
        .older_than_ms = INT64_MAX, .retain_last = 3, .remove = 1, .now_ms = now + 60000};
    ASSERT_OK(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 3);
    ASSERT_EQ(r.lists, 3);
    qw_ice_refcache_stats a, b;
    qw__ice_refcache_stats(&a);
    ASSERT_EQ(a.lists_read, 6); /* 3 kept, 3 expired */
    ASSERT_EQ(a.lists_hit, 0);

    appends(&e, 3, now - 50000, NULL);
    ASSERT_OK(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 3);
    ASSERT_EQ(r.lists, 3);
    qw__ice_refcache_stats(&b);
    ASSERT_EQ(b.lists_read - a.lists_read, 3); /* the 3 new kept ones */
    ASSERT_EQ(b.lists_hit - a.lists_hit, 3);   /* the 3 expired now, kept before */

    /* replace two live files by one: after expiring the snapshots before
     * the replace, exactly those two data files go */
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, eb, sizeof eb));
    qw_ice_meta_free(m);
    ASSERT_EQ(sc.ndata_files, 9);
    qw_ice_data_file add;
    one_file(&add, "merged", 18734, 10);
    qw_ice_replace_result rr;
    ASSERT_OK(
        qw_ice_replace(&e.ops, e.io, "quotewatch", "raw_trades", sc.files, 2, &add, 1, NULL, &rr));
    qw_ice_scan_free(&sc);
    qw_ice_expire_opts o1 = {
        .older_than_ms = INT64_MAX, .retain_last = 1, .remove = 1, .now_ms = now + 60000};
    ASSERT_OK(qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o1, NULL, NULL, &r, eb,
                            sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 3);
    ASSERT_EQ(r.manifests, 2);  /* the two that held the replaced files */
    ASSERT_EQ(r.data_files, 0); /* one_file's paths do not exist: nothing to stat */
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, eb, sizeof eb));
    ASSERT_EQ(sc.ndata_files, 8); /* 9 - 2 + 1: every row still listed */
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    qw__ice_refcache_stats(&b);
    ASSERT_TRUE(b.lists + b.manifests > 0);
    qw__ice_refcache_clear();
    qw__ice_refcache_stats(&b);
    ASSERT_EQ(b.lists + b.manifests, 0);
    env_fini(&e);
}

TEST(ice_expire_retries_after_a_rival_commit)
{
    env e;
    env_init(&e);
    int64_t now = qw_now_wall_ns() / 1000000;
    appends(&e, 4, now - 100000, NULL);
    e.cat.inject = 1; /* a rival append lands between our load and our CAS */
    qw_ice_expire_opts o = {
        .older_than_ms = INT64_MAX, .retain_last = 1, .remove = 1, .now_ms = now + 60000};
    qw_ice_expire_result r;
    char eb[256];
    ASSERT_OK(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.attempts, 2);
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_EQ(qw_ice_meta_nsnapshots(m), 1);
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, eb, sizeof eb));
    ASSERT_EQ(sc.ndata_files, 5); /* 4 + the rival's: nothing lost */
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    env_fini(&e);
}

/* live --maintain: a rival that always wins (our own committer at 40+
 * commits/s) is held off by the commit turn from the third attempt on. */
typedef struct {
    memcat *cat;
    int held, takes, saved;
} turn_probe;

static void probe_turn(void *ctx, int take)
{
    turn_probe *t = ctx;
    if (take) {
        ASSERT_EQ(t->held, 0);
        t->held = 1, t->takes++;
        t->saved = t->cat->inject, t->cat->inject = 0; /* the committer waits */
    } else {
        ASSERT_EQ(t->held, 1);
        t->held = 0;
        t->cat->inject = t->saved;
    }
}

TEST(ice_expire_takes_the_commit_turn_after_two_lost_races)
{
    env e;
    env_init(&e);
    int64_t now = qw_now_wall_ns() / 1000000;
    appends(&e, 4, now - 100000, NULL);
    e.cat.inject = 1000; /* without the turn every attempt loses */
    turn_probe tp = {.cat = &e.cat};
    qw_ice_expire_opts o = {.older_than_ms = INT64_MAX,
                            .retain_last = 1,
                            .remove = 1,
                            .now_ms = now + 60000,
                            .turn = probe_turn,
                            .turn_ctx = &tp,
                            .turn_after = 2};
    qw_ice_expire_result r;
    char eb[256];
    ASSERT_OK(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.attempts, 3);
    ASSERT_EQ(tp.takes, 1);
    ASSERT_EQ(tp.held, 0); /* released before the delete phase and on return */
    ASSERT_EQ(e.cat.inject, 1000 - 2);
    e.cat.inject = 0;
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    ASSERT_EQ(qw_ice_meta_nsnapshots(m), 1);
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, eb, sizeof eb));
    ASSERT_EQ(sc.ndata_files, 6); /* 4 + both rivals': nothing lost */
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    /* nothing to expire: the turn taken is given back on the early return */
    e.cat.inject = 0;
    o.turn_after = 0;
    ASSERT_OK(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.snapshots_expired, 0);
    ASSERT_EQ(tp.takes, 2);
    ASSERT_EQ(tp.held, 0);
    /* without a turn the same rivals make it give up */
    appends(&e, 2, now - 50000, NULL);
    e.cat.inject = 1000;
    o.turn = NULL, o.max_attempts = 4;
    ASSERT_EQ(
        qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &r, eb, sizeof eb),
        QW_CONFLICT);
    ASSERT_EQ(r.attempts, 4);
    env_fini(&e);
}

TEST(ice_metadata_log_bounded_and_old_files_deleted)
{
    for (int del = 0; del < 2; del++) {
        env e;
        env_init(&e);
        qw_ice_schema s;
        qw_ice_spec sp;
        schema(&s, &sp);
        qw_ice_kv props[] = {
            {"write.metadata.previous-versions-max", "3"},
            {"write.metadata.delete-after-commit.enabled", del ? "true" : "false"}};
        char location[128], loc[QW_ICE_LOC_MAX], mdir[128];
        snprintf(location, sizeof location, "file://%s/quotewatch/labels", e.dir);
        snprintf(mdir, sizeof mdir, "%s/quotewatch/labels/metadata", e.dir);
        ASSERT_OK(qw_ice_create_table(&e.ops, e.io, "quotewatch", "labels", location, &s, &sp,
                                      props, 2, loc, sizeof loc));
        qw_ice_data_file f;
        for (int k = 0; k < 6; k++) {
            char name[16];
            snprintf(name, sizeof name, "l%d", k);
            one_file(&f, name, 18734, 3);
            ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "labels", &f, 1, NULL, NULL));
        }
        qw_ice_meta *m;
        ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "labels", &m, loc, sizeof loc));
        ASSERT_EQ(qw_ice_meta_metadata_log_len(m), 3);
        ASSERT_EQ(qw_ice_meta_snapshot_log_len(m), 6);
        ASSERT_TRUE(strstr(loc, "/00006-") != NULL);
        qw_ice_meta_free(m);
        /* versions 3, 4, 5 in the log + 6 current; 0..2 deleted only when enabled */
        ASSERT_EQ(count_suffix(mdir, ".metadata.json"), del ? 4 : 7);
        env_fini(&e);
    }
}

/* An overwrite (as compaction or another engine would commit: a snapshot
 * whose list names only a new manifest) makes the older manifests and
 * data files unreferenced once the snapshots that listed them expire;
 * files the kept snapshot still lists stay. */
TEST(ice_expire_deletes_replaced_manifests_and_data_files)
{
    env e;
    env_init(&e);
    e.ops.leases = mc_leases;
    lease_since_ms = 0;
    char ddir[128], mdir[128];
    snprintf(ddir, sizeof ddir, "%s/quotewatch/raw_trades/data", e.dir);
    snprintf(mdir, sizeof mdir, "%s/quotewatch/raw_trades/metadata", e.dir);
    qw_ice_data_file f[3];
    for (int k = 0; k < 3; k++) { /* three appends of a real file each */
        one_file(&f[k], "x", 18734, 4);
        snprintf(f[k].path, sizeof f[k].path, "file://%s/a%d.parquet", ddir, k);
        ASSERT_OK(qw_fileio_write(e.io, f[k].path, "PAR1", 4));
        f[k].file_size_in_bytes = 4;
        ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", &f[k], 1, NULL, NULL));
    }
    /* the overwrite: file a2 kept, a3 new, in one new manifest */
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX], list[QW_ICE_LOC_MAX], man[QW_ICE_LOC_MAX], nloc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    qw_ice_data_file nf[2];
    nf[0] = f[2];
    one_file(&nf[1], "x", 18734, 8);
    snprintf(nf[1].path, sizeof nf[1].path, "file://%s/a3.parquet", ddir);
    ASSERT_OK(qw_fileio_write(e.io, nf[1].path, "PAR1", 4));
    nf[1].file_size_in_bytes = 4;
    int64_t sid = 777, seq = m->last_sequence_number + 1;
    uint8_t *bytes;
    size_t len;
    snprintf(man, sizeof man, "file://%s/over-m0.avro", mdir);
    ASSERT_OK(qw_ice_manifest_write(m, sid, nf, 2, &bytes, &len));
    ASSERT_OK(qw_fileio_write(e.io, man, bytes, len));
    qw_free(bytes);
    qw_ice_manifest_file mf;
    ASSERT_OK(qw_ice_manifest_summarize(m, sid, nf, 2, &mf));
    snprintf(mf.path, sizeof mf.path, "%s", man);
    mf.length = (int64_t)len;
    mf.sequence_number = mf.min_sequence_number = seq;
    snprintf(list, sizeof list, "file://%s/snap-777-0-over.avro", mdir);
    ASSERT_OK(qw_ice_manifest_list_write(sid, m->current_snapshot_id, seq, &mf, 1, &bytes, &len));
    ASSERT_OK(qw_fileio_write(e.io, list, bytes, len));
    qw_free(bytes);
    char *text;
    ASSERT_OK(qw_ice_meta_dump(m, &text, &len));
    json_t *r = json_loads(text, 0, NULL);
    qw_free(text);
    ASSERT_TRUE(r != NULL);
    json_array_append_new(
        json_object_get(r, "snapshots"),
        json_pack("{s:I, s:I, s:I, s:I, s:{s:s}, s:s, s:i}", "snapshot-id", (json_int_t)sid,
                  "parent-snapshot-id", (json_int_t)m->current_snapshot_id, "sequence-number",
                  (json_int_t)seq, "timestamp-ms", (json_int_t)(m->last_updated_ms + 1), "summary",
                  "operation", "overwrite", "manifest-list", list, "schema-id", 0));
    json_object_set_new(r, "current-snapshot-id", json_integer(sid));
    json_object_set_new(r, "last-sequence-number", json_integer(seq));
    json_object_set_new(json_object_get(r, "refs"), "main",
                        json_pack("{s:I, s:s}", "snapshot-id", (json_int_t)sid, "type", "branch"));
    snprintf(nloc, sizeof nloc, "file://%s/00004-over.metadata.json", mdir);
    char *out = json_dumps(r, 0);
    ASSERT_OK(qw_fileio_write(e.io, nloc, out, strlen(out)));
    free(out);
    json_decref(r);
    qw_ice_meta_free(m);
    ASSERT_OK(e.ops.commit(e.ops.ctx, "quotewatch", "raw_trades", loc, nloc));

    qw_ice_expire_opts o = {.older_than_ms = INT64_MAX,
                            .retain_last = 1,
                            .remove = 1,
                            .now_ms = qw_now_wall_ns() / 1000000 + 60000};
    qw_ice_expire_result res;
    char eb[256];
    ASSERT_OK(qw_ice_expire(&e.ops, e.io, "quotewatch", "raw_trades", &o, NULL, NULL, &res, eb,
                            sizeof eb));
    ASSERT_EQ(res.snapshots_expired, 3);
    ASSERT_EQ(res.lists, 3);
    ASSERT_EQ(res.manifests, 3);  /* the three append manifests */
    ASSERT_EQ(res.data_files, 2); /* a0, a1; a2 is in the kept manifest */
    ASSERT_TRUE(res.bytes > 8);   /* 2 data files of 4 bytes + manifests + lists */
    char p[256];
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/a%d.parquet", ddir, k);
        ASSERT_EQ(qw_fileio_exists(e.io, p), k < 2 ? QW_NOT_FOUND : QW_OK);
    }
    ASSERT_EQ(qw_fileio_exists(e.io, man), QW_OK);
    ASSERT_EQ(qw_fileio_exists(e.io, list), QW_OK);
    ASSERT_EQ(count_suffix(mdir, "-m0.avro"), 1);
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    qw_ice_scan sc;
    ASSERT_OK(qw_ice_scan_plan(e.io, m, -1, &sc, eb, sizeof eb));
    ASSERT_EQ(sc.ndata_files, 2);
    ASSERT_EQ(sc.data_records, 12);
    qw_ice_scan_free(&sc);
    qw_ice_meta_free(m);
    env_fini(&e);
}

/* ---- manifest merge on commit, replace (compaction) ---- */

static size_t n_manifests(env *e, const char *table, qw_ice_scan *sc)
{
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX], eb[256];
    ASSERT_OK(qw_ice_load_table(&e->ops, e->io, "quotewatch", table, &m, loc, sizeof loc));
    ASSERT_OK(qw_ice_scan_plan(e->io, m, -1, sc, eb, sizeof eb));
    qw_ice_meta_free(m);
    return sc->nmanifests;
}

TEST(ice_manifest_merge_keeps_the_list_short)
{
    for (int enabled = 0; enabled < 2; enabled++) {
        env e;
        env_init(&e);
        qw_ice_schema s;
        qw_ice_spec sp;
        schema(&s, &sp);
        qw_ice_kv props[] = {{"commit.manifest.min-count-to-merge", "5"},
                             {"commit.manifest-merge.enabled", enabled ? "true" : "false"}};
        char location[128], loc[QW_ICE_LOC_MAX];
        snprintf(location, sizeof location, "file://%s/quotewatch/labels", e.dir);
        ASSERT_OK(qw_ice_create_table(&e.ops, e.io, "quotewatch", "labels", location, &s, &sp,
                                      props, 2, loc, sizeof loc));
        int merges = 0;
        for (int k = 0; k < 23; k++) {
            qw_ice_data_file f;
            char name[16];
            snprintf(name, sizeof name, "l%d", k);
            one_file(&f, name, 18734 + k % 3, k + 1);
            qw_ice_commit_result r;
            ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "labels", &f, 1, NULL, &r));
            merges += r.manifests_merged;
            ASSERT_EQ(r.sequence_number, k + 1);
            qw_ice_scan sc;
            size_t nm = n_manifests(&e, "labels", &sc);
            ASSERT_TRUE(enabled ? nm <= 5 : nm == (size_t)k + 1);
            /* every file is there once, with the sequence number it was added with */
            ASSERT_EQ(sc.nfiles, (size_t)k + 1);
            int64_t rows = 0;
            for (size_t i = 0; i < sc.nfiles; i++) {
                int id = atoi(sc.files[i].path + strlen("data/l"));
                ASSERT_EQ(sc.files[i].sequence_number, id + 1);
                ASSERT_EQ(sc.files[i].record_count, id + 1);
                rows += sc.files[i].record_count;
            }
            ASSERT_EQ(rows, (int64_t)(k + 1) * (k + 2) / 2);
            qw_ice_scan_free(&sc);
        }
        ASSERT_TRUE(enabled ? merges >= 4 : merges == 0);
        env_fini(&e);
    }
}

/* The memory bound of a merge: at most 2048 entries read per merge (a data
 * file entry is ~13 KB in memory), a manifest of 1024 entries or more is never
 * re-read, and still every file is listed once. Appends of 400 files each. */
TEST(ice_manifest_merge_bounded_per_merge)
{
    env e;
    env_init(&e);
    qw_ice_schema s;
    qw_ice_spec sp;
    schema(&s, &sp);
    qw_ice_kv props[] = {{"commit.manifest.min-count-to-merge", "3"}};
    char location[128], loc[QW_ICE_LOC_MAX];
    snprintf(location, sizeof location, "file://%s/quotewatch/labels", e.dir);
    ASSERT_OK(qw_ice_create_table(&e.ops, e.io, "quotewatch", "labels", location, &s, &sp, props, 1,
                                  loc, sizeof loc));
    enum { PER = 400, ROUNDS = 9 };
    qw_ice_data_file *f = qw_calloc(PER, sizeof *f);
    ASSERT_TRUE(f != NULL);
    int merges = 0;
    for (int k = 0; k < ROUNDS; k++) {
        for (int i = 0; i < PER; i++) {
            char name[24];
            snprintf(name, sizeof name, "m%d", k * PER + i);
            one_file(&f[i], name, 18734, 1);
        }
        qw_ice_commit_result r;
        ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "labels", f, PER, NULL, &r));
        merges += r.manifests_merged;
        qw_ice_scan sc;
        size_t nm = n_manifests(&e, "labels", &sc);
        /* merged manifests of 1024 entries or more stay as they are (an unbounded
         * merge would fold everything into one: at most 2 manifests) */
        static const size_t want[ROUNDS] = {1, 2, 3, 2, 3, 3, 3, 4, 4};
        ASSERT_EQ(nm, want[k]);
        ASSERT_EQ(sc.nfiles, (size_t)(k + 1) * PER);
        static unsigned char seen[ROUNDS * PER];
        memset(seen, 0, sizeof seen);
        for (size_t i = 0; i < sc.nfiles; i++) {
            int id = atoi(sc.files[i].path + strlen("data/m"));
            ASSERT_TRUE(id >= 0 && id < ROUNDS * PER && !seen[id]);
            seen[id] = 1;
        }
        qw_ice_scan_free(&sc);
    }
    ASSERT_TRUE(merges >= 2);
    qw_free(f);
    env_fini(&e);
}

TEST(ice_replace_swaps_files_keeps_appends_and_gives_up_when_stale)
{
    env e;
    env_init(&e);
    qw_ice_data_file f[6];
    for (int k = 0; k < 4; k++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", k);
        one_file(&f[k], name, 18734, 10);
        ASSERT_OK(qw_ice_append(&e.ops, e.io, "quotewatch", "raw_trades", &f[k], 1, NULL, NULL));
    }
    one_file(&f[4], "c01", 18734, 20); /* a0 + a1 compacted */
    e.cat.inject = 1;                  /* a rival append lands before our first CAS */
    qw_ice_replace_result rr;
    ASSERT_OK(qw_ice_replace(&e.ops, e.io, "quotewatch", "raw_trades", f, 2, &f[4], 1, NULL, &rr));
    ASSERT_EQ(rr.attempts, 2);
    qw_ice_scan sc;
    n_manifests(&e, "raw_trades", &sc);
    ASSERT_EQ(sc.nfiles, 4); /* c01, a2, a3 and the rival's */
    int seen_c = 0, seen_a0 = 0;
    for (size_t i = 0; i < sc.nfiles; i++) {
        seen_c += strcmp(sc.files[i].path, "data/c01.parquet") == 0;
        seen_a0 += strstr(sc.files[i].path, "/a0.") != NULL || strstr(sc.files[i].path, "/a1.");
    }
    ASSERT_EQ(seen_c, 1);
    ASSERT_EQ(seen_a0, 0);
    qw_ice_scan_free(&sc);
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc, sizeof loc));
    qw_ice_snapshot sn;
    ASSERT_OK(qw_ice_meta_snapshot(m, m->current_snapshot_id, &sn));
    ASSERT_STREQ(sn.operation, "replace");
    ASSERT_STREQ(qw_ice_meta_summary(m, sn.snapshot_id, "deleted-data-files"), "2");
    ASSERT_STREQ(qw_ice_meta_summary(m, sn.snapshot_id, "total-data-files"), "4");
    qw_ice_meta_free(m);
    /* a0 is no longer live: a second compaction of it gives up, commits nothing */
    one_file(&f[5], "c0", 18734, 10);
    ASSERT_ERR(QW_CONFLICT,
               qw_ice_replace(&e.ops, e.io, "quotewatch", "raw_trades", f, 1, &f[5], 1, NULL, &rr));
    ASSERT_EQ(rr.stale, 1);
    char loc2[QW_ICE_LOC_MAX];
    ASSERT_OK(qw_ice_load_table(&e.ops, e.io, "quotewatch", "raw_trades", &m, loc2, sizeof loc2));
    ASSERT_STREQ(loc, loc2);
    qw_ice_meta_free(m);
    env_fini(&e);
}

/* test_store_fileio.c: every byte the lake writes goes through qw_fileio.
 *
 * A recording qw_fileio_ops table wraps the local backend: it notes every
 * object made visible (whole writes and committed streams) and forgets
 * removed ones, and it fails the first append to a Parquet data file. A
 * store persists rows of all four tables through it; afterwards every file
 * under the warehouse (except the SQLite catalog, which is not a lake file)
 * must be one the ops made, the injected failure must be counted in
 * stats.errors, and every row must still be committed (the writer retries
 * the flush). A Parquet writer that opened files itself, or a manifest
 * written around fileio, leaves a file the ops never saw and fails here.
 * The lake is then read back through the recording ops (ranged reads). */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "harness.h"
#include "parquet/parquet_read.h"
#include "storage/store.h"
#include "storage/tables.h"

#define MAXF 1024
#define ROWS 300 /* per table; flush_rows 100: several flushes per table */

typedef struct rec_io {
    pthread_mutex_t mu;
    char *made[MAXF]; /* local paths of visible objects */
    int nmade;
    int fail_parquet_appends; /* fail this many appends to *.parquet streams */
    int injected;
    int parquet, manifests, lists, metadata, ranged, stats;
} rec_io;

static rec_io R = {.mu = PTHREAD_MUTEX_INITIALIZER};

typedef struct rec_stream {
    void *inner;
    char uri[QW_FILEIO_PATH_MAX];
} rec_stream;

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

static void note_made(const char *uri)
{
    char p[QW_FILEIO_PATH_MAX];
    if (qw_fileio_local_path(uri, p, sizeof p) != QW_OK)
        abort();
    pthread_mutex_lock(&R.mu);
    int found = 0;
    for (int i = 0; i < R.nmade && !found; i++)
        found = strcmp(R.made[i], p) == 0;
    if (!found && R.nmade < MAXF)
        R.made[R.nmade++] = strdup(p);
    const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
    R.parquet += ends_with(p, ".parquet");
    R.manifests += ends_with(p, "-m0.avro");
    R.lists += strncmp(base, "snap-", 5) == 0;
    R.metadata += ends_with(p, ".metadata.json");
    pthread_mutex_unlock(&R.mu);
}

static void note_removed(const char *uri)
{
    char p[QW_FILEIO_PATH_MAX];
    if (qw_fileio_local_path(uri, p, sizeof p) != QW_OK)
        return;
    pthread_mutex_lock(&R.mu);
    for (int i = 0; i < R.nmade; i++)
        if (strcmp(R.made[i], p) == 0) {
            free(R.made[i]);
            R.made[i] = R.made[--R.nmade];
            break;
        }
    pthread_mutex_unlock(&R.mu);
}

static qw_err r_write(void *ctx, const char *uri, const void *d, size_t n)
{
    qw_err e = qw_fileio_local_ops()->write(ctx, uri, d, n);
    if (e == QW_OK)
        note_made(uri);
    return e;
}
static qw_err r_read(void *ctx, const char *uri, size_t max, uint8_t **out, size_t *len)
{
    return qw_fileio_local_ops()->read(ctx, uri, max, out, len);
}
static qw_err r_read_range(void *ctx, const char *uri, uint64_t off, void *buf, size_t len,
                           size_t *got)
{
    pthread_mutex_lock(&R.mu);
    R.ranged++;
    pthread_mutex_unlock(&R.mu);
    return qw_fileio_local_ops()->read_range(ctx, uri, off, buf, len, got);
}
static qw_err r_stat(void *ctx, const char *uri, qw_fileio_info *out)
{
    pthread_mutex_lock(&R.mu);
    R.stats++;
    pthread_mutex_unlock(&R.mu);
    return qw_fileio_local_ops()->stat(ctx, uri, out);
}
static qw_err r_list(void *ctx, const char *uri, int (*fn)(void *, const char *, uint64_t),
                     void *fctx)
{
    return qw_fileio_local_ops()->list(ctx, uri, fn, fctx);
}
static qw_err r_remove(void *ctx, const char *uri)
{
    qw_err e = qw_fileio_local_ops()->remove(ctx, uri);
    note_removed(uri);
    return e;
}
static qw_err r_mkdirs(void *ctx, const char *uri)
{
    return qw_fileio_local_ops()->mkdirs(ctx, uri);
}
static qw_err r_stream_open(void *ctx, const char *uri, void **stream)
{
    rec_stream *rs = calloc(1, sizeof *rs);
    if (!rs)
        return QW_NOMEM;
    snprintf(rs->uri, sizeof rs->uri, "%s", uri);
    qw_err e = qw_fileio_local_ops()->stream_open(ctx, uri, &rs->inner);
    if (e != QW_OK) {
        free(rs);
        return e;
    }
    *stream = rs;
    return QW_OK;
}
static qw_err r_stream_append(void *ctx, void *stream, const void *d, size_t n)
{
    rec_stream *rs = stream;
    pthread_mutex_lock(&R.mu);
    int fail = ends_with(rs->uri, ".parquet") && R.fail_parquet_appends > 0;
    if (fail) {
        R.fail_parquet_appends--;
        R.injected++;
    }
    pthread_mutex_unlock(&R.mu);
    if (fail)
        return QW_IO;
    return qw_fileio_local_ops()->stream_append(ctx, rs->inner, d, n);
}
static qw_err r_stream_commit(void *ctx, void *stream, int deferred)
{
    rec_stream *rs = stream;
    qw_err e = qw_fileio_local_ops()->stream_commit(ctx, rs->inner, deferred);
    if (e == QW_OK)
        note_made(rs->uri);
    free(rs);
    return e;
}
static void r_stream_abort(void *ctx, void *stream)
{
    rec_stream *rs = stream;
    qw_fileio_local_ops()->stream_abort(ctx, rs->inner);
    free(rs);
}
static qw_err r_sync(void *ctx, const char *uri)
{
    return qw_fileio_local_ops()->sync(ctx, uri);
}

static const qw_fileio_ops REC = {
    .write = r_write,
    .read = r_read,
    .read_range = r_read_range,
    .stat = r_stat,
    .list = r_list,
    .remove = r_remove,
    .mkdirs = r_mkdirs,
    .stream_open = r_stream_open,
    .stream_append = r_stream_append,
    .stream_commit = r_stream_commit,
    .stream_abort = r_stream_abort,
    .sync = r_sync,
};

/* Every regular file under dir that the ops did not make (catalog aside). */
static int unrecorded(const char *dir, int *files)
{
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    int bad = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[QW_FILEIO_PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            bad += unrecorded(p, files);
            continue;
        }
        if (!strncmp(de->d_name, "catalog.db", 10))
            continue; /* the SQL catalog: a database, not a lake file */
        (*files)++;
        int found = 0;
        for (int i = 0; i < R.nmade && !found; i++)
            found = strcmp(R.made[i], p) == 0;
        if (!found) {
            fprintf(stderr, "    not written through qw_fileio: %s\n", p);
            bad++;
        }
    }
    closedir(d);
    return bad;
}

static void put_rows(qw_store *s)
{
    const int64_t t0 = 1704067200LL * 1000000000LL; /* 2024-01-01 */
    for (int i = 0; i < ROWS; i++) {
        const char *prod = i % 2 ? "ETH-USD" : "BTC-USD";
        int64_t t = t0 + (int64_t)i * 1000000;
        qw_rec r;
        memset(&r, 0, sizeof r);
        r.kind = QW_REC_LEVEL;
        snprintf(r.product, sizeof r.product, "%s", prod);
        r.t_ns = r.recv_ns = t;
        r.msg_id = i + 1;
        r.side = (uint8_t)(i & 1);
        r.u.level.price = 4200000000000 + i;
        r.u.level.size = 100000000;
        r.u.level.grp_ns = t;
        ASSERT_EQ(QW_OK, qw_store_put(s, &r));

        memset(&r, 0, sizeof r);
        r.kind = QW_REC_TRADE;
        snprintf(r.product, sizeof r.product, "%s", prod);
        r.t_ns = r.recv_ns = t;
        r.msg_id = i + 1;
        r.u.trade.price = 4200000000000;
        r.u.trade.size = 1000000;
        snprintf(r.u.trade.id, sizeof r.u.trade.id, "%d", i);
        ASSERT_EQ(QW_OK, qw_store_put(s, &r));

        memset(&r, 0, sizeof r);
        r.kind = QW_REC_FEATURES;
        snprintf(r.product, sizeof r.product, "%s", prod);
        r.t_ns = t;
        r.has_p = 1;
        r.u.feat.x[0] = 0.5;
        r.u.feat.best_bid = 4200000000000;
        r.u.feat.best_ask = 4200100000000;
        r.u.feat.mid = 42000.5;
        r.u.feat.p = 0.5;
        r.u.feat.n_learned = i;
        ASSERT_EQ(QW_OK, qw_store_put(s, &r));

        memset(&r, 0, sizeof r);
        r.kind = QW_REC_LABEL;
        snprintf(r.product, sizeof r.product, "%s", prod);
        r.t_ns = t;
        r.label = (int8_t)(i & 1);
        r.has_p = 1;
        r.u.lab.mid = 42000.5;
        r.u.lab.mid_future = 42001;
        r.u.lab.p = 0.5;
        ASSERT_EQ(QW_OK, qw_store_put(s, &r));
    }
}

TEST(store_every_lake_byte_goes_through_fileio)
{
    char wh[] = "/tmp/qwfioXXXXXX";
    ASSERT_TRUE(mkdtemp(wh) != NULL);
    char real[QW_FILEIO_PATH_MAX];
    ASSERT_TRUE(realpath(wh, real) != NULL);
    R.fail_parquet_appends = 1;
    qw_fileio *io;
    ASSERT_EQ(QW_OK, qw_fileio_create(&io, &REC, NULL));
    qw_store_stats st;
    memset(&st, 0, sizeof st);
    qw_store_opts o = {.warehouse = real,
                       .catalog_uri = "",
                       .flush_rows = 100,
                       .flush_ms = 60000,
                       .blocking = 1,
                       .queue_records = 4096,
                       .io = io};
    qw_store *s;
    char eb[256] = "";
    ASSERT_EQ(QW_OK, qw_store_open(&s, &o, &st, eb, sizeof eb));
    put_rows(s);
    ASSERT_EQ(QW_OK, qw_store_close(s));

    ASSERT_EQ(1, R.injected);
    ASSERT_TRUE(atomic_load(&st.errors) >= 1); /* the failed flush was counted ... */
    for (int t = 0; t < QW_TBL_COUNT; t++)     /* ... and its rows committed on retry */
        ASSERT_EQ(ROWS, atomic_load(&st.rows_written[t]));
    ASSERT_EQ(0, atomic_load(&st.dropped));
    ASSERT_TRUE(R.parquet >= 2 * QW_TBL_COUNT); /* two products per table */
    ASSERT_TRUE(R.manifests >= QW_TBL_COUNT);
    ASSERT_TRUE(R.lists >= QW_TBL_COUNT);
    ASSERT_TRUE(R.metadata >= 2 * QW_TBL_COUNT); /* create + at least one commit */
    int files = 0;
    ASSERT_EQ(0, unrecorded(real, &files)); /* temp files included: none may be left */
    ASSERT_EQ(R.nmade, files);

    /* Reading back goes through the ops too: footer, then column chunks.
     * These files are smaller than the 64 KiB tail read: the head magic is
     * in it. With the size known (a manifest's), no stat either. */
    int nread = 0;
    for (int i = 0; i < R.nmade; i++) {
        if (!ends_with(R.made[i], ".parquet"))
            continue;
        for (int sized = 0; sized < 2; sized++) {
            int before = R.ranged, stats = R.stats;
            struct stat sb;
            ASSERT_EQ(0, stat(R.made[i], &sb));
            qw_pqr *r;
            ASSERT_EQ(QW_OK,
                      qw_pqr_open_io_sized(&r, io, R.made[i], sized ? (uint64_t)sb.st_size : 0,
                                           (size_t)1 << 30, eb, sizeof eb));
            ASSERT_EQ(R.stats, stats + !sized);
            ASSERT_EQ(R.ranged, before + 1); /* the tail */
            qw_pqr_column c;
            qw_pqr_column_alloc(&c);
            ASSERT_EQ(QW_OK, qw_pqr_read(r, 0, 0, &c));
            ASSERT_EQ(qw_pqr_rg_rows(r, 0), c.n);
            qw_pqr_column_free(&c);
            qw_pqr_close(r);
            ASSERT_TRUE(R.ranged >= before + 2); /* tail, one chunk */
            /* a size that does not fit the object fails the footer checks */
            ASSERT_TRUE(qw_pqr_open_io_sized(&r, io, R.made[i], (uint64_t)sb.st_size - 1,
                                             (size_t)1 << 30, eb, sizeof eb) != QW_OK);
            ASSERT_TRUE(r == NULL);
        }
        nread++;
    }
    ASSERT_TRUE(nread >= 2 * QW_TBL_COUNT);
    qw_fileio_destroy(io);
    for (int i = 0; i < R.nmade; i++)
        free(R.made[i]);
}

TEST(fileio_stream_commit_abort_and_ranges)
{
    char dir[] = "/tmp/qwfioXXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char uri[QW_FILEIO_PATH_MAX + 8], p[QW_FILEIO_PATH_MAX];
    snprintf(p, sizeof p, "%s/a/b/x.bin", dir);
    snprintf(uri, sizeof uri, "file://%s", p);
    /* larger than one chunk, in odd pieces */
    size_t n = QW_FILEIO_CHUNK * 2 + 12345;
    uint8_t *buf = malloc(n), *back = malloc(n);
    ASSERT_TRUE(buf && back);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 11));
    qw_fileio_writer *w;
    ASSERT_EQ(QW_OK, qw_fileio_writer_open(&w, NULL, uri, QW_FILEIO_DEFER_SYNC));
    for (size_t at = 0; at < n;) {
        size_t k = n - at < 77777 ? n - at : 77777;
        ASSERT_EQ(QW_OK, qw_fileio_writer_append(w, buf + at, k));
        at += k;
    }
    ASSERT_EQ(n, qw_fileio_writer_offset(w));
    ASSERT_TRUE(access(p, F_OK) != 0); /* not visible before commit */
    ASSERT_EQ(QW_OK, qw_fileio_writer_commit(w));
    ASSERT_EQ(QW_OK, qw_fileio_sync(NULL, uri));
    qw_fileio_info fi;
    ASSERT_EQ(QW_OK, qw_fileio_stat(NULL, uri, &fi));
    ASSERT_EQ(n, fi.size);
    ASSERT_TRUE(fi.mtime_ns > 0);
    ASSERT_EQ(QW_OK, qw_fileio_read_range(NULL, uri, 0, back, n));
    ASSERT_TRUE(memcmp(buf, back, n) == 0);
    ASSERT_EQ(QW_OK, qw_fileio_read_range(NULL, uri, n - 10, back, 10));
    ASSERT_TRUE(memcmp(buf + n - 10, back, 10) == 0);
    ASSERT_EQ(QW_CORRUPT, qw_fileio_read_range(NULL, uri, n - 10, back, 11)); /* past the end */
    /* abort: nothing under the name, no temp file */
    char p2[QW_FILEIO_PATH_MAX];
    snprintf(p2, sizeof p2, "%s/a/b/y.bin", dir);
    ASSERT_EQ(QW_OK, qw_fileio_writer_open(&w, NULL, p2, 0));
    ASSERT_EQ(QW_OK, qw_fileio_writer_append(w, buf, 100));
    qw_fileio_writer_abort(w);
    ASSERT_EQ(QW_NOT_FOUND, qw_fileio_stat(NULL, p2, &fi));
    int left = 0;
    snprintf(p, sizeof p, "%s/a/b", dir);
    DIR *d = opendir(p);
    struct dirent *de;
    while (d && (de = readdir(d)))
        left += de->d_name[0] != '.';
    if (d)
        closedir(d);
    ASSERT_EQ(1, left); /* x.bin only */
    ASSERT_EQ(QW_OK, qw_fileio_remove(NULL, uri));
    ASSERT_EQ(QW_NOT_FOUND, qw_fileio_exists(NULL, uri));
    free(buf);
    free(back);
}

/* mkdir -p of the local backend (deepest first since 2026-12-07): makes
 * every missing level, is a no-op on an existing directory, takes a
 * trailing slash, and fails when a component is a regular file. */
TEST(fileio_local_mkdirs_levels)
{
    char dir[] = "/tmp/qwmkdXXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char p[QW_FILEIO_PATH_MAX], uri[QW_FILEIO_PATH_MAX + 8];
    snprintf(p, sizeof p, "%s/a/b/c/d", dir);
    snprintf(uri, sizeof uri, "file://%s", p);
    ASSERT_EQ(QW_OK, qw_fileio_mkdirs(NULL, uri));
    struct stat st;
    ASSERT_TRUE(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    ASSERT_EQ(QW_OK, qw_fileio_mkdirs(NULL, uri)); /* exists: fine */
    snprintf(p, sizeof p, "%s/a/b/e/f/", dir);
    ASSERT_EQ(QW_OK, qw_fileio_mkdirs(NULL, p));
    snprintf(p, sizeof p, "%s/a/b/e/f", dir);
    ASSERT_TRUE(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(p, sizeof p, "%s/a/file", dir); /* a file where a directory should be */
    FILE *f = fopen(p, "w");
    ASSERT_TRUE(f != NULL);
    fclose(f);
    snprintf(p, sizeof p, "%s/a/file/x/y", dir);
    ASSERT_TRUE(qw_fileio_mkdirs(NULL, p) != QW_OK);
    snprintf(p, sizeof p, "%s/a/file/z.bin", dir); /* and a write below it fails too */
    ASSERT_TRUE(qw_fileio_write(NULL, p, "x", 1) != QW_OK);
    snprintf(p, sizeof p, "%s/a/g/h/w.bin", dir); /* a write makes its directories */
    ASSERT_EQ(QW_OK, qw_fileio_write(NULL, p, "x", 1));
    ASSERT_EQ(QW_OK, qw_fileio_exists(NULL, p));
    char cmd[QW_FILEIO_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(0, system(cmd));
}

/* The one JSON form of the persistence counters: valid JSON at every buffer
 * size (snprintf semantics), the objstore object only for remote warehouses. */
/* Commit-time percentiles: 98 commits of ~2 ms and 2 of ~1 s (work: 1 ms
 * and 500 ms): p50 near 2 ms, p99 near 1 s, each within one bucket (6.25 %). */
TEST(store_stats_commit_percentiles)
{
    static qw_store_stats st;
    atomic_store(&st.enabled, 1);
    atomic_store(&st.commits, 100);
    for (int i = 0; i < 100; i++) {
        uint64_t lat = i < 98 ? 2000000 : 1000000000, work = i < 98 ? 1000000 : 500000000;
        atomic_fetch_add(&st.commit_latency_b[qw_hist_index(lat)], 1);
        atomic_fetch_add(&st.commit_work_b[qw_hist_index(work)], 1);
        atomic_fetch_add(&st.commit_latency_sum_ns, lat);
    }
    static qw_hist h;
    qw_store_stats_hist(&st, 0, &h);
    ASSERT_EQ(h.count, 100);
    ASSERT_EQ(h.sum, 98 * 2000000ull + 2 * 1000000000ull);
    ASSERT_TRUE(qw_hist_quantile(&h, 0.5) >= 2000000 && qw_hist_quantile(&h, 0.5) <= 2125000);
    ASSERT_TRUE(qw_hist_quantile(&h, 0.99) >= 1000000000 &&
                qw_hist_quantile(&h, 0.99) <= 1062500000);
    ASSERT_EQ(qw_hist_count_le(&h, (1ull << 22) - 1), 98); /* the 4.2 ms Prometheus edge */
    char buf[2048];
    qw_store_stats_json(&st, buf, sizeof buf);
    double p50, p99, w50, w99;
    const char *k = strstr(buf, "\"flush_commit_ms_p50\":");
    ASSERT_TRUE(k != NULL);
    ASSERT_EQ(sscanf(k,
                     "\"flush_commit_ms_p50\":%lf,\"flush_commit_ms_p99\":%lf,"
                     "\"commit_ms_p50\":%lf,\"commit_ms_p99\":%lf",
                     &p50, &p99, &w50, &w99),
              4);
    ASSERT_TRUE(p50 >= 2.0 && p50 <= 2.125 && p99 >= 1000.0 && p99 <= 1062.5);
    ASSERT_TRUE(w50 >= 1.0 && w50 <= 1.0625 && w99 >= 500.0 && w99 <= 531.25);
    static qw_store_stats none; /* no commit: zeros, not garbage */
    atomic_store(&none.enabled, 1);
    qw_store_stats_json(&none, buf, sizeof buf);
    ASSERT_TRUE(strstr(buf, "\"flush_commit_ms_p50\":0.000,\"flush_commit_ms_p99\":0.000") != NULL);
}

TEST(store_stats_json_objstore_counters)
{
    static qw_store_stats st;
    char buf[2048];
    ASSERT_STREQ((qw_store_stats_json(NULL, buf, sizeof buf), buf), "{\"enabled\":false}");
    atomic_store(&st.enabled, 1);
    atomic_store(&st.commits, 3);
    size_t n = qw_store_stats_json(&st, buf, sizeof buf);
    ASSERT_EQ(n, strlen(buf));
    ASSERT_TRUE(strstr(buf, "\"objstore\"") == NULL);
    ASSERT_EQ(buf[n - 1], '}');
    atomic_store(&st.objstore, 1);
    atomic_store(&st.os_requests, 12);
    atomic_store(&st.os_retries, 2);
    atomic_store(&st.os_failures, 1);
    atomic_store(&st.os_bytes_up, 1000);
    atomic_store(&st.os_bytes_down, 500);
    atomic_store(&st.os_multipart_aborts, 1);
    n = qw_store_stats_json(&st, buf, sizeof buf);
    ASSERT_EQ(n, strlen(buf));
    ASSERT_TRUE(strstr(buf, ",\"objstore\":{\"requests\":12,\"retries\":2,\"failures\":1,"
                            "\"bytes_up\":1000,\"bytes_down\":500,\"multipart_aborts\":1,\"token_"
                            "fetches\":0,\"auth_refreshes\":0,\"connects\":0}}") != NULL);
    char small[40];
    for (size_t cap = 0; cap < sizeof small; cap++) { /* cut output: same length, terminated */
        memset(small, 'x', sizeof small);
        ASSERT_EQ(qw_store_stats_json(&st, small, cap), n);
        if (cap)
            ASSERT_EQ(strlen(small), cap - 1);
    }
}

/* The features table's opt-in feature columns (docs/TABLES.md): one
 * optional double per feature of features.h past the seed four, in
 * qw_feature_names order, ids 15..22 after every released id (never
 * renumbered: the seed columns keep 1..14). */
TEST(tables_feature_columns)
{
    const qw_tbl_def *d = &qw_tables[QW_TBL_FEATURES];
    ASSERT_EQ(d->ncols, QW_TBL_FEAT_EXT_COL + QW_TBL_FEAT_EXT_N);
    ASSERT_EQ(QW_NFEATURES + QW_TBL_FEAT_EXT_N, QW_NFEATURES_ALL);
    for (int i = 0; i < QW_TBL_FEAT_EXT_COL; i++)
        ASSERT_EQ(d->cols[i].id, i + 1);
    ASSERT_STREQ(d->cols[QW_TBL_FEAT_EXT_COL - 1].name, "run_id");
    for (int i = 0; i < QW_TBL_FEAT_EXT_N; i++) {
        const qw_tbl_col *c = &d->cols[QW_TBL_FEAT_EXT_COL + i];
        ASSERT_STREQ(c->name, qw_feature_names[QW_NFEATURES + i]);
        ASSERT_EQ(c->id, 15 + i);
        ASSERT_EQ(c->kind, QW_COL_DOUBLE);
        ASSERT_EQ(c->required, 0);
    }
    for (int i = 0; i < 4; i++) /* the seed four keep their columns */
        ASSERT_STREQ(d->cols[3 + i].name, qw_feature_names[i]);
}

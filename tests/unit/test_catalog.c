/* test_catalog.c: the SQL catalog on SQLite (PostgreSQL runs the same
 * checks when QW_TEST_PG_URI is set, see tests/e2e/test_catalog_pg.sh):
 * contract, CAS conflicts, fixture compatibility, several processes
 * committing concurrently without losing a commit, and the commit leases
 * (which files they protect from clean-orphans, and that an expired lease
 * of a crashed writer protects nothing). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "harness.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"

static void tmp_db(char *buf, size_t cap)
{
    char dir[] = "/tmp/qwcatXXXXXX";
    if (!mkdtemp(dir))
        abort();
    snprintf(buf, cap, "%s/catalog.db", dir);
}

static const char *uri_or_tmp(char *buf, size_t cap)
{
    const char *pg = getenv("QW_TEST_PG_URI");
    if (pg && *pg)
        return pg;
    tmp_db(buf, cap);
    return buf;
}

/* A unique table name per test run (PostgreSQL databases are shared). */
static void tname(char *buf, size_t cap, const char *base)
{
    snprintf(buf, cap, "%s_%d", base, (int)getpid());
}

TEST(catalog_contract)
{
    char path[256], eb[256], loc[QW_CATALOG_LOC_MAX], t[64];
    const char *uri = uri_or_tmp(path, sizeof path);
    tname(t, sizeof t, "trades");
    qw_catalog *c;
    ASSERT_OK(qw_catalog_open(&c, uri, "quotewatch", eb, sizeof eb));
    ASSERT_OK(qw_catalog_create_namespace(c, "quotewatch"));
    ASSERT_OK(qw_catalog_create_namespace(c, "quotewatch")); /* idempotent */
    ASSERT_ERR(QW_NOT_FOUND, qw_catalog_load(c, "quotewatch", t, loc, sizeof loc));
    ASSERT_OK(qw_catalog_create(c, "quotewatch", t, "file:///w/m/00000-a.metadata.json"));
    ASSERT_ERR(QW_EXISTS, qw_catalog_create(c, "quotewatch", t, "file:///other"));
    ASSERT_OK(qw_catalog_load(c, "quotewatch", t, loc, sizeof loc));
    ASSERT_STREQ(loc, "file:///w/m/00000-a.metadata.json");
    /* CAS: stale expectation -> conflict, nothing changes */
    ASSERT_ERR(QW_CONFLICT, qw_catalog_commit(c, "quotewatch", t, "file:///stale", "file:///x"));
    ASSERT_OK(qw_catalog_load(c, "quotewatch", t, loc, sizeof loc));
    ASSERT_STREQ(loc, "file:///w/m/00000-a.metadata.json");
    ASSERT_OK(qw_catalog_commit(c, "quotewatch", t, "file:///w/m/00000-a.metadata.json",
                                "file:///w/m/00001-b.metadata.json"));
    ASSERT_OK(qw_catalog_load(c, "quotewatch", t, loc, sizeof loc));
    ASSERT_STREQ(loc, "file:///w/m/00001-b.metadata.json");
    ASSERT_ERR(QW_NOT_FOUND, qw_catalog_commit(c, "quotewatch", "nope_table", "a", "b"));
    /* another catalog name in the same database does not see it */
    qw_catalog *c2;
    ASSERT_OK(qw_catalog_open(&c2, uri, "other", eb, sizeof eb));
    ASSERT_ERR(QW_NOT_FOUND, qw_catalog_load(c2, "quotewatch", t, loc, sizeof loc));
    qw_catalog_close(c2);
    ASSERT_OK(qw_catalog_drop(c, "quotewatch", t));
    ASSERT_ERR(QW_NOT_FOUND, qw_catalog_drop(c, "quotewatch", t));
    qw_catalog_close(c);
}

static int count_fn(void *ctx, const char *table, const char *loc)
{
    (void)loc;
    if (strncmp(table, "lst_", 4) == 0)
        (*(int *)ctx)++;
    return 0;
}

TEST(catalog_list_and_reopen_persists)
{
    char path[256], eb[256], loc[QW_CATALOG_LOC_MAX];
    if (getenv("QW_TEST_PG_URI") && *getenv("QW_TEST_PG_URI")) {
        ASSERT_TRUE(1);
        return; /* the e2e PG test covers persistence across connections */
    }
    tmp_db(path, sizeof path);
    qw_catalog *c;
    ASSERT_OK(qw_catalog_open(&c, path, "quotewatch", eb, sizeof eb));
    ASSERT_OK(qw_catalog_create(c, "ns", "lst_b", "B"));
    ASSERT_OK(qw_catalog_create(c, "ns", "lst_a", "A"));
    int n = 0;
    ASSERT_OK(qw_catalog_list(c, "ns", count_fn, &n));
    ASSERT_EQ(n, 2);
    qw_catalog_close(c);
    char uri[300];
    snprintf(uri, sizeof uri, "sqlite:///%s", path); /* SQLAlchemy: sqlite:////abs */
    ASSERT_OK(qw_catalog_open(&c, uri, "quotewatch", eb, sizeof eb));
    ASSERT_OK(qw_catalog_load(c, "ns", "lst_a", loc, sizeof loc));
    ASSERT_STREQ(loc, "A");
    qw_catalog_close(c);
}

TEST(catalog_reads_pyiceberg_fixture)
{
    const char *shared = getenv("QW_SHARED");
    char src[512], dst[256], cmd[1200], eb[256], loc[QW_CATALOG_LOC_MAX];
    snprintf(
        src, sizeof src,
        "%s/data/iceberg_fixtures/duckdb-iceberg/add_columns_with_defaults/pyiceberg_catalog.db",
        shared ? shared : "../shared");
    if (access(src, R_OK) != 0) {
        snprintf(src, sizeof src,
                 "/work/shared/data/iceberg_fixtures/duckdb-iceberg/add_columns_with_defaults/"
                 "pyiceberg_catalog.db");
    }
    ASSERT_TRUE(access(src, R_OK) == 0);
    tmp_db(dst, sizeof dst);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
    ASSERT_EQ(system(cmd), 0);
    qw_catalog *c;
    ASSERT_OK(qw_catalog_open(&c, dst, "default", eb, sizeof eb));
    ASSERT_OK(qw_catalog_load(c, "default", "add_columns_with_defaults", loc, sizeof loc));
    ASSERT_TRUE(strstr(loc, "00003-3f1801a5-7dfb-4072-b14a-39cd12f9279b.metadata.json") != NULL);
    ASSERT_OK(qw_catalog_create_namespace(c, "default")); /* its 'exists' row is already there */
    qw_catalog_close(c);
}

TEST(catalog_bad_uri_is_a_clear_error)
{
    qw_catalog *c;
    char eb[256] = "";
    ASSERT_ERR(QW_DB, qw_catalog_open(&c, "/proc/no/such/dir/catalog.db", "q", eb, sizeof eb));
    ASSERT_TRUE(strstr(eb, "sqlite") != NULL);
    ASSERT_ERR(QW_DB, qw_catalog_open(&c, "postgresql://u:s3cret@127.0.0.1:1/db?connect_timeout=2",
                                      "q", eb, sizeof eb));
    ASSERT_TRUE(strstr(eb, "s3cret") == NULL); /* passwords never in messages */
    ASSERT_TRUE(strstr(eb, "u:***@127.0.0.1") != NULL);
}

/* Several processes run load -> CAS -> retry on one table. Each logs its
 * successful (expected -> new) pairs; together they must form one chain
 * from the first location through every commit: a lost or forked commit
 * breaks it. */
TEST(catalog_concurrent_processes_lose_no_commit)
{
    char path[256], eb[256], t[64], logp[64];
    const char *uri = uri_or_tmp(path, sizeof path);
    tname(t, sizeof t, "race");
    snprintf(logp, sizeof logp, "/tmp/qwcatlog.%d", (int)getpid());
    enum { PROCS = 4, EACH = 25 };
    qw_catalog *c;
    ASSERT_OK(qw_catalog_open(&c, uri, "quotewatch", eb, sizeof eb));
    ASSERT_OK(qw_catalog_create(c, "quotewatch", t, "v0"));
    qw_catalog_close(c);
    unlink(logp);
    for (int p = 0; p < PROCS; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            qw_catalog *cc;
            FILE *lf = fopen(logp, "a");
            if (!lf || qw_catalog_open(&cc, uri, "quotewatch", eb, sizeof eb) != QW_OK)
                _exit(2);
            setvbuf(lf, NULL, _IONBF, 0);
            for (int i = 0; i < EACH; i++) {
                for (int attempt = 0;; attempt++) {
                    char cur[QW_CATALOG_LOC_MAX], next[64];
                    if (qw_catalog_load(cc, "quotewatch", t, cur, sizeof cur) != QW_OK)
                        _exit(3);
                    snprintf(next, sizeof next, "p%d-i%d", p, i);
                    qw_err e = qw_catalog_commit(cc, "quotewatch", t, cur, next);
                    if (e == QW_OK) {
                        fprintf(lf, "%s %s\n", cur, next);
                        break;
                    }
                    if (e != QW_CONFLICT || attempt > 100000)
                        _exit(4);
                }
            }
            qw_catalog_close(cc);
            fclose(lf);
            _exit(0);
        }
    }
    int bad = 0;
    for (int p = 0; p < PROCS; p++) {
        int st;
        wait(&st);
        bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ASSERT_EQ(bad, 0);
    static char prev[PROCS * EACH][32], next[PROCS * EACH][32];
    FILE *lf = fopen(logp, "r");
    ASSERT_TRUE(lf != NULL);
    int n = 0;
    while (n < PROCS * EACH && fscanf(lf, "%31s %31s", prev[n], next[n]) == 2)
        n++;
    fclose(lf);
    unlink(logp);
    ASSERT_EQ(n, PROCS * EACH);
    /* walk the chain from v0 */
    char at[32] = "v0";
    for (int step = 0; step < n; step++) {
        int found = -1;
        for (int k = 0; k < n; k++)
            if (strcmp(prev[k], at) == 0) {
                ASSERT_EQ(found, -1); /* two commits from one parent = a lost commit */
                found = k;
            }
        ASSERT_TRUE(found >= 0);
        snprintf(at, sizeof at, "%s", next[found]);
    }
    char loc[QW_CATALOG_LOC_MAX];
    ASSERT_OK(qw_catalog_open(&c, uri, "quotewatch", eb, sizeof eb));
    ASSERT_OK(qw_catalog_load(c, "quotewatch", t, loc, sizeof loc));
    ASSERT_STREQ(loc, at);
    ASSERT_OK(qw_catalog_drop(c, "quotewatch", t));
    qw_catalog_close(c);
}

/* The URI forms pyiceberg's SqlCatalog users write, libpq's, and the ones
 * refused; no password in any message. */
TEST(catalog_uri_forms)
{
    static const struct {
        const char *uri;
        int ok, pg;
        const char *out;
    } cases[] = {
        {"postgresql://u:pw@h:5432/db", 1, 1, "postgresql://u:pw@h:5432/db"},
        {"postgres://u@h/db?sslmode=require", 1, 1, "postgres://u@h/db?sslmode=require"},
        {"postgresql+psycopg2://u:pw@h/db", 1, 1, "postgresql://u:pw@h/db"},
        {"postgresql+psycopg://u:pw@h/db", 1, 1, "postgresql://u:pw@h/db"},
        {"postgresql+pg8000://u:pw@h/db", 1, 1, "postgresql://u:pw@h/db"},
        {"postgresql://u:pw@/db?host=/cloudsql/p:r:i", 1, 1,
         "postgresql://u:pw@/db?host=/cloudsql/p:r:i"},
        {"sqlite:////abs/cat.db", 1, 0, "/abs/cat.db"},
        {"sqlite:///rel/cat.db", 1, 0, "rel/cat.db"},
        {"sqlite+pysqlite:////abs/cat.db", 1, 0, "/abs/cat.db"},
        {"sqlite:////abs/cat.db?check_same_thread=false", 1, 0, "/abs/cat.db"},
        {"file:///abs/cat.db", 1, 0, "/abs/cat.db"},
        {"plain/cat.db", 1, 0, "plain/cat.db"},
        {"mysql+pymysql://u:secretpw@h/db", 0, 0, NULL},
        {"sqlite://", 0, 0, NULL},
        {"sqlite:///:memory:", 0, 0, NULL},
        {"http://u:secretpw@h/", 0, 0, NULL},
        {"", 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qw_catalog_kind k = QW_CATALOG_SQLITE;
        char out[256] = "", eb[256] = "";
        qw_err e = qw_catalog_parse_uri(cases[i].uri, &k, out, sizeof out, eb, sizeof eb);
        if ((e == QW_OK) != cases[i].ok)
            qwt_fail(__FILE__, __LINE__, "%s: %s (%s)", cases[i].uri, qw_err_name(e), eb);
        if (cases[i].ok) {
            ASSERT_EQ(k == QW_CATALOG_POSTGRES, cases[i].pg);
            ASSERT_STREQ(out, cases[i].out);
        } else {
            ASSERT_EQ(e, QW_INVAL);
            ASSERT_TRUE(eb[0] != '\0');
            ASSERT_TRUE(strstr(eb, "secretpw") == NULL);
        }
    }
    char r[256];
    qw_catalog_redact("postgresql+psycopg2://u:secretpw@h/db", r, sizeof r);
    ASSERT_STREQ(r, "postgresql+psycopg2://u:***@h/db");
    qw_catalog_redact("postgresql:///db?user=u&password=secretpw&host=h", r, sizeof r);
    ASSERT_STREQ(r, "postgresql:///db?user=u&password=***&host=h");
    /* opening a refused URI fails cleanly, without the password */
    qw_catalog *c = NULL;
    char eb[256];
    ASSERT_EQ(qw_catalog_open(&c, "mysql://u:secretpw@h/db", "quotewatch", eb, sizeof eb),
              QW_INVAL);
    ASSERT_TRUE(c == NULL && strstr(eb, "secretpw") == NULL && strstr(eb, "mysql") != NULL);
}

typedef struct leases_seen {
    int n;
    char holder[4][64];
    int64_t since[4], hb[4];
} leases_seen;

static int lease_fn(void *ctx, const char *holder, int64_t since_ms, int64_t heartbeat_ms)
{
    leases_seen *l = ctx;
    if (l->n < 4) {
        snprintf(l->holder[l->n], sizeof l->holder[0], "%s", holder);
        l->since[l->n] = since_ms;
        l->hb[l->n] = heartbeat_ms;
    }
    l->n++;
    return 0;
}

TEST(catalog_leases)
{
    char path[256], eb[256], t[64], t2[64];
    const char *uri = uri_or_tmp(path, sizeof path);
    tname(t, sizeof t, "lease");
    tname(t2, sizeof t2, "lease_other");
    qw_catalog *c, *c2;
    ASSERT_OK(qw_catalog_open(&c, uri, "quotewatch", eb, sizeof eb));
    ASSERT_OK(qw_catalog_open(&c2, uri, "other", eb, sizeof eb));
    leases_seen l = {0};
    ASSERT_OK(qw_catalog_lease_list(c, "quotewatch", t, lease_fn, &l));
    ASSERT_EQ(l.n, 0);
    /* set inserts, then updates the same row (one per holder) */
    ASSERT_OK(qw_catalog_lease_set(c, "quotewatch", t, "A", 1000, 2000));
    ASSERT_OK(qw_catalog_lease_set(c, "quotewatch", t, "A", 1500, 1700000000000));
    ASSERT_OK(qw_catalog_lease_set(c, "quotewatch", t, "B", 900, 2500));
    ASSERT_OK(qw_catalog_lease_set(c, "quotewatch", t2, "C", 1, 1));
    ASSERT_OK(qw_catalog_lease_set(c2, "quotewatch", t, "D", 1, 1));
    ASSERT_OK(qw_catalog_lease_list(c, "quotewatch", t, lease_fn, &l));
    ASSERT_EQ(l.n, 2); /* not t2's, not another catalog's; oldest since first */
    ASSERT_STREQ(l.holder[0], "B");
    ASSERT_EQ(l.since[0], 900);
    ASSERT_STREQ(l.holder[1], "A");
    ASSERT_EQ(l.since[1], 1500);
    ASSERT_EQ(l.hb[1], 1700000000000); /* 64-bit milliseconds survive */
    ASSERT_OK(qw_catalog_lease_release(c, "quotewatch", t, "B"));
    ASSERT_OK(qw_catalog_lease_release(c, "quotewatch", t, "B")); /* none: still OK */
    memset(&l, 0, sizeof l);
    ASSERT_OK(qw_catalog_lease_list(c, "quotewatch", t, lease_fn, &l));
    ASSERT_EQ(l.n, 1);
    ASSERT_STREQ(l.holder[0], "A");
    ASSERT_OK(qw_catalog_lease_release(c, "quotewatch", t, "A"));
    ASSERT_OK(qw_catalog_lease_release(c, "quotewatch", t2, "C"));
    ASSERT_OK(qw_catalog_lease_release(c2, "quotewatch", t, "D"));
    qw_catalog_close(c2);
    qw_catalog_close(c);
}

/* qw_ice_protected_since: live leases protect from their since (minus the
 * skew margin), expired ones (a crashed writer's) are ignored; and
 * qw_ice_orphans keeps an unreferenced file a live lease covers whatever
 * --older-than says, and removes it once the lease has expired. */
TEST(catalog_lease_protects_orphans_until_expired)
{
    char path[256], eb[256], t[64], dir[] = "/tmp/qwleaseXXXXXX";
    const char *uri = uri_or_tmp(path, sizeof path);
    tname(t, sizeof t, "leased");
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    qw_catalog *c;
    ASSERT_OK(qw_catalog_open(&c, uri, "quotewatch", eb, sizeof eb));
    qw_ice_catalog_ops ops;
    qw_ice_catalog_sql(&ops, c);
    int64_t now = qw_now_wall_ns() / 1000000, S = now - 3600 * 1000;
    qw_ice_protection p;
    ASSERT_OK(qw_ice_protected_since(&ops, "quotewatch", t, now, &p));
    ASSERT_EQ(p.live, 0); /* no lease: only what appears from now on */
    ASSERT_EQ(p.since_ms, now - QW_ICE_LEASE_SKEW_MS);
    ASSERT_OK(qw_catalog_lease_set(c, "quotewatch", t, "live", S, now - 1000));
    ASSERT_OK(
        qw_catalog_lease_set(c, "quotewatch", t, "crashed", S - 60000, now - QW_ICE_LEASE_TTL_MS));
    ASSERT_OK(qw_ice_protected_since(&ops, "quotewatch", t, now, &p));
    ASSERT_EQ(p.live, 1);
    ASSERT_EQ(p.expired, 1);
    ASSERT_STREQ(p.holder, "live");
    ASSERT_EQ(p.since_ms, S - QW_ICE_LEASE_SKEW_MS);
    ASSERT_TRUE(qw_ice_protected(&p, S - QW_ICE_LEASE_SKEW_MS));
    ASSERT_TRUE(!qw_ice_protected(&p, S - QW_ICE_LEASE_SKEW_MS - 1));
    ASSERT_TRUE(qw_ice_protected(&p, 0)); /* age unknown (no Last-Modified): kept */

    /* a table with an unreferenced file written a minute after the lease's since */
    qw_fileio *io;
    ASSERT_OK(qw_fileio_create(&io, NULL, NULL));
    qw_ice_schema sc;
    memset(&sc, 0, sizeof sc);
    sc.nfields = 1;
    sc.fields[0] = (qw_ice_field){1, "product_id", QW_ICE_STRING, 0, 0, 1};
    qw_ice_spec sp;
    memset(&sp, 0, sizeof sp);
    char location[300], loc[QW_ICE_LOC_MAX], f[400];
    snprintf(location, sizeof location, "file://%s/quotewatch/%s", dir, t);
    ASSERT_OK(qw_ice_create_table(&ops, io, "quotewatch", t, location, &sc, &sp, NULL, 0, loc,
                                  sizeof loc));
    snprintf(f, sizeof f, "%s/quotewatch/%s/data/uncommitted.parquet", dir, t);
    ASSERT_OK(qw_fileio_write(io, f, "PAR1", 4));
    struct timespec ts[2] = {{(time_t)((S + 60000) / 1000), 0}, {(time_t)((S + 60000) / 1000), 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, f, ts, 0), 0);
    qw_ice_orphan_opts o = {.older_than_ms = 0, .remove = 1, .now_ms = now};
    qw_ice_orphan_result r;
    ASSERT_OK(qw_ice_orphans(&ops, io, "quotewatch", t, &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.orphans, 0);
    ASSERT_EQ(r.leased, 1);
    ASSERT_EQ(access(f, F_OK), 0);
    /* the writer stopped renewing (crashed): past the TTL its file is an orphan */
    o.now_ms = now + QW_ICE_LEASE_TTL_MS;
    ASSERT_OK(qw_ice_orphans(&ops, io, "quotewatch", t, &o, NULL, NULL, &r, eb, sizeof eb));
    ASSERT_EQ(r.prot.live, 0);
    ASSERT_EQ(r.prot.expired, 2);
    ASSERT_EQ(r.leased, 0);
    ASSERT_EQ(r.orphans, 1);
    ASSERT_TRUE(access(f, F_OK) != 0);
    ASSERT_OK(qw_catalog_lease_release(c, "quotewatch", t, "live"));
    ASSERT_OK(qw_catalog_lease_release(c, "quotewatch", t, "crashed"));
    ASSERT_OK(qw_catalog_drop(c, "quotewatch", t));
    qw_fileio_destroy(io);
    qw_catalog_close(c);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
}

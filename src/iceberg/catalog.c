/* catalog.c: the Iceberg SQL catalog on SQLite or PostgreSQL (see
 * catalog.h). Two small backends behind one static ops table (Redis's ae
 * pattern); every statement is the same SQL text with $n parameters,
 * which SQLite also understands.
 *
 * Layout (pyiceberg SqlCatalog; Iceberg Java JdbcCatalog reads it as its
 * V0 schema; an `iceberg_type` column, when a V1 catalog has one, is set
 * to 'TABLE' on insert and filtered on read):
 *   iceberg_tables(catalog_name, table_namespace, table_name,
 *                  metadata_location, previous_metadata_location)
 *   iceberg_namespace_properties(catalog_name, namespace, property_key, property_value)
 * and QuoteWatch's own commit leases, in a table of their own so pyiceberg
 * and Java see an untouched layout (docs/STORAGE.md "Commit leases"):
 *   quotewatch_commit_leases(catalog_name, table_namespace, table_name,
 *                            holder, since_ms, heartbeat_ms)
 */
#define QW_MODULE "catalog"
#include "iceberg/catalog.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"

typedef struct row {
    char table[256];
    char loc[QW_CATALOG_LOC_MAX];
} row;

struct qw_catalog {
    int pg;
    sqlite3 *db;
    PGconn *conn;
    char conninfo[1024]; /* PG URI, kept for reconnects; never logged */
    char name[128];
    char redacted[256]; /* for messages */
    int has_type;       /* iceberg_type column present */
    char err[256];
    char *errbuf;
    size_t errlen;
};

static qw_err set_err(qw_catalog *c, qw_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static qw_err set_err(qw_catalog *c, qw_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    if (c->errbuf && c->errlen)
        snprintf(c->errbuf, c->errlen, "%s", c->err);
    return e;
}

/* ---- statement execution: returns rows through a callback ---- */

typedef int (*row_fn)(void *ctx, int ncol, const char *const *vals);

#define BUSY_BUDGET_NS (10000 * QW_NS_PER_MS)

static qw_err exec_sqlite(qw_catalog *c, const char *sql, const char *const *p, int np, row_fn fn,
                          void *ctx, int *changes)
{
    sqlite3_stmt *st = NULL;
    /* a locked database is waited for (sqlite's busy handler, then short
     * retries), but at most BUSY_BUDGET_NS per statement: then the caller
     * gets an error and its own retry policy applies */
    int64_t deadline = qw_now_mono_ns() + BUSY_BUDGET_NS;
    for (;;) {
        int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK)
            break;
        if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && qw_now_mono_ns() < deadline) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
            continue;
        }
        return set_err(c, QW_DB, "sqlite prepare: %s", sqlite3_errmsg(c->db));
    }
    for (int i = 0; i < np; i++)
        sqlite3_bind_text(st, i + 1, p[i], -1, SQLITE_TRANSIENT);
    qw_err e = QW_OK;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            int n = sqlite3_column_count(st);
            const char *vals[8] = {0};
            for (int i = 0; i < n && i < 8; i++)
                vals[i] = (const char *)sqlite3_column_text(st, i);
            if (fn && fn(ctx, n < 8 ? n : 8, vals))
                break;
            continue;
        }
        if (rc == SQLITE_DONE)
            break;
        if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && qw_now_mono_ns() < deadline) {
            sqlite3_reset(st);
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
            continue;
        }
        /* locked: certainly not applied (QW_AGAIN); other errors: QW_DB */
        e = set_err(c,
                    rc == SQLITE_CONSTRAINT                    ? QW_EXISTS
                    : rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? QW_AGAIN
                                                               : QW_DB,
                    "sqlite: %s", sqlite3_errmsg(c->db));
        break;
    }
    if (changes)
        *changes = sqlite3_changes(c->db);
    sqlite3_finalize(st);
    return e;
}

static int pg_connect(qw_catalog *c)
{
    if (c->conn)
        PQfinish(c->conn);
    c->conn = PQconnectdb(c->conninfo);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        set_err(c, QW_DB, "cannot connect to %s: %s", c->redacted, PQerrorMessage(c->conn));
        return -1;
    }
    PQclear(PQexec(c->conn, "SET client_min_messages TO warning"));
    return 0;
}

static qw_err exec_pg(qw_catalog *c, const char *sql, const char *const *p, int np, row_fn fn,
                      void *ctx, int *changes)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
            if (pg_connect(c) != 0)
                return QW_DB;
        }
        PGresult *r = PQexecParams(c->conn, sql, np, NULL, p, NULL, NULL, 0);
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
            int n = PQntuples(r), nc = PQnfields(r);
            for (int i = 0; i < n && fn; i++) {
                const char *vals[8] = {0};
                for (int k = 0; k < nc && k < 8; k++)
                    vals[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
                if (fn(ctx, nc < 8 ? nc : 8, vals))
                    break;
            }
            if (changes) {
                const char *t = PQcmdTuples(r);
                *changes = t && *t ? (int)strtol(t, NULL, 10) : 0;
            }
            PQclear(r);
            return QW_OK;
        }
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* unique_violation, duplicate_table, duplicate_object: someone created it first */
        int unique = state && (strcmp(state, "23505") == 0 || strcmp(state, "42P07") == 0 ||
                               strcmp(state, "42710") == 0);
        set_err(c, unique ? QW_EXISTS : QW_DB, "postgresql: %s", PQresultErrorMessage(r));
        PQclear(r);
        if (unique)
            return QW_EXISTS;
        if (PQstatus(c->conn) == CONNECTION_OK)
            return QW_DB; /* a real SQL error: do not retry */
        /* broken connection: reconnect once and retry */
    }
    return QW_DB;
}

static qw_err exec(qw_catalog *c, const char *sql, const char *const *p, int np, row_fn fn,
                   void *ctx, int *changes)
{
    return c->pg ? exec_pg(c, sql, p, np, fn, ctx, changes)
                 : exec_sqlite(c, sql, p, np, fn, ctx, changes);
}

static int has_type_fn(void *ctx, int n, const char *const *v)
{
    (void)n;
    if (v[0] && strcmp(v[0], "iceberg_type") == 0)
        *(int *)ctx = 1;
    return 0;
}

static qw_err init_schema(qw_catalog *c)
{
    static const char *ddl[] = {
        "CREATE TABLE IF NOT EXISTS iceberg_tables (catalog_name VARCHAR(255) NOT NULL, "
        "table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL, "
        "metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), "
        "PRIMARY KEY (catalog_name, table_namespace, table_name))",
        "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (catalog_name VARCHAR(255) NOT "
        "NULL, "
        "namespace VARCHAR(255) NOT NULL, property_key VARCHAR(255) NOT NULL, "
        "property_value VARCHAR(1000) NOT NULL, "
        "PRIMARY KEY (catalog_name, namespace, property_key))",
        "CREATE TABLE IF NOT EXISTS quotewatch_commit_leases (catalog_name VARCHAR(255) NOT NULL, "
        "table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL, "
        "holder VARCHAR(255) NOT NULL, since_ms BIGINT NOT NULL, heartbeat_ms BIGINT NOT NULL, "
        "PRIMARY KEY (catalog_name, table_namespace, table_name, holder))",
    };
    /* PostgreSQL: concurrent CREATE TABLE IF NOT EXISTS can still collide
     * on the catalog's row types, so creators take a transaction-scoped
     * advisory lock (and any collision that slips through counts as done). */
    if (c->pg &&
        (exec(c, "BEGIN", NULL, 0, NULL, NULL, NULL) != QW_OK ||
         exec(c, "SELECT pg_advisory_xact_lock(7135620118)", NULL, 0, NULL, NULL, NULL) != QW_OK)) {
        exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
        return QW_DB;
    }
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0]; i++) {
        qw_err e = exec(c, ddl[i], NULL, 0, NULL, NULL, NULL);
        if (e == QW_EXISTS) {
            if (c->pg) { /* the failed statement aborted the transaction: start over */
                exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
                exec(c, "BEGIN", NULL, 0, NULL, NULL, NULL);
                exec(c, "SELECT pg_advisory_xact_lock(7135620118)", NULL, 0, NULL, NULL, NULL);
            }
            continue;
        }
        if (e != QW_OK) {
            if (c->pg)
                exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
            return e;
        }
    }
    if (c->pg && exec(c, "COMMIT", NULL, 0, NULL, NULL, NULL) != QW_OK)
        return QW_DB;
    const char *q = c->pg ? "SELECT column_name FROM information_schema.columns WHERE table_name = "
                            "'iceberg_tables'"
                          : "SELECT name FROM pragma_table_info('iceberg_tables')";
    return exec(c, q, NULL, 0, has_type_fn, &c->has_type, NULL);
}

void qw_catalog_redact(const char *uri, char *out, size_t cap)
{
    /* scheme://user:PASSWORD@host -> scheme://user:***@host */
    const char *at = strchr(uri, '@'), *ss = strstr(uri, "://");
    if (at && ss && ss < at) {
        const char *colon = memchr(ss + 3, ':', (size_t)(at - ss - 3));
        if (colon) {
            snprintf(out, cap, "%.*s:***%s", (int)(colon - uri), uri, at);
            return;
        }
    }
    const char *pw = strstr(uri, "password=");
    if (pw) {
        const char *end = pw + 9 + strcspn(pw + 9, "& ");
        snprintf(out, cap, "%.*spassword=***%s", (int)(pw - uri), uri, end);
        return;
    }
    snprintf(out, cap, "%s", uri);
}

qw_err qw_catalog_parse_uri(const char *uri, qw_catalog_kind *kind, char *out, size_t cap,
                            char *errbuf, size_t errlen)
{
    static const char *const pg_drivers[] = {"postgresql+psycopg2://", "postgresql+psycopg://",
                                             "postgresql+pg8000://", "postgresql+asyncpg://"};
    const char *ss = strstr(uri, "://");
    char red[600];
    qw_catalog_redact(uri, red, sizeof red);
    int n = -1;
    if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
        *kind = QW_CATALOG_POSTGRES;
        n = snprintf(out, cap, "%s", uri);
    }
    for (size_t i = 0; n < 0 && i < sizeof pg_drivers / sizeof pg_drivers[0]; i++)
        if (strncmp(uri, pg_drivers[i], strlen(pg_drivers[i])) == 0) {
            *kind = QW_CATALOG_POSTGRES; /* the driver is pyiceberg's business, not libpq's */
            n = snprintf(out, cap, "postgresql://%s", uri + strlen(pg_drivers[i]));
        }
    if (n < 0 &&
        (strncmp(uri, "sqlite:///", 10) == 0 || strncmp(uri, "sqlite+pysqlite:///", 19) == 0)) {
        const char *path = strchr(uri, ':') + 4; /* SQLAlchemy: after "://" + "/" */
        const char *q = strchr(path, '?');
        if (!*path || *path == '?' || strncmp(path, ":memory:", 8) == 0) {
            QW_SETERR(errbuf, errlen,
                      "catalog URI %s: an in-memory SQLite catalog cannot be shared", red);
            return QW_INVAL;
        }
        *kind = QW_CATALOG_SQLITE;
        n = snprintf(out, cap, "%.*s", q ? (int)(q - path) : (int)strlen(path), path);
    }
    if (n < 0 && strncmp(uri, "file://", 7) == 0) {
        *kind = QW_CATALOG_SQLITE;
        n = snprintf(out, cap, "%s", uri + 7);
    }
    if (n < 0 && ss) {
        QW_SETERR(errbuf, errlen,
                  "catalog URI %s: scheme '%.*s' is not supported (use postgresql://, "
                  "postgresql+psycopg2://, sqlite:///PATH, file://PATH or a file path)",
                  red, (int)(ss - uri), uri);
        return QW_INVAL;
    }
    if (n < 0) {
        *kind = QW_CATALOG_SQLITE;
        n = snprintf(out, cap, "%s", uri);
    }
    if (n < 0 || (size_t)n >= cap || !*out) {
        QW_SETERR(errbuf, errlen, "catalog URI %s: %s", red, *out ? "too long" : "empty");
        return QW_INVAL;
    }
    return QW_OK;
}

qw_err qw_catalog_open(qw_catalog **out, const char *uri, const char *name, char *errbuf,
                       size_t errlen)
{
    qw_catalog *c = qw_calloc(1, sizeof *c);
    if (!c)
        return QW_NOMEM;
    c->errbuf = errbuf;
    c->errlen = errlen;
    if (strlen(name) >= sizeof c->name || strlen(uri) >= sizeof c->conninfo) {
        qw_free(c);
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "catalog name or URI too long");
        return QW_INVAL;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    qw_catalog_redact(uri, c->redacted, sizeof c->redacted);
    qw_catalog_kind kind;
    char path[sizeof c->conninfo];
    qw_err e = qw_catalog_parse_uri(uri, &kind, path, sizeof path, errbuf, errlen);
    if (e != QW_OK) {
        if (errbuf && errlen)
            QW_LOG(ERROR, "%s", errbuf);
        qw_free(c);
        return e;
    }
    if (kind == QW_CATALOG_POSTGRES) {
        c->pg = 1;
        snprintf(c->conninfo, sizeof c->conninfo, "%s", path);
        e = pg_connect(c) == 0 ? QW_OK : QW_DB;
    } else {
        int rc = sqlite3_open_v2(
            path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK) {
            e = set_err(c, QW_DB, "cannot open sqlite catalog %s: %s", path,
                        c->db ? sqlite3_errmsg(c->db) : "out of memory");
        } else {
            sqlite3_busy_timeout(c->db, 2000);
            exec(c, "PRAGMA journal_mode=WAL", NULL, 0, NULL, NULL, NULL);
            exec(c, "PRAGMA synchronous=FULL", NULL, 0, NULL, NULL, NULL);
            e = QW_OK;
        }
    }
    if (e == QW_OK)
        e = init_schema(c);
    if (e != QW_OK) {
        QW_LOG(ERROR, "%s", c->err);
        qw_catalog_close(c);
        return e;
    }
    *out = c;
    return QW_OK;
}

void qw_catalog_close(qw_catalog *c)
{
    if (!c)
        return;
    if (c->db)
        sqlite3_close(c->db);
    if (c->conn)
        PQfinish(c->conn);
    memset(c->conninfo, 0, sizeof c->conninfo);
    qw_free(c);
}

qw_err qw_catalog_create_namespace(qw_catalog *c, const char *ns)
{
    const char *p[3] = {c->name, ns, "exists"};
    qw_err e =
        exec(c,
             "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, "
             "property_value) VALUES ($1, $2, $3, 'true')",
             p, 3, NULL, NULL, NULL);
    return e == QW_EXISTS ? QW_OK : e;
}

static int one_loc(void *ctx, int n, const char *const *v)
{
    row *r = ctx;
    if (n >= 1 && v[0])
        snprintf(r->loc, sizeof r->loc, "%s", v[0]);
    r->table[0] = 1; /* found */
    return 1;
}

qw_err qw_catalog_load(qw_catalog *c, const char *ns, const char *table, char *loc, size_t cap)
{
    const char *p[3] = {c->name, ns, table};
    row r = {{0}, {0}};
    qw_err e =
        exec(c,
             c->has_type ? "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 "
                           "AND table_namespace = $2 AND table_name = $3 AND "
                           "(iceberg_type = 'TABLE' OR iceberg_type IS NULL)"
                         : "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 "
                           "AND table_namespace = $2 AND table_name = $3",
             p, 3, one_loc, &r, NULL);
    if (e != QW_OK)
        return e;
    if (!r.table[0])
        return set_err(c, QW_NOT_FOUND, "no table %s.%s in catalog %s", ns, table, c->name);
    if (strlen(r.loc) >= cap)
        return set_err(c, QW_TOO_LARGE, "metadata location too long");
    snprintf(loc, cap, "%s", r.loc);
    return QW_OK;
}

qw_err qw_catalog_create(qw_catalog *c, const char *ns, const char *table, const char *loc)
{
    const char *p[4] = {c->name, ns, table, loc};
    qw_err e =
        exec(c,
             c->has_type ? "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                           "metadata_location, previous_metadata_location, iceberg_type) "
                           "VALUES ($1, $2, $3, $4, NULL, 'TABLE')"
                         : "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                           "metadata_location, previous_metadata_location) "
                           "VALUES ($1, $2, $3, $4, NULL)",
             p, 4, NULL, NULL, NULL);
    if (e == QW_EXISTS)
        return set_err(c, QW_EXISTS, "table %s.%s already exists", ns, table);
    return e;
}

qw_err qw_catalog_commit(qw_catalog *c, const char *ns, const char *table, const char *expected,
                         const char *loc)
{
    const char *p[5] = {loc, expected, c->name, ns, table};
    int changes = 0;
    qw_err e =
        exec(c,
             "UPDATE iceberg_tables SET metadata_location = $1, previous_metadata_location = $2 "
             "WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 AND "
             "metadata_location = $2",
             p, 5, NULL, NULL, &changes);
    if (e != QW_OK)
        return e;
    if (changes == 1)
        return QW_OK;
    char cur[QW_CATALOG_LOC_MAX];
    e = qw_catalog_load(c, ns, table, cur, sizeof cur);
    if (e == QW_NOT_FOUND)
        return e;
    return set_err(c, QW_CONFLICT, "%s.%s moved on (concurrent commit)", ns, table);
}

typedef struct list_ctx {
    int (*fn)(void *ctx, const char *table, const char *loc);
    void *ctx;
} list_ctx;

static int list_row(void *ctx, int n, const char *const *v)
{
    list_ctx *l = ctx;
    return n >= 2 ? l->fn(l->ctx, v[0] ? v[0] : "", v[1] ? v[1] : "") : 0;
}

qw_err qw_catalog_list(qw_catalog *c, const char *ns,
                       int (*fn)(void *ctx, const char *table, const char *loc), void *ctx)
{
    const char *p[2] = {c->name, ns};
    list_ctx l = {fn, ctx};
    return exec(
        c,
        "SELECT table_name, metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND "
        "table_namespace = $2 ORDER BY table_name",
        p, 2, list_row, &l, NULL);
}

qw_err qw_catalog_drop(qw_catalog *c, const char *ns, const char *table)
{
    const char *p[3] = {c->name, ns, table};
    int changes = 0;
    qw_err e =
        exec(c,
             "DELETE FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND "
             "table_name = $3",
             p, 3, NULL, NULL, &changes);
    if (e == QW_OK && changes == 0)
        return set_err(c, QW_NOT_FOUND, "no table %s.%s", ns, table);
    return e;
}

/* ---- commit leases ---- */

qw_err qw_catalog_lease_set(qw_catalog *c, const char *ns, const char *table, const char *holder,
                            int64_t since_ms, int64_t heartbeat_ms)
{
    char since[24], hb[24];
    snprintf(since, sizeof since, "%lld", (long long)since_ms);
    snprintf(hb, sizeof hb, "%lld", (long long)heartbeat_ms);
    const char *p[6] = {since, hb, c->name, ns, table, holder};
    /* update first: the steady state is one statement per heartbeat */
    for (int attempt = 0; attempt < 2; attempt++) {
        int changes = 0;
        qw_err e = exec(c,
                        "UPDATE quotewatch_commit_leases SET since_ms = $1, heartbeat_ms = $2 "
                        "WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 "
                        "AND holder = $6",
                        p, 6, NULL, NULL, &changes);
        if (e != QW_OK || changes == 1)
            return e;
        const char *q[6] = {c->name, ns, table, holder, since, hb};
        e = exec(c,
                 "INSERT INTO quotewatch_commit_leases (catalog_name, table_namespace, "
                 "table_name, holder, since_ms, heartbeat_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                 q, 6, NULL, NULL, NULL);
        if (e != QW_EXISTS)
            return e; /* EXISTS: inserted meanwhile (same holder elsewhere?): update it */
    }
    return set_err(c, QW_DB, "lease on %s.%s: cannot insert or update", ns, table);
}

qw_err qw_catalog_lease_release(qw_catalog *c, const char *ns, const char *table,
                                const char *holder)
{
    const char *p[4] = {c->name, ns, table, holder};
    return exec(c,
                "DELETE FROM quotewatch_commit_leases WHERE catalog_name = $1 AND "
                "table_namespace = $2 AND table_name = $3 AND holder = $4",
                p, 4, NULL, NULL, NULL);
}

typedef struct lease_ctx {
    int (*fn)(void *ctx, const char *holder, int64_t since_ms, int64_t heartbeat_ms);
    void *ctx;
} lease_ctx;

static int lease_row(void *ctx, int n, const char *const *v)
{
    lease_ctx *l = ctx;
    if (n < 3 || !v[0] || !v[1] || !v[2])
        return 0;
    return l->fn(l->ctx, v[0], strtoll(v[1], NULL, 10), strtoll(v[2], NULL, 10));
}

qw_err qw_catalog_lease_list(qw_catalog *c, const char *ns, const char *table,
                             int (*fn)(void *ctx, const char *holder, int64_t since_ms,
                                       int64_t heartbeat_ms),
                             void *ctx)
{
    const char *p[3] = {c->name, ns, table};
    lease_ctx l = {fn, ctx};
    return exec(c,
                "SELECT holder, since_ms, heartbeat_ms FROM quotewatch_commit_leases WHERE "
                "catalog_name = $1 AND table_namespace = $2 AND table_name = $3 ORDER BY since_ms",
                p, 3, lease_row, &l, NULL);
}

const char *qw_catalog_errmsg(const qw_catalog *c)
{
    return c->err;
}

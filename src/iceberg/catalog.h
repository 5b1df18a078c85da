/* catalog.h: the Iceberg SQL catalog (the layout shared by pyiceberg's
 * SqlCatalog and Iceberg Java's JdbcCatalog), on SQLite or PostgreSQL.
 *
 * Tables (created when missing, exactly as pyiceberg/Java name them):
 *   iceberg_tables(catalog_name, table_namespace, table_name,
 *                  metadata_location, previous_metadata_location, [iceberg_type])
 *   iceberg_namespace_properties(catalog_name, namespace, property_key, property_value)
 *   quotewatch_commit_leases(catalog_name, table_namespace, table_name, holder,
 *                  since_ms, heartbeat_ms)   (ours; pyiceberg/Java ignore it)
 * A commit is an atomic compare-and-swap of metadata_location: it succeeds
 * only if the row still holds `expected`, else QW_CONFLICT (the caller
 * reloads the table, re-applies its change and retries).
 *
 * One handle per thread; not thread-safe. Errors fill errbuf (secrets such
 * as passwords in the URI are never written to it or to logs).
 */
#ifndef QW_ICEBERG_CATALOG_H
#define QW_ICEBERG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_CATALOG_LOC_MAX 1024

typedef struct qw_catalog qw_catalog; /* opaque */

/* uri, in the forms pyiceberg's SqlCatalog (SQLAlchemy) and libpq take:
 *   postgresql://user:pass@host:port/db?..., postgres://...   libpq URI
 *   postgresql+psycopg2://, +psycopg://, +pg8000://, +asyncpg://  the same
 *   sqlite:///relative/path.db, sqlite:////abs/path.db        SQLAlchemy
 *     (sqlite+pysqlite:// too; three slashes = relative, four = absolute)
 *   file:///abs/path.db, or a plain file path                  SQLite
 * Anything else with a "scheme://" (mysql://, sqlite:// in memory, ...) is
 * QW_INVAL with a message naming the accepted forms. Passwords never reach
 * errbuf or the log (qw_catalog_redact).
 * name: the catalog_name column value ("quotewatch"). */
qw_err qw_catalog_open(qw_catalog **out, const char *uri, const char *name, char *errbuf,
                       size_t errlen);
void qw_catalog_close(qw_catalog *c); /* NULL is a no-op */

typedef enum { QW_CATALOG_SQLITE, QW_CATALOG_POSTGRES } qw_catalog_kind;
/* Classify uri (forms above): *kind and the libpq conninfo or SQLite path
 * in out. QW_INVAL with errbuf saying why (no password in it). */
qw_err qw_catalog_parse_uri(const char *uri, qw_catalog_kind *kind, char *out, size_t cap,
                            char *errbuf, size_t errlen);
/* uri with any password replaced by *** (user:***@, password=***). */
void qw_catalog_redact(const char *uri, char *out, size_t cap);

/* Create the namespace if missing (QW_OK either way). */
qw_err qw_catalog_create_namespace(qw_catalog *c, const char *ns);

/* metadata_location of ns.table into loc; QW_NOT_FOUND if no such table. */
qw_err qw_catalog_load(qw_catalog *c, const char *ns, const char *table, char *loc, size_t cap);

/* Register a new table; QW_EXISTS if it is already there (then loc is left
 * as it is in the catalog: the caller loads it). */
qw_err qw_catalog_create(qw_catalog *c, const char *ns, const char *table, const char *loc);

/* CAS: set metadata_location = loc, previous_metadata_location = expected,
 * only where metadata_location = expected. QW_CONFLICT if it moved;
 * QW_NOT_FOUND if the table is gone. */
qw_err qw_catalog_commit(qw_catalog *c, const char *ns, const char *table, const char *expected,
                         const char *loc);

/* Calls fn for every table of ns (in name order); fn returns nonzero to stop. */
qw_err qw_catalog_list(qw_catalog *c, const char *ns,
                       int (*fn)(void *ctx, const char *table, const char *loc), void *ctx);

qw_err qw_catalog_drop(qw_catalog *c, const char *ns, const char *table);

/* ---- commit leases (quotewatch_commit_leases) ----
 * A writer holds one lease row per table it writes: "files I create from
 * since_ms on may be referenced by a commit of mine still to come", kept
 * alive by heartbeat_ms (wall clock, ms). Maintenance reads them through
 * qw_ice_protected_since (iceberg.h), which decides what is live. */

/* Insert or update holder's lease on ns.table. */
qw_err qw_catalog_lease_set(qw_catalog *c, const char *ns, const char *table, const char *holder,
                            int64_t since_ms, int64_t heartbeat_ms);
/* Remove holder's lease (QW_OK if there was none). */
qw_err qw_catalog_lease_release(qw_catalog *c, const char *ns, const char *table,
                                const char *holder);
/* Calls fn for every lease on ns.table (live or not); fn returns nonzero to stop. */
qw_err qw_catalog_lease_list(qw_catalog *c, const char *ns, const char *table,
                             int (*fn)(void *ctx, const char *holder, int64_t since_ms,
                                       int64_t heartbeat_ms),
                             void *ctx);

/* Last error text (also written to the errbuf given at open). */
const char *qw_catalog_errmsg(const qw_catalog *c);

#endif

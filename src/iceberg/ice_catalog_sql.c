/* ice_catalog_sql.c: the Iceberg commit's catalog vtable over the SQL
 * catalog of iceberg/catalog.h (SQLite or PostgreSQL). Kept in its own
 * object so code that only reads tables does not pull in the catalog.
 */
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"

static qw_err ns_create(void *ctx, const char *ns)
{
    return qw_catalog_create_namespace(ctx, ns);
}

static qw_err load(void *ctx, const char *ns, const char *table, char *loc, size_t cap)
{
    return qw_catalog_load(ctx, ns, table, loc, cap);
}

static qw_err create(void *ctx, const char *ns, const char *table, const char *loc)
{
    return qw_catalog_create(ctx, ns, table, loc);
}

static qw_err commit(void *ctx, const char *ns, const char *table, const char *expected,
                     const char *loc)
{
    return qw_catalog_commit(ctx, ns, table, expected, loc);
}

static qw_err leases(void *ctx, const char *ns, const char *table,
                     int (*fn)(void *fctx, const char *holder, int64_t since_ms,
                               int64_t heartbeat_ms),
                     void *fctx)
{
    return qw_catalog_lease_list(ctx, ns, table, fn, fctx);
}

void qw_ice_catalog_sql(qw_ice_catalog_ops *ops, qw_catalog *c)
{
    ops->ctx = c;
    ops->create_namespace = ns_create;
    ops->load = load;
    ops->create = create;
    ops->commit = commit;
    ops->leases = leases;
}

/* ice_catalog_sql.c: the Iceberg commit's catalog vtable over the SQL
 * catalog of storage/catalog.h (SQLite or PostgreSQL). Kept in its own
 * object so code that only reads tables does not pull in the catalog.
 *
 * The catalog functions are referenced weakly so this file links (the fuzz
 * build links every src file) on branches where catalog.c does not exist
 * yet; anyone holding a qw_catalog got it from qw_catalog_open, whose strong
 * reference pulls catalog.o in, so the calls below are then never NULL.
 * Once catalog.c is merged the pragmas can go. */
#include "storage/catalog.h"
#include "storage/iceberg.h"

#pragma weak qw_catalog_create_namespace
#pragma weak qw_catalog_load
#pragma weak qw_catalog_create
#pragma weak qw_catalog_commit

static qw_err ns_create(void *ctx, const char *ns)
{
    if (!qw_catalog_create_namespace)
        return QW_UNSUPPORTED;
    return qw_catalog_create_namespace(ctx, ns);
}

static qw_err load(void *ctx, const char *ns, const char *table, char *loc, size_t cap)
{
    if (!qw_catalog_load)
        return QW_UNSUPPORTED;
    return qw_catalog_load(ctx, ns, table, loc, cap);
}

static qw_err create(void *ctx, const char *ns, const char *table, const char *loc)
{
    if (!qw_catalog_create)
        return QW_UNSUPPORTED;
    return qw_catalog_create(ctx, ns, table, loc);
}

static qw_err commit(void *ctx, const char *ns, const char *table, const char *expected,
                     const char *loc)
{
    if (!qw_catalog_commit)
        return QW_UNSUPPORTED;
    return qw_catalog_commit(ctx, ns, table, expected, loc);
}

void qw_ice_catalog_sql(qw_ice_catalog_ops *ops, qw_catalog *c)
{
    ops->ctx = c;
    ops->create_namespace = ns_create;
    ops->load = load;
    ops->create = create;
    ops->commit = commit;
}

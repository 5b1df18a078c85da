/* lake_admin_int.h: the lake_admin handle, shared by lake_admin.c and
 * lake_scan.c (never leaves storage/). */
#ifndef QW_STORAGE_LAKE_ADMIN_INT_H
#define QW_STORAGE_LAKE_ADMIN_INT_H

#include "core/fileio.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "storage/lake_admin.h"

struct qw_lake_admin {
    char wh[4096 + 16], cat[4096 + 64]; /* resolved warehouse URI, catalog URI */
    qw_catalog *c;
    qw_ice_catalog_ops ops;
    qw_fileio *io;
};

/* ns.table's current metadata (QW_TBL_NS) and its location. */
qw_err qw__lake_admin_load(qw_lake_admin *L, const char *table, qw_ice_meta **m, char *loc,
                           size_t cap);

#endif

/* lake_admin_int.h: the lake_admin handle, shared by lake_admin.c and
 * lake_scan.c (never leaves storage/). */
#ifndef QW_STORAGE_LAKE_ADMIN_INT_H
#define QW_STORAGE_LAKE_ADMIN_INT_H

#include "core/fileio.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "storage/lake_admin.h"
#include "storage/tables.h"

struct qw_lake_admin {
    char wh[4096 + 16], cat[4096 + 64]; /* resolved warehouse URI, catalog URI */
    qw_catalog *c;
    qw_ice_catalog_ops ops;
    qw_fileio *io;
};

/* ns.table's current metadata (QW_TBL_NS) and its location. */
qw_err qw__lake_admin_load(qw_lake_admin *L, const char *table, qw_ice_meta **m, char *loc,
                           size_t cap);

/* lake_merge.c: the output row group of a compaction bin, decoded bytes
 * (the batch rows are copied into before the writer encodes them). */
#define QW_MERGE_GROUP_BYTES ((size_t)8 << 20)

/* One compaction bin: merges the rows of files[0..n) (one table d, one
 * partition, in the writer's order) into a new data file at path, ordered
 * as lake_compact.c documents; fills *df (partition of files[0], stats).
 * Memory is bounded by row groups, not by the bin (lake_merge.c). */
qw_err qw__lake_merge_bin(qw_lake_admin *L, const qw_tbl_def *d, const qw_ice_data_file *files,
                          size_t n, const char *path, qw_ice_data_file *df, char *eb, size_t ebl);

#endif

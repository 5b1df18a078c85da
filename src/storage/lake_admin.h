/* lake_admin.h: the inspection behind `quotewatch lake` (docs/TABLES.md):
 * list the tables, describe one, print a table's rows as NDJSON, find (and
 * remove) orphan files. Each call writes the text the CLI prints to the
 * caller's streams, so app/cmd_lake.c only parses arguments and calls.
 *
 * One handle per command: the resolved warehouse, its catalog and a fileio.
 * Not thread-safe.
 */
#ifndef QW_STORAGE_LAKE_ADMIN_H
#define QW_STORAGE_LAKE_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "objstore/objstore.h"

typedef struct qw_lake_admin qw_lake_admin;

/* Report text goes to out; diagnostics go to err, one line each, starting
 * with "<prefix>: ". */
typedef struct qw_lake_sink {
    FILE *out, *err;
    const char *prefix;
} qw_lake_sink;

/* Resolve the warehouse / catalog URI (as replay --persist does) and open
 * the catalog. Detail in errbuf. */
qw_err qw_lake_admin_open(qw_lake_admin **out, const char *warehouse, const char *catalog_uri,
                          const qw_objstore_cfg *os, char *errbuf, size_t errlen);
void qw_lake_admin_close(qw_lake_admin *L); /* NULL is a no-op */

/* The warehouse, the catalog and one line per table of the namespace
 * (snapshots, records, data files, size, metadata location); a table whose
 * metadata cannot be read gets a line saying so. Error only when the
 * catalog cannot list. */
qw_err qw_lake_admin_tables(qw_lake_admin *L, const qw_lake_sink *s);

/* Metadata location, location, uuid, format, current schema, default
 * partition spec and every snapshot of ns.table. */
qw_err qw_lake_admin_describe(qw_lake_admin *L, const char *table, const qw_lake_sink *s);

typedef struct qw_lake_scan_opts {
    const char *const *products; /* NULL = all */
    size_t nproducts;
    int64_t since_ns, until_ns; /* exchange time window [since, until); 0 = open */
    long limit;                 /* rows to print; 0 = all */
} qw_lake_scan_opts;

/* Rows of table's current snapshot as NDJSON (decimals exact, timestamps
 * RFC 3339, floats %.17g, non-finite as null). Files are pruned by product
 * partition and by exchange_ns bounds, rows by exchange_ns. */
qw_err qw_lake_admin_scan(qw_lake_admin *L, const char *table, const qw_lake_scan_opts *o,
                          const qw_lake_sink *s);

/* Per table, the files no snapshot or metadata version references and
 * older than older_than_s: "orphan PATH" (or "removed PATH"), a line per
 * table about younger ones left alone, then the total. A table whose
 * snapshots cannot all be read is reported and skipped (nothing removed
 * there); the first such error is returned after every table was tried. */
/* Iceberg's register-table for QuoteWatch's tables (all four when ntables
 * is 0): each table missing from the catalog whose folder holds metadata is
 * registered at its latest metadata.json; one line per table; a table
 * already in the catalog is left as it is. QW_NOT_FOUND if a named table
 * has no metadata; QW_INVAL for a table that is not QuoteWatch's. */
qw_err qw_lake_admin_register(qw_lake_admin *L, const char *const *tables, size_t ntables,
                              const qw_lake_sink *s);
qw_err qw_lake_admin_clean_orphans(qw_lake_admin *L, int remove, double older_than_s,
                                   const qw_lake_sink *s);

/* `lake expire`: Iceberg snapshot expiry per table (iceberg.h,
 * qw_ice_expire): the metadata without the expired snapshots is committed,
 * then the manifest lists, manifests and data files only they referenced
 * are deleted (not those a live commit lease protects). Prints "deleted
 * PATH" ("deletable PATH" in a dry run) per file, a line per table and a
 * total. The first error is returned after every table was tried. */
/* What expire / compact did, added to (optional). */
typedef struct qw_lake_totals {
    size_t snapshots_expired, files_compacted, files_written;
} qw_lake_totals;

typedef struct qw_lake_expire_opts {
    const char *table;   /* NULL or "": all four */
    int64_t before_ns;   /* cutoff; 0: older_than_s if set, else the table property */
    double older_than_s; /* cutoff = now - this, when older_than_set */
    int older_than_set;
    int retain_last; /* 0: the table's history.expire.min-snapshots-to-keep */
    int dry_run;
    qw_lake_totals *totals; /* NULL or added to */
    /* --maintain: the writer's commit turn (qw_ice_expire_opts.turn) */
    void (*turn)(void *turn_ctx, int take);
    void *turn_ctx;
} qw_lake_expire_opts;
qw_err qw_lake_admin_expire(qw_lake_admin *L, const qw_lake_expire_opts *o, const qw_lake_sink *s);

/* `lake compact` (lake_compact.c): per table and partition, the data
 * files smaller than the target are packed into bins of at most the target
 * size and each bin of two or more files rewritten as one file (rows
 * ordered by time); one Iceberg "replace" snapshot per table swaps them.
 * A table whose replaced files changed meanwhile is given up cleanly
 * ("TABLE: gave up: ..." on out, not an error). Deletes nothing: the old
 * files go with `lake expire`. */
typedef struct qw_lake_compact_opts {
    const char *table;           /* NULL or "": all four */
    const char *const *products; /* NULL: all partitions */
    size_t nproducts;
    uint64_t target_bytes;  /* 0: the table's write.target-file-size-bytes, default 128 MiB */
    qw_lake_totals *totals; /* NULL or added to */
    int tiered;             /* leave a partition's files larger than all its smaller ones together
                               (--maintain: each row rewritten O(log n) times, not once a round) */
    /* --maintain: the writer's commit turn (qw_ice_replace_opts.turn) */
    void (*turn)(void *turn_ctx, int take);
    void *turn_ctx;
} qw_lake_compact_opts;
qw_err qw_lake_admin_compact(qw_lake_admin *L, const qw_lake_compact_opts *o,
                             const qw_lake_sink *s);

#endif

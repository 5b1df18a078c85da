/* lake_read.h: read raw_orderbook and raw_trades back from the lake as
 * the messages they came from (`quotewatch replay --lake`).
 *
 * Files of the current snapshots are pruned by partition (product) and by
 * their exchange_ns bounds against [since, until]; the selected rows are
 * loaded, ordered by run (first exchange time of each run_id; snapshot
 * trades, which repeat older trades, only for a run with nothing else), then ingest
 * order (msg_id), and regrouped into messages: the level rows of one
 * message and product form one snapshot or update group (with the group's
 * feed time, msg_ns), trade rows become its trades. Replaying those through
 * the pipeline gives the books and models a replay of the original capture
 * gives (for captures without reconnects or sequence gaps, whose markers
 * are not stored; see docs/TABLES.md).
 *
 * Streamed: the rows are not held. Opening reads every selected file's
 * footer -- its statistics settle a writer's file -- and decodes the rest
 * without prices, sizes or trade ids (the runs' first times and each file's
 * first key); then a k-way merge over one cursor per file yields the rows in
 * exactly the order a sort of the whole window gives (lake_read.c DESIGN).
 * Memory: O(files open at once x one row group's decoded columns) -- the
 * files whose rows interleave, e.g. one per product and table for a
 * single run -- plus ~150 bytes per planned file; a file whose rows are
 * not in merge order (a compacted file holding runs in another order) is
 * held whole, ~100 bytes per row, while it is being merged.
 */
#ifndef QW_STORAGE_LAKE_READ_H
#define QW_STORAGE_LAKE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "feed/feed.h"
#include "objstore/objstore.h"

typedef struct qw_lake_reader qw_lake_reader;

typedef struct qw_lake_opts {
    const char *warehouse, *catalog_uri;
    const char *const *products; /* NULL = all */
    size_t nproducts;
    int64_t since_ns, until_ns; /* 0 = open */
    qw_objstore_cfg os;         /* s3:// and gs:// warehouses */
} qw_lake_opts;

typedef struct qw_lake_stats {
    uint64_t files_total, files_read, rows, messages, runs;
} qw_lake_stats;

qw_err qw_lake_open(qw_lake_reader **out, const qw_lake_opts *o, char *errbuf, size_t errlen);
/* Options from the configuration (warehouse, catalog, --products when given,
 * --since/--until); ids: storage for the product pointers
 * (QW_CONFIG_MAX_PRODUCTS entries). */
void qw_lake_opts_from_config(qw_lake_opts *o, const char **ids, const qw_config *cfg);
/* One log line: messages, rows, files read of files planned, runs; then
 * 1 when qw_lake_next stopped early on an error (logged), else 0. */
int qw_lake_log_stats(const qw_lake_reader *r);
/* Next message in order: QW_OK (m valid until the next call; *recv_ns its
 * receive time or 0; m->gap set when the original message followed a
 * sequence gap; *connect = 1 for a new-connection marker, then m has no
 * events; m->text is the empty string), QW_NOT_FOUND at the end. */
qw_err qw_lake_next(qw_lake_reader *r, qw_msg *m, int64_t *recv_ns, int *connect);
const qw_lake_stats *qw_lake_get_stats(const qw_lake_reader *r);
/* NULL, or why qw_lake_next stopped early (a file unreadable or changed
 * since qw_lake_open read it): the messages handed out are then a prefix. */
const char *qw_lake_error(const qw_lake_reader *r);
void qw_lake_close(qw_lake_reader *r);

#endif

/* store.h: the persistence writer (Iceberg lake, docs/TABLES.md).
 *
 * The loop thread turns what the pipeline sees into fixed-size records
 * (storage/records.h) and pushes them into a bounded SPSC ring; the writer
 * thread buffers them per table and, on either trigger (flush_rows rows in
 * a table, or flush_ms since the last flush) or at close, writes one
 * Parquet file per (table, product, day) and commits each table's files
 * with one Iceberg fast append through the SQL catalog. Files are written
 * and fsynced before the commit that references them; a failed commit
 * keeps the rows buffered (up to 4 x flush_rows per table) and retries with
 * backoff, and the files it wrote are removed.
 *
 * Live mode never blocks: a full ring drops the record and counts it.
 * Replay mode (opts.blocking) waits for room instead, so nothing is lost.
 */
#ifndef QW_STORAGE_STORE_H
#define QW_STORAGE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/fileio.h"
#include "features/features.h"
#include "feed/feed.h"
#include "objstore/objstore.h"
#include "storage/records.h"
#include "storage/stats.h"

typedef struct qw_store qw_store;

/* The ring's default size depends on the mode. Live must absorb the
 * writer's pauses (a flush, a slow commit, a stalled disk) without losing
 * rows, and dropping is its only alternative to blocking the loop thread:
 * 256 Ki records (52 MiB at 208 B; sized for a 512 MiB instance). Replay
 * waits for room instead, so a large ring buys it nothing but cold memory:
 * each slot of a 52 MiB ring is touched first by the producer (a page fault
 * per 4 KiB) and is out of cache by the time the writer reads it. 32 Ki
 * records (6.5 MiB, huge pages: core/spsc.c): the producer now waits for the
 * writer more often (while it encodes a file), and the run still costs less
 * CPU and no more wall time; measured in docs/PERFORMANCE.md ("Less CPU per
 * persisted row"). Both rings are
 * advised for huge pages; live's first pass over its 52 MiB then takes 26
 * faults instead of 13,000, each of which may have the kernel compact memory
 * for a 2 MiB page (THP defrag "madvise"): a rare, short stall of the loop
 * thread during the first 256 Ki rows, never a drop by itself. */
#define QW_STORE_QUEUE_LIVE ((size_t)1 << 18)
#define QW_STORE_QUEUE_REPLAY ((size_t)1 << 15)

typedef struct qw_store_opts {
    const char *warehouse;   /* file:///abs, file://./rel, a plain path, s3://B/P or gs://B/P;
                                "" = ./warehouse */
    const char *catalog_uri; /* "" = SQLite at <warehouse>/catalog.db (local warehouses only) */
    qw_objstore_cfg os;      /* object-store endpoint / addressing (s3://, gs://) */
    long flush_rows;         /* 0 = 50,000 */
    long flush_ms;           /* 0 = 5,000 */
    qw_compression compression;
    int zstd_level;               /* 0 = 3 */
    int delta;                    /* timestamps, longs, decimals as DELTA_BINARY_PACKED */
    int blocking;                 /* replay: back-pressure instead of drops */
    size_t queue_records;         /* 0 = QW_STORE_QUEUE_LIVE, or _REPLAY when blocking */
    long close_timeout_ms;        /* qw_store_close finishes within this (rows not committed by then
                                     are given up, counted and logged); 0 = no bound */
    int shard_i, shard_n;         /* live --shard I/N (shard_n 0: none): run_id gets "-sIofN" */
    qw_fileio *io;                /* borrowed, shared by the writer and committer threads;
                                            NULL = the local backend */
    long maintain_ms;             /* --maintain: lake expire + compact every this often on a
                                     background thread (store_maint.c); 0 = off */
    long maintain_expire_age_ms;  /* --maintain-expire-age; 0 = the table property */
    int64_t maintain_target_size; /* --maintain-target-size; 0 = the table property */
    qw_featset features;          /* --features: the opt-in feature columns of the features
                                     table this run fills (the others are null); zero = seed */
} qw_store_opts;

/* Fill opts from the configuration (warehouse, catalog, flush triggers,
 * compression); blocking: replay back-pressure instead of drops. */
void qw_store_opts_from_config(qw_store_opts *o, const qw_config *c, int blocking);

/* Opens the catalog, creates the namespace and the four tables when
 * missing (on the calling thread, so configuration errors surface at
 * start), then starts the writer thread. */
qw_err qw_store_open(qw_store **out, const qw_store_opts *o, qw_store_stats *stats, char *errbuf,
                     size_t errlen);
/* Flush, commit and stop the threads, within close_timeout_ms when set;
 * QW_IO when rows could not be committed (stats.rows_given_up, the log).
 * Logs one line: rows committed this run and rows given up. */
qw_err qw_store_close(qw_store *s);
/* The shutdown began (a signal): close_timeout_ms counts from now, so the
 * time spent closing the feed connection is inside the budget. Idempotent. */
void qw_store_begin_close(qw_store *s);

/* Producer side (loop thread). */
qw_err qw_store_put(qw_store *s, const qw_rec *r);
/* Every level change / snapshot level and trade of a parsed message (a
 * message that followed a sequence gap also gets a "gap" marker row). */
void qw_store_put_msg(qw_store *s, const qw_msg *m, int64_t recv_ns);
/* A new connection starts here (live reconnects, recorder connect lines):
 * a "connect" marker row, so replays from the lake flag books as the
 * original run did. */
void qw_store_put_connect(qw_store *s, int64_t recv_ns); /* s NULL: no-op */
void qw_store_put_sample(qw_store *s, const char *product, const qw_sample *x);
void qw_store_put_label(qw_store *s, const char *product, const qw_labeled *x, int ready);

/* Resolve warehouse/catalog settings the way qw_store_open does (for the
 * reader and `quotewatch lake`): absolute warehouse URI and catalog URI.
 * s3:// and gs:// warehouses are kept as given (trailing '/' stripped) and
 * need an explicit PostgreSQL catalog: a SQLite file cannot be shared by
 * the machines that share a bucket (QW_ALLOW_LOCAL_CATALOG=1 allows one, for
 * tests on one machine). */
qw_err qw_store_resolve(const char *warehouse, const char *catalog_uri, char *wh, size_t whcap,
                        char *cat, size_t catcap, char *errbuf, size_t errlen);
/* The object-store settings of the configuration (--s3-endpoint, ...). */
void qw_store_objstore_cfg(qw_objstore_cfg *o, const qw_config *c);
/* The fileio for a resolved warehouse URI (local, or the object store after
 * a reachability check of the bucket; a sentence in errbuf). */
qw_err qw_store_fileio(qw_fileio **io, const char *wh, const qw_objstore_cfg *os, char *errbuf,
                       size_t errlen);
/* mkdir -p; 0 or -1 (errno). */
int qw_store_mkdirs(const char *path);

#endif

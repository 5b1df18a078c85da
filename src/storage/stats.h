/* stats.h: persistence counters shared by the writer thread (writes) and
 * the event-loop thread (reads for the dashboard, /metrics, summaries).
 * Every field is atomic with relaxed ordering: readers see a slightly
 * stale but never torn value. No other state crosses the thread boundary
 * outside the record queue.
 */
#ifndef QW_STORAGE_STATS_H
#define QW_STORAGE_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"

enum { QW_TBL_RAW_ORDERBOOK, QW_TBL_RAW_TRADES, QW_TBL_FEATURES, QW_TBL_LABELS, QW_TBL_COUNT };

typedef struct qw_store_stats {
    _Atomic int enabled;                         /* persistence configured */
    _Atomic uint64_t queued;                     /* records in the queue now */
    _Atomic uint64_t capacity;                   /* queue capacity in records */
    _Atomic uint64_t dropped;                    /* live: records dropped on a full queue */
    _Atomic uint64_t rows_written[QW_TBL_COUNT]; /* rows committed per table */
    _Atomic uint64_t files_written;              /* data files committed */
    _Atomic uint64_t bytes_written;              /* data file bytes committed */
    _Atomic uint64_t commits;                    /* successful catalog commits */
    _Atomic uint64_t commit_conflicts;           /* CAS conflicts retried */
    _Atomic uint64_t jobs_grouped;               /* flushes committed with an earlier one's */
    _Atomic uint64_t errors;                     /* failed flushes/commits (retried with backoff) */
    _Atomic uint64_t rows_given_up; /* rows that could not be committed before the end (close) */
    _Atomic uint64_t
        trades_deduplicated;        /* repeated trades (same product, id <= seen) not written */
    _Atomic int64_t last_commit_ns; /* wall clock of the last commit, 0 = none */
    _Atomic uint64_t last_commit_latency_ns;
    _Atomic uint64_t
        commit_latency_sum_ns; /* over `commits`: flush start -> committed (queueing included) */
    _Atomic uint64_t commit_work_sum_ns; /* over `commits`: the committer's own time: fsyncs,
                                            manifest, list, metadata JSON, catalog swap */
    /* the same two times as distributions, one count per commit in the
     * buckets of core/hist.h (ns); qw_store_stats_hist() reads one out */
    _Atomic uint64_t commit_latency_b[QW_HIST_BUCKETS], commit_work_b[QW_HIST_BUCKETS];
    _Atomic uint64_t writer_cpu_ns; /* CPU time of the writer thread so far (one core) */
    _Atomic uint64_t commit_cpu_ns; /* CPU time of the committer thread (fsync waits excluded) */
    /* s3:// and gs:// warehouses: the object-store client's counters, copied
     * by the committer after each commit attempt (objstore = 0: not remote) */
    _Atomic int objstore;
    _Atomic uint64_t os_requests, os_retries, os_failures, os_bytes_up, os_bytes_down,
        os_multipart_aborts, os_token_fetches, os_auth_refreshes, os_connects;
    /* --maintain (store_maint.c) */
    _Atomic uint64_t maint_runs;              /* maintenance rounds done */
    _Atomic uint64_t maint_errors;            /* rounds in which expire or compact failed */
    _Atomic uint64_t maint_snapshots_expired; /* snapshots expired */
    _Atomic uint64_t maint_files_compacted;   /* data files replaced by compaction */
} qw_store_stats;

/* The counters as one JSON object (the only serialization; key set in
 * docs/STORAGE.md): {"enabled":false} when s is NULL or persistence is
 * off, else enabled, queued, capacity, dropped, rows_written{<table>...},
 * files, bytes, commits, commit_conflicts, jobs_grouped, errors, rows_given_up,
 * trades_deduplicated, last_commit_ns, last_commit_latency_ms, flush_commit_ms_avg, commit_ms_avg,
 * flush_commit_ms_p50, flush_commit_ms_p99, commit_ms_p50, commit_ms_p99, writer_cpu_s,
 * commit_cpu_s, maintenance_runs, maintenance_errors,
 * maintenance_snapshots_expired, maintenance_files_compacted, and for an object-store
 * warehouse objstore{requests, retries, failures, bytes_up, bytes_down, multipart_aborts,
 * token_fetches, auth_refreshes, connects}.
 * Writes at most cap bytes (NUL-terminated when cap > 0) and returns the length the whole text
 * needs, as snprintf does. */
size_t qw_store_stats_json(const qw_store_stats *s, char *buf, size_t cap);
/* One commit-time distribution as a histogram (a snapshot of the atomic
 * buckets): work = 1 the committer's own time, 0 flush start -> committed.
 * Quantiles are bucket upper edges (within 6.25%, core/hist.h). */
void qw_store_stats_hist(const qw_store_stats *s, int work, qw_hist *out);

#endif

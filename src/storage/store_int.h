/* store_int.h: internals of the lake writer shared by store.c (thread,
 * flush, commit) and store_buf.c (row buffers as columns). */
#ifndef QW_STORAGE_STORE_INT_H
#define QW_STORAGE_STORE_INT_H

#include <limits.h>
#include <pthread.h>

#include "core/fileio.h"
#include "core/log.h"
#include "core/spsc.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "parquet/parquet.h"
#include "parquet/thrift.h"
#include "storage/store.h"
#include "storage/tables.h"

/* One partition (product, day) of one table: its buffered rows as
 * columns, filled as records arrive, so a flush hands whole columns to the
 * Parquet writer. Arrays are indexed by row; which ones exist depends on
 * the column (see col_store). Kept across flushes: buffers stay warm. */
typedef struct pbuf {
    char product[QW_REC_PRODUCT_MAX];
    int64_t day;
    int64_t lo_ns, hi_ns; /* exchange times that fall on day: [lo_ns, hi_ns) */
    uint64_t order;       /* rows buffered before this partition's first: files keep ingest order */
    size_t n, cap;
    int64_t *i[QW_TBL_MAX_COLS];
    qw_sz *w[QW_TBL_MAX_COLS]; /* sizes (128-bit, core/dec.h) */
    double *d[QW_TBL_MAX_COLS];
    uint8_t *v[QW_TBL_MAX_COLS];     /* optional columns: 1 = present */
    uint32_t *code[QW_TBL_MAX_COLS]; /* dictionary string columns */
    uint32_t *soff;                  /* the free string column (raw_trades.trade_id) */
    qw_tbuf sb;
} pbuf;

typedef struct tbuf {
    pbuf *p;
    size_t np, cap; /* partition slots; n == 0 means free */
    size_t n;       /* buffered rows across partitions */
    size_t last;    /* partition of the previous row */
    uint64_t seq;   /* rows appended since the last flush */
} tbuf;

/* A flush's files for one table, written (not yet fsynced) and waiting for
 * the committer thread: fsync them, then one Iceberg fast append. */
typedef struct qw__job {
    int t;
    size_t nfiles, rows;
    qw_ice_data_file *files; /* owned */
    int64_t t0;              /* flush start (monotonic): commit latency */
    int64_t snap_id;         /* the same on every attempt: a retry after an unknown outcome
                                finds the snapshot if it landed (no duplicate rows) */
    int unknown;             /* the last attempt's outcome is unknown */
    int64_t since_ms;        /* wall clock before its first file was created (lease) */
    size_t flushes;          /* flushes it carries (group commit: store_commit.c absorb) */
} qw__job;

#define QW__JOBS                                                                                   \
    4 /* queued commits at most (one flush of every table); then the writer keeps rows buffered */

#define QW__TRADE_SEEN 1024 /* products tracked for trade de-duplication */

struct qw_store {
    qw_store_opts o;
    qw_store_stats *st;
    qw_spsc *q;
    pthread_t th;
    int started;
    qw_catalog *cat;
    qw_ice_catalog_ops ops;
    qw_fileio *io; /* every lake byte goes through it (borrowed from opts or own_io) */
    int own_io;
    qw_pq_file_stats ps;    /* writer thread: stats of the file being closed (large) */
    char wh[PATH_MAX + 16]; /* file:///abs */
    char whpath[PATH_MAX];  /* /abs */
    char caturi[PATH_MAX + 32];
    char run_id[64]; /* UUID, "-sIofN" for a product shard */
    tbuf buf[QW_TBL_COUNT];
    qw_pq_ctx *pqx;  /* ZSTD context and page scratch, reused for every file */
    uint32_t *zeros; /* constant-column codes: all 0 */
    size_t nzeros;
    int64_t last_flush_ns, retry_at_ns;
    int retry_ms;
    uint64_t file_seq;
    int64_t msg_id;     /* producer side: ingest message counter */
    uint32_t feat_cols; /* bit i: opt-in feature column i is filled (o.features) */
    /* producer side: the highest numeric trade id written per product this
     * run (open addressing on the product id); a trade at or below it is a
     * repeat (snapshot trades after a reconnect) and is not written again */
    struct {
        char product[32];
        uint64_t max_id;
    } seen[QW__TRADE_SEEN];
    _Atomic int final_error; /* writer and committer threads */
    qw_ratelimit rl;
    /* committer thread (store_commit.c) */
    pthread_t cth;
    int cstarted;
    pthread_mutex_t cmu;
    pthread_cond_t ccv;
    pthread_mutex_t tmu; /* the commit turn: held by the committer around each commit and by
                            the --maintain thread for a replace that lost the race twice */
    qw__job jobs[QW__JOBS];
    size_t jhead, jcount;
    size_t jflushes; /* flushes in the queued jobs: at most QW__JOBS (the writer's room) */
    int closing;     /* under cmu: closing: failing commits give up after close_deadline_ns */
    int writer_done; /* under cmu: no more jobs will come */
    int64_t close_deadline_ns;
    _Atomic int64_t hard_deadline_ns; /* close_timeout_ms: nothing more is attempted after it */
    qw_ratelimit crl;
    /* commit leases (store_lease.c): one per table, holder = this run */
    char holder[128];
    _Atomic int64_t writing_ms[QW_TBL_COUNT]; /* writer: a flush's files are being written since
                                                 (wall ms; 0: none); read by the committer */
    int64_t lease_since[QW_TBL_COUNT];        /* committer: since_ms last written */
    int64_t last_trim_ns;                     /* committer: the last malloc_trim (store_commit.c) */
    int lease_pinned[QW_TBL_COUNT]; /* committer: a given-up commit of unknown outcome: the lease
                                       never advances (its files may be referenced) */
    int64_t lease_renew_ns;         /* committer: last renewal (monotonic) */
    _Atomic int cat_failing;        /* committer: the last catalog statement failed */
    /* --maintain thread (store_maint.c) */
    pthread_t mth;
    pthread_mutex_t mmu;
    pthread_cond_t mcv;
    int mstarted, mstop;
};

typedef struct qw__store_dicts {
    const char *prod, *run;
    uint32_t prod_len, run_len;
} qw__store_dicts;

/* Append r to table t's buffers; 0, or -1 when out of memory (dropped). */
int qw__store_buffer_row(qw_store *s, int t, const qw_rec *r);
void qw__store_part_free(pbuf *p, int t);
int qw__store_columns(qw_store *s, int t, const pbuf *p, qw__store_dicts *dd, qw_pq_column *cols,
                      qw_pq_vec *vec);

/* Committer (store_commit.c). */
qw_err qw__commit_start(qw_store *s);
int qw__commit_room(qw_store *s);                      /* a job can be queued now */
void qw__commit_push(qw_store *s, const qw__job *j);   /* needs room */
void qw__commit_closing(qw_store *s);                  /* close started: retries become bounded */
void qw__commit_writer_done(qw_store *s);              /* the writer queued its last job */
void qw__commit_wait_room(qw_store *s);                /* block until a job can be queued */
void qw__commit_wait_room_ns(qw_store *s, int64_t ns); /* ... or at most ns */
void qw__commit_finish(qw_store *s);                   /* drain (bounded), join */
void qw__remove_files(qw_fileio *io, const qw_ice_data_file *f, size_t n);
/* Copy the object-store client's counters into the stats (no-op for file://). */
void qw__os_counters(qw_store *s);

/* --maintain (store_maint.c): start the thread when o.maintain_ms > 0;
 * stop asks it to end after its current round; join waits for it. */
qw_err qw__maint_start(qw_store *s);
void qw__maint_stop(qw_store *s);
void qw__maint_join(qw_store *s);

/* Commit leases (store_lease.c; docs/STORAGE.md "Commit leases"). */
qw_err qw__lease_take(qw_store *s, char *errbuf, size_t errlen); /* open, before any file */
void qw__lease_renew(qw_store *s, int force); /* committer: at most every heartbeat */
void qw__lease_release(qw_store *s);          /* close, after the committer has ended */

#endif

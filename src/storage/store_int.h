/* store_int.h: internals of the lake writer shared by store.c (thread,
 * flush, commit) and store_buf.c (row buffers as columns). */
#ifndef QW_STORAGE_STORE_INT_H
#define QW_STORAGE_STORE_INT_H

#include <limits.h>
#include <pthread.h>

#include "core/log.h"
#include "core/spsc.h"
#include "storage/catalog.h"
#include "storage/fileio.h"
#include "storage/iceberg.h"
#include "storage/parquet.h"
#include "storage/store.h"
#include "storage/tables.h"
#include "storage/thrift.h"

/* One partition (product, day) of one table: its buffered rows as
 * columns, filled as records arrive, so a flush hands whole columns to the
 * Parquet writer. Arrays are indexed by row; which ones exist depends on
 * the column (see col_store). Kept across flushes: buffers stay warm. */
typedef struct pbuf {
    char product[QW_REC_PRODUCT_MAX];
    int64_t day;
    uint64_t order; /* rows buffered before this partition's first: files keep ingest order */
    size_t n, cap;
    int64_t *i[QW_TBL_MAX_COLS];
    double *d[QW_TBL_MAX_COLS];
    uint8_t *v[QW_TBL_MAX_COLS];    /* optional columns: 1 = present */
    uint32_t *code[QW_TBL_MAX_COLS]; /* dictionary string columns */
    uint32_t *soff;                 /* the free string column (raw_trades.trade_id) */
    qw_tbuf sb;
} pbuf;

typedef struct tbuf {
    pbuf *p;
    size_t np, cap; /* partition slots; n == 0 means free */
    size_t n;       /* buffered rows across partitions */
    size_t last;    /* partition of the previous row */
    uint64_t seq;   /* rows appended since the last flush */
} tbuf;

struct qw_store {
    qw_store_opts o;
    qw_store_stats *st;
    qw_spsc *q;
    pthread_t th;
    int started;
    qw_catalog *cat;
    qw_ice_catalog_ops ops;
    qw_fileio *io;
    char wh[PATH_MAX + 16]; /* file:///abs */
    char whpath[PATH_MAX];  /* /abs */
    char caturi[PATH_MAX + 32];
    char run_id[40];
    tbuf buf[QW_TBL_COUNT];
    qw_pq_ctx *pqx;  /* ZSTD context and page scratch, reused for every file */
    uint32_t *zeros; /* constant-column codes: all 0 */
    size_t nzeros;
    int64_t last_flush_ns, retry_at_ns;
    int retry_ms;
    uint64_t file_seq;
    int64_t msg_id; /* producer side: ingest message counter */
    int final_error;
    qw_ratelimit rl;
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

#endif

/* parquet.h: Apache Parquet writer (docs/PARQUET.md).
 *
 * Flat schemas (one level of required/optional primitive columns), data
 * page v1 with RLE definition levels, PLAIN values or RLE_DICTIONARY for
 * string columns (a PLAIN dictionary page per chunk, indices in the
 * RLE/bit-packed hybrid), CRC32 on every page, column statistics
 * (min_value/max_value/null_count, type-defined order), ZSTD (default),
 * SNAPPY or no compression, Iceberg field ids on every schema element.
 *
 * Two ways to append rows:
 *  - one value per column, then qw_pq_end_row; values are buffered per
 *    column (buffers reused across row groups: no allocation per row once
 *    warm) and a row group is written when its buffered size passes
 *    row_group_bytes;
 *  - qw_pq_write_rows: whole columns from the caller's arrays (the fast
 *    path of the lake writer): encoded straight from those arrays, split
 *    into row groups by row_group_bytes, no per-value calls, no copy
 *    besides the page buffer. String columns may come with the caller's
 *    dictionary (codes per row), written as RLE_DICTIONARY.
 * Bytes go through a qw_fileio stream (core/fileio.h; opts.io, NULL = local
 * files), appended in QW_FILEIO_CHUNK pieces. close() writes the footer and
 * commits the stream: the file appears complete under its name and is
 * durable when it returns QW_OK (unless defer_sync). One thread per writer
 * (and per qw_pq_ctx).
 */
#ifndef QW_PARQUET_H
#define QW_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "core/dec.h"
#include "core/err.h"
#include "core/fileio.h"

#define QW_PQ_MAX_COLS 64
#define QW_PQ_BOUND_MAX 64

typedef enum {
    QW_PQ_BOOL,
    QW_PQ_INT32,
    QW_PQ_INT64,
    QW_PQ_DOUBLE,
    QW_PQ_STRING,       /* BYTE_ARRAY, STRING/UTF8 */
    QW_PQ_DECIMAL_18_8, /* INT64, DECIMAL(18, 8) */
    QW_PQ_DECIMAL_38_8, /* FIXED_LEN_BYTE_ARRAY(16), DECIMAL(38, 8); int64 e8 values */
    QW_PQ_TIMESTAMP_US, /* INT64, TIMESTAMP(UTC, MICROS) */
    QW_PQ_TIMESTAMP_NS, /* INT64, TIMESTAMP(UTC, NANOS) */
    QW_PQ_DATE,         /* INT32, DATE */
} qw_pq_type;

/* Compression of every column chunk (same order as core/config.h's
 * qw_compression, which the lake writer maps explicitly). */
typedef enum { QW_PQ_ZSTD, QW_PQ_SNAPPY, QW_PQ_UNCOMPRESSED } qw_pq_codec;

typedef struct qw_pq_column {
    const char *name;
    int field_id; /* Iceberg field id; 0 = none */
    qw_pq_type type;
    int required;
    int delta; /* INT64-backed types: DELTA_BINARY_PACKED values instead of PLAIN */
} qw_pq_column;

/* Compression context and page scratch, reusable across writers (one
 * thread at a time): saves the ZSTD tables and page buffers per file. */
typedef struct qw_pq_ctx qw_pq_ctx;
qw_err qw_pq_ctx_new(qw_pq_ctx **out);
void qw_pq_ctx_free(qw_pq_ctx *c);

typedef struct qw_pq_opts {
    qw_pq_codec compression; /* QW_PQ_ZSTD (default), QW_PQ_SNAPPY, QW_PQ_UNCOMPRESSED */
    int zstd_level;          /* 0 = 3 */
    size_t row_group_bytes;  /* 0 = 128 MiB (buffered, uncompressed estimate) */
    size_t page_bytes;       /* 0 = 1 MiB */
    int dictionary;          /* dictionary-encode string columns when it pays */
    qw_pq_ctx *ctx;          /* borrowed; NULL = the writer makes its own */
    int defer_sync;          /* close() commits with QW_FILEIO_DEFER_SYNC: the caller
                                qw_fileio_sync()s the file before anything refers to it */
    qw_fileio *io;           /* borrowed; NULL = local files (path is a file URI or path) */
} qw_pq_opts;

typedef struct qw_pq_col_stats {
    int field_id;
    uint64_t values; /* including nulls */
    uint64_t nulls;
    uint64_t bytes;       /* compressed size of the column's chunks on disk (headers included) */
    int has_bounds;       /* at least one non-null value (doubles: non-NaN) */
    int64_t min_i, max_i; /* bool, int32, int64, decimal (unscaled), timestamps, date */
    qw_sz min_w, max_w;   /* DECIMAL(38, 8): the bounds at full width (min_i/max_i: clamped) */
    double min_d, max_d;  /* double */
    char min_s[QW_PQ_BOUND_MAX], max_s[QW_PQ_BOUND_MAX]; /* string prefixes */
    size_t min_len, max_len;
    int min_trunc, max_trunc; /* the string was longer than the prefix */
} qw_pq_col_stats;

typedef struct qw_pq_file_stats {
    uint64_t rows, file_bytes, row_groups;
    size_t ncols;
    qw_pq_col_stats col[QW_PQ_MAX_COLS];
} qw_pq_file_stats;

typedef struct qw_pq_writer qw_pq_writer;

qw_err qw_pq_writer_open(qw_pq_writer **w, const char *path, const qw_pq_column *cols, size_t ncols,
                         const qw_pq_opts *o, char *errbuf, size_t errlen);
qw_err qw_pq_put_i32(qw_pq_writer *w, size_t col, int32_t v);
qw_err qw_pq_put_i64(qw_pq_writer *w, size_t col, int64_t v);
qw_err qw_pq_put_f64(qw_pq_writer *w, size_t col, double v);
qw_err qw_pq_put_bool(qw_pq_writer *w, size_t col, int v);
qw_err qw_pq_put_str(qw_pq_writer *w, size_t col, const char *s, size_t n);
qw_err qw_pq_put_null(qw_pq_writer *w, size_t col); /* QW_INVAL on a required column */
/* Every column got exactly one value since the last row, else QW_INVAL
 * (and the row is discarded). */
qw_err qw_pq_end_row(qw_pq_writer *w);

/* One column of nrows rows for qw_pq_write_rows. Arrays are indexed by
 * row; a null row's value slot is ignored. */
typedef struct qw_pq_vec {
    const int64_t *i64;   /* BOOL (0/1), INT32, DATE, INT64, decimals (unscaled), timestamps */
    const qw_sz *i128;    /* DECIMAL(38, 8) given as 128-bit values (else from i64) */
    const double *f64;    /* DOUBLE */
    const uint8_t *valid; /* 1 = present; NULL = every row present (required columns: NULL) */
    /* STRING, either a dictionary of ndict values and one code per row ... */
    const uint32_t *code;
    const char *const *dict;
    const uint32_t *dict_len;
    uint32_t ndict;
    /* ... or per-row offsets: row r is sbytes[soff[r], soff[r + 1]) */
    const uint32_t *soff;
    const uint8_t *sbytes;
} qw_pq_vec;

/* Append nrows rows given as ncols column vectors (buffered single-value
 * rows are written first). Values are range-checked (decimal(18,8),
 * int32, dictionary codes); on any error the writer is failed: abort it. */
qw_err qw_pq_write_rows(qw_pq_writer *w, const qw_pq_vec *cols, size_t nrows);
/* Footer, commit the stream (durable unless defer_sync); frees w whatever
 * the result (on error nothing is left under the name). out may be NULL. */
qw_err qw_pq_writer_close(qw_pq_writer *w, qw_pq_file_stats *out);
void qw_pq_writer_abort(qw_pq_writer *w); /* abort the stream (nothing left), free */

#endif

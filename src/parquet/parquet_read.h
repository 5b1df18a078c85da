/* parquet_read.h: a strict Parquet reader for flat schemas (ours and
 * other engines'): footer and page headers validated against the file
 * size, page CRCs checked when present, PLAIN / PLAIN_DICTIONARY /
 * RLE_DICTIONARY / RLE (booleans) values, data pages v1 and v2, RLE
 * definition levels, UNCOMPRESSED / SNAPPY / GZIP / ZSTD. Hostile or
 * truncated input gives QW_CORRUPT and a message, never a crash;
 * DECIMAL columns of FIXED_LEN_BYTE_ARRAY (up to 16 bytes, as Spark and
 * QuoteWatch write precision > 18) land in i64 when the value fits it;
 * features we do not read (nested columns, INT96, other
 * FIXED_LEN_BYTE_ARRAY, other codecs) give QW_UNSUPPORTED for that column or file.
 */
#ifndef QW_PARQUET_PARQUET_READ_H
#define QW_PARQUET_PARQUET_READ_H

#include <stddef.h>
#include <stdint.h>

#include "core/dec.h"
#include "core/err.h"
#include "core/fileio.h"

typedef struct qw_pqr qw_pqr;

typedef struct qw_pqr_field {
    char name[128];
    int field_id; /* 0 when absent */
    int phys;     /* parquet physical type (0 BOOLEAN .. 7 FIXED_LEN_BYTE_ARRAY) */
    int required;
    int converted; /* converted_type or -1 */
    int logical; /* LogicalType union field id or 0 (1 STRING, 5 DECIMAL, 6 DATE, 8 TIMESTAMP...) */
    int scale, precision;
    int ts_unit;     /* TIMESTAMP: 1 millis, 2 micros, 3 nanos */
    int type_length; /* FIXED_LEN_BYTE_ARRAY length, 0 otherwise */
} qw_pqr_field;

/* One column of one row group, by row: valid[r] = 0 for nulls. Integer-like
 * physical types (BOOLEAN, INT32, INT64) land in i64, FIXED_LEN_BYTE_ARRAY
 * decimals in i128 (and in i64, clamped to its range), FLOAT/DOUBLE in f64,
 * BYTE_ARRAY in soff/sbytes (row r = sbytes[soff[r] .. soff[r+1])). */
typedef struct qw_pqr_column {
    size_t n;
    int64_t *i64;
    double *f64;
    uint8_t *valid;
    uint32_t *soff;
    uint8_t *sbytes;
    size_t cap, scap;
    qw_sz *i128; /* FIXED_LEN_BYTE_ARRAY decimals at full width (i64: clamped) */
    size_t wcap;
    /* A BYTE_ARRAY column read with qw_pqr_dict_indices on (ids = 1): a
     * string table, string k = sbytes[toff[k] .. toff[k + 1]) for k < nstr,
     * and row r = string sid[r]; soff is not used. */
    int ids;
    uint32_t *sid, *toff;
    size_t nstr, idcap, tcap;
} qw_pqr_column;

/* Opens uri through io (NULL = local files) with ranged reads: the footer
 * first, then each column chunk when read. The file must be at most
 * max_bytes and must not change while the reader is open. */
qw_err qw_pqr_open_io(qw_pqr **out, qw_fileio *io, const char *uri, size_t max_bytes, char *errbuf,
                      size_t errlen);
/* Same, the file's size known (an Iceberg manifest's file_size_in_bytes;
 * 0: unknown, stat it): no stat, and the leading magic is checked only when
 * the tail read covers it (one request for the footer on an object store,
 * as Iceberg's own readers do). A wrong size fails the footer checks. */
qw_err qw_pqr_open_io_sized(qw_pqr **out, qw_fileio *io, const char *uri, uint64_t size,
                            size_t max_bytes, char *errbuf, size_t errlen);
/* qw_pqr_open_io on the local backend. */
qw_err qw_pqr_open(qw_pqr **out, const char *path, size_t max_bytes, char *errbuf, size_t errlen);
/* Same over a caller-owned buffer that must outlive the reader. */
qw_err qw_pqr_open_mem(qw_pqr **out, const uint8_t *data, size_t len, char *errbuf, size_t errlen);
void qw_pqr_close(qw_pqr *r);

/* The buffers one qw_pqr_read decodes in (decompressed pages, levels,
 * dictionary, the column chunk read through fileio). Each reader has its
 * own; readers used on one thread -- one after another or open together --
 * can share one set instead, so a file opened does not grow (and
 * page-fault) fresh ones. */
typedef struct qw_pqr_scratch qw_pqr_scratch;
qw_pqr_scratch *qw_pqr_scratch_new(void); /* NULL: out of memory */
void qw_pqr_scratch_free(qw_pqr_scratch *s);
/* r decodes in s from now on (NULL: its own again); s must outlive r's
 * reads and must not be used by two threads at once. */
void qw_pqr_use_scratch(qw_pqr *r, qw_pqr_scratch *s);

/* on: qw_pqr_read fills only the arrays of each column's type -- valid,
 * and i64 (BOOLEAN, INT32, INT64; decimals with i128), f64 (FLOAT,
 * DOUBLE) or soff/sbytes (BYTE_ARRAY) -- and leaves the others as they
 * were, instead of zeroing them: for readers that read nothing else. */
void qw_pqr_typed_arrays(qw_pqr *r, int on);

/* on: qw_pqr_read gives each BYTE_ARRAY column as a string table and a
 * uint32_t index per row (qw_pqr_column ids, sid, toff, nstr) instead of
 * a copy of each row's bytes in soff/sbytes: the table holds the chunk's
 * dictionary (appended once, on its first dictionary-encoded page), then
 * each PLAIN page's values one per present row, and one empty string for
 * null rows if any. Equal indices mean equal strings; different indices
 * may still hold equal strings (a PLAIN page's repeats, a dictionary's
 * duplicates). qw_pqr_str reads either form. */
void qw_pqr_dict_indices(qw_pqr *r, int on);

size_t qw_pqr_ncols(const qw_pqr *r);
const qw_pqr_field *qw_pqr_field_at(const qw_pqr *r, size_t i);
size_t qw_pqr_row_groups(const qw_pqr *r);
uint64_t qw_pqr_rg_rows(const qw_pqr *r, size_t rg);
uint64_t qw_pqr_num_rows(const qw_pqr *r);

/* Footer statistics of one column chunk (ColumnMetaData.statistics). The
 * bounds are min_value / max_value, kept only when the footer's
 * column_orders gives the column TypeDefinedOrder (without it their order
 * is undefined), the writer did not mark them inexact and they are at most
 * QW_PQR_STAT_MAX bytes; the deprecated min / max (string order undefined)
 * are not read. Nothing here is checked against the pages: a reader that
 * acts on statistics must check the rows it later decodes. */
#define QW_PQR_STAT_MAX 64
typedef struct qw_pqr_stats {
    int64_t null_count;       /* -1: absent */
    const uint8_t *min, *max; /* PLAIN bytes, no length prefix; NULL: unknown */
    size_t min_len, max_len;
    /* BOOLEAN, INT32, INT64 of signed order: the bounds as integers */
    int has_imin, has_imax;
    int64_t imin, imax;
} qw_pqr_stats;
/* 0, or -1 when rg or col is out of range (*s then knows nothing). The
 * pointers live as long as r. */
int qw_pqr_stats_get(const qw_pqr *r, size_t rg, size_t col, qw_pqr_stats *s);

qw_err qw_pqr_column_alloc(qw_pqr_column *c); /* zero it */
void qw_pqr_column_free(qw_pqr_column *c);
qw_err qw_pqr_read(qw_pqr *r, size_t rg, size_t col, qw_pqr_column *out);
const char *qw_pqr_str(const qw_pqr_column *c, size_t row, size_t *len);
const char *qw_pqr_errmsg(const qw_pqr *r);

#endif

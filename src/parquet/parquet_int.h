/* parquet_int.h: Parquet format constants and helpers shared by the
 * writer (parquet.c) and the reader (parquet_read.c). Values are the
 * enums of apache/parquet-format parquet.thrift. */
#ifndef QW_PARQUET_PARQUET_INT_H
#define QW_PARQUET_PARQUET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parquet/parquet.h"
#include "parquet/thrift.h"

enum { /* Type */
       QW_PQ_PHYS_BOOLEAN = 0,
       QW_PQ_PHYS_INT32 = 1,
       QW_PQ_PHYS_INT64 = 2,
       QW_PQ_PHYS_INT96 = 3,
       QW_PQ_PHYS_FLOAT = 4,
       QW_PQ_PHYS_DOUBLE = 5,
       QW_PQ_PHYS_BYTE_ARRAY = 6,
       QW_PQ_PHYS_FLBA = 7
};
#define QW_PQ_DEC38_BYTES 16 /* FIXED_LEN_BYTE_ARRAY length of DECIMAL(38, 8) */
enum {                       /* Encoding */
       QW_PQ_ENC_PLAIN = 0,
       QW_PQ_ENC_PLAIN_DICTIONARY = 2,
       QW_PQ_ENC_DELTA_BINARY_PACKED = 5,
       QW_PQ_ENC_RLE = 3,
       QW_PQ_ENC_BIT_PACKED = 4,
       QW_PQ_ENC_RLE_DICTIONARY = 8
};
enum { /* CompressionCodec */
       QW_PQ_CODEC_UNCOMPRESSED = 0,
       QW_PQ_CODEC_SNAPPY = 1,
       QW_PQ_CODEC_GZIP = 2,
       QW_PQ_CODEC_ZSTD = 6
};
enum { /* PageType */
       QW_PQ_PAGE_DATA = 0,
       QW_PQ_PAGE_INDEX = 1,
       QW_PQ_PAGE_DICTIONARY = 2,
       QW_PQ_PAGE_DATA_V2 = 3
};
enum { /* ConvertedType */
       QW_PQ_CT_UTF8 = 0,
       QW_PQ_CT_DECIMAL = 5,
       QW_PQ_CT_DATE = 6,
       QW_PQ_CT_TIMESTAMP_MICROS = 10
};

/* Physical type of a column type, -1 if unknown. */
int qw__pq_phys(qw_pq_type t);
/* v as the 16-byte big-endian two's complement of DECIMAL(38, 8). */
void qw__pq_dec38_be(qw_sz v, uint8_t out[QW_PQ_DEC38_BYTES]);
/* A big-endian two's complement integer of n (1..16) bytes into *out; -1
 * when n is out of range or the value does not fit int64. */
int qw__pq_dec_be_to_i64(const uint8_t *p, size_t n, int64_t *out);
int qw__pq_dec_be_to_i128(const uint8_t *p, size_t n, qw_sz *out); /* -1: n not 1..16 */
/* Unsigned bytewise comparison; b_trunc: b is a prefix of a longer value
 * (then a value equal to the prefix sorts before b). */
int qw__pq_cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, int b_trunc);
/* RLE / bit-packed hybrid of n values of bit width bw (no length prefix). */
void qw__pq_rle_encode(qw_tbuf *out, const uint32_t *v, size_t n, int bw);
/* Decode up to n values; QW_OK or QW_CORRUPT. */
int qw__pq_rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n);
int qw__pq_bit_width(uint32_t max);
/* DELTA_BINARY_PACKED of n INT64 values (blocks of 128, 4 miniblocks). */
void qw__pq_delta_encode(qw_tbuf *out, const int64_t *v, size_t n);
/* Decode n values; bytes consumed, or -1 when malformed. */
long qw__pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t n);

typedef struct qw__pq_col {
    qw_pq_column def;
    char name[128];
    int phys; /* QW_PQ_PHYS_* */
    /* single-value API buffers, one slot per buffered row */
    int64_t *iv; /* int-like values */
    double *dv;
    uint32_t *soff; /* strings: row r is sb.b[soff[r], soff[r + 1]) */
    qw_tbuf sb;
    uint8_t *valid;     /* 1 = present */
    int got;            /* value given for the current row */
    qw_pq_col_stats st; /* file-wide */
} qw__pq_col;

void qw__pq_put_le(qw_tbuf *b, uint64_t v, int n);
void qw__pq_schema_element(qw_tw *t, const qw__pq_col *c);

/* ---- writer internals shared by parquet.c and parquet_enc.c ---- */
#include <zstd.h>

struct qw_pq_ctx {
    ZSTD_CCtx *z;
    qw_tbuf page, comp, hdr;
    uint32_t *codes, *lev, *slots, *first;
    size_t codes_cap, lev_cap, slots_cap, first_cap;
    uint8_t *used;
    size_t used_cap;
    int64_t *dvals;
    size_t dvals_cap;
};

struct qw_pq_writer {
    qw_fileio_writer *fw; /* NULL once committed or aborted */
    char path[4096];
    qw_pq_opts o;
    size_t ncols;
    qw__pq_col c[QW_PQ_MAX_COLS];
    size_t rows, rcap; /* buffered single-value rows and their capacity */
    uint64_t total_rows;
    uint64_t off;   /* bytes appended (file offset) */
    size_t est;     /* buffered bytes estimate */
    qw_tbuf rgmeta; /* serialized RowGroups */
    size_t nrg;
    qw_pq_ctx *x;
    int own_ctx;
    int failed;
    char *errbuf;
    size_t errlen;
};

/* Per-chunk statistics, computed in one pass before anything is written. */
typedef struct qw__pq_cstats {
    size_t nnull;
    int have;
    int64_t lo, hi;
    qw_sz wlo, whi; /* DECIMAL(38, 8) */
    double dlo, dhi;
    const uint8_t *smin, *smax;
    size_t sminl, smaxl;
} qw__pq_cstats;

int qw__pq_grow(void *pp, size_t *cap, size_t n, size_t sz); /* 0 or -1 */
qw_err qw__pq_fail(qw_pq_writer *w, qw_err e, const char *what);
int qw__pq_write_all(qw_pq_writer *w, const void *p, size_t n);
/* One row group of n rows from column vectors (statistics, pages, metadata). */
qw_err qw__pq_write_group(qw_pq_writer *w, const qw_pq_vec *v, size_t n);

/* ---- reader (parquet_read.c, parquet_footer.c) ---- */
#include "core/fileio.h"
#include "parquet/parquet_read.h"

#define QW__PQR_MAX_COLS 1024
#define QW__PQR_MAX_RG 100000

typedef struct qw__pqr_chunk {
    int codec;
    int64_t num_values, total_comp, data_off, dict_off;
    /* Statistics (qw_pqr_stats): null_count (-1: absent); min_value and
     * max_value bytes at r->stat + smin / smax when sflags bit 0 / 1 */
    int64_t null_count;
    uint32_t smin, smax;
    uint8_t sminl, smaxl, sflags;
} qw__pqr_chunk;

/* What one qw_pqr_read decodes in; nothing in it outlives the call. */
struct qw_pqr_scratch {
    uint8_t *page; /* a decompressed page */
    size_t pcap;
    uint32_t *lev, *idx;
    size_t lcap, icap;
    int64_t *dvals; /* DELTA_BINARY_PACKED values of a page */
    size_t dcap;
    qw_pqr_column dict;
    uint8_t *cbuf; /* io: the column chunk */
    size_t ccap;
    ZSTD_DCtx *zd; /* made on the first ZSTD page (ZSTD_decompress makes one per call) */
};

struct qw_pqr {
    uint8_t *own;     /* io: footer bytes while opening */
    const uint8_t *d; /* memory: the whole file; io: NULL */
    size_t len;
    qw_fileio *io; /* io: chunks are read through it into cbuf */
    char uri[1024];
    size_t ncols, nrg;
    qw_pqr_field *f;
    uint64_t *rg_rows;
    qw__pqr_chunk *ch; /* nrg * ncols */
    uint64_t num_rows;
    uint8_t *stat; /* the chunks' statistics bounds (at most QW_PQR_STAT_MAX bytes each) */
    size_t statlen, statcap;
    int typed_only; /* qw_pqr_typed_arrays */
    int dict_ids;   /* qw_pqr_dict_indices */
    /* a qw_pqr_read with dict_ids: the table index of the dictionary's
     * first string and of the null rows' empty string (UINT32_MAX: not
     * in the table yet) */
    uint32_t dbase, nullid;
    uint8_t *typed; /* per column: column_orders says TypeDefinedOrder (bounds usable) */
    char created_by[128];
    char err[256];
    qw_pqr_scratch own_s, *s; /* s: own_s or one shared (qw_pqr_use_scratch) */
};

/* A PageHeader (parquet_footer.c): the fields the reader uses. */
typedef struct qw__pqr_page {
    int type, has_crc, enc, v2_comp;
    int32_t usize, csize, crc, nvals, def_len, rep_len;
    const uint8_t *body; /* the page's csize bytes, inside [p, end) */
} qw__pqr_page;
/* Parses the page header at p (bounded by end): 0, or -1 when malformed
 * (no type, negative sizes, a body past end). */
int qw__pqr_page_header(const uint8_t *p, const uint8_t *end, qw__pqr_page *h);

/* Sets r's message; returns e. */
qw_err qw__pqr_bad(qw_pqr *r, qw_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

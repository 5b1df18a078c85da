/* avro.h: Apache Avro binary encoding and object container files, enough for
 * Iceberg manifests and manifest lists (our own: Debian's avro-c drops the
 * `field-id` attributes Iceberg needs and cannot write file metadata).
 *
 * Encoding (Avro spec "Binary Encoding"): int and long are zigzag varints;
 * float/double little-endian IEEE; bytes/string = long length + bytes;
 * fixed = raw bytes; union = long branch index + value; arrays and maps are
 * blocks of (count, items...) ended by a zero count.
 *
 * Writer: the caller encodes each record into qw_avro_writer_record() with the
 * qw_avro_put_* encoders, then qw_avro_writer_end_record(). The schema JSON is
 * written verbatim into `avro.schema` (so every attribute, such as field-id,
 * survives). Codec null or deflate (raw RFC 1951, as the spec says).
 *
 * Reader: strict and bounded (hostile-input safe): header, metadata map, the
 * schema compiled from `avro.schema`, blocks (sync markers checked, deflate
 * inflated with an output cap) and a schema-driven generic decoder. This
 * header opens and closes a reader and reads its file metadata; the records
 * (and the parsed schema) come out as jansson values through avro_json.h,
 * the internal view for the iceberg layer and tests.
 */
#ifndef QW_AVRO_H
#define QW_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_AVRO_SYNC_LEN 16

/* ---- growable, bounded output buffer (sticky error) ---- */
typedef struct qw_avro_buf {
    uint8_t *p;
    size_t len, cap, max; /* max: growth limit (bytes) */
    qw_err err;           /* first error (QW_NOMEM, QW_TOO_LARGE); later puts are no-ops */
} qw_avro_buf;

void qw_avro_buf_init(qw_avro_buf *b, size_t max);
void qw_avro_buf_fini(qw_avro_buf *b);
void qw_avro_put_raw(qw_avro_buf *b, const void *p, size_t n);
void qw_avro_put_bool(qw_avro_buf *b, int v);
void qw_avro_put_int(qw_avro_buf *b, int32_t v);
void qw_avro_put_long(qw_avro_buf *b, int64_t v);
void qw_avro_put_float(qw_avro_buf *b, float v);
void qw_avro_put_double(qw_avro_buf *b, double v);
void qw_avro_put_bytes(qw_avro_buf *b, const void *p, size_t n);
void qw_avro_put_string(qw_avro_buf *b, const char *s); /* NUL-terminated */
void qw_avro_put_fixed(qw_avro_buf *b, const void *p, size_t n);
void qw_avro_put_union(qw_avro_buf *b, int branch);
/* Array/map: qw_avro_put_block(b, n) before n items (n > 0), then
 * qw_avro_put_block(b, 0) once to end. An empty array is just the 0. */
void qw_avro_put_block(qw_avro_buf *b, int64_t n);

/* ---- decoding primitives over a bounded cursor ---- */
typedef struct qw_avro_cur {
    const uint8_t *p, *end;
} qw_avro_cur;

/* Each returns QW_CORRUPT on truncation or an over-long varint; ints out of
 * 32-bit range are QW_CORRUPT. get_bytes returns a pointer into the input. */
qw_err qw_avro_get_long(qw_avro_cur *c, int64_t *out);
qw_err qw_avro_get_int(qw_avro_cur *c, int32_t *out);
qw_err qw_avro_get_bool(qw_avro_cur *c, int *out);
qw_err qw_avro_get_float(qw_avro_cur *c, float *out);
qw_err qw_avro_get_double(qw_avro_cur *c, double *out);
qw_err qw_avro_get_bytes(qw_avro_cur *c, const uint8_t **p, size_t *n);
qw_err qw_avro_get_fixed(qw_avro_cur *c, size_t n, const uint8_t **p);

/* ---- object container writer ---- */
typedef enum { QW_AVRO_CODEC_NULL = 0, QW_AVRO_CODEC_DEFLATE = 1 } qw_avro_codec;

typedef struct qw_avro_meta {
    const char *key, *value; /* NUL-terminated; written as bytes */
} qw_avro_meta;

typedef struct qw_avro_writer qw_avro_writer;

/* schema_json: written verbatim into avro.schema (not validated beyond being
 * JSON). meta: extra metadata entries (keys must not start with "avro.").
 * sync: 16 bytes or NULL for random. max_bytes bounds the whole file. */
qw_err qw_avro_writer_create(qw_avro_writer **out, const char *schema_json,
                             const qw_avro_meta *meta, size_t nmeta, qw_avro_codec codec,
                             const uint8_t *sync, size_t max_bytes);
/* Buffer to encode the next record into (valid until end_record). */
qw_avro_buf *qw_avro_writer_record(qw_avro_writer *w);
qw_err qw_avro_writer_end_record(qw_avro_writer *w);
/* Flush the last block and hand the whole file to the caller (free with
 * qw_free). The writer is spent afterwards (destroy it). */
qw_err qw_avro_writer_finish(qw_avro_writer *w, uint8_t **out, size_t *len);
void qw_avro_writer_destroy(qw_avro_writer *w); /* NULL is a no-op */

/* ---- object container reader ---- */
typedef struct qw_avro_limits {
    size_t max_block_bytes; /* compressed or not: default 64 MiB */
    size_t max_inflated;    /* per block after deflate: default 64 MiB */
    uint64_t max_items;     /* records + array/map items per file: default 50 M */
    int max_depth;          /* schema / value nesting: default 64 */
} qw_avro_limits;

typedef struct qw_avro_reader qw_avro_reader;

/* Parse the header of data[0..len) (borrowed: must outlive the reader).
 * lim may be NULL (defaults). QW_CORRUPT on a bad file, QW_UNSUPPORTED for an
 * unknown codec. Detail in errbuf (may be NULL). */
qw_err qw_avro_reader_open(qw_avro_reader **out, const uint8_t *data, size_t len,
                           const qw_avro_limits *lim, char *errbuf, size_t errlen);
/* Metadata value for key (bytes, not NUL-terminated) or NULL; *n = length. */
const uint8_t *qw_avro_reader_meta(const qw_avro_reader *r, const char *key, size_t *n);
/* Metadata value as a NUL-terminated copy in buf (truncation -> QW_TOO_LARGE). */
qw_err qw_avro_reader_meta_str(const qw_avro_reader *r, const char *key, char *buf, size_t cap);
/* Records: qw_avro_reader_next in avro_json.h. Any error is sticky. */
const char *qw_avro_reader_errmsg(const qw_avro_reader *r);
void qw_avro_reader_close(qw_avro_reader *r); /* NULL is a no-op */

/* Hex helpers for the bytes/fixed representation. hex_decode: QW_CORRUPT on
 * odd length or a non-hex digit, QW_TOO_LARGE if it does not fit in cap. */
qw_err qw_avro_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *n);

#endif

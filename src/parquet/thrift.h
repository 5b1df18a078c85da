/* thrift.h: the Thrift compact protocol, as much as Parquet metadata needs.
 *
 * Writer: appends to a growable byte buffer (qw_tbuf); structs nest with
 * qw_tw_struct_begin/end, which keep the last-field-id stack the compact
 * protocol's delta encoding needs.
 * Reader: a bounded cursor; every read checks the remaining length, nesting
 * is limited, lists are limited in size, and any field can be skipped by
 * type, so unknown fields of newer writers are ignored. Errors are sticky:
 * once r->err is set, every read returns 0/empty.
 */
#ifndef QW_PARQUET_THRIFT_H
#define QW_PARQUET_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    QW_TT_STOP = 0,
    QW_TT_TRUE = 1,
    QW_TT_FALSE = 2,
    QW_TT_BYTE = 3,
    QW_TT_I16 = 4,
    QW_TT_I32 = 5,
    QW_TT_I64 = 6,
    QW_TT_DOUBLE = 7,
    QW_TT_BINARY = 8,
    QW_TT_LIST = 9,
    QW_TT_SET = 10,
    QW_TT_MAP = 11,
    QW_TT_STRUCT = 12
};

typedef struct qw_tbuf {
    uint8_t *b;
    size_t n, cap;
    int oom;
} qw_tbuf;

void qw_tbuf_put(qw_tbuf *t, const void *p, size_t n);
void qw_tbuf_byte(qw_tbuf *t, uint8_t v);
/* Make room for n more bytes and count them as written; the caller fills
 * them. NULL (and oom set) when memory runs out. */
uint8_t *qw_tbuf_append(qw_tbuf *t, size_t n);
void qw_tbuf_varint(qw_tbuf *t, uint64_t v);
void qw_tbuf_free(qw_tbuf *t);

#define QW_TW_DEPTH 16
typedef struct qw_tw {
    qw_tbuf *out;
    int16_t last[QW_TW_DEPTH];
    int depth;
} qw_tw;

void qw_tw_init(qw_tw *w, qw_tbuf *out);
void qw_tw_i32(qw_tw *w, int16_t id, int32_t v);
void qw_tw_i64(qw_tw *w, int16_t id, int64_t v);
void qw_tw_bool(qw_tw *w, int16_t id, int v);
void qw_tw_binary(qw_tw *w, int16_t id, const void *p, size_t n);
void qw_tw_string(qw_tw *w, int16_t id, const char *s);
void qw_tw_struct_begin(qw_tw *w, int16_t id); /* a struct-typed field */
void qw_tw_struct_end(qw_tw *w);               /* writes STOP, pops */
void qw_tw_list_begin(qw_tw *w, int16_t id, uint8_t elem_type, size_t n);
void qw_tw_elem_struct_begin(qw_tw *w); /* a struct element of a list */
void qw_tw_elem_i32(qw_tw *w, int32_t v);
void qw_tw_elem_binary(qw_tw *w, const void *p, size_t n);
void qw_tw_stop(qw_tw *w); /* STOP of the outermost struct */

typedef struct qw_tr {
    const uint8_t *p, *end;
    int16_t last[QW_TW_DEPTH];
    int depth;
    int err;
} qw_tr;

void qw_tr_init(qw_tr *r, const uint8_t *p, size_t n);
/* Next field header of the current struct: returns its type (QW_TT_STOP at
 * the end) and sets *id. Booleans: type TRUE/FALSE carries the value. */
int qw_tr_field(qw_tr *r, int16_t *id);
int64_t qw_tr_varint_i64(qw_tr *r); /* zigzag i16/i32/i64 */
int32_t qw_tr_i32(qw_tr *r);
/* Binary/string: pointer into the buffer and its length. */
const uint8_t *qw_tr_binary(qw_tr *r, size_t *n);
/* List header: element type and count (count bounded by the bytes left). */
int qw_tr_list(qw_tr *r, size_t *n);
void qw_tr_struct_begin(qw_tr *r); /* entering a nested struct (field or element) */
void qw_tr_struct_end(qw_tr *r);   /* after its STOP was read */
void qw_tr_skip(qw_tr *r, int type);
double qw_tr_double(qw_tr *r);

#endif

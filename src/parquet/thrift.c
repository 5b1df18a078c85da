/* thrift.c: Thrift compact protocol writer and bounded reader (see
 * thrift.h; spec: thrift/doc/specs/thrift-compact-protocol.md). */
#include "parquet/thrift.h"

#include <string.h>

#include "core/alloc.h"

/* ---- buffer ---- */

uint8_t *qw_tbuf_append(qw_tbuf *t, size_t n)
{
    if (t->oom)
        return NULL;
    if (t->n + n > t->cap) {
        size_t nc = t->cap ? t->cap : 256;
        while (nc < t->n + n)
            nc *= 2;
        uint8_t *nb = qw_realloc(t->b, nc);
        if (!nb) {
            t->oom = 1;
            return NULL;
        }
        t->b = nb;
        t->cap = nc;
    }
    uint8_t *p = t->b + t->n;
    t->n += n;
    return p;
}

void qw_tbuf_put(qw_tbuf *t, const void *p, size_t n)
{
    uint8_t *d = qw_tbuf_append(t, n);
    if (d && n)
        memcpy(d, p, n);
}

void qw_tbuf_byte(qw_tbuf *t, uint8_t v)
{
    qw_tbuf_put(t, &v, 1);
}

void qw_tbuf_varint(qw_tbuf *t, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    qw_tbuf_put(t, b, n);
}

void qw_tbuf_free(qw_tbuf *t)
{
    qw_free(t->b);
    memset(t, 0, sizeof *t);
}

static uint64_t zz(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* ---- writer ---- */

void qw_tw_init(qw_tw *w, qw_tbuf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void header(qw_tw *w, int16_t id, uint8_t type)
{
    int16_t d = (int16_t)(id - w->last[w->depth]);
    if (d > 0 && d <= 15)
        qw_tbuf_byte(w->out, (uint8_t)(d << 4 | type));
    else {
        qw_tbuf_byte(w->out, type);
        qw_tbuf_varint(w->out, zz(id));
    }
    w->last[w->depth] = id;
}

void qw_tw_i32(qw_tw *w, int16_t id, int32_t v)
{
    header(w, id, QW_TT_I32);
    qw_tbuf_varint(w->out, zz(v));
}

void qw_tw_i64(qw_tw *w, int16_t id, int64_t v)
{
    header(w, id, QW_TT_I64);
    qw_tbuf_varint(w->out, zz(v));
}

void qw_tw_bool(qw_tw *w, int16_t id, int v)
{
    header(w, id, v ? QW_TT_TRUE : QW_TT_FALSE);
}

void qw_tw_binary(qw_tw *w, int16_t id, const void *p, size_t n)
{
    header(w, id, QW_TT_BINARY);
    qw_tbuf_varint(w->out, n);
    qw_tbuf_put(w->out, p, n);
}

void qw_tw_string(qw_tw *w, int16_t id, const char *s)
{
    qw_tw_binary(w, id, s, strlen(s));
}

static void push(qw_tw *w)
{
    if (w->depth + 1 < QW_TW_DEPTH)
        w->last[++w->depth] = 0;
    else
        w->out->oom = 1; /* too deep: mark the output unusable */
}

void qw_tw_struct_begin(qw_tw *w, int16_t id)
{
    header(w, id, QW_TT_STRUCT);
    push(w);
}

void qw_tw_struct_end(qw_tw *w)
{
    qw_tbuf_byte(w->out, QW_TT_STOP);
    if (w->depth > 0)
        w->depth--;
}

void qw_tw_list_begin(qw_tw *w, int16_t id, uint8_t elem_type, size_t n)
{
    header(w, id, QW_TT_LIST);
    if (n < 15)
        qw_tbuf_byte(w->out, (uint8_t)(n << 4 | elem_type));
    else {
        qw_tbuf_byte(w->out, (uint8_t)(0xF0 | elem_type));
        qw_tbuf_varint(w->out, n);
    }
}

void qw_tw_elem_struct_begin(qw_tw *w)
{
    push(w);
}

void qw_tw_elem_i32(qw_tw *w, int32_t v)
{
    qw_tbuf_varint(w->out, zz(v));
}

void qw_tw_elem_binary(qw_tw *w, const void *p, size_t n)
{
    qw_tbuf_varint(w->out, n);
    qw_tbuf_put(w->out, p, n);
}

void qw_tw_stop(qw_tw *w)
{
    qw_tbuf_byte(w->out, QW_TT_STOP);
}

/* ---- reader ---- */

void qw_tr_init(qw_tr *r, const uint8_t *p, size_t n)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->end = p + n;
}

static uint64_t varint(qw_tr *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->err || r->p >= r->end) {
            r->err = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->err = 1;
    return 0;
}

int64_t qw_tr_varint_i64(qw_tr *r)
{
    uint64_t u = varint(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int32_t qw_tr_i32(qw_tr *r)
{
    int64_t v = qw_tr_varint_i64(r);
    if (v < INT32_MIN || v > INT32_MAX) {
        r->err = 1;
        return 0;
    }
    return (int32_t)v;
}

double qw_tr_double(qw_tr *r)
{
    double d = 0;
    if (r->err || r->end - r->p < 8) {
        r->err = 1;
        return 0;
    }
    memcpy(&d, r->p, 8);
    r->p += 8;
    return d;
}

int qw_tr_field(qw_tr *r, int16_t *id)
{
    if (r->err || r->p >= r->end) {
        r->err = 1;
        return QW_TT_STOP;
    }
    uint8_t h = *r->p++;
    int type = h & 0x0f;
    if (type == QW_TT_STOP)
        return QW_TT_STOP;
    int d = h >> 4;
    int64_t fid = d ? r->last[r->depth] + d : qw_tr_varint_i64(r);
    if (fid < INT16_MIN || fid > INT16_MAX)
        r->err = 1;
    *id = (int16_t)fid;
    r->last[r->depth] = *id;
    return type;
}

const uint8_t *qw_tr_binary(qw_tr *r, size_t *n)
{
    uint64_t len = varint(r);
    if (r->err || len > (uint64_t)(r->end - r->p)) {
        r->err = 1;
        *n = 0;
        return r->p;
    }
    const uint8_t *p = r->p;
    r->p += len;
    *n = (size_t)len;
    return p;
}

int qw_tr_list(qw_tr *r, size_t *n)
{
    if (r->err || r->p >= r->end) {
        r->err = 1;
        *n = 0;
        return 0;
    }
    uint8_t h = *r->p++;
    uint64_t cnt = h >> 4;
    if (cnt == 15)
        cnt = varint(r);
    if (cnt > (uint64_t)(r->end - r->p)) { /* every element takes >= 1 byte */
        r->err = 1;
        cnt = 0;
    }
    *n = (size_t)cnt;
    return h & 0x0f;
}

void qw_tr_struct_begin(qw_tr *r)
{
    if (r->depth + 1 >= QW_TW_DEPTH) {
        r->err = 1;
        return;
    }
    r->last[++r->depth] = 0;
}

void qw_tr_struct_end(qw_tr *r)
{
    if (r->depth > 0)
        r->depth--;
}

void qw_tr_skip(qw_tr *r, int type)
{
    if (r->err)
        return;
    switch (type) {
    case QW_TT_TRUE:
    case QW_TT_FALSE: break; /* value is in the header (fields); list elements: one byte */
    case QW_TT_BYTE:
        if (r->p >= r->end)
            r->err = 1;
        else
            r->p++;
        break;
    case QW_TT_I16:
    case QW_TT_I32:
    case QW_TT_I64: (void)varint(r); break;
    case QW_TT_DOUBLE: (void)qw_tr_double(r); break;
    case QW_TT_BINARY: {
        size_t n;
        (void)qw_tr_binary(r, &n);
        break;
    }
    case QW_TT_LIST:
    case QW_TT_SET: {
        size_t n;
        int et = qw_tr_list(r, &n);
        qw_tr_struct_begin(r); /* bounds the nesting of lists too */
        for (size_t i = 0; i < n && !r->err; i++) {
            if (et == QW_TT_TRUE || et == QW_TT_FALSE)
                qw_tr_skip(r, QW_TT_BYTE);
            else
                qw_tr_skip(r, et);
        }
        qw_tr_struct_end(r);
        break;
    }
    case QW_TT_MAP: {
        uint64_t n = varint(r);
        if (n == 0)
            break;
        if (r->p >= r->end || n > (uint64_t)(r->end - r->p)) {
            r->err = 1;
            break;
        }
        uint8_t kv = *r->p++;
        qw_tr_struct_begin(r);
        for (uint64_t i = 0; i < n && !r->err; i++) {
            qw_tr_skip(r, kv >> 4);
            qw_tr_skip(r, kv & 0x0f);
        }
        qw_tr_struct_end(r);
        break;
    }
    case QW_TT_STRUCT: {
        qw_tr_struct_begin(r);
        int16_t id;
        int t;
        while (!r->err && (t = qw_tr_field(r, &id)) != QW_TT_STOP)
            qw_tr_skip(r, t);
        qw_tr_struct_end(r);
        break;
    }
    default: r->err = 1;
    }
}

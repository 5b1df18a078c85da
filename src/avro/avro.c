/* avro.c: Avro binary encoders/decoders and the object container writer.
 *
 * File layout written (Avro spec, "Object Container Files"):
 *   'O' 'b' 'j' 1 | metadata map<bytes> (avro.schema, avro.codec, extras) |
 *   16-byte sync | blocks: long count, long byte size, data, sync.
 * Records are encoded straight into the current block buffer; a block is
 * closed when it passes BLOCK_TARGET bytes and at finish. With the deflate
 * codec each block's data is raw deflate (no zlib header, no checksum).
 * The whole file is assembled in memory: manifests are small and are written
 * complete-then-fsync by fileio, never streamed.
 */
#include "avro/avro.h"

#include <jansson.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>

#include "core/alloc.h"

#define BLOCK_TARGET (64 * 1024)

void qw_avro_buf_init(qw_avro_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void qw_avro_buf_fini(qw_avro_buf *b)
{
    qw_free(b->p);
    memset(b, 0, sizeof(*b));
}

static int reserve(qw_avro_buf *b, size_t n)
{
    if (b->err != QW_OK)
        return 0;
    if (n > b->max || b->len > b->max - n) {
        b->err = QW_TOO_LARGE;
        return 0;
    }
    if (b->len + n <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *np = qw_realloc(b->p, cap);
    if (!np) {
        b->err = QW_NOMEM;
        return 0;
    }
    b->p = np;
    b->cap = cap;
    return 1;
}

void qw_avro_put_raw(qw_avro_buf *b, const void *p, size_t n)
{
    if (n == 0 || !reserve(b, n))
        return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void qw_avro_put_long(qw_avro_buf *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); /* zigzag */
    uint8_t tmp[10];
    size_t n = 0;
    while (z >= 0x80) {
        tmp[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    tmp[n++] = (uint8_t)z;
    qw_avro_put_raw(b, tmp, n);
}

void qw_avro_put_int(qw_avro_buf *b, int32_t v)
{
    qw_avro_put_long(b, v);
}
void qw_avro_put_union(qw_avro_buf *b, int branch)
{
    qw_avro_put_long(b, branch);
}
void qw_avro_put_block(qw_avro_buf *b, int64_t n)
{
    qw_avro_put_long(b, n);
}

void qw_avro_put_bool(qw_avro_buf *b, int v)
{
    uint8_t c = v ? 1 : 0;
    qw_avro_put_raw(b, &c, 1);
}

void qw_avro_put_float(qw_avro_buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t t[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    qw_avro_put_raw(b, t, 4);
}

void qw_avro_put_double(qw_avro_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(u >> (8 * i));
    qw_avro_put_raw(b, t, 8);
}

void qw_avro_put_bytes(qw_avro_buf *b, const void *p, size_t n)
{
    qw_avro_put_long(b, (int64_t)n);
    qw_avro_put_raw(b, p, n);
}

void qw_avro_put_string(qw_avro_buf *b, const char *s)
{
    qw_avro_put_bytes(b, s, strlen(s));
}

void qw_avro_put_fixed(qw_avro_buf *b, const void *p, size_t n)
{
    qw_avro_put_raw(b, p, n);
}

/* ---- decoding primitives ---- */

qw_err qw_avro_get_long(qw_avro_cur *c, int64_t *out)
{
    uint64_t z = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->p >= c->end)
            return QW_CORRUPT;
        uint8_t byte = *c->p++;
        if (shift == 63 && (byte & 0x7e))
            return QW_CORRUPT; /* more than 64 bits */
        z |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
            return QW_OK;
        }
    }
    return QW_CORRUPT;
}

qw_err qw_avro_get_int(qw_avro_cur *c, int32_t *out)
{
    int64_t v;
    qw_err e = qw_avro_get_long(c, &v);
    if (e != QW_OK)
        return e;
    if (v < INT32_MIN || v > INT32_MAX)
        return QW_CORRUPT;
    *out = (int32_t)v;
    return QW_OK;
}

qw_err qw_avro_get_bool(qw_avro_cur *c, int *out)
{
    if (c->p >= c->end || *c->p > 1)
        return QW_CORRUPT;
    *out = *c->p++;
    return QW_OK;
}

qw_err qw_avro_get_float(qw_avro_cur *c, float *out)
{
    if (c->end - c->p < 4)
        return QW_CORRUPT;
    uint32_t u = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
                 (uint32_t)c->p[3] << 24;
    memcpy(out, &u, 4);
    c->p += 4;
    return QW_OK;
}

qw_err qw_avro_get_double(qw_avro_cur *c, double *out)
{
    if (c->end - c->p < 8)
        return QW_CORRUPT;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)c->p[i] << (8 * i);
    memcpy(out, &u, 8);
    c->p += 8;
    return QW_OK;
}

qw_err qw_avro_get_bytes(qw_avro_cur *c, const uint8_t **p, size_t *n)
{
    int64_t len;
    qw_err e = qw_avro_get_long(c, &len);
    if (e != QW_OK)
        return e;
    if (len < 0 || (uint64_t)len > (uint64_t)(c->end - c->p))
        return QW_CORRUPT;
    *p = c->p;
    *n = (size_t)len;
    c->p += len;
    return QW_OK;
}

qw_err qw_avro_get_fixed(qw_avro_cur *c, size_t n, const uint8_t **p)
{
    if ((size_t)(c->end - c->p) < n)
        return QW_CORRUPT;
    *p = c->p;
    c->p += n;
    return QW_OK;
}

qw_err qw_avro_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
    size_t len = strlen(hex);
    if (len % 2)
        return QW_CORRUPT;
    if (len / 2 > cap)
        return QW_TOO_LARGE;
    for (size_t i = 0; i < len / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + (size_t)k];
            int d;
            if (ch >= '0' && ch <= '9')
                d = ch - '0';
            else if (ch >= 'a' && ch <= 'f')
                d = ch - 'a' + 10;
            else if (ch >= 'A' && ch <= 'F')
                d = ch - 'A' + 10;
            else
                return QW_CORRUPT;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    *n = len / 2;
    return QW_OK;
}

/* ---- container writer ---- */

struct qw_avro_writer {
    qw_avro_buf file;  /* header + finished blocks */
    qw_avro_buf block; /* records of the open block */
    int64_t count;     /* records in the open block */
    qw_avro_codec codec;
    uint8_t sync[QW_AVRO_SYNC_LEN];
    int spent;
};

static qw_err deflate_raw(const uint8_t *in, size_t n, qw_avro_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return QW_NOMEM;
    uLong bound = deflateBound(&zs, (uLong)n);
    qw_err e = QW_OK;
    if (!reserve(out, bound)) {
        e = out->err;
        goto done;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out->p + out->len;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        e = QW_IO;
        goto done;
    }
    out->len += zs.total_out;
done:
    deflateEnd(&zs);
    return e;
}

static qw_err flush_block(qw_avro_writer *w)
{
    if (w->count == 0)
        return QW_OK;
    if (w->block.err != QW_OK)
        return w->block.err;
    qw_err e = QW_OK;
    if (w->codec == QW_AVRO_CODEC_DEFLATE) {
        qw_avro_buf z;
        qw_avro_buf_init(&z, w->file.max);
        e = deflate_raw(w->block.p, w->block.len, &z);
        if (e == QW_OK) {
            qw_avro_put_long(&w->file, w->count);
            qw_avro_put_bytes(&w->file, z.p, z.len);
        }
        qw_avro_buf_fini(&z);
    } else {
        qw_avro_put_long(&w->file, w->count);
        qw_avro_put_bytes(&w->file, w->block.p, w->block.len);
    }
    qw_avro_put_raw(&w->file, w->sync, QW_AVRO_SYNC_LEN);
    w->block.len = 0;
    w->count = 0;
    if (e == QW_OK)
        e = w->file.err;
    return e;
}

qw_err qw_avro_writer_create(qw_avro_writer **out, const char *schema_json,
                             const qw_avro_meta *meta, size_t nmeta, qw_avro_codec codec,
                             const uint8_t *sync, size_t max_bytes)
{
    *out = NULL;
    if (!schema_json || (codec != QW_AVRO_CODEC_NULL && codec != QW_AVRO_CODEC_DEFLATE))
        return QW_INVAL;
    json_error_t jerr;
    json_t *probe = json_loads(schema_json, JSON_DECODE_ANY, &jerr);
    if (!probe)
        return QW_BAD_JSON;
    json_decref(probe);
    for (size_t i = 0; i < nmeta; i++)
        if (!meta[i].key || !meta[i].value || strncmp(meta[i].key, "avro.", 5) == 0)
            return QW_INVAL;
    qw_avro_writer *w = qw_calloc(1, sizeof(*w));
    if (!w)
        return QW_NOMEM;
    qw_avro_buf_init(&w->file, max_bytes);
    qw_avro_buf_init(&w->block, max_bytes);
    w->codec = codec;
    if (sync)
        memcpy(w->sync, sync, QW_AVRO_SYNC_LEN);
    else if (getrandom(w->sync, QW_AVRO_SYNC_LEN, 0) != QW_AVRO_SYNC_LEN) {
        qw_avro_writer_destroy(w);
        return QW_IO;
    }
    static const uint8_t magic[4] = {'O', 'b', 'j', 1};
    qw_avro_put_raw(&w->file, magic, 4);
    qw_avro_put_block(&w->file, (int64_t)nmeta + 2);
    for (size_t i = 0; i < nmeta; i++) {
        qw_avro_put_string(&w->file, meta[i].key);
        qw_avro_put_string(&w->file, meta[i].value);
    }
    qw_avro_put_string(&w->file, "avro.schema");
    qw_avro_put_string(&w->file, schema_json);
    qw_avro_put_string(&w->file, "avro.codec");
    qw_avro_put_string(&w->file, codec == QW_AVRO_CODEC_DEFLATE ? "deflate" : "null");
    qw_avro_put_block(&w->file, 0);
    qw_avro_put_raw(&w->file, w->sync, QW_AVRO_SYNC_LEN);
    if (w->file.err != QW_OK) {
        qw_err e = w->file.err;
        qw_avro_writer_destroy(w);
        return e;
    }
    *out = w;
    return QW_OK;
}

qw_avro_buf *qw_avro_writer_record(qw_avro_writer *w)
{
    return &w->block;
}

qw_err qw_avro_writer_end_record(qw_avro_writer *w)
{
    if (w->spent)
        return QW_INVAL;
    if (w->block.err != QW_OK)
        return w->block.err;
    w->count++;
    if (w->block.len >= BLOCK_TARGET)
        return flush_block(w);
    return QW_OK;
}

qw_err qw_avro_writer_finish(qw_avro_writer *w, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (w->spent)
        return QW_INVAL;
    qw_err e = flush_block(w);
    if (e != QW_OK)
        return e;
    w->spent = 1;
    *out = w->file.p;
    *len = w->file.len;
    w->file.p = NULL;
    w->file.len = w->file.cap = 0;
    return QW_OK;
}

void qw_avro_writer_destroy(qw_avro_writer *w)
{
    if (!w)
        return;
    qw_avro_buf_fini(&w->file);
    qw_avro_buf_fini(&w->block);
    qw_free(w);
}

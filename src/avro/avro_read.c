/* avro_read.c: strict, bounded Avro object container reader with a
 * schema-driven generic decoder (values -> jansson; see avro.h).
 *
 * Design: the writer schema is compiled once into a flat node table (indices,
 * not pointers, so named references and recursion are just indices). Every
 * length read from the file is checked against the bytes that remain before
 * use; array/map block counts and records draw from one per-file item budget
 * (a zero-byte item type cannot make a huge count spin forever); nesting is
 * bounded by max_depth. A block must be consumed exactly by its record
 * count. Codecs: null, deflate (raw), snappy (+CRC32 trailer), zstandard.
 */
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "avro/avro_json.h"
#include "core/alloc.h"

#define MAX_META 64
#define MAX_NODES 4096
#define MAX_NAMED 512

typedef enum {
    T_NULL,
    T_BOOL,
    T_INT,
    T_LONG,
    T_FLOAT,
    T_DOUBLE,
    T_BYTES,
    T_STRING,
    T_RECORD,
    T_ENUM,
    T_ARRAY,
    T_MAP,
    T_UNION,
    T_FIXED
} kind;

typedef struct node {
    kind k;
    int n;              /* fields / branches / symbols / fixed size */
    int child;          /* array items, map values */
    int *kids;          /* record fields, union branches */
    const char **names; /* record field names, enum symbols (borrowed from schema) */
} node;

typedef struct named {
    const char *name, *fullname;
    char *own; /* fullname built from a namespace */
    int idx;
} named;

enum { CODEC_NULL, CODEC_DEFLATE, CODEC_SNAPPY, CODEC_ZSTD };

struct qw_avro_reader {
    const uint8_t *data;
    size_t len;
    qw_avro_cur file; /* position in the file (after the header) */
    qw_avro_limits lim;
    uint8_t sync[QW_AVRO_SYNC_LEN];
    int codec;
    struct {
        const uint8_t *k, *v;
        size_t kn, vn;
    } meta[MAX_META];
    int nmeta;
    json_t *schema;
    node *nodes;
    int nnodes;
    named names[MAX_NAMED];
    int nnames;
    int root;
    uint8_t *ibuf; /* inflated block */
    size_t ibuf_cap;
    qw_avro_cur blk;
    int64_t remaining;
    uint64_t items;
    qw_err sticky;
    char err[256];
};

static qw_err fail(qw_avro_reader *r, qw_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static qw_err fail(qw_avro_reader *r, qw_err e, const char *fmt, ...)
{
    if (r->err[0] == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, sizeof(r->err), fmt, ap);
        va_end(ap);
    }
    return e;
}

/* ---- schema compilation ---- */

static int new_node(qw_avro_reader *r, kind k)
{
    if (r->nnodes >= MAX_NODES)
        return -1;
    if ((r->nnodes & 63) == 0) {
        node *nn = qw_realloc(r->nodes, sizeof(node) * (size_t)(r->nnodes + 64));
        if (!nn)
            return -1;
        r->nodes = nn;
    }
    node *n = &r->nodes[r->nnodes];
    memset(n, 0, sizeof(*n));
    n->k = k;
    return r->nnodes++;
}

static int prim_kind(const char *s)
{
    static const char *const prim[] = {"null",  "boolean", "int",   "long",
                                       "float", "double",  "bytes", "string"};
    for (int i = 0; i < 8; i++)
        if (strcmp(s, prim[i]) == 0)
            return i;
    return -1;
}

static int lookup_named(const qw_avro_reader *r, const char *s)
{
    for (int i = 0; i < r->nnames; i++)
        if (strcmp(r->names[i].fullname, s) == 0)
            return r->names[i].idx;
    for (int i = 0; i < r->nnames; i++)
        if (strcmp(r->names[i].name, s) == 0)
            return r->names[i].idx;
    return -1;
}

static int add_named(qw_avro_reader *r, json_t *obj, int idx)
{
    const char *name = json_string_value(json_object_get(obj, "name"));
    if (!name || r->nnames >= MAX_NAMED)
        return -1;
    const char *full = name;
    char *own = NULL;
    const char *ns = json_string_value(json_object_get(obj, "namespace"));
    if (ns && ns[0] && !strchr(name, '.')) {
        size_t n = strlen(ns) + strlen(name) + 2;
        if (!(own = qw_malloc(n)))
            return -1;
        snprintf(own, n, "%s.%s", ns, name);
        full = own;
    }
    r->names[r->nnames].own = own;
    r->names[r->nnames].name = name;
    r->names[r->nnames].fullname = full;
    r->names[r->nnames].idx = idx;
    r->nnames++;
    return 0;
}

static int compile(qw_avro_reader *r, json_t *s, int depth);

static int compile_record(qw_avro_reader *r, json_t *s, int depth)
{
    json_t *fields = json_object_get(s, "fields");
    if (!json_is_array(fields) || json_array_size(fields) > MAX_NODES)
        return -1;
    int idx = new_node(r, T_RECORD);
    if (idx < 0 || add_named(r, s, idx) < 0)
        return -1;
    int n = (int)json_array_size(fields);
    int *kids = qw_calloc((size_t)n + 1, sizeof(int));
    const char **names = qw_calloc((size_t)n + 1, sizeof(char *));
    r->nodes[idx].kids = kids;
    r->nodes[idx].names = names;
    if (!kids || !names)
        return -1;
    for (int i = 0; i < n; i++) {
        json_t *f = json_array_get(fields, (size_t)i);
        const char *fname = json_string_value(json_object_get(f, "name"));
        json_t *ft = json_object_get(f, "type");
        if (!fname || !ft)
            return -1;
        int k = compile(r, ft, depth + 1);
        if (k < 0)
            return -1;
        r->nodes[idx].kids[i] = k; /* r->nodes may have moved: index again */
        r->nodes[idx].names[i] = fname;
        r->nodes[idx].n = i + 1;
    }
    return idx;
}

static int compile(qw_avro_reader *r, json_t *s, int depth)
{
    if (depth > r->lim.max_depth)
        return -1;
    if (json_is_string(s)) {
        int pk = prim_kind(json_string_value(s));
        if (pk >= 0)
            return new_node(r, (kind)pk);
        return lookup_named(r, json_string_value(s));
    }
    if (json_is_array(s)) {
        size_t n = json_array_size(s);
        if (n == 0 || n > 256)
            return -1;
        int idx = new_node(r, T_UNION);
        if (idx < 0)
            return -1;
        int *kids = qw_calloc(n, sizeof(int));
        r->nodes[idx].kids = kids;
        if (!kids)
            return -1;
        for (size_t i = 0; i < n; i++) {
            int k = compile(r, json_array_get(s, i), depth + 1);
            if (k < 0)
                return -1;
            r->nodes[idx].kids[i] = k;
            r->nodes[idx].n = (int)i + 1;
        }
        return idx;
    }
    if (!json_is_object(s))
        return -1;
    json_t *t = json_object_get(s, "type");
    if (json_is_object(t) || json_is_array(t))
        return compile(r, t, depth + 1);
    const char *ts = json_string_value(t);
    if (!ts)
        return -1;
    int pk = prim_kind(ts);
    if (pk >= 0)
        return new_node(r, (kind)pk);
    if (strcmp(ts, "record") == 0 || strcmp(ts, "error") == 0)
        return compile_record(r, s, depth);
    if (strcmp(ts, "enum") == 0) {
        json_t *syms = json_object_get(s, "symbols");
        if (!json_is_array(syms) || json_array_size(syms) > 65536)
            return -1;
        int idx = new_node(r, T_ENUM);
        if (idx < 0 || add_named(r, s, idx) < 0)
            return -1;
        size_t n = json_array_size(syms);
        const char **names = qw_calloc(n + 1, sizeof(char *));
        r->nodes[idx].names = names;
        if (!names)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (!(names[i] = json_string_value(json_array_get(syms, i))))
                return -1;
        r->nodes[idx].n = (int)n;
        return idx;
    }
    if (strcmp(ts, "array") == 0 || strcmp(ts, "map") == 0) {
        int arr = ts[0] == 'a';
        json_t *sub = json_object_get(s, arr ? "items" : "values");
        if (!sub)
            return -1;
        int idx = new_node(r, arr ? T_ARRAY : T_MAP);
        if (idx < 0)
            return -1;
        int k = compile(r, sub, depth + 1);
        if (k < 0)
            return -1;
        r->nodes[idx].child = k;
        return idx;
    }
    if (strcmp(ts, "fixed") == 0) {
        json_t *sz = json_object_get(s, "size");
        if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
            json_integer_value(sz) > (1 << 20))
            return -1;
        int idx = new_node(r, T_FIXED);
        if (idx < 0 || add_named(r, s, idx) < 0)
            return -1;
        r->nodes[idx].n = (int)json_integer_value(sz);
        return idx;
    }
    return lookup_named(r, ts);
}

/* ---- value decoding ---- */

static json_t *hex_string(const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char small[129];
    char *buf = n <= 64 ? small : qw_malloc(2 * n + 1);
    if (!buf)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = hx[p[i] >> 4];
        buf[2 * i + 1] = hx[p[i] & 15];
    }
    json_t *j = json_stringn(buf, 2 * n);
    if (buf != small)
        qw_free(buf);
    return j;
}

static qw_err take_items(qw_avro_reader *r, int64_t n)
{
    if (n < 0 || (uint64_t)n > r->lim.max_items - r->items)
        return fail(r, QW_CORRUPT, "item count over the limit");
    r->items += (uint64_t)n;
    return QW_OK;
}

static qw_err decode(qw_avro_reader *r, int idx, int depth, json_t **out);

static qw_err decode_blocks(qw_avro_reader *r, const node *nd, int depth, json_t *coll)
{
    qw_avro_cur *c = &r->blk;
    int is_map = nd->k == T_MAP;
    for (;;) {
        int64_t n;
        if (qw_avro_get_long(c, &n) != QW_OK)
            return fail(r, QW_CORRUPT, "truncated array/map block");
        if (n == 0)
            return QW_OK;
        if (n < 0) {
            int64_t bytes;
            if (n == INT64_MIN || qw_avro_get_long(c, &bytes) != QW_OK || bytes < 0 ||
                bytes > c->end - c->p)
                return fail(r, QW_CORRUPT, "bad array/map block size");
            n = -n;
        }
        if (take_items(r, n) != QW_OK)
            return QW_CORRUPT;
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *kp = NULL;
            size_t kn = 0;
            if (is_map && qw_avro_get_bytes(c, &kp, &kn) != QW_OK)
                return fail(r, QW_CORRUPT, "truncated map key");
            json_t *v = NULL;
            qw_err e = decode(r, nd->child, depth + 1, &v);
            if (e != QW_OK)
                return e;
            int rc = is_map ? json_object_setn_new(coll, (const char *)kp, kn, v)
                            : json_array_append_new(coll, v);
            if (rc != 0)
                return fail(r, QW_CORRUPT, "bad map key or out of memory");
        }
    }
}

static qw_err decode(qw_avro_reader *r, int idx, int depth, json_t **out)
{
    qw_avro_cur *c = &r->blk;
    const node *nd = &r->nodes[idx];
    *out = NULL;
    if (depth > r->lim.max_depth)
        return fail(r, QW_CORRUPT, "value nested too deeply");
    qw_err e = QW_OK;
    switch (nd->k) {
    case T_NULL: *out = json_null(); return QW_OK;
    case T_BOOL: {
        int b;
        if ((e = qw_avro_get_bool(c, &b)) != QW_OK)
            return fail(r, e, "bad boolean");
        *out = json_boolean(b);
        return QW_OK;
    }
    case T_INT: {
        int32_t v;
        if ((e = qw_avro_get_int(c, &v)) != QW_OK)
            return fail(r, e, "bad int");
        *out = json_integer(v);
        break;
    }
    case T_LONG: {
        int64_t v;
        if ((e = qw_avro_get_long(c, &v)) != QW_OK)
            return fail(r, e, "bad long");
        *out = json_integer(v);
        break;
    }
    case T_FLOAT:
    case T_DOUBLE: {
        double d;
        float f;
        if (nd->k == T_FLOAT) {
            e = qw_avro_get_float(c, &f);
            d = f;
        } else {
            e = qw_avro_get_double(c, &d);
        }
        if (e != QW_OK)
            return fail(r, e, "truncated float/double");
        *out = json_real(d);
        if (!*out) /* NaN or infinity */
            *out = json_null();
        return QW_OK;
    }
    case T_BYTES:
    case T_STRING:
    case T_FIXED: {
        const uint8_t *p;
        size_t n = (size_t)nd->n;
        e = nd->k == T_FIXED ? qw_avro_get_fixed(c, n, &p) : qw_avro_get_bytes(c, &p, &n);
        if (e != QW_OK)
            return fail(r, e, "truncated bytes/string");
        *out = nd->k == T_STRING ? json_stringn((const char *)p, n) : hex_string(p, n);
        if (!*out)
            return fail(r, QW_CORRUPT, "string is not valid UTF-8");
        return QW_OK;
    }
    case T_ENUM: {
        int64_t v;
        if (qw_avro_get_long(c, &v) != QW_OK || v < 0 || v >= nd->n)
            return fail(r, QW_CORRUPT, "bad enum index");
        *out = json_string(nd->names[v]);
        break;
    }
    case T_UNION: {
        int64_t v;
        if (qw_avro_get_long(c, &v) != QW_OK || v < 0 || v >= nd->n)
            return fail(r, QW_CORRUPT, "bad union branch");
        return decode(r, nd->kids[v], depth + 1, out);
    }
    case T_RECORD: {
        json_t *o = json_object();
        if (!o)
            return QW_NOMEM;
        for (int i = 0; i < nd->n; i++) {
            json_t *v;
            e = decode(r, r->nodes[idx].kids[i], depth + 1, &v);
            if (e != QW_OK) {
                json_decref(o);
                return e;
            }
            json_object_set_new(o, r->nodes[idx].names[i], v);
        }
        *out = o;
        return QW_OK;
    }
    case T_ARRAY:
    case T_MAP: {
        json_t *coll = nd->k == T_MAP ? json_object() : json_array();
        if (!coll)
            return QW_NOMEM;
        e = decode_blocks(r, nd, depth, coll);
        if (e != QW_OK) {
            json_decref(coll);
            return e;
        }
        *out = coll;
        return QW_OK;
    }
    }
    return *out ? QW_OK : QW_NOMEM;
}

/* ---- header and blocks ---- */

static qw_err parse_header(qw_avro_reader *r)
{
    qw_avro_cur *c = &r->file;
    if (r->len < 4 || memcmp(r->data, "Obj\x01", 4) != 0)
        return fail(r, QW_CORRUPT, "not an Avro container (bad magic)");
    c->p += 4;
    for (;;) {
        int64_t n;
        if (qw_avro_get_long(c, &n) != QW_OK)
            return fail(r, QW_CORRUPT, "truncated metadata");
        if (n == 0)
            break;
        if (n < 0) {
            int64_t bytes;
            if (n == INT64_MIN || qw_avro_get_long(c, &bytes) != QW_OK)
                return fail(r, QW_CORRUPT, "bad metadata block");
            n = -n;
        }
        for (int64_t i = 0; i < n; i++) {
            if (r->nmeta >= MAX_META)
                return fail(r, QW_CORRUPT, "too many metadata entries");
            int m = r->nmeta;
            if (qw_avro_get_bytes(c, &r->meta[m].k, &r->meta[m].kn) != QW_OK ||
                qw_avro_get_bytes(c, &r->meta[m].v, &r->meta[m].vn) != QW_OK)
                return fail(r, QW_CORRUPT, "truncated metadata entry");
            r->nmeta++;
        }
    }
    const uint8_t *s;
    if (qw_avro_get_fixed(c, QW_AVRO_SYNC_LEN, &s) != QW_OK)
        return fail(r, QW_CORRUPT, "truncated sync marker");
    memcpy(r->sync, s, QW_AVRO_SYNC_LEN);
    size_t n;
    const uint8_t *codec = qw_avro_reader_meta(r, "avro.codec", &n);
    if (!codec || (n == 4 && memcmp(codec, "null", 4) == 0))
        r->codec = CODEC_NULL;
    else if (n == 7 && memcmp(codec, "deflate", 7) == 0)
        r->codec = CODEC_DEFLATE;
    else if (n == 6 && memcmp(codec, "snappy", 6) == 0)
        r->codec = CODEC_SNAPPY;
    else if (n == 9 && memcmp(codec, "zstandard", 9) == 0)
        r->codec = CODEC_ZSTD;
    else
        return fail(r, QW_UNSUPPORTED, "unsupported codec %.*s", (int)(n > 32 ? 32 : n),
                    (const char *)codec);
    const uint8_t *sj = qw_avro_reader_meta(r, "avro.schema", &n);
    if (!sj)
        return fail(r, QW_CORRUPT, "no avro.schema");
    json_error_t jerr;
    r->schema = json_loadb((const char *)sj, n, JSON_DECODE_ANY, &jerr);
    if (!r->schema)
        return fail(r, QW_CORRUPT, "avro.schema is not JSON: %s", jerr.text);
    r->root = compile(r, r->schema, 0);
    if (r->root < 0)
        return fail(r, QW_CORRUPT, "unsupported or invalid avro.schema");
    return QW_OK;
}

static qw_err grow_ibuf(qw_avro_reader *r, size_t need)
{
    if (need > r->lim.max_inflated)
        return fail(r, QW_TOO_LARGE, "block inflates past the limit");
    if (need <= r->ibuf_cap)
        return QW_OK;
    size_t cap = r->ibuf_cap ? r->ibuf_cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > r->lim.max_inflated)
        cap = r->lim.max_inflated;
    uint8_t *nb = qw_realloc(r->ibuf, cap);
    if (!nb)
        return QW_NOMEM;
    r->ibuf = nb;
    r->ibuf_cap = cap;
    return QW_OK;
}

static qw_err inflate_block(qw_avro_reader *r, const uint8_t *p, size_t n, size_t *outn)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -15) != Z_OK)
        return QW_NOMEM;
    qw_err e =
        grow_ibuf(r, n * 4 + 1024 < r->lim.max_inflated ? n * 4 + 1024 : r->lim.max_inflated);
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    while (e == QW_OK) {
        zs.next_out = r->ibuf + zs.total_out;
        zs.avail_out = (uInt)(r->ibuf_cap - zs.total_out);
        int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            e = fail(r, QW_CORRUPT, "truncated deflate block");
        } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
            if (zs.avail_out == 0)
                e = grow_ibuf(r, r->ibuf_cap + 1);
        } else {
            e = fail(r, QW_CORRUPT, "bad deflate data");
        }
    }
    *outn = zs.total_out;
    inflateEnd(&zs);
    return e;
}

static qw_err decompress(qw_avro_reader *r, const uint8_t *p, size_t n)
{
    size_t outn = 0;
    qw_err e = QW_OK;
    if (r->codec == CODEC_DEFLATE) {
        e = inflate_block(r, p, n, &outn);
    } else if (r->codec == CODEC_SNAPPY) {
        size_t ulen;
        if (n < 4 || snappy_uncompressed_length((const char *)p, n - 4, &ulen) != SNAPPY_OK)
            return fail(r, QW_CORRUPT, "bad snappy block");
        if ((e = grow_ibuf(r, ulen + 1)) != QW_OK)
            return e;
        outn = ulen;
        if (snappy_uncompress((const char *)p, n - 4, (char *)r->ibuf, &outn) != SNAPPY_OK)
            return fail(r, QW_CORRUPT, "bad snappy block");
        uint32_t want = (uint32_t)p[n - 4] << 24 | (uint32_t)p[n - 3] << 16 |
                        (uint32_t)p[n - 2] << 8 | p[n - 1];
        if ((uint32_t)crc32(0, r->ibuf, (uInt)outn) != want)
            return fail(r, QW_CORRUPT, "snappy block CRC mismatch");
    } else {
        unsigned long long ulen = ZSTD_getFrameContentSize(p, n);
        if (ulen == ZSTD_CONTENTSIZE_ERROR)
            return fail(r, QW_CORRUPT, "bad zstandard block");
        size_t cap = ulen == ZSTD_CONTENTSIZE_UNKNOWN ? r->lim.max_inflated : (size_t)ulen + 1;
        if (ulen != ZSTD_CONTENTSIZE_UNKNOWN && ulen > r->lim.max_inflated)
            return fail(r, QW_TOO_LARGE, "block inflates past the limit");
        if ((e = grow_ibuf(r, cap)) != QW_OK)
            return e;
        outn = ZSTD_decompress(r->ibuf, r->ibuf_cap, p, n);
        if (ZSTD_isError(outn))
            return fail(r, QW_CORRUPT, "bad zstandard block");
    }
    if (e == QW_OK) {
        r->blk.p = r->ibuf ? r->ibuf : p;
        r->blk.end = r->blk.p + outn;
    }
    return e;
}

static qw_err next_block(qw_avro_reader *r)
{
    qw_avro_cur *c = &r->file;
    int64_t count, size;
    if (qw_avro_get_long(c, &count) != QW_OK || qw_avro_get_long(c, &size) != QW_OK)
        return fail(r, QW_CORRUPT, "truncated block header");
    if (count < 0 || size < 0 || (uint64_t)size > (uint64_t)(c->end - c->p) ||
        (uint64_t)size > r->lim.max_block_bytes)
        return fail(r, QW_CORRUPT, "bad block count %lld or size %lld", (long long)count,
                    (long long)size);
    /* refused up front: a block of 2^62 empty records would otherwise be
     * read one by one up to the item limit (seconds) before failing */
    if ((uint64_t)count > r->lim.max_items - r->items)
        return fail(r, QW_CORRUPT, "block of %lld records over the item limit", (long long)count);
    const uint8_t *data = c->p;
    c->p += size;
    const uint8_t *s;
    if (qw_avro_get_fixed(c, QW_AVRO_SYNC_LEN, &s) != QW_OK)
        return fail(r, QW_CORRUPT, "truncated sync marker after block");
    if (memcmp(s, r->sync, QW_AVRO_SYNC_LEN) != 0)
        return fail(r, QW_CORRUPT, "sync marker mismatch");
    if (r->codec == CODEC_NULL) {
        r->blk.p = data;
        r->blk.end = data + size;
    } else {
        qw_err e = decompress(r, data, (size_t)size);
        if (e != QW_OK)
            return e;
    }
    r->remaining = count;
    return QW_OK;
}

qw_err qw_avro_reader_next(qw_avro_reader *r, json_t **out)
{
    *out = NULL;
    if (r->sticky != QW_OK)
        return r->sticky;
    qw_err e = QW_OK;
    while (r->remaining == 0) {
        if (r->blk.p != r->blk.end) {
            e = fail(r, QW_CORRUPT, "bytes left over at the end of a block");
            goto out;
        }
        if (r->file.p == r->file.end)
            return QW_OK;
        if ((e = next_block(r)) != QW_OK)
            goto out;
    }
    if ((e = take_items(r, 1)) != QW_OK)
        goto out;
    e = decode(r, r->root, 0, out);
    r->remaining--;
out:
    if (e != QW_OK) {
        r->sticky = e;
        if (*out) {
            json_decref(*out);
            *out = NULL;
        }
    }
    return e;
}

qw_err qw_avro_reader_open(qw_avro_reader **out, const uint8_t *data, size_t len,
                           const qw_avro_limits *lim, char *errbuf, size_t errlen)
{
    *out = NULL;
    qw_avro_reader *r = qw_calloc(1, sizeof(*r));
    if (!r)
        return QW_NOMEM;
    r->data = data;
    r->len = len;
    r->file.p = data;
    r->file.end = data + len;
    r->lim.max_block_bytes = 64u << 20;
    r->lim.max_inflated = 64u << 20;
    r->lim.max_items = 50000000;
    r->lim.max_depth = 64;
    if (lim) {
        if (lim->max_block_bytes)
            r->lim.max_block_bytes = lim->max_block_bytes;
        if (lim->max_inflated)
            r->lim.max_inflated = lim->max_inflated;
        if (lim->max_items)
            r->lim.max_items = lim->max_items;
        if (lim->max_depth)
            r->lim.max_depth = lim->max_depth;
    }
    qw_err e = parse_header(r);
    if (e != QW_OK) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", r->err);
        qw_avro_reader_close(r);
        return e;
    }
    *out = r;
    return QW_OK;
}

const uint8_t *qw_avro_reader_meta(const qw_avro_reader *r, const char *key, size_t *n)
{
    size_t kl = strlen(key);
    for (int i = 0; i < r->nmeta; i++)
        if (r->meta[i].kn == kl && memcmp(r->meta[i].k, key, kl) == 0) {
            *n = r->meta[i].vn;
            return r->meta[i].v;
        }
    *n = 0;
    return NULL;
}

qw_err qw_avro_reader_meta_str(const qw_avro_reader *r, const char *key, char *buf, size_t cap)
{
    size_t n;
    const uint8_t *v = qw_avro_reader_meta(r, key, &n);
    if (!v)
        return QW_NOT_FOUND;
    if (n >= cap)
        return QW_TOO_LARGE;
    memcpy(buf, v, n);
    buf[n] = 0;
    return QW_OK;
}

const json_t *qw_avro_reader_schema(const qw_avro_reader *r)
{
    return r->schema;
}

const char *qw_avro_reader_errmsg(const qw_avro_reader *r)
{
    return r->err;
}

void qw_avro_reader_close(qw_avro_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nnodes; i++) {
        qw_free(r->nodes[i].kids);
        qw_free(r->nodes[i].names);
    }
    for (int i = 0; i < r->nnames; i++)
        qw_free(r->names[i].own);
    qw_free(r->nodes);
    qw_free(r->ibuf);
    json_decref(r->schema);
    qw_free(r);
}

/* s3_fileio.c: the core/fileio.h backend for s3:// and gs:// URIs (gs://
 * without HMAC keys: metadata-server tokens, GCE_METADATA_HOST)
 * (streaming writer = one PUT or a multipart upload of coalesced chunks),
 * and the factory that picks the backend for a warehouse URI and checks
 * the bucket before anything is written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "objstore/s3_int.h"

#define QW_MODULE "objstore"
#include "core/log.h"

#define BUCKET_MAX 256

int qw_objstore_is_remote(const char *uri)
{
    return uri && (strncmp(uri, "s3://", 5) == 0 || strncmp(uri, "gs://", 5) == 0);
}

qw_err qw_s3_split_uri(const char *uri, char *bucket, size_t bcap, char *key, size_t kcap)
{
    if (!qw_objstore_is_remote(uri))
        return QW_UNSUPPORTED;
    const char *b = uri + 5, *slash = strchr(b, '/');
    size_t bl = slash ? (size_t)(slash - b) : strlen(b);
    if (bl == 0 || bl >= bcap || bl >= BUCKET_MAX)
        return QW_INVAL;
    for (size_t i = 0; i < bl; i++) /* DNS-compatible names (and '_' for GCS) */
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
              b[i] == '.' || b[i] == '_'))
            return QW_INVAL;
    memcpy(bucket, b, bl);
    bucket[bl] = 0;
    const char *k = slash ? slash + 1 : "";
    while (*k == '/')
        k++;
    if ((size_t)snprintf(key, kcap, "%s", k) >= kcap || strlen(k) > QW_S3_KEY_MAX)
        return QW_TOO_LARGE;
    return QW_OK;
}

#define SPLIT(uri)                                                                                 \
    char b_[BUCKET_MAX], k_[QW_S3_KEY_MAX + 1];                                                    \
    qw_err se_ = qw_s3_split_uri((uri), b_, sizeof b_, k_, sizeof k_);                             \
    if (se_ != QW_OK)                                                                              \
        return se_;

static qw_err f_write(void *ctx, const char *uri, const void *data, size_t len)
{
    SPLIT(uri);
    qw__s3_async_forget(qw__s3_async(ctx), uri);
    qw__s3_prefetch_drop(qw__s3_prefetch(ctx), uri);
    qw__s3_rcache_drop(qw__s3_rcache(ctx), uri);
    qw_err e = qw_s3_put(ctx, b_, k_, data, len);
    if (e == QW_OK)
        qw__s3_rcache_wrote(qw__s3_rcache(ctx), uri, data, len);
    return e;
}

static qw_err f_read(void *ctx, const char *uri, size_t max, uint8_t **out, size_t *len)
{
    SPLIT(uri);
    qw__s3_async_wait(qw__s3_async(ctx), uri);
    if (qw__s3_rcache_get(qw__s3_rcache(ctx), uri, max, out, len))
        return QW_OK; /* an object this client wrote (s3_cache.c) */
    if (qw__s3_prefetch_take_whole(qw__s3_prefetch(ctx), uri, max, out, len))
        return QW_OK; /* read ahead (s3_prefetch.c) */
    return qw_s3_get(ctx, b_, k_, max, out, len);
}

static qw_err f_read_range(void *ctx, const char *uri, uint64_t off, void *buf, size_t len,
                           size_t *got)
{
    SPLIT(uri);
    qw__s3_async_wait(qw__s3_async(ctx), uri);
    if (qw__s3_prefetch_take(qw__s3_prefetch(ctx), uri, off, buf, len, got))
        return QW_OK; /* read ahead (s3_prefetch.c) */
    qw_s3_rcache *c = qw__s3_rcache(ctx);
    uint64_t whole;
    if (qw__s3_rcache_read(c, uri, off, buf, len, got, &whole))
        return QW_OK;
    if (whole) { /* small: one whole GET serves this and the next reads */
        uint8_t *d;
        qw_err e = qw__s3_get_sized(ctx, b_, k_, (size_t)whole, &d);
        if (e == QW_OK) {
            qw__s3_rcache_fill(c, uri, d, (size_t)whole, off, buf, len, got);
            return QW_OK;
        }
        if (e != QW_TOO_LARGE) /* changed since the stat: ranged reads below */
            return e;
    }
    return qw_s3_get_range(ctx, b_, k_, off, buf, len, got);
}

static qw_err f_stat(void *ctx, const char *uri, qw_fileio_info *out)
{
    SPLIT(uri);
    qw__s3_async_wait(qw__s3_async(ctx), uri);
    qw_err e = qw_s3_head(ctx, b_, k_, out);
    if (e == QW_OK)
        qw__s3_rcache_note(qw__s3_rcache(ctx), uri, out->size, out->mtime_ns);
    return e;
}

static qw_err f_remove(void *ctx, const char *uri)
{
    SPLIT(uri);
    qw__s3_async_forget(qw__s3_async(ctx), uri); /* a pending upload lands first */
    qw__s3_rcache_drop(qw__s3_rcache(ctx), uri);
    qw__s3_prefetch_drop(qw__s3_prefetch(ctx), uri);
    qw_fileio_info fi; /* S3 deletes missing keys quietly; the interface reports them */
    qw_err e = qw_s3_head(ctx, b_, k_, &fi);
    return e != QW_OK ? e : qw_s3_delete(ctx, b_, k_);
}

static qw_err f_mkdirs(void *ctx, const char *uri)
{
    (void)ctx;
    (void)uri;
    return QW_OK; /* no directories in an object store */
}

static qw_err f_sync(void *ctx, const char *uri)
{
    /* a PUT or a completed upload is durable; a deferred commit's upload
     * may still be running (s3_async.c) */
    return qw__s3_async_sync(qw__s3_async(ctx), uri);
}

typedef struct list_ctx {
    char base[16 + BUCKET_MAX]; /* "s3://bucket/" */
    char uri[QW_FILEIO_PATH_MAX];
    int (*fn)(void *, const char *, uint64_t);
    void *fctx;
    qw_err err;
} list_ctx;

static int on_key(void *ctx, const char *key, uint64_t size)
{
    list_ctx *l = ctx;
    if ((size_t)snprintf(l->uri, sizeof l->uri, "%s%s", l->base, key) >= sizeof l->uri) {
        l->err = QW_TOO_LARGE;
        return 1;
    }
    return l->fn(l->fctx, l->uri, size);
}

static qw_err f_list(void *ctx, const char *uri, int (*fn)(void *, const char *, uint64_t),
                     void *fctx)
{
    SPLIT(uri);
    size_t kl = strlen(k_);
    while (kl && k_[kl - 1] == '/')
        k_[--kl] = 0;
    if (kl && kl + 1 < sizeof k_) { /* a "directory": its keys, not its siblings' */
        k_[kl] = '/';
        k_[kl + 1] = 0;
    }
    list_ctx *l = qw_calloc(1, sizeof *l);
    if (!l)
        return QW_NOMEM;
    snprintf(l->base, sizeof l->base, "%.5s%s/", uri, b_);
    l->fn = fn;
    l->fctx = fctx;
    qw_err e = qw_s3_list(ctx, b_, k_, on_key, l);
    if (e == QW_PROTOCOL) /* fileio carries codes only: the store's answer is told here */
        QW_LOG(ERROR, "%s", qw_s3_errmsg());
    if (e == QW_OK)
        e = l->err;
    qw_free(l);
    return e;
}

/* ---- streaming writer ---- */

typedef struct s3_stream {
    char bucket[BUCKET_MAX], key[QW_S3_KEY_MAX + 1], uri[QW_FILEIO_PATH_MAX];
    uint8_t *buf;
    size_t n, cap, part;
    qw_s3_upload *u; /* once the object outgrew one part */
} s3_stream;

static void stream_free(qw_s3 *s, s3_stream *st)
{
    qw__s3_buf_give(s, st->buf, st->cap);
    qw_free(st);
}

static qw_err f_stream_open(void *ctx, const char *uri, void **stream)
{
    s3_stream *st = qw_calloc(1, sizeof *st);
    if (!st)
        return QW_NOMEM;
    qw_err e = qw_s3_split_uri(uri, st->bucket, sizeof st->bucket, st->key, sizeof st->key);
    if (e != QW_OK) {
        qw_free(st);
        return e;
    }
    snprintf(st->uri, sizeof st->uri, "%s", uri);
    st->part = qw__s3_part_size(ctx);
    *stream = st;
    return QW_OK;
}

static qw_err flush_part(qw_s3 *s, s3_stream *st)
{
    qw_err e = QW_OK;
    if (!st->u)
        e = qw_s3_mpu_begin(s, st->bucket, st->key, &st->u);
    if (e == QW_OK)
        e = qw_s3_mpu_part(s, st->u, st->buf, st->n);
    st->n = 0;
    return e;
}

static qw_err f_stream_append(void *ctx, void *stream, const void *data, size_t len)
{
    s3_stream *st = stream;
    const uint8_t *d = data;
    while (len) {
        if (st->n == st->cap) { /* grow by doubling up to one part */
            size_t nc = st->cap ? st->cap * 2 : QW_FILEIO_CHUNK, got;
            if (nc > st->part)
                nc = st->part;
            uint8_t *nb = qw__s3_buf_take(ctx, nc, &got); /* a recycled one */
            if (nb) {
                if (st->n)
                    memcpy(nb, st->buf, st->n);
                qw__s3_buf_give(ctx, st->buf, st->cap);
                nc = got;
            } else if (!(nb = qw_realloc(st->buf, nc))) {
                return QW_NOMEM;
            }
            st->buf = nb;
            st->cap = nc;
        }
        size_t k = st->cap - st->n < len ? st->cap - st->n : len;
        memcpy(st->buf + st->n, d, k);
        st->n += k;
        d += k;
        len -= k;
        if (st->n == st->part) {
            qw_err e = flush_part(ctx, st);
            if (e != QW_OK)
                return e;
        }
    }
    return QW_OK;
}

static void f_stream_abort(void *ctx, void *stream)
{
    s3_stream *st = stream;
    if (!st)
        return;
    qw_s3_mpu_abort(ctx, st->u);
    stream_free(ctx, st);
}

static qw_err f_stream_commit(void *ctx, void *stream, int deferred)
{
    s3_stream *st = stream;
    qw_err e = QW_OK;
    qw__s3_rcache_drop(qw__s3_rcache(ctx), st->uri);
    qw__s3_prefetch_drop(qw__s3_prefetch(ctx), st->uri);
    if (!st->u && deferred && st->n && qw__s3_async(ctx)) { /* sync waits for it */
        e = qw__s3_async_put(qw__s3_async(ctx), st->uri, st->bucket, st->key, st->buf, st->n,
                             st->cap);
        st->buf = NULL;
    } else if (!st->u) {
        e = qw_s3_put(ctx, st->bucket, st->key, st->buf, st->n);
    } else {
        if (st->n)
            e = qw_s3_mpu_part(ctx, st->u, st->buf, st->n);
        if (e == QW_OK)
            e = qw_s3_mpu_complete(ctx, st->u); /* aborts on failure */
        else
            qw_s3_mpu_abort(ctx, st->u);
    }
    st->u = NULL;
    stream_free(ctx, st);
    return e;
}

static void f_prefetch(void *ctx, const char *uri, uint64_t off, size_t len)
{
    char b[BUCKET_MAX], k[QW_S3_KEY_MAX + 1];
    if (qw_s3_split_uri(uri, b, sizeof b, k, sizeof k) == QW_OK)
        qw__s3_prefetch_add(qw__s3_prefetch(ctx), uri, b, k, off, len);
}

static const qw_fileio_ops S3_OPS = {
    .write = f_write,
    .read = f_read,
    .read_range = f_read_range,
    .stat = f_stat,
    .list = f_list,
    .remove = f_remove,
    .mkdirs = f_mkdirs,
    .stream_open = f_stream_open,
    .stream_append = f_stream_append,
    .stream_commit = f_stream_commit,
    .stream_abort = f_stream_abort,
    .sync = f_sync,
    .prefetch = f_prefetch,
};

const qw_fileio_ops *qw_s3_fileio_ops(void)
{
    return &S3_OPS;
}

/* ---- factory ---- */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_true(const char *name)
{
    const char *v = env(name);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/* Plain http:// is for a loopback test server only (TLS otherwise). */
static int plain_http_ok(const char *ep)
{
    if (strncmp(ep, "http://", 7) != 0)
        return 1;
    const char *h = ep + 7;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
           strncmp(h, "[::1]", 5) == 0;
}

int qw_objstore_counters(const qw_fileio *io, qw_s3_counters *out)
{
    void *ctx = NULL;
    *out = (qw_s3_counters){0};
    if (!io || qw_fileio_backend(io, &ctx) != &S3_OPS || !ctx)
        return 0;
    qw_s3_counters_get(ctx, out);
    return 1;
}

static void s3_free(void *ctx)
{
    qw_s3_destroy(ctx);
}

qw_err qw_objstore_fileio_open(qw_fileio **out, const char *warehouse, const qw_objstore_cfg *cfg,
                               char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!qw_objstore_is_remote(warehouse))
        return qw_fileio_create(out, NULL, NULL);
    char bucket[BUCKET_MAX], prefix[QW_S3_KEY_MAX + 1];
    if (qw_s3_split_uri(warehouse, bucket, sizeof bucket, prefix, sizeof prefix) != QW_OK) {
        QW_SETERR(errbuf, errlen, "warehouse %s: expected s3://BUCKET/PREFIX or gs://BUCKET/PREFIX",
                  warehouse);
        return QW_INVAL;
    }
    int gcs = strncmp(warehouse, "gs://", 5) == 0;
    qw_s3_opts o = {0};
    o.endpoint = cfg && cfg->endpoint && *cfg->endpoint ? cfg->endpoint : env("AWS_ENDPOINT_URL");
    if (gcs && !o.endpoint)
        o.endpoint = "https://storage.googleapis.com";
    /* an explicit endpoint (MinIO, a test server, GCS) is addressed path-style */
    o.path_style =
        gcs || o.endpoint || (cfg && cfg->path_style) || env_true("AWS_S3_FORCE_PATH_STYLE");
    o.region = gcs ? (env("GCS_REGION") ? env("GCS_REGION") : "auto") : env("AWS_REGION");
    o.access_key =
        gcs && env("GCS_HMAC_ACCESS_ID") ? env("GCS_HMAC_ACCESS_ID") : env("AWS_ACCESS_KEY_ID");
    o.secret_key =
        gcs && env("GCS_HMAC_SECRET") ? env("GCS_HMAC_SECRET") : env("AWS_SECRET_ACCESS_KEY");
    o.token = gcs ? NULL : env("AWS_SESSION_TOKEN");
    /* gs:// without HMAC keys: OAuth token from the metadata server (GKE/GCE) */
    o.gcs_oauth = gcs && !o.access_key && !o.secret_key;
    o.metadata_host = env("GCE_METADATA_HOST");
    o.sa_key_file = env("GOOGLE_APPLICATION_CREDENTIALS");
    if (o.endpoint && !plain_http_ok(o.endpoint)) {
        QW_SETERR(errbuf, errlen,
                  "object store endpoint %s: plain http:// is allowed for loopback test servers "
                  "only; use https://",
                  o.endpoint);
        return QW_INVAL;
    }
    qw_s3 *s;
    qw_err e = qw_s3_create(&s, &o, errbuf, errlen);
    if (e != QW_OK)
        return e;
    if ((e = qw_s3_check(s, bucket, prefix, errbuf, errlen)) != QW_OK) {
        qw_s3_destroy(s);
        return e;
    }
    if ((e = qw_fileio_create(out, &S3_OPS, s)) != QW_OK) {
        qw_s3_destroy(s);
        return e;
    }
    qw_fileio_set_ctx_free(*out, s3_free);
    return QW_OK;
}

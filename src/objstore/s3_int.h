/* s3_int.h: the request engine shared by the objstore files. */
#ifndef QW_OBJSTORE_S3_INT_H
#define QW_OBJSTORE_S3_INT_H

#include <stddef.h>
#include <stdint.h>

#include "objstore/objstore.h"

typedef struct qw_s3_req {
    /* request */
    const char *method; /* GET PUT HEAD DELETE POST */
    const char *bucket, *key;
    const char *query; /* canonical: sorted, percent-encoded; NULL = none */
    const void *body;
    size_t blen;
    int body_set;             /* send body (PUT/POST), even empty */
    const char *content_type; /* full header line or NULL */
    uint64_t range_off;
    size_t range_len; /* 0 = whole object */
    /* response body sink: grow (bounded by max) or a fixed buffer (cap) */
    int sink, grow;
    uint8_t *buf;
    size_t len, cap, max;
    /* response */
    long status;
    char etag[128], last_modified[64];
    uint64_t content_length;
    char errbody[4096];
    size_t errlen;
    int too_large, nomem;
    uint64_t skip;
    void *h; /* the easy handle in use */
} qw_s3_req;

/* One request with retries; the final error text via qw_s3_errmsg(). */
qw_err qw__s3_perform(qw_s3 *s, qw_s3_req *r);
void qw__s3_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RFC 3986 encoding ('/' kept when keep_slash); 0, or -1 if it does not fit. */
int qw__s3_enc(const char *in, int keep_slash, char *out, size_t cap);
size_t qw__s3_part_size(const qw_s3 *s);
/* The whole object into one allocation of size + 1 bytes (*out, qw_free);
 * QW_TOO_LARGE when it is not size bytes long (changed since the stat). */
qw_err qw__s3_get_sized(qw_s3 *s, const char *bucket, const char *key, size_t size, uint8_t **out);
int qw__s3_list_max_keys(const qw_s3 *s);
int64_t qw__s3_http_date_ns(const char *v); /* Last-Modified -> ns; 0: unknown (s3_ops.c) */
void qw__s3_count_abort(qw_s3 *s);

/* gcs_token.c: OAuth access tokens, from a service-account key file when
 * keyfile is set (a JWT signed with its private key, exchanged at its
 * token_uri), else from the metadata server (host NULL:
 * metadata.google.internal). create fetches the first one (a clear error in
 * errbuf when it cannot); header writes "Authorization: Bearer TOKEN",
 * refreshed before expiry, thread-safe; the caller wipes hdr after use. */
typedef struct qw_gcs_token qw_gcs_token;
qw_err qw_gcs_token_create(qw_gcs_token **out, const char *host, const char *keyfile, char *errbuf,
                           size_t errlen);
void qw_gcs_token_destroy(qw_gcs_token *t); /* NULL ok */
/* *gen: which token it was (for qw_gcs_token_rejected). */
qw_err qw_gcs_token_header(qw_gcs_token *t, char *hdr, size_t cap, uint64_t *gen);
/* The server answered 401 to the token of generation gen (revoked or
 * expired early): the next header fetches a new one (once, however many
 * threads report the same token); it is not used again. */
void qw_gcs_token_rejected(qw_gcs_token *t, uint64_t gen);
uint64_t qw_gcs_token_fetches(const qw_gcs_token *t);

/* s3_cache.c: small objects read whole for their ranged reads (bounds and
 * rules there). note: a stat saw uri at this size; drop: we wrote or
 * removed it; read: 1 if served from the cache, else 0 with *whole = the
 * object's size when a whole GET is worth it (0: make a ranged GET);
 * fill: serve the read from d (n bytes, the whole object) and keep d (or
 * free it); wrote: this client PUT uri whole (a copy is kept when n <=
 * QW_S3_WRITTEN_MAX); get: 1 and a qw_malloc'ed, NUL-terminated copy of uri's data
 * when the cache holds it (at most max bytes), else 0. A NULL cache caches
 * nothing. */
#define QW_S3_WHOLE_MAX ((size_t)8 << 20)
#define QW_S3_CACHE_BYTES ((size_t)64 << 20)
#define QW_S3_CACHE_SLOTS 32
#define QW_S3_WRITTEN_MAX ((size_t)1 << 20)
#define QW_S3_MTIME_OURS INT64_MIN /* written by this client: time not known yet */
typedef struct qw_s3_rcache qw_s3_rcache;
qw_err qw__s3_rcache_create(qw_s3_rcache **out);
void qw__s3_rcache_destroy(qw_s3_rcache *c);
qw_s3_rcache *qw__s3_rcache(qw_s3 *s);
void qw__s3_rcache_note(qw_s3_rcache *c, const char *uri, uint64_t size, int64_t mtime_ns);
void qw__s3_rcache_drop(qw_s3_rcache *c, const char *uri);
void qw__s3_rcache_wrote(qw_s3_rcache *c, const char *uri, const void *d, size_t n);
int qw__s3_rcache_get(qw_s3_rcache *c, const char *uri, size_t max, uint8_t **out, size_t *len);
int qw__s3_rcache_read(qw_s3_rcache *c, const char *uri, uint64_t off, void *buf, size_t len,
                       size_t *got, uint64_t *whole);
void qw__s3_rcache_fill(qw_s3_rcache *c, const char *uri, uint8_t *d, size_t n, uint64_t off,
                        void *buf, size_t len, size_t *got);

/* s3_async.c: deferred-sync commits uploaded in the background (rules
 * there). put takes data (qw_malloc'ed; cost = bytes it holds) whatever
 * the result; sync: QW_OK when uri has no pending upload or it succeeded,
 * else PUT again here; wait: until uri's upload is settled (readers);
 * forget: settled, then dropped (remove, overwrite). NULL: no-ops. */
/* Upload buffers (a stream's object bytes, up to one part) are recycled:
 * every data file grew a fresh buffer by realloc and page-faulted it in
 * (~8 % of our CPU in a replay --persist into s3://). take: a kept buffer
 * of at least want bytes (*cap its size) or NULL; give: keep b (cap
 * bytes; at most 4 buffers, 16 MiB) or free it. Any thread. */
uint8_t *qw__s3_buf_take(qw_s3 *s, size_t want, size_t *cap);
void qw__s3_buf_give(qw_s3 *s, uint8_t *b, size_t cap);

#define QW_S3_UPLOADERS 2
#define QW_S3_ASYNC_BYTES ((size_t)64 << 20)
typedef struct qw_s3_async qw_s3_async;
qw_err qw__s3_async_create(qw_s3_async **out, qw_s3 *s);
void qw__s3_async_destroy(qw_s3_async *a);
qw_s3_async *qw__s3_async(qw_s3 *s);
qw_err qw__s3_async_put(qw_s3_async *a, const char *uri, const char *bucket, const char *key,
                        uint8_t *data, size_t n, size_t cost);
qw_err qw__s3_async_sync(qw_s3_async *a, const char *uri);
void qw__s3_async_wait(qw_s3_async *a, const char *uri);
void qw__s3_async_forget(qw_s3_async *a, const char *uri);

/* s3_prefetch.c: read-ahead of ranged reads (rules there). add: a hint
 * that uri's bytes [off, off + len) will be read (ignored when the budget
 * is full); take: 1 and the bytes when a read of [off, off + len) falls in
 * a hint (waiting for its GET if running), else 0 (the caller GETs); drop:
 * uri was written or removed; counts: reads served, hints never read.
 * NULL: no-ops. */
#define QW_S3_PREFETCHERS 4
#define QW_S3_PREFETCH_BYTES ((size_t)32 << 20)
#define QW_S3_PREFETCH_SLOTS 32
typedef struct qw_s3_prefetch qw_s3_prefetch;
qw_err qw__s3_prefetch_create(qw_s3_prefetch **out, qw_s3 *s);
void qw__s3_prefetch_destroy(qw_s3_prefetch *p);
qw_s3_prefetch *qw__s3_prefetch(qw_s3 *s);
void qw__s3_prefetch_add(qw_s3_prefetch *p, const char *uri, const char *bucket, const char *key,
                         uint64_t off, size_t len);
int qw__s3_prefetch_take(qw_s3_prefetch *p, const char *uri, uint64_t off, void *buf, size_t len,
                         size_t *got);
/* take_whole: 1 and *out (qw_malloc'ed, NUL-terminated) when a hint at
 * offset 0 came back shorter than asked, i.e. holds the whole object (at
 * most max bytes), else 0 */
int qw__s3_prefetch_take_whole(qw_s3_prefetch *p, const char *uri, size_t max, uint8_t **out,
                               size_t *len);
void qw__s3_prefetch_drop(qw_s3_prefetch *p, const char *uri);
void qw__s3_prefetch_counts(qw_s3_prefetch *p, uint64_t *served, uint64_t *wasted);

#endif

/* s3_cache.c: small objects are read whole, once, for their ranged reads.
 *
 * Why: a Parquet reader asks for a data file as stat, the magic, the
 * footer tail, then one range per column chunk: about a dozen requests
 * per file, each a full round trip (and on the loopback test server a
 * SigV4 check and a file open). For a file of a few MiB one whole GET is
 * cheaper than twelve small ones on any store we target, so a ranged read
 * of an object whose size the last stat saw to be at most
 * QW_S3_WHOLE_MAX is served from one whole-object GET kept here; larger
 * objects keep their ranged GETs.
 *
 * Bounds: at most QW_S3_CACHE_BYTES of object data in at most
 * QW_S3_CACHE_SLOTS objects per client, least recently used evicted
 * first. Objects of the lake are write-once under unique names; still, an
 * entry is dropped when this client writes or removes that key, and a stat
 * that sees a different size or Last-Modified drops the data (every
 * Parquet open stats first).
 *
 * Written objects: a whole PUT of at most QW_S3_WRITTEN_MAX bytes by this
 * client (metadata JSON, manifest lists, manifests) is kept, and this
 * client's next whole read of that key (qw_fileio_read) is served from the
 * copy: a committer reads back the metadata and the manifest list it wrote
 * at its previous commit, two round trips per commit saved. Sound because
 * the lake writes every such object once under a unique name (the only
 * key it rewrites, version-hint.text, QuoteWatch never reads) and this
 * client drops the entry when it rewrites or removes the key; another
 * process removing an object this one wrote is what expiry does to
 * objects no current snapshot references, which a committer never reads.
 *
 * Threads: one mutex; copies out of an entry are made under it (a column
 * chunk: well under a millisecond), the GET itself is made outside it (two
 * threads missing the same object at once both fetch it; one is kept). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "objstore/s3_int.h"

typedef struct slot {
    char uri[QW_FILEIO_PATH_MAX];
    uint64_t size;
    int64_t mtime_ns;
    uint8_t *data; /* NULL until read whole */
    uint64_t used; /* LRU tick */
} slot;

struct qw_s3_rcache {
    pthread_mutex_t mu;
    slot s[QW_S3_CACHE_SLOTS];
    size_t bytes;
    uint64_t tick;
};

qw_err qw__s3_rcache_create(qw_s3_rcache **out)
{
    qw_s3_rcache *c = qw_calloc(1, sizeof *c);
    if (!c)
        return QW_NOMEM;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return QW_OK;
}

void qw__s3_rcache_destroy(qw_s3_rcache *c)
{
    if (!c)
        return;
    for (int i = 0; i < QW_S3_CACHE_SLOTS; i++)
        qw_free(c->s[i].data);
    pthread_mutex_destroy(&c->mu);
    qw_free(c);
}

static slot *find(qw_s3_rcache *c, const char *uri)
{
    for (int i = 0; i < QW_S3_CACHE_SLOTS; i++)
        if (c->s[i].uri[0] && strcmp(c->s[i].uri, uri) == 0)
            return &c->s[i];
    return NULL;
}

static void drop_data(qw_s3_rcache *c, slot *e)
{
    if (e->data) {
        c->bytes -= (size_t)e->size;
        qw_free(e->data);
        e->data = NULL;
    }
}

/* An empty slot, else the least recently used one (emptied). */
static slot *victim(qw_s3_rcache *c)
{
    slot *v = &c->s[0];
    for (int i = 0; i < QW_S3_CACHE_SLOTS; i++) {
        if (!c->s[i].uri[0])
            return &c->s[i];
        if (c->s[i].used < v->used)
            v = &c->s[i];
    }
    drop_data(c, v);
    v->uri[0] = 0;
    return v;
}

/* Drops the least recently used data until n more bytes fit (or none is left). */
static void make_room(qw_s3_rcache *c, size_t n)
{
    while (c->bytes + n > QW_S3_CACHE_BYTES) {
        slot *v = NULL;
        for (int i = 0; i < QW_S3_CACHE_SLOTS; i++)
            if (c->s[i].data && (!v || c->s[i].used < v->used))
                v = &c->s[i];
        if (!v)
            return;
        drop_data(c, v);
    }
}

void qw__s3_rcache_note(qw_s3_rcache *c, const char *uri, uint64_t size, int64_t mtime_ns)
{
    if (!c || strlen(uri) >= QW_FILEIO_PATH_MAX)
        return;
    pthread_mutex_lock(&c->mu);
    slot *e = find(c, uri);
    if (e && e->mtime_ns == QW_S3_MTIME_OURS && e->size == size)
        e->mtime_ns = mtime_ns; /* the object we wrote: the store's time for it */
    if (e && (e->size != size || e->mtime_ns != mtime_ns))
        drop_data(c, e); /* changed under us (not in a lake; be safe) */
    if (!e && size <= QW_S3_WHOLE_MAX) {
        e = victim(c);
        snprintf(e->uri, sizeof e->uri, "%s", uri);
    }
    if (e) {
        e->size = size;
        e->mtime_ns = mtime_ns;
        e->used = ++c->tick;
    }
    pthread_mutex_unlock(&c->mu);
}

void qw__s3_rcache_wrote(qw_s3_rcache *c, const char *uri, const void *d, size_t n)
{
    if (!c || strlen(uri) >= QW_FILEIO_PATH_MAX)
        return;
    uint8_t *copy = n <= QW_S3_WRITTEN_MAX ? qw_malloc(n ? n : 1) : NULL;
    pthread_mutex_lock(&c->mu);
    slot *e = find(c, uri);
    if (e) {
        drop_data(c, e);
        e->uri[0] = 0;
    }
    if (copy) {
        make_room(c, n);
        e = victim(c);
        snprintf(e->uri, sizeof e->uri, "%s", uri);
        memcpy(copy, d, n);
        e->data = copy;
        e->size = n;
        e->mtime_ns = QW_S3_MTIME_OURS;
        e->used = ++c->tick;
        c->bytes += n;
        copy = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    qw_free(copy);
}

int qw__s3_rcache_get(qw_s3_rcache *c, const char *uri, size_t max, uint8_t **out, size_t *len)
{
    if (!c)
        return 0;
    int served = 0;
    pthread_mutex_lock(&c->mu);
    slot *e = find(c, uri);
    if (e && e->data && e->size <= max) {
        uint8_t *copy = qw_malloc((size_t)e->size + 1); /* NUL-terminated, as fileio reads are */
        if (copy) {
            memcpy(copy, e->data, (size_t)e->size);
            copy[e->size] = 0;
            *out = copy;
            *len = (size_t)e->size;
            e->used = ++c->tick;
            served = 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return served;
}

void qw__s3_rcache_drop(qw_s3_rcache *c, const char *uri)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    slot *e = find(c, uri);
    if (e) {
        drop_data(c, e);
        e->uri[0] = 0;
    }
    pthread_mutex_unlock(&c->mu);
}

static void copy_range(const uint8_t *d, uint64_t size, uint64_t off, void *buf, size_t len,
                       size_t *got)
{
    size_t n = off >= size ? 0 : (size - off < len ? (size_t)(size - off) : len);
    if (n)
        memcpy(buf, d + off, n);
    *got = n;
}

int qw__s3_rcache_read(qw_s3_rcache *c, const char *uri, uint64_t off, void *buf, size_t len,
                       size_t *got, uint64_t *whole)
{
    *whole = 0;
    if (!c)
        return 0;
    int served = 0;
    pthread_mutex_lock(&c->mu);
    slot *e = find(c, uri);
    if (e && e->data) {
        copy_range(e->data, e->size, off, buf, len, got);
        e->used = ++c->tick;
        served = 1;
    } else if (e && e->size <= QW_S3_WHOLE_MAX) {
        *whole = e->size; /* worth a whole GET (0: an empty object, ranges) */
    }
    pthread_mutex_unlock(&c->mu);
    return served;
}

void qw__s3_rcache_fill(qw_s3_rcache *c, const char *uri, uint8_t *d, size_t n, uint64_t off,
                        void *buf, size_t len, size_t *got)
{
    copy_range(d, n, off, buf, len, got);
    pthread_mutex_lock(&c->mu);
    slot *e = find(c, uri);
    if (e && !e->data && e->size == n && n <= QW_S3_CACHE_BYTES) { /* still the object stat saw */
        make_room(c, n);
        e->data = d;
        c->bytes += n;
        e->used = ++c->tick;
        d = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    qw_free(d);
}

/* s3_ops.c: the S3 operations (objstore.h) over the request engine:
 * PUT, GET, ranged GET, HEAD, DELETE, ListObjectsV2 (paginated), the
 * bucket check and multipart upload (create, part, complete, abort). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "objstore/s3_int.h"

#define LIST_BODY_MAX ((size_t)16 << 20)

static qw_s3_req *req_new(const char *method, const char *bucket, const char *key)
{
    qw_s3_req *r = qw_calloc(1, sizeof *r);
    if (r) {
        r->method = method;
        r->bucket = bucket;
        r->key = key;
    }
    return r;
}

qw_err qw_s3_put(qw_s3 *s, const char *bucket, const char *key, const void *data, size_t len)
{
    qw_s3_req *r = req_new("PUT", bucket, key);
    if (!r)
        return QW_NOMEM;
    r->body = data;
    r->blen = len;
    r->body_set = 1;
    qw_err e = qw__s3_perform(s, r);
    qw_free(r);
    return e;
}

qw_err qw_s3_get(qw_s3 *s, const char *bucket, const char *key, size_t max, uint8_t **out,
                 size_t *len)
{
    *out = NULL;
    *len = 0;
    qw_s3_req *r = req_new("GET", bucket, key);
    if (!r)
        return QW_NOMEM;
    r->sink = r->grow = 1;
    r->max = max < SIZE_MAX / 4 ? max : SIZE_MAX / 4; /* room for the doubling and the NUL */
    qw_err e = qw__s3_perform(s, r);
    if (e == QW_OK && !r->buf && !(r->buf = qw_malloc(1)))
        e = QW_NOMEM;
    if (e == QW_OK) {
        r->buf[r->len] = 0;
        *out = r->buf;
        *len = r->len;
    } else {
        qw_free(r->buf);
    }
    qw_free(r);
    return e;
}

qw_err qw_s3_get_range(qw_s3 *s, const char *bucket, const char *key, uint64_t off, void *buf,
                       size_t len, size_t *got)
{
    *got = 0;
    if (len == 0)
        return QW_OK;
    qw_s3_req *r = req_new("GET", bucket, key);
    if (!r)
        return QW_NOMEM;
    r->sink = 1;
    r->buf = buf;
    r->cap = len;
    r->range_off = off;
    r->range_len = len;
    qw_err e = qw__s3_perform(s, r);
    if (e == QW_OK)
        *got = r->status == 416 ? 0 : r->len;
    qw_free(r);
    return e;
}

qw_err qw__s3_get_sized(qw_s3 *s, const char *bucket, const char *key, size_t size, uint8_t **out)
{
    *out = NULL;
    qw_s3_req *r = req_new("GET", bucket, key);
    uint8_t *buf = qw_malloc(size + 1);
    if (!r || !buf) {
        qw_free(r);
        qw_free(buf);
        return QW_NOMEM;
    }
    r->sink = 1; /* into buf, no growth: one allocation of the known size */
    r->buf = buf;
    r->cap = size;
    qw_err e = qw__s3_perform(s, r);
    if (e == QW_OK && (r->len != size || r->content_length != size))
        e = QW_TOO_LARGE; /* not the object the stat saw */
    if (e == QW_OK)
        *out = buf;
    else
        qw_free(buf);
    qw_free(r);
    return e;
}

/* Last-Modified (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") in
 * ns since 1970; 0 when absent, malformed or outside 1970..2262 (what an
 * int64 of ns holds): maintenance then treats the object's age as unknown
 * (qw_ice_protected), never as 1970. */
int64_t qw__s3_http_date_ns(const char *v)
{
    struct tm tm = {0};
    const char *end = v && *v ? strptime(v, "%a, %d %b %Y %H:%M:%S", &tm) : NULL;
    if (!end || (*end && strcmp(end, " GMT") != 0))
        return 0;
    time_t t = timegm(&tm);
    if (t <= 0 || (int64_t)t > INT64_MAX / 1000000000)
        return 0;
    return (int64_t)t * 1000000000;
}

qw_err qw_s3_head(qw_s3 *s, const char *bucket, const char *key, qw_fileio_info *out)
{
    *out = (qw_fileio_info){0};
    qw_s3_req *r = req_new("HEAD", bucket, key);
    if (!r)
        return QW_NOMEM;
    qw_err e = qw__s3_perform(s, r);
    if (e == QW_OK) {
        out->size = r->content_length;
        out->mtime_ns = qw__s3_http_date_ns(r->last_modified);
    }
    qw_free(r);
    return e;
}

qw_err qw_s3_delete(qw_s3 *s, const char *bucket, const char *key)
{
    qw_s3_req *r = req_new("DELETE", bucket, key);
    if (!r)
        return QW_NOMEM;
    qw_err e = qw__s3_perform(s, r);
    qw_free(r);
    return e;
}

/* One page: the keys of [body, end) to fn; the next token (or ""). A key
 * outside prefix is a protocol error, not a key: clean-orphans deletes
 * what a listing names and no table references, so a store (or a proxy)
 * that answered with another table's keys must stop it, not feed it. */
static qw_err list_page(const char *b, const char *end, const char *prefix,
                        int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx, char *next,
                        size_t ncap, int *stop, const char **why)
{
    const char *p = b, *cb, *ce;
    char key[QW_S3_KEY_MAX + 1], sz[32];
    size_t pl = strlen(prefix);
    *why = "malformed ListObjectsV2 answer";
    while (qw_s3_xml_elem(&p, end, "Contents", &cb, &ce) == 0) {
        const char *q = cb;
        if (qw_s3_xml_text(&q, ce, "Key", key, sizeof key) != 0)
            return QW_PROTOCOL;
        if (strncmp(key, prefix, pl) != 0) {
            *why = "the answer names a key outside the prefix";
            return QW_PROTOCOL;
        }
        q = cb;
        if (qw_s3_xml_text(&q, ce, "Size", sz, sizeof sz) != 0)
            return QW_PROTOCOL;
        char *e;
        unsigned long long n = strtoull(sz, &e, 10);
        if (*e || e == sz)
            return QW_PROTOCOL;
        if (fn(ctx, key, (uint64_t)n)) {
            *stop = 1;
            return QW_OK;
        }
    }
    char tr[16] = "";
    p = b;
    (void)qw_s3_xml_text(&p, end, "IsTruncated", tr, sizeof tr);
    next[0] = 0;
    if (strcmp(tr, "true") == 0) {
        p = b;
        if (qw_s3_xml_text(&p, end, "NextContinuationToken", next, ncap) != 0 || !next[0])
            return QW_PROTOCOL;
    }
    return QW_OK;
}

static qw_err list_impl(qw_s3 *s, const char *bucket, const char *prefix, int max_keys,
                        int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx)
{
    char eprefix[3 * QW_S3_KEY_MAX + 1], tok[1024], etok[3 * 1024 + 1];
    char *query = qw_malloc(sizeof eprefix + sizeof etok + 128);
    qw_s3_req *r = req_new("GET", bucket, "");
    qw_err e = QW_OK;
    if (!query || !r) {
        e = QW_NOMEM;
        goto done;
    }
    if (qw__s3_enc(prefix, 0, eprefix, sizeof eprefix) != 0) {
        e = QW_TOO_LARGE;
        goto done;
    }
    tok[0] = 0;
    char prev[sizeof tok] = "";
    for (int page = 0;; page++) {
        if (tok[0] && qw__s3_enc(tok, 0, etok, sizeof etok) != 0) {
            e = QW_PROTOCOL;
            break;
        }
        /* canonical order: continuation-token, list-type, max-keys, prefix */
        snprintf(query, sizeof eprefix + sizeof etok + 128,
                 "%s%s%slist-type=2&max-keys=%d&prefix=%s", tok[0] ? "continuation-token=" : "",
                 tok[0] ? etok : "", tok[0] ? "&" : "", max_keys, eprefix);
        r->query = query;
        r->sink = r->grow = 1;
        r->max = LIST_BODY_MAX;
        if ((e = qw__s3_perform(s, r)) != QW_OK)
            break;
        int stop = 0;
        const char *why = "";
        e = list_page((const char *)r->buf, (const char *)r->buf + r->len, prefix, fn, ctx, tok,
                      sizeof tok, &stop, &why);
        if (e == QW_OK && tok[0] && strcmp(tok, prev) == 0) { /* a listing must advance */
            why = "the continuation token repeats";
            e = QW_PROTOCOL;
        }
        if (e == QW_PROTOCOL)
            qw__s3_seterr("list %s/%s: %s", bucket, prefix, why);
        if (e != QW_OK || stop || !tok[0])
            break;
        memcpy(prev, tok, sizeof prev);
        if (page > 1000000) {
            e = QW_TOO_LARGE;
            break;
        }
    }
done:
    if (r)
        qw_free(r->buf);
    qw_free(r);
    qw_free(query);
    return e;
}

qw_err qw_s3_list(qw_s3 *s, const char *bucket, const char *prefix,
                  int (*fn)(void *ctx, const char *key, uint64_t size), void *ctx)
{
    return list_impl(s, bucket, prefix, qw__s3_list_max_keys(s), fn, ctx);
}

static int first_key(void *ctx, const char *key, uint64_t size)
{
    (void)ctx;
    (void)key;
    (void)size;
    return 1;
}

qw_err qw_s3_check(qw_s3 *s, const char *bucket, const char *prefix, char *errbuf, size_t errlen)
{
    qw_err e = list_impl(s, bucket, prefix, 1, first_key, NULL);
    if (e != QW_OK)
        QW_SETERR(errbuf, errlen, "object store: %s", qw_s3_errmsg());
    return e;
}

/* ---- multipart upload ---- */

struct qw_s3_upload {
    char bucket[256];
    char key[QW_S3_KEY_MAX + 1];
    char id[1024];
    int n, cap;
    uint64_t total;
    char (*etag)[128];
};

qw_err qw_s3_mpu_begin(qw_s3 *s, const char *bucket, const char *key, qw_s3_upload **out)
{
    *out = NULL;
    qw_s3_upload *u = qw_calloc(1, sizeof *u);
    qw_s3_req *r = req_new("POST", bucket, key);
    qw_err e = QW_OK;
    if (!u || !r) {
        e = QW_NOMEM;
        goto done;
    }
    snprintf(u->bucket, sizeof u->bucket, "%s", bucket);
    snprintf(u->key, sizeof u->key, "%s", key);
    r->query = "uploads=";
    r->body_set = 1;
    r->sink = r->grow = 1;
    r->max = 65536;
    if ((e = qw__s3_perform(s, r)) != QW_OK)
        goto done;
    const char *p = (const char *)r->buf;
    if (!p || qw_s3_xml_text(&p, p + r->len, "UploadId", u->id, sizeof u->id) != 0 || !u->id[0]) {
        qw__s3_seterr("create multipart upload %s/%s: no UploadId in the answer", bucket, key);
        e = QW_PROTOCOL;
    }
done:
    if (r)
        qw_free(r->buf);
    qw_free(r);
    if (e != QW_OK)
        qw_free(u);
    else
        *out = u;
    return e;
}

static int upload_query(const qw_s3_upload *u, int part, char *q, size_t cap)
{
    char eid[3 * sizeof u->id + 1];
    if (qw__s3_enc(u->id, 0, eid, sizeof eid) != 0)
        return -1;
    int n = part ? snprintf(q, cap, "partNumber=%d&uploadId=%s", part, eid)
                 : snprintf(q, cap, "uploadId=%s", eid);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

qw_err qw_s3_mpu_part(qw_s3 *s, qw_s3_upload *u, const void *data, size_t len)
{
    if (u->n >= 10000)
        return QW_TOO_LARGE;
    if (u->n == u->cap) {
        int nc = u->cap ? u->cap * 2 : 16;
        void *ne = qw_realloc(u->etag, (size_t)nc * sizeof *u->etag);
        if (!ne)
            return QW_NOMEM;
        u->etag = ne;
        u->cap = nc;
    }
    char q[3 * sizeof u->id + 64];
    qw_s3_req *r = req_new("PUT", u->bucket, u->key);
    if (!r)
        return QW_NOMEM;
    qw_err e = QW_OK;
    if (upload_query(u, u->n + 1, q, sizeof q) != 0) {
        e = QW_TOO_LARGE;
    } else {
        r->query = q;
        r->body = data;
        r->blen = len;
        r->body_set = 1;
        e = qw__s3_perform(s, r);
        if (e == QW_OK && !r->etag[0]) {
            qw__s3_seterr("upload part %d of %s/%s: no ETag", u->n + 1, u->bucket, u->key);
            e = QW_PROTOCOL;
        }
        if (e == QW_OK) {
            snprintf(u->etag[u->n++], sizeof *u->etag, "%s", r->etag);
            u->total += len;
        }
    }
    qw_free(r);
    return e;
}

void qw_s3_mpu_abort(qw_s3 *s, qw_s3_upload *u)
{
    if (!u)
        return;
    char q[3 * sizeof u->id + 64], why[512];
    snprintf(why, sizeof why, "%s", qw_s3_errmsg()); /* the failure that made us abort */
    qw_s3_req *r = req_new("DELETE", u->bucket, u->key);
    if (r && upload_query(u, 0, q, sizeof q) == 0) {
        r->query = q;
        (void)qw__s3_perform(s, r); /* a failed abort leaves parts for a lifecycle rule */
    }
    qw__s3_seterr("%s", why);
    qw__s3_count_abort(s);
    qw_free(r);
    qw_free(u->etag);
    qw_free(u);
}

qw_err qw_s3_mpu_complete(qw_s3 *s, qw_s3_upload *u)
{
    size_t cap = (size_t)u->n * 200 + 128;
    char *body = qw_malloc(cap), q[3 * sizeof u->id + 64];
    qw_s3_req *r = req_new("POST", u->bucket, u->key);
    qw_err e = QW_OK;
    if (!body || !r) {
        e = QW_NOMEM;
        goto done;
    }
    size_t n = (size_t)snprintf(body, cap, "<CompleteMultipartUpload>");
    for (int i = 0; i < u->n; i++) {
        if (strpbrk(u->etag[i], "<&")) {
            e = QW_PROTOCOL;
            goto done;
        }
        n += (size_t)snprintf(body + n, cap - n,
                              "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1,
                              u->etag[i]);
    }
    n += (size_t)snprintf(body + n, cap - n, "</CompleteMultipartUpload>");
    if (upload_query(u, 0, q, sizeof q) != 0) {
        e = QW_TOO_LARGE;
        goto done;
    }
    r->query = q;
    r->body = body;
    r->blen = n;
    r->body_set = 1;
    r->content_type = "Content-Type: application/xml";
    r->sink = r->grow = 1;
    r->max = 65536;
    e = qw__s3_perform(s, r);
    /* S3 may answer 200 with an <Error> document */
    if (e == QW_OK && r->buf && r->len && strstr((const char *)r->buf, "<Error>")) {
        qw__s3_seterr("complete multipart upload %s/%s failed", u->bucket, u->key);
        e = QW_IO;
    }
    /* a retried complete whose first attempt succeeded: NoSuchUpload, but the
     * object is there with our size */
    if (e == QW_NOT_FOUND) {
        qw_fileio_info fi;
        if (qw_s3_head(s, u->bucket, u->key, &fi) == QW_OK && fi.size == u->total) {
            qw_free(u->etag);
            qw_free(u);
            u = NULL;
            e = QW_OK;
        }
    }
done:
    if (r)
        qw_free(r->buf);
    qw_free(r);
    qw_free(body);
    if (u) {
        if (e != QW_OK)
            qw_s3_mpu_abort(s, u);
        else {
            qw_free(u->etag);
            qw_free(u);
        }
    }
    return e;
}

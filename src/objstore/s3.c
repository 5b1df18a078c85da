/* s3.c: the S3 client (objstore.h): one request engine on libcurl (SigV4
 * by CURLOPT_AWS_SIGV4, payload hash header, retries with backoff and
 * jitter, error mapping) and the object operations on top of it. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "objstore/s3_int.h"

#define QW_MODULE "objstore"
#include "core/log.h"

#define POOL_MAX 16
#define BUF_KEEP 4                        /* upload buffers kept (qw__s3_buf_give) */
#define BUF_KEEP_BYTES ((size_t)16 << 20) /* ... holding at most this much */
#define ERRBODY_MAX 4096
#define QW_S3_AUTH_MAX 2200 /* "Authorization: Bearer " + a token (gcs_token.c: < 2048) */

struct qw_s3 {
    char scheme[8], host[256]; /* endpoint split: "https", "s3.us-east-1.amazonaws.com[:p]" */
    int path_style;
    char sigv4[96];
    char *userpwd;       /* key:secret */
    char *token_hdr;     /* "x-amz-security-token: ..." or NULL */
    qw_gcs_token *oauth; /* gs:// without HMAC keys: Bearer tokens instead of SigV4 */
    qw_s3_rcache *rc;    /* small objects read whole (s3_cache.c) */
    qw_s3_async *async;  /* background PUTs of deferred commits (s3_async.c) */
    qw_s3_prefetch *pf;  /* read-ahead of ranged reads (s3_prefetch.c) */
    char region[64];
    qw_s3_opts o;
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_mu;
    CURL *pool[POOL_MAX];
    int npool;
    uint8_t *bufs[BUF_KEEP]; /* upload buffers kept for reuse (pool_mu) */
    size_t bufcap[BUF_KEEP], bufbytes;
    int nbufs;
    _Atomic uint64_t requests, retries, failures, up, down, aborts, auth_refreshes, connects;
};

static _Thread_local char t_err[512];

const char *qw_s3_errmsg(void)
{
    return t_err;
}

void qw__s3_seterr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_err, sizeof t_err, fmt, ap);
    va_end(ap);
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_ok;
static void global_init(void)
{
    g_init_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
    (void)h;
    (void)a;
    qw_s3 *s = u;
    pthread_mutex_lock(&s->share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
    (void)h;
    qw_s3 *s = u;
    pthread_mutex_unlock(&s->share_mu[d]);
}

static char *dupf(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *d = qw_malloc(n);
    if (d)
        snprintf(d, n, "%s%s%s", a, sep, b);
    return d;
}

qw_err qw_s3_create(qw_s3 **out, const qw_s3_opts *o, char *errbuf, size_t errlen)
{
    *out = NULL;
    pthread_once(&g_once, global_init);
    if (!g_init_ok) {
        QW_SETERR(errbuf, errlen, "libcurl initialisation failed");
        return QW_IO;
    }
    if (!o->gcs_oauth && (!o->access_key || !*o->access_key || !o->secret_key || !*o->secret_key)) {
        QW_SETERR(errbuf, errlen,
                  "object store credentials missing: set AWS_ACCESS_KEY_ID and "
                  "AWS_SECRET_ACCESS_KEY (gs://: GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET)");
        return QW_INVAL;
    }
    qw_s3 *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->o = *o;
    s->o.endpoint = s->o.region = s->o.access_key = s->o.secret_key = s->o.token = NULL;
    if (!s->o.connect_timeout_ms)
        s->o.connect_timeout_ms = 5000;
    if (!s->o.timeout_ms)
        s->o.timeout_ms = 120000;
    if (!s->o.max_retries)
        s->o.max_retries = 6;
    if (s->o.max_retries < 0)
        s->o.max_retries = 0;
    if (!s->o.retry_budget_ms)
        s->o.retry_budget_ms = 60000;
    if (!s->o.backoff_ms)
        s->o.backoff_ms = 100;
    if (!s->o.part_size)
        s->o.part_size = (size_t)8 << 20;
    if (s->o.part_size < QW_S3_MIN_PART)
        s->o.part_size = QW_S3_MIN_PART;
    snprintf(s->region, sizeof s->region, "%s", o->region && *o->region ? o->region : "us-east-1");
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", s->region);
    s->path_style = o->path_style;
    const char *ep = o->endpoint;
    char def[128];
    if (!ep || !*ep) {
        snprintf(def, sizeof def, "https://s3.%s.amazonaws.com", s->region);
        ep = def;
    }
    const char *sep = strstr(ep, "://");
    size_t sl = sep ? (size_t)(sep - ep) : 0;
    if (!sep || (sl != 4 && sl != 5) ||
        (strncmp(ep, "https", sl) != 0 && strncmp(ep, "http", sl) != 0) ||
        (size_t)snprintf(s->host, sizeof s->host, "%s", sep + 3) >= sizeof s->host || !s->host[0] ||
        strpbrk(s->host, "?#@ ")) {
        QW_SETERR(errbuf, errlen, "object store endpoint %s: expected https://HOST[:PORT]", ep);
        qw_free(s);
        return QW_INVAL;
    }
    snprintf(s->scheme, sizeof s->scheme, "%.*s", (int)sl, ep);
    size_t hl = strlen(s->host);
    while (hl && s->host[hl - 1] == '/')
        s->host[--hl] = 0;
    if (strchr(s->host, '/')) {
        QW_SETERR(errbuf, errlen, "object store endpoint %s: no path allowed", ep);
        qw_free(s);
        return QW_INVAL;
    }
    if (o->gcs_oauth) {
        qw_err te =
            qw_gcs_token_create(&s->oauth, o->metadata_host, o->sa_key_file, errbuf, errlen);
        if (te != QW_OK) {
            qw_free(s);
            return te;
        }
    }
    s->userpwd = dupf(o->gcs_oauth ? "" : o->access_key, ":", o->gcs_oauth ? "" : o->secret_key);
    if (o->token && *o->token)
        s->token_hdr = dupf("x-amz-security-token: ", "", o->token);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&s->share_mu[i], NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    s->share = curl_share_init();
    if (!s->userpwd || qw__s3_rcache_create(&s->rc) != QW_OK ||
        qw__s3_prefetch_create(&s->pf, s) != QW_OK || (o->token && *o->token && !s->token_hdr) ||
        !s->share) {
        qw_s3_destroy(s);
        return QW_NOMEM;
    }
    curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    if (qw__s3_async_create(&s->async, s) != QW_OK) { /* last: its threads use s */
        qw_s3_destroy(s);
        return QW_NOMEM;
    }
    *out = s;
    return QW_OK;
}

static void wipe_free(char *p)
{
    if (!p)
        return;
    volatile char *v = p;
    while (*v)
        *v++ = 0;
    qw_free(p);
}

void qw_s3_destroy(qw_s3 *s)
{
    if (!s)
        return;
    qw__s3_async_destroy(s->async); /* first: waits for queued uploads */
    qw__s3_prefetch_destroy(s->pf); /* waits for running GETs */
    for (int i = 0; i < s->npool; i++)
        curl_easy_cleanup(s->pool[i]);
    for (int i = 0; i < s->nbufs; i++)
        qw_free(s->bufs[i]);
    if (s->share)
        curl_share_cleanup(s->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&s->share_mu[i]);
    pthread_mutex_destroy(&s->pool_mu);
    wipe_free(s->userpwd);
    wipe_free(s->token_hdr);
    qw_gcs_token_destroy(s->oauth);
    qw__s3_rcache_destroy(s->rc);
    qw_free(s);
}

void qw_s3_counters_get(const qw_s3 *s, qw_s3_counters *c)
{
    *c = (qw_s3_counters){atomic_load(&s->requests),      atomic_load(&s->retries),
                          atomic_load(&s->failures),      atomic_load(&s->up),
                          atomic_load(&s->down),          atomic_load(&s->aborts),
                          qw_gcs_token_fetches(s->oauth), atomic_load(&s->auth_refreshes),
                          atomic_load(&s->connects)};
}

uint8_t *qw__s3_buf_take(qw_s3 *s, size_t want, size_t *cap)
{
    uint8_t *b = NULL;
    pthread_mutex_lock(&s->pool_mu);
    for (int i = 0; i < s->nbufs; i++)
        if (s->bufcap[i] >= want) {
            b = s->bufs[i];
            *cap = s->bufcap[i];
            s->bufbytes -= s->bufcap[i];
            s->bufs[i] = s->bufs[--s->nbufs];
            s->bufcap[i] = s->bufcap[s->nbufs];
            break;
        }
    pthread_mutex_unlock(&s->pool_mu);
    return b;
}

void qw__s3_buf_give(qw_s3 *s, uint8_t *b, size_t cap)
{
    if (!b)
        return;
    pthread_mutex_lock(&s->pool_mu);
    if (s->nbufs < BUF_KEEP && s->bufbytes + cap <= BUF_KEEP_BYTES) {
        s->bufs[s->nbufs] = b;
        s->bufcap[s->nbufs++] = cap;
        s->bufbytes += cap;
        b = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    qw_free(b);
}

qw_s3_async *qw__s3_async(qw_s3 *s)
{
    return s->async;
}

qw_s3_rcache *qw__s3_rcache(qw_s3 *s)
{
    return s->rc;
}

qw_s3_prefetch *qw__s3_prefetch(qw_s3 *s)
{
    return s->pf;
}

size_t qw__s3_part_size(const qw_s3 *s)
{
    return s->o.part_size;
}

int qw__s3_list_max_keys(const qw_s3 *s)
{
    return s->o.list_max_keys > 0 && s->o.list_max_keys <= 1000 ? s->o.list_max_keys : 1000;
}

void qw__s3_count_abort(qw_s3 *s)
{
    atomic_fetch_add(&s->aborts, 1);
}

/* RFC 3986 percent-encoding: unreserved kept, '/' kept when keep_slash. */
int qw__s3_enc(const char *in, int keep_slash, char *out, size_t cap)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
                   (keep_slash && *p == '/');
        if (n + (keep ? 1 : 3) >= cap)
            return -1;
        if (keep) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hx[*p >> 4];
            out[n++] = hx[*p & 15];
        }
    }
    if (n >= cap)
        return -1;
    out[n] = 0;
    return 0;
}

static CURL *take(qw_s3 *s)
{
    CURL *h = NULL;
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool)
        h = s->pool[--s->npool];
    pthread_mutex_unlock(&s->pool_mu);
    return h ? h : curl_easy_init();
}

static void give(qw_s3 *s, CURL *h)
{
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool < POOL_MAX) {
        s->pool[s->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (h)
        curl_easy_cleanup(h);
}

static size_t on_body(char *d, size_t sz, size_t nm, void *u)
{
    qw_s3_req *r = u;
    size_t n = sz * nm;
    long code = 0;
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300 || !r->sink) { /* an error document (or a body we ignore) */
        size_t k = n;
        if (r->errlen + k > ERRBODY_MAX - 1)
            k = ERRBODY_MAX - 1 - r->errlen;
        memcpy(r->errbody + r->errlen, d, k);
        r->errlen += k;
        r->errbody[r->errlen] = 0;
        return n;
    }
    if (code == 200 && r->skip) { /* a server that ignored Range */
        size_t k = n < r->skip ? n : (size_t)r->skip;
        r->skip -= k;
        d += k;
        n -= k;
        if (!n)
            return sz * nm;
    }
    if (r->len + n > r->cap) {
        if (!r->grow) { /* a range: keep what fits, the rest is not ours */
            size_t k = r->cap - r->len;
            memcpy(r->buf + r->len, d, k);
            r->len += k;
            return sz * nm;
        }
        if (r->len + n > r->max) {
            r->too_large = 1;
            return 0; /* aborts the transfer */
        }
        size_t nc = r->cap ? r->cap : 65536;
        while (nc < r->len + n + 1)
            nc *= 2;
        if (nc > r->max + 1)
            nc = r->max + 1;
        uint8_t *nb = qw_realloc(r->buf, nc);
        if (!nb) {
            r->nomem = 1;
            return 0;
        }
        r->buf = nb;
        r->cap = nc - 1; /* room for the NUL */
    }
    memcpy(r->buf + r->len, d, n);
    r->len += n;
    return sz * nm;
}

static int hdr_is(const char *d, size_t n, const char *name, const char **v, size_t *vl)
{
    size_t l = strlen(name);
    if (n <= l || strncasecmp(d, name, l) != 0 || d[l] != ':')
        return 0;
    const char *p = d + l + 1, *e = d + n;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
        e--;
    *v = p;
    *vl = (size_t)(e - p);
    return 1;
}

static size_t on_header(char *d, size_t sz, size_t nm, void *u)
{
    qw_s3_req *r = u;
    size_t n = sz * nm;
    const char *v;
    size_t vl;
    if (hdr_is(d, n, "etag", &v, &vl) && vl < sizeof r->etag) {
        memcpy(r->etag, v, vl);
        r->etag[vl] = 0;
    } else if (hdr_is(d, n, "last-modified", &v, &vl) && vl < sizeof r->last_modified) {
        memcpy(r->last_modified, v, vl);
        r->last_modified[vl] = 0;
    } else if (hdr_is(d, n, "content-length", &v, &vl)) {
        uint64_t x = 0;
        for (size_t i = 0; i < vl && v[i] >= '0' && v[i] <= '9' && i < 19; i++)
            x = x * 10 + (uint64_t)(v[i] - '0');
        r->content_length = x;
    }
    return n;
}

static void sha256_hex(const void *d, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int ml = 0;
    static const char hx[] = "0123456789abcdef";
    EVP_Digest(d ? d : "", n, md, &ml, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[64] = 0;
}

/* The request's URL (no credentials in it: SigV4 signs in headers). */
static int build_url(const qw_s3 *s, const qw_s3_req *r, char *url, size_t cap)
{
    char ek[3 * QW_S3_KEY_MAX + 1];
    if (qw__s3_enc(r->key ? r->key : "", 1, ek, sizeof ek) != 0)
        return -1;
    /* path-style bucket requests go to "/bucket" without a '/' (what the AWS
     * SDKs send, and what the test server canonicalises) */
    int n = s->path_style
                ? snprintf(url, cap, "%s://%s/%s%s%s%s%s", s->scheme, s->host, r->bucket,
                           ek[0] ? "/" : "", ek, r->query ? "?" : "", r->query ? r->query : "")
                : snprintf(url, cap, "%s://%s.%s/%s%s%s", s->scheme, r->bucket, s->host, ek,
                           r->query ? "?" : "", r->query ? r->query : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* auth: "Authorization: Bearer ..." (gs:// OAuth) or NULL (SigV4) */
static CURLcode run_once(qw_s3 *s, CURL *h, qw_s3_req *r, const char *url, const char *sha,
                         const char *auth)
{
    curl_easy_reset(h);
    r->h = h;
    struct curl_slist *hl = NULL, *t;
    char hs[128], range[96];
    snprintf(hs, sizeof hs, "x-amz-content-sha256: %s", sha);
    int ok = (t = curl_slist_append(hl, auth ? auth : hs)) != NULL;
    hl = ok ? t : hl;
    if (ok && s->token_hdr)
        ok = (t = curl_slist_append(hl, s->token_hdr)) != NULL, hl = ok ? t : hl;
    if (ok && r->body_set)
        ok = (t = curl_slist_append(hl, r->content_type
                                            ? r->content_type
                                            : "Content-Type: application/octet-stream")) != NULL,
        hl = ok ? t : hl;
    if (ok && r->range_len) {
        snprintf(range, sizeof range, "Range: bytes=%llu-%llu", (unsigned long long)r->range_off,
                 (unsigned long long)(r->range_off + r->range_len - 1));
        ok = (t = curl_slist_append(hl, range)) != NULL, hl = ok ? t : hl;
    }
    if (!ok) {
        curl_slist_free_all(hl);
        return CURLE_OUT_OF_MEMORY;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SHARE, s->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* a key "a/../b" is a key, not a path */
    if (!auth) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
        curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->o.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (r->body_set) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->blen);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    long nc = 0; /* 0: a reused connection; a silent resend after a dead one shows here too */
    if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nc) == CURLE_OK && nc > 0)
        atomic_fetch_add(&s->connects, (uint64_t)nc);
    for (struct curl_slist *x = auth ? hl : NULL; x; x = x->next) /* the token: wiped */
        for (volatile char *v = x->data; *v; v++)
            *v = 0;
    curl_slist_free_all(hl);
    return cc;
}

static void reset_resp(qw_s3_req *r)
{
    r->len = 0;
    r->errlen = 0;
    r->errbody[0] = 0;
    r->status = 0;
    r->etag[0] = r->last_modified[0] = 0;
    r->content_length = 0;
    r->too_large = r->nomem = 0;
    r->skip = r->range_len ? r->range_off : 0;
}

static int transport_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return 1;
    default: return 0;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Map a final HTTP answer to a qw_err and one clear sentence. */
static qw_err map_status(const qw_s3_req *r, const char *code, const char *msg)
{
    long st = r->status;
    if (st == 404 && strcmp(code, "NoSuchBucket") == 0) {
        qw__s3_seterr("bucket %s does not exist", r->bucket);
        return QW_NOT_FOUND;
    }
    if (st == 404) {
        qw__s3_seterr("%s/%s: not found", r->bucket, r->key ? r->key : "");
        return QW_NOT_FOUND;
    }
    if (st == 403 || st == 401) {
        qw__s3_seterr("access to bucket %s denied (HTTP %ld %s%s%s): check the access key, the "
                      "secret and the bucket's permissions",
                      r->bucket, st, code[0] ? code : "Forbidden", msg[0] ? ": " : "", msg);
        return QW_IO;
    }
    if (st == 416)
        return QW_OK; /* range past the end: nothing (the caller sees got = 0) */
    if (st == 412 || st == 409) {
        qw__s3_seterr("%s %s/%s: HTTP %ld %s", r->method, r->bucket, r->key ? r->key : "", st,
                      code);
        return QW_CONFLICT;
    }
    qw__s3_seterr("%s %s/%s: HTTP %ld %s%s%s", r->method, r->bucket, r->key ? r->key : "", st,
                  code[0] ? code : "error", msg[0] ? ": " : "", msg);
    return QW_IO;
}

qw_err qw__s3_perform(qw_s3 *s, qw_s3_req *r)
{
    char url[3 * QW_S3_KEY_MAX + 2048];
    if (build_url(s, r, url, sizeof url) != 0) {
        qw__s3_seterr("object key too long: %s", r->key ? r->key : "");
        return QW_TOO_LARGE;
    }
    char sha[65];
    sha256_hex(r->body, r->body_set ? r->blen : 0, sha);
    CURL *h = take(s);
    if (!h)
        return QW_NOMEM;
    int64_t t0 = now_ms();
    unsigned seed = (unsigned)(t0 ^ (int64_t)(uintptr_t)r);
    qw_err e = QW_IO;
    char auth[QW_S3_AUTH_MAX];
    uint64_t gen = 0;
    int auth_retried = 0;
    for (int attempt = 0;; attempt++) {
        reset_resp(r);
        if (s->oauth && (e = qw_gcs_token_header(s->oauth, auth, sizeof auth, &gen)) != QW_OK)
            break; /* the token's error text is set */
        CURLcode cc = run_once(s, h, r, url, sha, s->oauth ? auth : NULL);
        for (volatile char *v = auth; s->oauth && *v; v++)
            *v = 0;
        atomic_fetch_add(&s->requests, 1);
        int retry = 0;
        char code[64] = "", msg[256] = "";
        if (cc == CURLE_OK) {
            const char *p = r->errbody;
            if (r->errlen)
                (void)qw_s3_xml_text(&p, r->errbody + r->errlen, "Code", code, sizeof code);
            p = r->errbody;
            if (r->errlen)
                (void)qw_s3_xml_text(&p, r->errbody + r->errlen, "Message", msg, sizeof msg);
            retry = r->status >= 500 || r->status == 429 || strcmp(code, "SlowDown") == 0 ||
                    strcmp(code, "RequestTimeout") == 0;
            if (r->status == 401 && s->oauth && !auth_retried) {
                /* a revoked or early-expired token: a new one, and this request once more */
                auth_retried = 1;
                qw_gcs_token_rejected(s->oauth, gen);
                atomic_fetch_add(&s->auth_refreshes, 1);
                QW_LOG(WARN, "%s %s/%s: HTTP 401 %s: access token refreshed, retrying once",
                       r->method, r->bucket, r->key ? r->key : "", code[0] ? code : "");
                continue;
            }
            if (r->status >= 200 && r->status < 300) {
                QW_LOG(DEBUG, "%s %s/%s%s%s: %ld, %zu bytes up, %zu down, %lld ms", r->method,
                       r->bucket, r->key ? r->key : "", r->query ? "?" : "",
                       r->query ? r->query : "", r->status, r->body_set ? r->blen : 0, r->len,
                       (long long)(now_ms() - t0));
                atomic_fetch_add(&s->up, r->body_set ? r->blen : 0);
                atomic_fetch_add(&s->down, r->len);
                e = QW_OK;
                t_err[0] = 0;
                break;
            }
        } else if (r->too_large) {
            qw__s3_seterr("%s/%s: larger than the %zu-byte limit", r->bucket, r->key, r->max);
            e = QW_TOO_LARGE;
            break;
        } else if (r->nomem) {
            e = QW_NOMEM;
            break;
        } else {
            retry = transport_retryable(cc);
        }
        long cap = s->o.backoff_ms << (attempt < 16 ? attempt : 16);
        if (cap > 5000)
            cap = 5000;
        long sleep_ms = (long)(rand_r(&seed) % (unsigned)(cap + 1)); /* full jitter */
        if (retry && attempt < s->o.max_retries &&
            now_ms() - t0 + sleep_ms + 1 < s->o.retry_budget_ms) {
            atomic_fetch_add(&s->retries, 1);
            QW_LOG(DEBUG, "retry %d of %s %s: %s", attempt + 1, r->method, url,
                   cc != CURLE_OK ? curl_easy_strerror(cc)
                   : code[0]      ? code
                                  : "HTTP 5xx");
            usleep((useconds_t)sleep_ms * 1000);
            continue;
        }
        if (cc != CURLE_OK) {
            qw__s3_seterr("%s %s: %s%s", r->method, url, curl_easy_strerror(cc),
                          retry ? " (retries exhausted)" : "");
            e = cc == CURLE_OPERATION_TIMEDOUT ? QW_TIMEOUT : QW_IO;
        } else {
            e = map_status(r, code, msg);
            if (retry) {
                char m[sizeof t_err];
                snprintf(m, sizeof m, "%s", t_err);
                qw__s3_seterr("%.400s (retries exhausted)", m);
            }
        }
        break;
    }
    give(s, h);
    if (e != QW_OK && !(e == QW_NOT_FOUND &&
                        !(r->status == 404 && r->errlen && strstr(r->errbody, "NoSuchBucket")))) {
        atomic_fetch_add(&s->failures, 1);
        if (r->status != 416)
            QW_LOG(WARN, "%s", t_err);
    }
    return e;
}

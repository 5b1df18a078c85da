/* gcs_token.c: OAuth access tokens from the GCE/GKE metadata server for gs://
 * warehouses without HMAC keys (objstore.h, docs/STORAGE.md "Object stores").
 *
 * GET http://HOST/computeMetadata/v1/instance/service-accounts/default/token
 * with "Metadata-Flavor: Google" (HOST: GCE_METADATA_HOST, as Google's client
 * libraries read it, else metadata.google.internal) answers
 * {"access_token":"...","expires_in":3599,"token_type":"Bearer"}. The token is
 * cached and fetched again once less than a quarter of its life (at most
 * 225 s, the margin of Google's libraries) is left; a failed refresh keeps
 * the old token while it is valid. The token never reaches a log or an error
 * text, and is wiped on destroy. libcurl only. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/time.h"
#include "objstore/s3_int.h"

#define QW_MODULE "objstore"
#include "core/log.h"

#define TOKEN_MAX 2048
#define BODY_MAX 16384

struct qw_gcs_token {
    pthread_mutex_t mu;
    char url[512], host[256];
    char tok[TOKEN_MAX];
    int64_t expires_mono, refresh_mono; /* ns */
    _Atomic uint64_t fetches;
};

typedef struct body {
    char b[BODY_MAX];
    size_t n;
    int over;
} body;

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
    body *b = u;
    size_t n = sz * nm;
    if (b->n + n >= sizeof b->b) {
        b->over = 1;
        return 0;
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
    b->b[b->n] = 0;
    return n;
}

static void wipe(void *p, size_t n)
{
    volatile char *v = p;
    while (n--)
        *v++ = 0;
}

/* One fetch (3 attempts on transport errors and 5xx). Under t->mu. */
static qw_err fetch(qw_gcs_token *t, char *why, size_t cap)
{
    body *b = qw_calloc(1, sizeof *b);
    CURL *h = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, "Metadata-Flavor: Google");
    qw_err e = QW_IO;
    if (!b || !h || !hl) {
        snprintf(why, cap, "out of memory");
        e = QW_NOMEM;
        goto out;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt)
            usleep(200000u << attempt);
        b->n = 0;
        b->over = 0;
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, t->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* the metadata server is link-local */
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
        CURLcode cc = curl_easy_perform(h);
        long st = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        if (cc != CURLE_OK) {
            snprintf(why, cap, "metadata server %s unreachable (%s)", t->host,
                     b->over ? "answer too large" : curl_easy_strerror(cc));
            if (b->over)
                break;
            continue;
        }
        if (st != 200) {
            snprintf(why, cap, "metadata server %s answered HTTP %ld to the token request", t->host,
                     st);
            if (st >= 500)
                continue;
            break;
        }
        json_error_t je;
        json_t *j = json_loadb(b->b, b->n, 0, &je);
        const char *at = j ? json_string_value(json_object_get(j, "access_token")) : NULL;
        json_t *ex = j ? json_object_get(j, "expires_in") : NULL;
        long long life = json_is_integer(ex) ? (long long)json_integer_value(ex) : -1;
        if (!at || !*at || strlen(at) >= sizeof t->tok || strpbrk(at, "\r\n") || life <= 0) {
            snprintf(why, cap, "metadata server %s: no access_token/expires_in in its answer",
                     t->host);
            json_decref(j);
            break;
        }
        int64_t now = qw_now_mono_ns(), margin = life / 4 < 225 ? life / 4 : 225;
        snprintf(t->tok, sizeof t->tok, "%s", at);
        t->expires_mono = now + (int64_t)life * QW_NS_PER_SEC;
        t->refresh_mono = t->expires_mono - margin * QW_NS_PER_SEC;
        json_decref(j);
        atomic_fetch_add(&t->fetches, 1);
        QW_LOG(INFO, "GCS access token from the metadata server %s (expires in %lld s)", t->host,
               life);
        e = QW_OK;
        break;
    }
out:
    if (b) {
        wipe(b, sizeof *b);
        qw_free(b);
    }
    curl_slist_free_all(hl);
    if (h)
        curl_easy_cleanup(h);
    return e;
}

qw_err qw_gcs_token_create(qw_gcs_token **out, const char *host, char *errbuf, size_t errlen)
{
    *out = NULL;
    qw_gcs_token *t = qw_calloc(1, sizeof *t);
    if (!t)
        return QW_NOMEM;
    snprintf(t->host, sizeof t->host, "%s", host && *host ? host : "metadata.google.internal");
    if (strpbrk(t->host, "/?#@ ")) {
        QW_SETERR(errbuf, errlen, "GCE_METADATA_HOST %s: expected HOST[:PORT]", t->host);
        qw_free(t);
        return QW_INVAL;
    }
    snprintf(t->url, sizeof t->url,
             "http://%s/computeMetadata/v1/instance/service-accounts/default/token", t->host);
    pthread_mutex_init(&t->mu, NULL);
    char why[400];
    qw_err e = fetch(t, why, sizeof why);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen,
                  "gs:// without HMAC keys needs an access token from the metadata server: %s "
                  "(set GCS_HMAC_ACCESS_ID/GCS_HMAC_SECRET, or GCE_METADATA_HOST)",
                  why);
        qw_gcs_token_destroy(t);
        return e;
    }
    *out = t;
    return QW_OK;
}

void qw_gcs_token_destroy(qw_gcs_token *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    wipe(t->tok, sizeof t->tok);
    qw_free(t);
}

qw_err qw_gcs_token_header(qw_gcs_token *t, char *hdr, size_t cap)
{
    pthread_mutex_lock(&t->mu);
    int64_t now = qw_now_mono_ns();
    qw_err e = QW_OK;
    if (now >= t->refresh_mono) {
        char why[400];
        if (fetch(t, why, sizeof why) != QW_OK) {
            if (now >= t->expires_mono) {
                qw__s3_seterr("GCS access token expired and not refreshed: %s", why);
                e = QW_IO;
            } else {
                QW_LOG(WARN, "GCS access token refresh failed, the current one is still valid: %s",
                       why);
            }
        }
    }
    if (e == QW_OK && (size_t)snprintf(hdr, cap, "Authorization: Bearer %s", t->tok) >= cap) {
        qw__s3_seterr("GCS access token longer than the header buffer");
        e = QW_TOO_LARGE;
    }
    pthread_mutex_unlock(&t->mu);
    return e;
}

uint64_t qw_gcs_token_fetches(const qw_gcs_token *t)
{
    return t ? atomic_load(&t->fetches) : 0;
}

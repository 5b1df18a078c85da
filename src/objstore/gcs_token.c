/* gcs_token.c: OAuth access tokens from the GCE/GKE metadata server for gs://
 * warehouses without HMAC keys (objstore.h, docs/STORAGE.md "Object stores").
 *
 * GET http://HOST/computeMetadata/v1/instance/service-accounts/default/token
 * with "Metadata-Flavor: Google" (HOST: GCE_METADATA_HOST, as Google's client
 * libraries read it, else metadata.google.internal) answers
 * {"access_token":"...","expires_in":3599,"token_type":"Bearer"}. The token is
 * cached and fetched again once less than a quarter of its life (at most
 * 225 s, the margin of Google's libraries) is left; a failed refresh keeps
 * the old token while it is valid. A 401 from the storage server (a token
 * revoked or expired early) marks that token dead (qw_gcs_token_rejected):
 * the next request fetches a new one, and s3.c retries the rejected request
 * once. The token never reaches a log or an error
 * text, and is wiped on destroy. libcurl only.
 *
 * With a service-account key (GOOGLE_APPLICATION_CREDENTIALS: the JSON key
 * file Google issues, "type":"service_account"), tokens come from its
 * token_uri instead (RFC 7523 JWT bearer grant, as Google's libraries do):
 * POST grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT,
 * the JWT RS256-signed by OpenSSL with the key's private_key, claims iss =
 * client_email, scope = devstorage.read_write, aud = token_uri, iat, exp =
 * iat + 3600. token_uri must be https:// (TLS verified), or http:// to a
 * loopback host (tests). The private key is parsed once and kept only as an
 * EVP_PKEY; no part of the file reaches a log. */
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
    EVP_PKEY *key; /* service-account mode */
    char email[256], token_uri[512], keyfile[256];
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

/* base64url without padding of n bytes into out (cap >= 4 * n / 3 + 4). */
static size_t b64url(const unsigned char *in, size_t n, char *out)
{
    int k = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    size_t m = k > 0 ? (size_t)k : 0;
    while (m && out[m - 1] == '=')
        m--;
    for (size_t i = 0; i < m; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[m] = 0;
    return m;
}

/* The form body of a JWT bearer grant, signed now; NULL on failure. */
static char *jwt_form(const qw_gcs_token *t, char *why, size_t cap)
{
    long long now = (long long)(qw_now_wall_ns() / QW_NS_PER_SEC);
    char claims[1400], hb[64], cb[2000], sb[700];
    snprintf(claims, sizeof claims,
             "{\"iss\":\"%s\",\"scope\":\"https://www.googleapis.com/auth/devstorage.read_write\","
             "\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld}",
             t->email, t->token_uri, now, now + 3600);
    static const char hdr[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    b64url((const unsigned char *)hdr, sizeof hdr - 1, hb);
    b64url((const unsigned char *)claims, strlen(claims), cb);
    size_t need = strlen(hb) + 1 + strlen(cb) + 1;
    char *in = qw_malloc(need);
    unsigned char sig[512];
    size_t sl = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = in && md;
    if (ok) {
        snprintf(in, need, "%s.%s", hb, cb);
        ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, t->key) == 1 &&
             EVP_DigestSign(md, sig, &sl, (const unsigned char *)in, strlen(in)) == 1;
    }
    EVP_MD_CTX_free(md);
    char *form = NULL;
    if (ok) {
        b64url(sig, sl, sb);
        static const char pre[] =
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
        size_t fl = sizeof pre + strlen(in) + 1 + strlen(sb) + 1;
        if ((form = qw_malloc(fl)) != NULL)
            snprintf(form, fl, "%s%s.%s", pre, in, sb);
    }
    if (!form)
        snprintf(why, cap, "service-account key %s: cannot sign the token request", t->keyfile);
    qw_free(in);
    return form;
}

/* One fetch (3 attempts on transport errors and 5xx). Under t->mu. */
static qw_err fetch(qw_gcs_token *t, char *why, size_t cap)
{
    body *b = qw_calloc(1, sizeof *b);
    CURL *h = curl_easy_init();
    struct curl_slist *hl =
        curl_slist_append(NULL, t->key ? "Accept: application/json" : "Metadata-Flavor: Google");
    char *form = t->key ? jwt_form(t, why, cap) : NULL;
    const char *src = t->key ? "token endpoint" : "metadata server";
    const char *where = t->key ? t->token_uri : t->host;
    qw_err e = QW_IO;
    if (t->key && !form)
        goto out;
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
        curl_easy_setopt(h, CURLOPT_URL, t->key ? t->token_uri : t->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        if (t->key) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
            curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http"); /* http: loopback only */
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        } else {
            curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* the metadata server is link-local */
            curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        }
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
        CURLcode cc = curl_easy_perform(h);
        long st = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        if (cc != CURLE_OK) {
            snprintf(why, cap, "%s %.200s unreachable (%s)", src, where,
                     b->over ? "answer too large" : curl_easy_strerror(cc));
            if (b->over)
                break;
            continue;
        }
        if (st != 200) {
            snprintf(why, cap, "%s %.200s answered HTTP %ld to the token request", src, where, st);
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
            snprintf(why, cap, "%s %.200s: no access_token/expires_in in its answer", src, where);
            json_decref(j);
            break;
        }
        if (life > 86400) /* Google's tokens live an hour (12 h at most): a longer claim is */
            life = 86400; /* not believed (and life * 1e9 would overflow) */
        int64_t now = qw_now_mono_ns(), margin = life / 4 < 225 ? life / 4 : 225;
        snprintf(t->tok, sizeof t->tok, "%s", at);
        t->expires_mono = now + (int64_t)life * QW_NS_PER_SEC;
        t->refresh_mono = t->expires_mono - margin * QW_NS_PER_SEC;
        json_decref(j);
        atomic_fetch_add(&t->fetches, 1);
        QW_LOG(INFO, "GCS access token from the %s %s (expires in %lld s)", src, where, life);
        e = QW_OK;
        break;
    }
out:
    if (b) {
        wipe(b, sizeof *b);
        qw_free(b);
    }
    if (form) {
        wipe(form, strlen(form));
        qw_free(form);
    }
    curl_slist_free_all(hl);
    if (h)
        curl_easy_cleanup(h);
    return e;
}

/* http:// only to a loopback host (a test token endpoint). */
static int uri_ok(const char *u)
{
    if (strncmp(u, "https://", 8) == 0)
        return 1;
    if (strncmp(u, "http://", 7) != 0)
        return 0;
    const char *h = u + 7;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
           strncmp(h, "[::1]", 5) == 0;
}

/* The key file: client_email, private_key (kept as an EVP_PKEY), token_uri. */
static qw_err load_key(qw_gcs_token *t, const char *path, char *errbuf, size_t errlen)
{
    snprintf(t->keyfile, sizeof t->keyfile, "%s", path);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        QW_SETERR(errbuf, errlen, "GOOGLE_APPLICATION_CREDENTIALS %s: not a readable JSON key file",
                  path);
        return QW_INVAL;
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *email = json_string_value(json_object_get(j, "client_email"));
    const char *pem = json_string_value(json_object_get(j, "private_key"));
    const char *uri = json_string_value(json_object_get(j, "token_uri"));
    if (!uri)
        uri = "https://oauth2.googleapis.com/token";
    qw_err e = QW_INVAL;
    if (!type || strcmp(type, "service_account") != 0 || !email || !pem) {
        QW_SETERR(errbuf, errlen,
                  "GOOGLE_APPLICATION_CREDENTIALS %s: expected a service-account key "
                  "(\"type\":\"service_account\", client_email, private_key)",
                  path);
    } else if (strlen(email) >= sizeof t->email || strlen(uri) >= sizeof t->token_uri ||
               strpbrk(email, "\"\\") || strpbrk(uri, "\"\\ ") || !uri_ok(uri)) {
        QW_SETERR(errbuf, errlen,
                  "GOOGLE_APPLICATION_CREDENTIALS %s: bad client_email or token_uri (https://, "
                  "or http:// to a loopback host)",
                  path);
    } else {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        t->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!t->key || EVP_PKEY_base_id(t->key) != EVP_PKEY_RSA) {
            QW_SETERR(errbuf, errlen,
                      "GOOGLE_APPLICATION_CREDENTIALS %s: private_key is not an "
                      "RSA key in PEM",
                      path);
            EVP_PKEY_free(t->key);
            t->key = NULL;
        } else {
            snprintf(t->email, sizeof t->email, "%s", email);
            snprintf(t->token_uri, sizeof t->token_uri, "%s", uri);
            e = QW_OK;
        }
    }
    json_t *pk = json_object_get(j, "private_key");
    if (json_is_string(pk)) /* wipe the PEM text jansson holds */
        wipe((char *)json_string_value(pk), json_string_length(pk));
    json_decref(j);
    return e;
}

qw_err qw_gcs_token_create(qw_gcs_token **out, const char *host, const char *keyfile, char *errbuf,
                           size_t errlen)
{
    *out = NULL;
    qw_gcs_token *t = qw_calloc(1, sizeof *t);
    if (!t)
        return QW_NOMEM;
    if (keyfile && *keyfile) {
        qw_err ke = load_key(t, keyfile, errbuf, errlen);
        if (ke != QW_OK) {
            qw_free(t);
            return ke;
        }
    }
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
        if (t->key)
            QW_SETERR(errbuf, errlen,
                      "gs:// with GOOGLE_APPLICATION_CREDENTIALS needs an access token: %s", why);
        else
            QW_SETERR(errbuf, errlen,
                      "gs:// without HMAC keys needs an access token from the metadata server: "
                      "%s (set GCS_HMAC_ACCESS_ID/GCS_HMAC_SECRET, GOOGLE_APPLICATION_CREDENTIALS "
                      "or GCE_METADATA_HOST)",
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
    EVP_PKEY_free(t->key);
    qw_free(t);
}

void qw_gcs_token_rejected(qw_gcs_token *t, uint64_t gen)
{
    pthread_mutex_lock(&t->mu);
    if (atomic_load(&t->fetches) == gen) { /* still the current token: never send it again */
        int64_t now = qw_now_mono_ns();
        t->refresh_mono = now;
        t->expires_mono = now;
    }
    pthread_mutex_unlock(&t->mu);
}

qw_err qw_gcs_token_header(qw_gcs_token *t, char *hdr, size_t cap, uint64_t *gen)
{
    pthread_mutex_lock(&t->mu);
    int64_t now = qw_now_mono_ns();
    qw_err e = QW_OK;
    if (now >= t->refresh_mono) {
        char why[400];
        if (fetch(t, why, sizeof why) != QW_OK) {
            if (now >= t->expires_mono) {
                qw__s3_seterr("GCS access token expired or rejected and not refreshed: %s", why);
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
    *gen = atomic_load(&t->fetches);
    pthread_mutex_unlock(&t->mu);
    return e;
}

uint64_t qw_gcs_token_fetches(const qw_gcs_token *t)
{
    return t ? atomic_load(&t->fetches) : 0;
}

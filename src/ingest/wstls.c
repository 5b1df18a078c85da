/* wstls.c: client TLS over memory BIOs for wss:// RAW connections (see
 * wstls.h). lws only moves the ciphertext; OpenSSL verifies the server. */
#include "ingest/wstls.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static void last_ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char buf[200];
    if (e) {
        ERR_error_string_n(e, buf, sizeof buf);
        const char *r = ERR_reason_error_string(e);
        snprintf(err, errlen, "tls: %s: %.120s", what, r ? r : buf);
    } else {
        snprintf(err, errlen, "tls: %s", what);
    }
    ERR_clear_error();
}

qw_err qw_wstls_init(qw_wstls *t, const char *ca_file, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ERR_clear_error();
        return QW_NOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* the system store; an empty one is not an error (then only ca_file) */
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
        ERR_clear_error();
    if (ca_file && *ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        char why[160];
        snprintf(why, sizeof why, "cannot load the CA file '%.100s'", ca_file);
        last_ssl_error(err, errlen, why);
        SSL_CTX_free(ctx);
        return QW_INVAL;
    }
    t->ctx = ctx;
    return QW_OK;
}

void qw_wstls_free(qw_wstls *t)
{
    qw_wstls_end(t);
    SSL_CTX_free(t->ctx);
    t->ctx = NULL;
}

void qw_wstls_end(qw_wstls *t)
{
    SSL_free(t->ssl); /* frees both BIOs */
    t->ssl = t->rbio = t->wbio = NULL;
    t->done = 0;
    ERR_clear_error();
}

static int set_peer(SSL *ssl, const char *host_in)
{
    char host[256];
    snprintf(host, sizeof host, "%s", host_in);
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') { /* [IPv6] */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)
        /* an IP literal: no SNI (RFC 6066), the certificate must name the address */
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
    /* Names only from the SAN: OpenSSL falls back to the subject CN when a
     * certificate has no DNS SAN, which RFC 6125 6.4.4 / CA/B BR deprecate
     * (a CN=localhost cert without SAN would pass for wss://localhost). */
    SSL_set_hostflags(ssl,
                      X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1)
        return -1;
    return 0;
}

int qw_wstls_begin(qw_wstls *t, const char *host, char *err, size_t errlen)
{
    qw_wstls_end(t);
    SSL *ssl = SSL_new(t->ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    if (!ssl || !rb || !wb) {
        SSL_free(ssl);
        BIO_free(rb);
        BIO_free(wb);
        last_ssl_error(err, errlen, "out of memory");
        return -1;
    }
    BIO_set_mem_eof_return(rb, -1); /* empty = "wait for more", not EOF */
    BIO_set_mem_eof_return(wb, -1);
    SSL_set_bio(ssl, rb, wb);
    SSL_set_connect_state(ssl);
    static const unsigned char alpn[] = "\x08http/1.1";
    if (set_peer(ssl, host) != 0 || SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1) != 0) {
        SSL_free(ssl);
        last_ssl_error(err, errlen, "cannot set the server name");
        return -1;
    }
    t->ssl = ssl;
    t->rbio = rb;
    t->wbio = wb;
    return qw_wstls_handshake(t, err, errlen) < 0 ? -1 : 0; /* the ClientHello */
}

int qw_wstls_put(qw_wstls *t, const void *p, size_t n)
{
    while (n) {
        int k = n > INT_MAX ? INT_MAX : (int)n;
        int w = BIO_write(t->rbio, p, k);
        if (w <= 0) {
            ERR_clear_error();
            return -1;
        }
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return 0;
}

int qw_wstls_handshake(qw_wstls *t, char *err, size_t errlen)
{
    if (t->done)
        return 1;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->done = 1;
        return 1;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK) {
        snprintf(err, errlen, "tls: certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
    } else {
        last_ssl_error(err, errlen, "handshake failed");
    }
    return -1;
}

int qw_wstls_read(qw_wstls *t, char *buf, size_t cap, size_t *got, char *err, size_t errlen)
{
    size_t n = 0;
    int ret = 0;
    while (n < cap) {
        ERR_clear_error();
        size_t want = cap - n;
        int r = SSL_read(t->ssl, buf + n, want > INT_MAX ? INT_MAX : (int)want);
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            ret = 1;
            break;
        }
        last_ssl_error(err, errlen, "read failed");
        ret = -1;
        break;
    }
    *got = n;
    ERR_clear_error();
    return ret;
}

int qw_wstls_write(qw_wstls *t, const void *p, size_t n)
{
    if (!t->ssl || n > INT_MAX)
        return -1;
    if (!n)
        return 0;
    ERR_clear_error();
    int r = SSL_write(t->ssl, p, (int)n); /* a memory BIO takes it all */
    ERR_clear_error();
    return r == (int)n ? 0 : -1;
}

void qw_wstls_shutdown(qw_wstls *t)
{
    if (t->ssl && t->done) {
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
}

size_t qw_wstls_pending_out(const qw_wstls *t)
{
    return t->wbio ? BIO_ctrl_pending(t->wbio) : 0;
}

size_t qw_wstls_take_out(qw_wstls *t, void *buf, size_t cap)
{
    if (!t->wbio || !BIO_ctrl_pending(t->wbio))
        return 0;
    int r = BIO_read(t->wbio, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    ERR_clear_error();
    return r > 0 ? (size_t)r : 0;
}

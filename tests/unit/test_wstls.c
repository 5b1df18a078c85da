/* test_wstls.c: the wss:// client TLS (ingest/wstls) against an in-memory
 * OpenSSL server with a CA and server certificate made here: handshake,
 * many records read in one call, writes, close_notify; an untrusted CA, a
 * certificate for another name or address, a CN without SAN, an expired or
 * not yet valid leaf, a self-signed leaf, a chain to an untrusted root, a
 * leaf signed by a CA:FALSE intermediate, a TLS 1.0/1.1-only server and a
 * missing CA file fail with clear errors. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "ingest/wstls.h"

static EVP_PKEY *ca_key, *srv_key;
static X509 *ca_crt, *srv_crt;

static X509 *make_cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, X509 *issuer,
                       const char *san)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), issuer ? 2 : 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX v;
    X509V3_set_ctx_nodb(&v);
    X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
    const char *bc = issuer ? "CA:FALSE" : "critical,CA:TRUE";
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, bc);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (san) {
        e = X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name, san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    } else if (!issuer) {
        e = X509V3_EXT_conf_nid(NULL, &v, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, signer, EVP_sha256());
    return x;
}

/* a CA, and a server certificate from it with subject CN cn and SAN san
 * (NULL: no SAN extension); the CA into ca_path */
static void make_pki_cn(const char *cn, const char *san, char *ca_path, size_t cap)
{
    ca_key = EVP_EC_gen("P-256");
    srv_key = EVP_EC_gen("P-256");
    ca_crt = make_cert(ca_key, "qw-unit-ca", ca_key, NULL, NULL);
    srv_crt = make_cert(srv_key, cn, ca_key, ca_crt, san);
    snprintf(ca_path, cap, "/tmp/qw_wstls_ca_%d.pem", (int)getpid());
    FILE *f = fopen(ca_path, "w");
    PEM_write_X509(f, ca_crt);
    fclose(f);
}

static void make_pki(const char *san, char *ca_path, size_t cap)
{
    make_pki_cn("server", san, ca_path, cap);
}

typedef struct srv {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rb, *wb;
} srv;

static void srv_new(srv *s)
{
    s->ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(s->ctx, srv_crt);
    SSL_CTX_use_PrivateKey(s->ctx, srv_key);
    s->ssl = SSL_new(s->ctx);
    s->rb = BIO_new(BIO_s_mem());
    s->wb = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(s->rb, -1);
    BIO_set_mem_eof_return(s->wb, -1);
    SSL_set_bio(s->ssl, s->rb, s->wb);
    SSL_set_accept_state(s->ssl);
}

/* client output -> server, server output -> client */
static void pump(qw_wstls *t, srv *s)
{
    char buf[65536];
    size_t n;
    while ((n = qw_wstls_take_out(t, buf, sizeof buf)) > 0)
        BIO_write(s->rb, buf, (int)n);
    (void)SSL_do_handshake(s->ssl);
    int k;
    while ((k = BIO_read(s->wb, buf, sizeof buf)) > 0)
        qw_wstls_put(t, buf, (size_t)k);
}

/* up to 10 round trips; the client's handshake result */
static int run_handshake(qw_wstls *t, srv *s, char *err, size_t errlen)
{
    for (int i = 0; i < 10; i++) {
        pump(t, s);
        int h = qw_wstls_handshake(t, err, errlen);
        if (h != 0)
            return h;
    }
    return 0;
}

static void cleanup(srv *s, qw_wstls *t, const char *ca_path)
{
    qw_wstls_free(t);
    SSL_free(s->ssl);
    SSL_CTX_free(s->ctx);
    X509_free(ca_crt);
    X509_free(srv_crt);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    unlink(ca_path);
}

TEST(wstls_handshake_records_close_notify)
{
    char ca[64], err[160] = "";
    make_pki("DNS:feed.example,IP:127.0.0.1", ca, sizeof ca);
    qw_wstls t;
    ASSERT_OK(qw_wstls_init(&t, ca, err, sizeof err));
    srv s;
    srv_new(&s);
    ASSERT_EQ(0, qw_wstls_begin(&t, "feed.example", err, sizeof err));
    ASSERT_TRUE(qw_wstls_pending_out(&t) > 0); /* the ClientHello */
    ASSERT_EQ(1, run_handshake(&t, &s, err, sizeof err));
    ASSERT_TRUE(t.done);
    /* client -> server */
    ASSERT_EQ(0, qw_wstls_write(&t, "GET / HTTP/1.1\r\n\r\n", 18));
    pump(&t, &s);
    char got[64] = "";
    ASSERT_EQ(18, SSL_read(s.ssl, got, sizeof got));
    ASSERT_TRUE(memcmp(got, "GET / HTTP/1.1\r\n\r\n", 18) == 0);
    /* server -> client: 40 records of 10000 bytes come out in two reads of 256 KiB */
    static char big[10000], in[256 * 1024 + 1];
    size_t total = 0, n = 0;
    for (int i = 0; i < 40; i++) {
        memset(big, 'a' + i % 26, sizeof big);
        ASSERT_EQ((int)sizeof big, SSL_write(s.ssl, big, sizeof big));
    }
    SSL_shutdown(s.ssl); /* close_notify after the data */
    pump(&t, &s);
    ASSERT_EQ(0, qw_wstls_read(&t, in, 256 * 1024, &n, err, sizeof err));
    ASSERT_EQ(256 * 1024, (long)n);
    ASSERT_TRUE(in[0] == 'a' && in[9999] == 'a' && in[10000] == 'b');
    total += n;
    ASSERT_EQ(1, qw_wstls_read(&t, in, 256 * 1024, &n, err, sizeof err)); /* then close_notify */
    total += n;
    ASSERT_EQ(400000, (long)total);
    ASSERT_EQ('a' + 39 % 26, in[n - 1]);
    /* our close_notify */
    qw_wstls_shutdown(&t);
    ASSERT_TRUE(qw_wstls_pending_out(&t) > 0);
    qw_wstls_end(&t);
    ASSERT_TRUE(t.ssl == NULL && !t.done);
    cleanup(&s, &t, ca);
}

static void expect_refused(const char *ca_or_null, const char *host, const char *want)
{
    char ca[64], err[160] = "";
    make_pki("DNS:feed.example,IP:127.0.0.1", ca, sizeof ca);
    qw_wstls t;
    ASSERT_OK(qw_wstls_init(&t, ca_or_null ? ca : NULL, err, sizeof err));
    srv s;
    srv_new(&s);
    ASSERT_EQ(0, qw_wstls_begin(&t, host, err, sizeof err));
    ASSERT_EQ(-1, run_handshake(&t, &s, err, sizeof err));
    ASSERT_STREQ(want, err);
    cleanup(&s, &t, ca);
}

/* No fallback to the subject CN: a certificate without SAN whose CN is the
 * host name is refused (RFC 6125 6.4.4; CAs must put names in the SAN). */
TEST(wstls_refuses_cn_without_san)
{
    char ca[64], err[160] = "";
    make_pki_cn("localhost", NULL, ca, sizeof ca);
    qw_wstls t;
    ASSERT_OK(qw_wstls_init(&t, ca, err, sizeof err));
    srv s;
    srv_new(&s);
    ASSERT_EQ(0, qw_wstls_begin(&t, "localhost", err, sizeof err));
    ASSERT_EQ(-1, run_handshake(&t, &s, err, sizeof err));
    ASSERT_STREQ("tls: certificate verify failed: hostname mismatch", err);
    cleanup(&s, &t, ca);
}

/* the same chain with the name in the SAN is accepted (control) */
TEST(wstls_accepts_san_with_cn)
{
    char ca[64], err[160] = "";
    make_pki_cn("localhost", "DNS:localhost", ca, sizeof ca);
    qw_wstls t;
    ASSERT_OK(qw_wstls_init(&t, ca, err, sizeof err));
    srv s;
    srv_new(&s);
    ASSERT_EQ(0, qw_wstls_begin(&t, "localhost", err, sizeof err));
    ASSERT_EQ(1, run_handshake(&t, &s, err, sizeof err));
    cleanup(&s, &t, ca);
}

TEST(wstls_refuses_other_name)
{
    expect_refused("ca", "other.example", "tls: certificate verify failed: hostname mismatch");
}

TEST(wstls_refuses_other_address)
{
    expect_refused("ca", "127.0.0.2", "tls: certificate verify failed: IP address mismatch");
}

TEST(wstls_refuses_untrusted_ca)
{
    expect_refused(NULL, "feed.example",
                   "tls: certificate verify failed: unable to get local issuer certificate");
}

TEST(wstls_missing_ca_file_and_garbage)
{
    qw_wstls t;
    char err[160] = "";
    ASSERT_ERR(QW_INVAL, qw_wstls_init(&t, "/nonexistent/ca.pem", err, sizeof err));
    ASSERT_TRUE(strstr(err, "cannot load the CA file '/nonexistent/ca.pem'") != NULL);
    ASSERT_OK(qw_wstls_init(&t, NULL, err, sizeof err));
    ASSERT_EQ(0, qw_wstls_begin(&t, "[::1]", err, sizeof err));
    const char *junk = "HTTP/1.1 400 Bad Request\r\n\r\n";
    ASSERT_EQ(0, qw_wstls_put(&t, junk, strlen(junk)));
    ASSERT_EQ(-1, qw_wstls_handshake(&t, err, sizeof err));
    ASSERT_TRUE(strncmp(err, "tls: handshake failed: ", 23) == 0);
    ASSERT_EQ(-1, qw_wstls_write(&t, "x", 1)); /* nothing goes out after a failure */
    qw_wstls_free(&t);
    qw_wstls_free(&t); /* twice is fine */
}

/* ---- hostile certificates and servers (issue 17) ---- */

/* A certificate for key, subject CN cn, valid from now+from_s to now+to_s,
 * signed by signer as issuer (issuer NULL: self-signed); ca: basic
 * constraints CA:TRUE with keyCertSign, else CA:FALSE. */
static X509 *cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, X509 *issuer, int ca,
                  const char *san, long from_s, long to_s)
{
    static long serial = 100;
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
    X509_gmtime_adj(X509_getm_notBefore(x), from_s);
    X509_gmtime_adj(X509_getm_notAfter(x), to_s);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX v;
    X509V3_set_ctx_nodb(&v);
    X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e =
        X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (ca) {
        e = X509V3_EXT_conf_nid(NULL, &v, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (san) {
        e = X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name, san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, signer ? signer : key, EVP_sha256());
    return x;
}

/* The client (trusting the system store and trusted, when not NULL)
 * against a server presenting leaf (and extra after it), at most TLS
 * version srv_max (0: any); the handshake result, err says why. */
static int handshake_with(X509 *trusted, X509 *leaf, EVP_PKEY *leaf_key, X509 *extra, int srv_max,
                          const char *host, char *err, size_t errlen)
{
    char ca[64];
    snprintf(ca, sizeof ca, "/tmp/qw_wstls_tr_%d.pem", (int)getpid());
    if (trusted) {
        FILE *f = fopen(ca, "w");
        PEM_write_X509(f, trusted);
        fclose(f);
    }
    qw_wstls t;
    ASSERT_OK(qw_wstls_init(&t, trusted ? ca : NULL, err, errlen));
    srv s;
    s.ctx = SSL_CTX_new(TLS_server_method());
    if (srv_max) { /* an old server: TLS 1.0/1.1 only, at security level 0 */
        SSL_CTX_set_security_level(s.ctx, 0);
        SSL_CTX_set_min_proto_version(s.ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(s.ctx, srv_max);
    }
    SSL_CTX_use_certificate(s.ctx, leaf);
    SSL_CTX_use_PrivateKey(s.ctx, leaf_key);
    if (extra)
        SSL_CTX_add1_chain_cert(s.ctx, extra);
    s.ssl = SSL_new(s.ctx);
    s.rb = BIO_new(BIO_s_mem());
    s.wb = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(s.rb, -1);
    BIO_set_mem_eof_return(s.wb, -1);
    SSL_set_bio(s.ssl, s.rb, s.wb);
    SSL_set_accept_state(s.ssl);
    int h = qw_wstls_begin(&t, host, err, errlen) == 0 ? run_handshake(&t, &s, err, errlen) : -1;
    qw_wstls_free(&t);
    SSL_free(s.ssl);
    SSL_CTX_free(s.ctx);
    unlink(ca);
    return h;
}

#define DAY (24 * 3600L)

/* a leaf from a trusted CA valid from..to: the handshake's err */
static int leaf_validity(long from_s, long to_s, char *err, size_t errlen)
{
    EVP_PKEY *ck = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256");
    X509 *c = cert(ck, "qw-unit-ca", NULL, NULL, 1, NULL, -DAY, DAY);
    X509 *l = cert(lk, "leaf", ck, c, 0, "DNS:feed.example", from_s, to_s);
    int h = handshake_with(c, l, lk, NULL, 0, "feed.example", err, errlen);
    X509_free(c), X509_free(l), EVP_PKEY_free(ck), EVP_PKEY_free(lk);
    return h;
}

TEST(wstls_refuses_expired_and_not_yet_valid_leaf)
{
    char err[160] = "";
    ASSERT_EQ(-1, leaf_validity(-2 * DAY, -DAY, err, sizeof err));
    ASSERT_STREQ("tls: certificate verify failed: certificate has expired", err);
    ASSERT_EQ(-1, leaf_validity(DAY, 2 * DAY, err, sizeof err));
    ASSERT_STREQ("tls: certificate verify failed: certificate is not yet valid", err);
    ASSERT_EQ(1, leaf_validity(-DAY, DAY, err, sizeof err)); /* control */
}

/* a self-signed leaf is refused even when it names the host */
TEST(wstls_refuses_self_signed_leaf)
{
    char err[160] = "";
    EVP_PKEY *lk = EVP_EC_gen("P-256"), *ck = EVP_EC_gen("P-256");
    X509 *l = cert(lk, "feed.example", NULL, NULL, 0, "DNS:feed.example", -DAY, DAY);
    X509 *other = cert(ck, "qw-unit-ca", NULL, NULL, 1, NULL, -DAY, DAY);
    ASSERT_EQ(-1, handshake_with(other, l, lk, NULL, 0, "feed.example", err, sizeof err));
    ASSERT_STREQ("tls: certificate verify failed: self-signed certificate", err);
    X509_free(l), X509_free(other), EVP_PKEY_free(lk), EVP_PKEY_free(ck);
}

/* root -> intermediate -> leaf, the server sending leaf and intermediate */
static int chain(int root_trusted, int inter_is_ca, char *err, size_t errlen)
{
    EVP_PKEY *rk = EVP_EC_gen("P-256"), *ik = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256"),
             *ok = EVP_EC_gen("P-256");
    X509 *r = cert(rk, "qw-unit-root", NULL, NULL, 1, NULL, -DAY, DAY);
    X509 *other = cert(ok, "qw-unit-other-root", NULL, NULL, 1, NULL, -DAY, DAY);
    X509 *i = cert(ik, "qw-unit-intermediate", rk, r, inter_is_ca, NULL, -DAY, DAY);
    X509 *l = cert(lk, "leaf", ik, i, 0, "DNS:feed.example", -DAY, DAY);
    int h = handshake_with(root_trusted ? r : other, l, lk, i, 0, "feed.example", err, errlen);
    X509_free(r), X509_free(other), X509_free(i), X509_free(l);
    EVP_PKEY_free(rk), EVP_PKEY_free(ik), EVP_PKEY_free(lk), EVP_PKEY_free(ok);
    return h;
}

TEST(wstls_refuses_chain_to_untrusted_root)
{
    char err[160] = "";
    ASSERT_EQ(-1, chain(0, 1, err, sizeof err));
    ASSERT_STREQ("tls: certificate verify failed: unable to get local issuer certificate", err);
    ASSERT_EQ(1, chain(1, 1, err, sizeof err)); /* control: the same chain, root trusted */
}

/* an intermediate with basicConstraints CA:FALSE cannot sign certificates */
TEST(wstls_refuses_leaf_signed_by_non_ca)
{
    char err[160] = "";
    ASSERT_EQ(-1, chain(1, 0, err, sizeof err));
    ASSERT_STREQ("tls: certificate verify failed: invalid CA certificate", err);
}

/* a server offering only TLS 1.0 or 1.1: we ask for 1.2 or newer */
TEST(wstls_refuses_tls10_and_tls11_servers)
{
    static const int vers[] = {TLS1_VERSION, TLS1_1_VERSION};
    for (int k = 0; k < 2; k++) {
        char err[160] = "";
        EVP_PKEY *ck = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256");
        X509 *c = cert(ck, "qw-unit-ca", NULL, NULL, 1, NULL, -DAY, DAY);
        X509 *l = cert(lk, "leaf", ck, c, 0, "DNS:feed.example", -DAY, DAY);
        ASSERT_EQ(-1, handshake_with(c, l, lk, NULL, vers[k], "feed.example", err, sizeof err));
        if (!strstr(err, "tls: handshake failed: ") || !strstr(err, "protocol version"))
            qwt_fail(__FILE__, __LINE__, "TLS %d: '%s'", k, err);
        X509_free(c), X509_free(l), EVP_PKEY_free(ck), EVP_PKEY_free(lk);
    }
}

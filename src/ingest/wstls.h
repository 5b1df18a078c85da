/* wstls.h: the client side of TLS for wss:// connections, OpenSSL over two
 * memory BIOs, without I/O: the caller puts the ciphertext it received in
 * (qw_wstls_put), drives the handshake, reads plaintext out, writes
 * plaintext in and sends whatever ciphertext qw_wstls_take_out gives.
 * Nothing blocks; the event loop decides when to read and write.
 *
 * Verification is always on: the system CA store plus an optional extra CA
 * file, the server name checked against the certificate (DNS name, or IP
 * address for an IP literal), SNI for names, TLS 1.2 or newer, ALPN
 * http/1.1, no renegotiation. Event-loop thread only; the OpenSSL error
 * queue is left empty after every call (lws shares it on that thread).
 */
#ifndef QW_INGEST_WSTLS_H
#define QW_INGEST_WSTLS_H

#include <stddef.h>

#include "core/err.h"

typedef struct qw_wstls {
    void *ctx; /* SSL_CTX */
    void *ssl; /* SSL of the current connection, NULL between connections */
    void *rbio, *wbio;
    int done; /* handshake complete */
} qw_wstls;

/* The SSL_CTX: system CAs, plus ca_file when not NULL/empty. QW_INVAL
 * with err (e.g. the CA file cannot be loaded), QW_NOMEM. */
qw_err qw_wstls_init(qw_wstls *t, const char *ca_file, char *err, size_t errlen);
void qw_wstls_free(qw_wstls *t); /* zeroed or initialized t */

/* A new session for host (a name or an IP literal) and its ClientHello
 * (in the output: call qw_wstls_take_out). Ends any previous session.
 * -1 with err on failure. */
int qw_wstls_begin(qw_wstls *t, const char *host, char *err, size_t errlen);
void qw_wstls_end(qw_wstls *t); /* frees the session; ok without one */

/* Ciphertext from the peer. -1 only when out of memory. */
int qw_wstls_put(qw_wstls *t, const void *p, size_t n);

/* Advances the handshake over what was put: 1 done (t->done), 0 needs
 * more input (send the output first), -1 failed: err says why, e.g.
 * "tls: certificate verify failed: Hostname mismatch". */
int qw_wstls_handshake(qw_wstls *t, char *err, size_t errlen);

/* Plaintext into buf[0..cap), as much as the input holds (several
 * records). *got bytes. Returns 0 (read all there is), 1 the peer closed
 * the session (close_notify; *got may still be > 0), -1 error (err). */
int qw_wstls_read(qw_wstls *t, char *buf, size_t cap, size_t *got, char *err, size_t errlen);

/* Plaintext to send: encrypted into the output. -1 on error. */
int qw_wstls_write(qw_wstls *t, const void *p, size_t n);

/* close_notify into the output (after the handshake; else nothing). */
void qw_wstls_shutdown(qw_wstls *t);

/* Ciphertext waiting to be sent: bytes pending, and up to cap of them
 * moved into buf (returns how many). */
size_t qw_wstls_pending_out(const qw_wstls *t);
size_t qw_wstls_take_out(qw_wstls *t, void *buf, size_t cap);

#endif

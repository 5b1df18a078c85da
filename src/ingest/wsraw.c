/* wsraw.c: the client's connections over an lws RAW socket: lws connects
 * and runs the loop, we speak WebSocket (ingest/wsproto): the upgrade
 * request and 101 check, frame parsing of whole 256 KiB reads, pongs, close
 * handshake, masked subscribes. lws 4.1's own client parser runs once per
 * byte; this one steps over payloads (docs/PERFORMANCE.md). For wss:// the
 * TLS is ours too (ingest/wstls, OpenSSL over memory BIOs): lws 4.1 fails
 * TLS on RAW client connections, so it only moves the ciphertext. */
#define QW_MODULE "ws"
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "ingest/wsclient_int.h"

#define CLOSE_WAIT_S 1 /* after our close frame, wait this long for the server's */

static void rnd(qw_wsclient *c, unsigned char *b, size_t n)
{
    if (RAND_bytes(b, (int)n) == 1)
        return;
    for (size_t i = 0; i < n; i++) { /* no entropy source: still unpredictable enough for masks */
        c->rng ^= c->rng << 13;
        c->rng ^= c->rng >> 7;
        c->rng ^= c->rng << 17;
        b[i] = (unsigned char)(c->rng >> 24);
    }
}

qw_err qw__wsraw_init(qw_wsclient *c, char *errbuf, size_t errlen)
{
    if (!c->tls)
        return QW_OK;
    qw_err e = qw_wstls_init(&c->ts, c->o.ca_file, errbuf, errlen);
    if (e != QW_OK)
        return e;
    c->plain = qw_malloc(PLAIN_CAP + 1);
    return c->plain ? QW_OK : QW_NOMEM;
}

void qw__wsraw_prepare(qw_wsclient *c, struct lws_client_connect_info *ci)
{
    ci->method = "RAW";
    ci->ssl_connection = 0; /* TLS is ours (lws 4.1 cannot do it on RAW clients) */
    c->hs_sent = c->hs_done = c->dead = c->close_sent = c->close_reply = c->pong_pending = 0;
    c->tcp_up = c->fail_code = 0;
    c->hslen = 0;
    qw_wstls_end(&c->ts);
}

void qw__wsraw_free(qw_wsclient *c)
{
    qw_ws_rx_free(&c->wp);
    qw_wstls_free(&c->ts);
    qw_free(c->plain);
    c->plain = NULL;
}

/* ---- bytes out: plain on ws://, through TLS on wss:// ---- */

/* Moves TLS output (handshake, records, close_notify) to lws; lws keeps
 * what the socket did not take and sends it first. */
static int flush_tls(qw_wsclient *c, struct lws *wsi)
{
    size_t n;
    while ((n = qw_wstls_take_out(&c->ts, c->ctout + LWS_PRE, CT_OUT)) > 0)
        if (lws_write(wsi, c->ctout + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
            return -1;
    return 0;
}

/* p has LWS_PRE bytes of room before it */
static int put_out(qw_wsclient *c, struct lws *wsi, unsigned char *p, size_t n)
{
    if (!c->tls)
        return lws_write(wsi, p, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
    if (qw_wstls_write(&c->ts, p, n) != 0)
        return -1;
    return flush_tls(c, wsi);
}

/* Hanging up on purpose: TLS close_notify first (best effort). */
static int bye(qw_wsclient *c, struct lws *wsi)
{
    if (c->tls && c->ts.done) {
        qw_wstls_shutdown(&c->ts);
        (void)flush_tls(c, wsi);
    }
    return -1;
}

/* ---- parser callbacks ---- */

static int p_message(void *ctx, char *buf, size_t len, int binary)
{
    qw_wsclient *c = ctx;
    (void)binary;
    int64_t mono = qw_now_mono_ns();
    qw__ws_deliver(c, buf, len, c->rd_wall + (mono - c->rd_mono), mono);
    return c->dead; /* the owner asked for a reconnect: leave the rest */
}

static int p_ping(void *ctx, const unsigned char *p, size_t n)
{
    qw_wsclient *c = ctx;
    memcpy(c->pong, p, n);
    c->pongn = n;
    c->pong_pending = 1;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static int p_close(void *ctx, int code, const char *reason, size_t n)
{
    qw_wsclient *c = ctx;
    if (code >= 0)
        snprintf(c->st.last_error, sizeof c->st.last_error, "server closed (code %u%s%.*s)",
                 (unsigned)code, n ? ": " : "", (int)(n > 100 ? 100 : n), reason);
    else
        snprintf(c->st.last_error, sizeof c->st.last_error, "server closed");
    return 0;
}

/* RFC 6455 7.1.7: fail the connection: a close frame with code (sent from
 * on_writeable), then hang up without waiting for an answer; nothing more
 * is parsed. */
static void fail_conn(qw_wsclient *c, int code, const char *why)
{
    c->dead = 1;
    c->fail_code = code;
    snprintf(c->st.last_error, sizeof c->st.last_error, "%s", why);
    QW_LOG(WARN, "failing the connection: %s", why);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_WAIT_S);
    lws_callback_on_writable(c->wsi);
}

static int p_oversized(void *ctx)
{
    qw_wsclient *c = ctx;
    c->st.last_msg_mono_ns = qw_now_mono_ns();
    c->st.oversized++;
    fail_conn(c, QW_WS_CLOSE_TOO_BIG, "a message exceeded --max-message (close 1009)");
    return 1;
}

/* ---- handshake ---- */

static int send_request(qw_wsclient *c, struct lws *wsi)
{
    unsigned char nonce[16];
    rnd(c, nonce, sizeof nonce);
    qw_ws_make_key(nonce, c->wskey);
    char host[300], origin[300];
    if (c->port == 80)
        snprintf(host, sizeof host, "%s", c->host);
    else
        snprintf(host, sizeof host, "%s:%d", c->host, c->port);
    snprintf(origin, sizeof origin, "http://%s", c->host);
    size_t n = 0;
    char *b = (char *)c->tx + LWS_PRE;
    if (qw_ws_request(b, sizeof c->tx - LWS_PRE, &n, host, c->path, origin, c->wskey,
                      !c->o.no_deflate) != QW_OK) {
        qw__ws_drop(c, "cannot build the upgrade request (URL too long?)");
        return 0;
    }
    c->hs_sent = 1;
    if (put_out(c, wsi, (unsigned char *)b, n) != 0) {
        snprintf(c->st.last_error, sizeof c->st.last_error, "write of the upgrade request failed");
        return -1;
    }
    return 0;
}

static int feed(qw_wsclient *c, char *in, size_t len)
{
    c->rd_mono = qw_now_mono_ns();
    c->rd_wall = qw_now_wall_ns();
    qw_err e = qw_ws_rx_feed(&c->wp, in, len);
    if (e == QW_PROTOCOL) {
        char why[sizeof c->st.last_error];
        c->st.protocol_errors++;
        int code = c->wp.fail_code ? c->wp.fail_code : QW_WS_CLOSE_PROTOCOL;
        snprintf(why, sizeof why, "protocol error: %s (close %d)", c->wp.err ? c->wp.err : "?",
                 code);
        fail_conn(c, code, why);
    } else if (e != QW_OK) {
        qw__ws_drop(c, "out of memory reassembling a message");
    } else if (c->wp.closed && !c->dead) {
        c->dead = 1; /* nothing after the close frame counts */
        if (c->close_sent)
            return -1; /* the answer to ours: done */
        c->close_reply = 1;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_WAIT_S);
        lws_callback_on_writable(c->wsi);
    }
    return 0;
}

static int on_rx(qw_wsclient *c, char *in, size_t len)
{
    if (c->dead)
        return 0;
    if (c->hs_done)
        return feed(c, in, len);
    size_t take = sizeof c->hs - 1 - c->hslen;
    if (take > len)
        take = len;
    memcpy(c->hs + c->hslen, in, take);
    c->hslen += take;
    size_t hl = 0;
    qw_ws_pmd pmd;
    char err[200];
    qw_err e =
        qw_ws_response(c->hs, c->hslen, c->wskey, !c->o.no_deflate, &hl, &pmd, err, sizeof err);
    if (e == QW_AGAIN)
        return 0;
    if (e != QW_OK) {
        qw__ws_drop(c, err);
        return 0;
    }
    qw_ws_rx_cb cb = {c, p_message, p_ping, p_close, p_oversized};
    if (qw_ws_rx_reset(&c->wp, c->o.max_message, &pmd, &cb) != QW_OK) {
        qw__ws_drop(c, "out of memory");
        return 0;
    }
    c->hs_done = 1;
    if (pmd.enabled)
        QW_LOG(DEBUG, "permessage-deflate: server_no_context_takeover=%d server_max_window_bits=%d",
               pmd.server_no_context_takeover, pmd.server_max_window_bits);
    qw__ws_established(c);
    /* frames that came with the response: first the rest of this read's
     * part in hs, then whatever of this read did not fit there */
    if (c->hslen > hl && feed(c, c->hs + hl, c->hslen - hl) < 0)
        return -1;
    if (take < len && !c->dead)
        return feed(c, in + take, len - take);
    return 0;
}

/* ---- writing ---- */

static int send_frame(qw_wsclient *c, struct lws *wsi, int op, const void *p, size_t n)
{
    unsigned char mask[4];
    rnd(c, mask, sizeof mask);
    size_t fl = qw_ws_frame(c->tx + LWS_PRE, sizeof c->tx - LWS_PRE, op, p, n, mask);
    if (!fl || put_out(c, wsi, c->tx + LWS_PRE, fl) != 0) {
        QW_LOG(WARN, "write of a %zu-byte frame failed", n);
        return -1;
    }
    return 0;
}

static int on_writeable(qw_wsclient *c, struct lws *wsi)
{
    if (!c->hs_sent)
        return send_request(c, wsi);
    if (c->close_reply) { /* echo the server's close, then hang up */
        unsigned char cp[125];
        size_t n =
            c->wp.cn >= 2 ? qw_ws_close_payload(cp, c->wp.ctl[0] << 8 | c->wp.ctl[1], NULL) : 0;
        send_frame(c, wsi, QW_WS_OP_CLOSE, cp, n);
        return bye(c, wsi);
    }
    if (c->fail_code) { /* failing the connection (feed) */
        unsigned char cp[125];
        send_frame(c, wsi, QW_WS_OP_CLOSE, cp, qw_ws_close_payload(cp, c->fail_code, NULL));
        return bye(c, wsi);
    }
    if (c->stopping) {
        if (!c->hs_done)
            return bye(c, wsi);
        if (!c->close_sent) {
            unsigned char cp[125];
            size_t n = qw_ws_close_payload(cp, 1000, "bye");
            c->close_sent = 1;
            if (send_frame(c, wsi, QW_WS_OP_CLOSE, cp, n) != 0)
                return -1;
            lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_WAIT_S);
        }
        return 0;
    }
    if (c->dead || !c->hs_done)
        return 0;
    if (c->pong_pending) {
        c->pong_pending = 0;
        if (send_frame(c, wsi, QW_WS_OP_PONG, c->pong, c->pongn) != 0)
            return -1;
        if (c->out_n)
            lws_callback_on_writable(wsi);
        return 0;
    }
    const char *p;
    size_t len;
    if (!qw__ws_out_next(c, &p, &len))
        return 0;
    if (send_frame(c, wsi, QW_WS_OP_TEXT, p, len) != 0)
        return -1;
    qw__ws_out_pop(c);
    return 0;
}

/* ---- TLS ---- */

static int connected(qw_wsclient *c, struct lws *wsi)
{
    c->wsi = wsi;
    c->tcp_up = 1;
    char err[sizeof c->st.last_error];
    if (c->tls && qw_wstls_begin(&c->ts, c->host, err, sizeof err) != 0)
        qw__ws_drop(c, err);
    else
        lws_callback_on_writable(wsi); /* the ClientHello, or the upgrade request */
    return 0;
}

static int on_rx_tls(qw_wsclient *c, struct lws *wsi, char *in, size_t len)
{
    char err[sizeof c->st.last_error];
    if (c->dead)
        return 0;
    if (qw_wstls_put(&c->ts, in, len) != 0) {
        qw__ws_drop(c, "out of memory");
        return 0;
    }
    if (!c->ts.done) {
        int h = qw_wstls_handshake(&c->ts, err, sizeof err);
        if (h < 0) {
            qw__ws_drop(c, err);
            return 0;
        }
        if (h > 0 || qw_wstls_pending_out(&c->ts))
            lws_callback_on_writable(wsi); /* handshake records; then the upgrade request */
        if (h == 0)
            return 0;
    }
    for (;;) {
        size_t got = 0;
        int r = qw_wstls_read(&c->ts, c->plain, PLAIN_CAP, &got, err, sizeof err);
        if (got && on_rx(c, c->plain, got) < 0)
            return bye(c, wsi); /* the server answered our close */
        if (r < 0) {
            if (!c->dead)
                qw__ws_drop(c, err);
            return 0;
        }
        if (r > 0) { /* close_notify: nothing more will come */
            if (!c->st.last_error[0])
                snprintf(c->st.last_error, sizeof c->st.last_error,
                         "tls: server ended the session");
            return -1;
        }
        if (got < PLAIN_CAP || c->dead)
            break;
    }
    if (qw_wstls_pending_out(&c->ts)) /* e.g. a TLS 1.3 key update answer */
        lws_callback_on_writable(wsi);
    return 0;
}

static int writeable(qw_wsclient *c, struct lws *wsi)
{
    if (c->tls) {
        if (flush_tls(c, wsi) != 0) {
            snprintf(c->st.last_error, sizeof c->st.last_error, "tls: write failed");
            return -1;
        }
        if (!c->ts.done && c->stopping) {
            c->dead = 1; /* our hang-up, not the peer's */
            return -1;
        }
        if (!c->ts.done)
            return 0;
    }
    return on_writeable(c, wsi);
}

int qw__wsraw_callback(qw_wsclient *c, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                       size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_RAW_CONNECTED: return connected(c, wsi);
    case LWS_CALLBACK_RAW_RX: return c->tls ? on_rx_tls(c, wsi, in, len) : on_rx(c, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE: return writeable(c, wsi);
    case LWS_CALLBACK_RAW_CLOSE:
        if (c->tls && !c->ts.done && !c->dead) /* not dropped by us: the peer hung up */
            snprintf(c->st.last_error, sizeof c->st.last_error,
                     "tls: connection closed during the handshake");
        else if (c->hs_done && !c->dead && !c->wp.closed &&
                 (c->wp.in_frame || c->wp.hn || c->wp.in_msg))
            snprintf(c->st.last_error, sizeof c->st.last_error,
                     "server hung up mid-frame, without a close frame");
        qw_wstls_end(&c->ts);
        qw__ws_closed(c, c->st.last_error[0] ? c->st.last_error : "closed");
        return 0;
    default: return 0;
    }
}

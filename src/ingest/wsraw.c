/* wsraw.c: ws:// connections of the client over an lws RAW socket: lws
 * connects and runs the loop, we speak WebSocket (ingest/wsproto): the
 * upgrade request and 101 check, frame parsing of whole 256 KiB reads,
 * pongs, close handshake, masked subscribes. lws 4.1's own client parser
 * runs once per byte; this one steps over payloads (docs/PERFORMANCE.md).
 * wss:// stays on the lws WebSocket role: RAW+TLS clients fail in lws 4.1. */
#define QW_MODULE "ws"
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

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

void qw__wsraw_prepare(qw_wsclient *c, struct lws_client_connect_info *ci)
{
    ci->method = "RAW";
    ci->ssl_connection = 0;
    c->hs_sent = c->hs_done = c->dead = c->close_sent = c->close_reply = c->pong_pending = 0;
    c->hslen = 0;
}

void qw__wsraw_free(qw_wsclient *c)
{
    qw_ws_rx_free(&c->wp);
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

static int p_oversized(void *ctx)
{
    qw_wsclient *c = ctx;
    c->st.last_msg_mono_ns = qw_now_mono_ns();
    c->st.oversized++;
    qw__ws_drop(c, "a message exceeded --max-message");
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
    if (lws_write(wsi, (unsigned char *)b, n, LWS_WRITE_RAW) < (int)n) {
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
        char why[160];
        snprintf(why, sizeof why, "protocol error: %s", c->wp.err ? c->wp.err : "?");
        qw__ws_drop(c, why);
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
    if (!fl || lws_write(wsi, c->tx + LWS_PRE, fl, LWS_WRITE_RAW) < (int)fl) {
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
        return -1;
    }
    if (c->stopping) {
        if (!c->hs_done)
            return -1;
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

int qw__wsraw_callback(qw_wsclient *c, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                       size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_RAW_CONNECTED:
        c->wsi = wsi;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RAW_RX: return on_rx(c, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE: return on_writeable(c, wsi);
    case LWS_CALLBACK_RAW_CLOSE:
        qw__ws_closed(c, c->st.last_error[0] ? c->st.last_error : "closed");
        return 0;
    default: return 0;
    }
}

/* wsconn.c: the dashboard's WebSocket endpoint /ws, framed by our own
 * codec (ingest/wsproto.h, server role) instead of lws's (server thread).
 *
 * Why: lws 4.1.6's WebSocket server accepts unmasked client frames (RFC
 * 6455 5.1 says close with 1002) and offers no hook before its frame
 * parser. So lws parses and checks the upgrade request only
 * (HTTP_CONFIRM_UPGRADE, server.c check_upgrade), and then
 * qw__dash_ws_takeover moves the connection off lws's HTTP role:
 *   1. the checks lws would have done itself: Connection: upgrade, a
 *      Sec-WebSocket-Key of 16 bytes, the client limit (503);
 *   2. the permessage-deflate answer to the client's offer
 *      (qw_ws_server_ext) and the 101 response, kept for the first write;
 *   3. the socket is dup()ed and the copy adopted by lws as a raw socket
 *      bound to protocol "qw-ws" (RAW_ADOPT below takes the pending
 *      handshake from d->adopt);
 *   4. the original descriptor number is pointed at a fresh unconnected
 *      socket (dup2), and the HTTP wsi is hung up: lws's shutdown()/close()
 *      then hit that placeholder, not the client's connection.
 * Bytes the client sent after its request head, before our 101 (a client
 * must not), are in lws's HTTP buffer and lost: that client only hurts
 * itself.
 *
 * Connection:  OPEN from adoption (the 101 is the first write)
 *   OPEN -> CLOSING  fail() (protocol error: 1002/1007/1009/1011) or the
 *     client's close frame (echoed): a close frame is queued
 *   CLOSING -> HALF_CLOSED  close frame flushed: shutdown(SHUT_WR), input
 *     read and dropped until the client's FIN or CLOSE_WAIT_S
 *   any -> gone  RAW_CLOSE (lws: EOF, error, timeout, stuck-client drop)
 * One lws_write per WRITEABLE callback, in order: handshake, pong, close
 * frame, error message, push. */
#define QW_MODULE "dashboard"
#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "dashboard/dash_int.h"

#define MAX_SUB_MSG 256              /* a longer text message gets {"error":"message too long"} */
#define MAX_MSG 4096                 /* a client message over this: close 1009 */
#define MAX_FRAME ((size_t)64 << 20) /* largest push frame */
#define CLOSE_WAIT_S 3               /* for the client's FIN after our close frame */

enum { C_OPEN, C_CLOSING, C_HALF_CLOSED };

/* ---- takeover (HTTP_CONFIRM_UPGRADE) ---- */

int qw__dash_ws_takeover(qw_dash *d, struct lws *wsi)
{
    char conn[256], key[64], ext[1024], resp[160], acc[QW_WS_ACCEPT_LEN + 1];
    if (lws_hdr_copy(wsi, conn, sizeof conn, WSI_TOKEN_CONNECTION) <= 0 ||
        !qw__dash_has_token(conn, "upgrade", 1))
        return qw__dash_refuse(d, wsi, 400, "Connection: upgrade required\n");
    int kl = lws_hdr_copy(wsi, key, sizeof key, WSI_TOKEN_KEY);
    if (kl <= 0 || !qw_ws_key_ok(key, (size_t)kl))
        return qw__dash_refuse(d, wsi, 400, "bad Sec-WebSocket-Key\n");
    if (d->clients >= d->max_clients) {
        d->ws_refused++;
        return qw__dash_refuse(d, wsi, 503, "too many WebSocket clients\n");
    }
    memset(&d->adopt, 0, sizeof d->adopt);
    int el = lws_hdr_copy(wsi, ext, sizeof ext, WSI_TOKEN_EXTENSIONS);
    if (el > 0 && qw_ws_server_ext(ext, (size_t)el, &d->adopt.pmd, resp, sizeof resp) != QW_OK)
        resp[0] = '\0', d->adopt.pmd.enabled = 0;
    if (el <= 0)
        resp[0] = '\0';
    qw_ws_accept_for(key, acc);
    int n = snprintf(d->adopt.hs, sizeof d->adopt.hs,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n"
                     "Sec-WebSocket-Protocol: qw-state\r\n"
                     "%s%s%s\r\n",
                     acc, resp[0] ? "Sec-WebSocket-Extensions: " : "", resp, resp[0] ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof d->adopt.hs)
        return -1;
    d->adopt.hs_n = (size_t)n;
    int cfd, ph;
    if (qw__dash_move_begin(wsi, &cfd, &ph) != 0)
        return qw__dash_refuse(d, wsi, 503, "out of descriptors\n");
    lws_sock_file_fd_type sock = {.sockfd = cfd};
    d->adopt.ready = 1;
    /* RAW_ADOPT runs inside this call; on failure lws has closed cfd */
    struct lws *nw = lws_adopt_descriptor_vhost(d->vh, LWS_ADOPT_SOCKET, sock, "qw-ws", NULL);
    d->adopt.ready = 0;
    if (!nw) {
        close(ph);
        d->ws_refused++;
        return -1; /* the client sees the connection closed */
    }
    qw__dash_move_finish(wsi, ph);
    return -1; /* lws hangs up the HTTP wsi: on the placeholder */
}

/* ---- framing ---- */

static int on_msg(void *ctx, char *buf, size_t len, int binary)
{
    dash_client *c = ctx;
    if (binary)
        return 0; /* ignored, as before */
    if (len > MAX_SUB_MSG)
        snprintf(c->err, sizeof c->err, "{\"error\":\"message too long\"}");
    else
        qw__dash_client_msg(c->d, c, buf, len);
    lws_callback_on_writable(c->wsi); /* the error, or the first push of the product */
    return 0;
}

static int on_ping(void *ctx, const unsigned char *p, size_t n)
{
    dash_client *c = ctx;
    memcpy(c->pong, p, n); /* only the newest ping is answered (RFC 6455 5.5.3) */
    c->pong_n = n;
    c->pong_due = 1;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static void queue_close(dash_client *c, int code, const char *reason)
{
    if (c->state >= C_CLOSING)
        return;
    c->close_n = code > 0 ? qw_ws_close_payload(c->close, code, reason) : 0;
    c->state = C_CLOSING;
    c->close_due = 1;
    /* a client that does not read cannot hold us: 5 s to flush it */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
    lws_callback_on_writable(c->wsi);
}

static int on_close(void *ctx, int code, const char *reason, size_t n)
{
    (void)reason, (void)n;
    dash_client *c = ctx;
    /* RFC 6455 5.5.1: echo the code (none given: a close with none) */
    queue_close(c, code, "");
    return 1;
}

static void fail(dash_client *c, int code, const char *why)
{
    QW_LOG(DEBUG, "dashboard: closing a WebSocket client with %d: %s", code, why);
    queue_close(c, code, why);
}

static int on_rx(qw_dash *d, dash_client *c, char *in, size_t len)
{
    (void)d;
    if (c->state != C_OPEN)
        return 0; /* closing: what the client sends is dropped */
    qw_err e = qw_ws_rx_feed(&c->rx, in, len);
    if (e == QW_PROTOCOL)
        fail(c, c->rx.fail_code, c->rx.err ? c->rx.err : "protocol error");
    else if (e != QW_OK)
        fail(c, 1011, "out of memory");
    return 0;
}

/* one write; 0, or -1 to close */
static int put(struct lws *wsi, unsigned char *p, size_t n)
{
    return lws_write(wsi, p, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
}

static int on_writeable(qw_dash *d, dash_client *c, struct lws *wsi)
{
    unsigned char *f;
    size_t fl;
    if (c->state == C_HALF_CLOSED)
        return 0;
    if (c->hs_n) {
        unsigned char buf[LWS_PRE + sizeof c->hs];
        memcpy(buf + LWS_PRE, c->hs, c->hs_n);
        size_t n = c->hs_n;
        c->hs_n = 0;
        lws_callback_on_writable(wsi);
        return put(wsi, buf + LWS_PRE, n);
    }
    /* a ping answered before our close frame, never after it */
    if (c->pong_due && (c->state == C_OPEN || c->close_due)) {
        c->pong_due = 0;
        lws_callback_on_writable(wsi);
        if (qw_ws_tx_message(&c->tx, QW_WS_OP_PONG, c->pong, c->pong_n, &f, &fl) != QW_OK)
            return -1;
        return put(wsi, f, fl);
    }
    if (c->state == C_CLOSING) {
        if (c->close_due) {
            c->close_due = 0;
            if (qw_ws_tx_message(&c->tx, QW_WS_OP_CLOSE, c->close, c->close_n, &f, &fl) != QW_OK ||
                put(wsi, f, fl) != 0)
                return -1;
            lws_callback_on_writable(wsi); /* again once it is flushed */
            return 0;
        }
        /* flushed: we close first (RFC 6455 7.1.1), then read to the client's FIN */
        if (qw__dash_linger_if_flushed(wsi, CLOSE_WAIT_S))
            c->state = C_HALF_CLOSED;
        return 0;
    }
    if (c->err[0]) {
        qw_err e = qw_ws_tx_message(&c->tx, QW_WS_OP_TEXT, c->err, strlen(c->err), &f, &fl);
        c->err[0] = '\0';
        lws_callback_on_writable(wsi); /* the push, if one is due, next time */
        return e == QW_OK ? put(wsi, f, fl) : -1;
    }
    /* the newest snapshot (none before the first publish: the publish
     * wakes serve_tick, which asks for this callback again) */
    dash_snap *s = qw__dash_snap_get(d);
    int rc = 0;
    if (s && c->sent_version != s->version) {
        const char *t = s->state.b + s->state.pre;
        size_t n = s->state.n;
        uint64_t seq = c->lab_seq;
        if (c->sub[0] && qw__dash_compose(s, c->sub, 1, &seq, &d->srv_push) == 0) {
            t = d->srv_push.b + d->srv_push.pre;
            n = d->srv_push.n;
        }
        if (qw_ws_tx_message(&c->tx, QW_WS_OP_TEXT, t, n, &f, &fl) != QW_OK || put(wsi, f, fl))
            rc = -1;
        else {
            c->sent_version = s->version;
            c->lab_seq = seq;
            d->ws_bytes += n;
        }
    }
    qw__dash_snap_put(d, s);
    return rc;
}

static int client_open(qw_dash *d, dash_client *c, struct lws *wsi)
{
    if (!d->adopt.ready)
        return -1; /* not ours: only qw__dash_ws_takeover adopts */
    memset(c, 0, sizeof *c);
    c->d = d;
    c->wsi = wsi;
    memcpy(c->hs, d->adopt.hs, d->adopt.hs_n);
    c->hs_n = d->adopt.hs_n;
    qw_ws_rx_cb cb = {c, on_msg, on_ping, on_close, NULL};
    if (qw_ws_rx_reset_server(&c->rx, MAX_MSG, &d->adopt.pmd, &cb) != QW_OK ||
        qw_ws_tx_init(&c->tx, &d->adopt.pmd, LWS_PRE, MAX_FRAME) != QW_OK) {
        qw_ws_rx_free(&c->rx);
        qw_ws_tx_free(&c->tx);
        return -1;
    }
    c->linked = 1;
    c->next = d->conns;
    d->conns = c;
    d->clients++;
    qw__dash_conn_added(d, wsi);
    lws_callback_on_writable(wsi);
    return 0;
}

static void client_close(qw_dash *d, dash_client *c)
{
    if (!c->linked)
        return;
    c->linked = 0;
    for (dash_client **pp = &d->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            d->clients--;
            break;
        }
    qw_ws_rx_free(&c->rx);
    qw_ws_tx_free(&c->tx);
}

int qw__dash_cb_ws(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
    qw_dash *d = vh ? lws_vhost_user(vh) : NULL;
    dash_client *c = user;
    switch ((enum lws_callback_reasons)reason) {
    case LWS_CALLBACK_RAW_ADOPT: return d && c ? client_open(d, c, wsi) : -1;
    case LWS_CALLBACK_RAW_RX: return d && c && in ? on_rx(d, c, in, len) : 0;
    case LWS_CALLBACK_RAW_WRITEABLE: return d && c && c->linked ? on_writeable(d, c, wsi) : 0;
    case LWS_CALLBACK_RAW_CLOSE:
        if (d && c)
            client_close(d, c);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (d)
            qw__dash_conn_removed(d, wsi);
        return 0;
    default: break;
    }
    return 0;
}

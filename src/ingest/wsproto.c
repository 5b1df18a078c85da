/* wsproto.c: WebSocket protocol without I/O — the client's upgrade
 * request and 101 check, the incremental frame parser with
 * permessage-deflate for either role (a client's parser wants unmasked
 * frames, a server's masked ones) (see wsproto.h; the server's handshake
 * answer is in wsproto_srv.c, the frame writers in wsproto_tx.c). */
#include "ingest/wsproto.h"
#include "ingest/wsproto_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/alloc.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define DEFAULT_MAX ((size_t)32 << 20)
#define MSG_MIN (64 * 1024)

/* ---- handshake ---- */

void qw_ws_make_key(const unsigned char nonce[16], char key[QW_WS_KEY_LEN + 1])
{
    EVP_EncodeBlock((unsigned char *)key, nonce, 16);
}

void qw_ws_accept_for(const char *key, char out[QW_WS_ACCEPT_LEN + 1])
{
    char cat[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdl = 0;
    int n = snprintf(cat, sizeof cat, "%s%s", key, WS_GUID);
    if (n < 0 || (size_t)n >= sizeof cat ||
        !EVP_Digest(cat, (size_t)n, md, &mdl, EVP_sha1(), NULL) || mdl != 20) {
        out[0] = '\0';
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, md, 20);
}

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

qw_err qw_ws_request(char *buf, size_t cap, size_t *len, const char *host, const char *path,
                     const char *origin, const char *key, int offer_deflate)
{
    if (!host || !*host || has_crlf(host) || has_crlf(path) || has_crlf(origin) || has_crlf(key))
        return QW_INVAL;
    int n = snprintf(buf, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "%s%s%s"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s"
                     "User-Agent: quotewatch\r\n"
                     "\r\n",
                     path && *path ? path : "/", host, origin ? "Origin: " : "",
                     origin ? origin : "", origin ? "\r\n" : "", key,
                     offer_deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                                     "client_no_context_takeover; client_max_window_bits\r\n"
                                   : "");
    if (n < 0 || (size_t)n >= cap)
        return QW_TOO_LARGE;
    *len = (size_t)n;
    return QW_OK;
}

static const char *find_end(const char *b, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
            return b + i;
    return NULL;
}

/* Does the comma-separated value v[0..n) hold token tok (case-insensitive)? */
static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok), i = 0;
    while (i < n) {
        while (i < n && (qw__ws_is_sp(v[i]) || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && qw__ws_is_sp(v[e - 1]))
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return 1;
    }
    return 0;
}

static qw_err fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return QW_PROTOCOL;
}

/* Sec-WebSocket-Extensions value v[0..n) into pmd. */
static qw_err parse_ext(const char *v, size_t n, int offered, qw_ws_pmd *pmd, char *err,
                        size_t errlen)
{
    size_t i = 0;
    while (i < n && qw__ws_is_sp(v[i]))
        i++;
    static const char name[] = "permessage-deflate";
    size_t nl = sizeof name - 1;
    if (n - i < nl || strncasecmp(v + i, name, nl) != 0 ||
        (n - i > nl && v[i + nl] != ';' && !qw__ws_is_sp(v[i + nl]))) {
        snprintf(err, errlen, "handshake: server chose an extension we did not offer: %.*s",
                 (int)(n > 60 ? 60 : n), v);
        return QW_PROTOCOL;
    }
    if (!offered)
        return fail(err, errlen, "handshake: server enabled permessage-deflate, not offered");
    if (pmd->enabled)
        return fail(err, errlen, "handshake: permessage-deflate agreed twice");
    pmd->enabled = 1;
    i += nl;
    while (i < n) {
        while (i < n && (qw__ws_is_sp(v[i]) || v[i] == ';'))
            i++;
        if (i >= n)
            break;
        if (v[i] == ',')
            return fail(err, errlen, "handshake: more than one extension agreed");
        const char *k;
        size_t kl;
        int val;
        if (qw__ws_ext_param(v, n, &i, &k, &kl, &val) != 0)
            return fail(err, errlen, "handshake: bad permessage-deflate parameter value");
        if (qw__ws_pmd_param(pmd, k, kl, val, 0, NULL) != 0) {
            /* RFC 7692 7.1: an unknown, repeated or out-of-range parameter
             * fails the handshake */
            snprintf(err, errlen, "handshake: bad permessage-deflate parameter '%.*s'",
                     (int)(kl > 40 ? 40 : kl), k);
            return QW_PROTOCOL;
        }
        while (i < n && qw__ws_is_sp(v[i]))
            i++;
        if (i < n && v[i] != ';' && v[i] != ',')
            return fail(err, errlen, "handshake: bad permessage-deflate parameters");
    }
    return QW_OK;
}

qw_err qw_ws_response(const char *buf, size_t len, const char *key, int offered_deflate,
                      size_t *hdr_len, qw_ws_pmd *pmd, char *err, size_t errlen)
{
    memset(pmd, 0, sizeof *pmd);
    size_t lim = len < QW_WS_RESPONSE_MAX ? len : QW_WS_RESPONSE_MAX;
    const char *end = find_end(buf, lim);
    if (!end) {
        if (len >= QW_WS_RESPONSE_MAX)
            return fail(err, errlen, "handshake: response header too long");
        if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
            return fail(err, errlen, "handshake: the server did not answer HTTP");
        return QW_AGAIN;
    }
    *hdr_len = (size_t)(end - buf) + 4;
    const char *p = buf, *eol = memchr(p, '\r', (size_t)(end + 2 - p));
    /* status line: HTTP/1.x SP 3DIGIT [SP reason] */
    if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
        return fail(err, errlen, "handshake: malformed HTTP status line");
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return fail(err, errlen, "handshake: malformed HTTP status line");
        status = status * 10 + (p[i] - '0');
    }
    if (status != 101) {
        const char *r = p + 12;
        while (r < eol && qw__ws_is_sp(*r))
            r++;
        snprintf(err, errlen, "handshake: server answered HTTP %d%s%.*s (not 101)", status,
                 r < eol ? " " : "", (int)(eol - r > 80 ? 80 : eol - r), r);
        return QW_PROTOCOL;
    }
    int up = 0, conn = 0, acc = 0;
    char want[QW_WS_ACCEPT_LEN + 1];
    qw_ws_accept_for(key, want);
    for (p = eol + 2; p < end + 2; p = eol + 2) {
        eol = memchr(p, '\r', (size_t)(end + 2 - p));
        if (!eol || eol[1] != '\n')
            return fail(err, errlen, "handshake: malformed header line");
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return fail(err, errlen, "handshake: malformed header line");
        size_t nl = (size_t)(colon - p);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && qw__ws_is_sp(*v))
            v++;
        while (ve > v && qw__ws_is_sp(ve[-1]))
            ve--;
        size_t vl = (size_t)(ve - v);
#define NAME(s) (nl == sizeof(s) - 1 && strncasecmp(p, s, nl) == 0)
        if (NAME("Upgrade"))
            up |= has_token(v, vl, "websocket");
        else if (NAME("Connection"))
            conn |= has_token(v, vl, "upgrade");
        else if (NAME("Sec-WebSocket-Accept")) {
            if (acc || vl != QW_WS_ACCEPT_LEN || memcmp(v, want, vl) != 0)
                return fail(err, errlen, "handshake: wrong Sec-WebSocket-Accept");
            acc = 1;
        } else if (NAME("Sec-WebSocket-Extensions")) {
            qw_err e = parse_ext(v, vl, offered_deflate, pmd, err, errlen);
            if (e != QW_OK)
                return e;
        } else if (NAME("Sec-WebSocket-Protocol")) {
            return fail(err, errlen, "handshake: server chose a subprotocol we did not offer");
        }
#undef NAME
    }
    if (!up)
        return fail(err, errlen, "handshake: no 'Upgrade: websocket' in the response");
    if (!conn)
        return fail(err, errlen, "handshake: no 'Connection: upgrade' in the response");
    if (!acc)
        return fail(err, errlen, "handshake: no Sec-WebSocket-Accept in the response");
    if (pmd->enabled) {
        if (!pmd->server_max_window_bits)
            pmd->server_max_window_bits = 15;
        if (!pmd->client_max_window_bits)
            pmd->client_max_window_bits = 15;
    }
    return QW_OK;
}

/* ---- parser ---- */

qw_err qw_ws_rx_reset_server(qw_ws_rx *r, size_t max_message, const qw_ws_pmd *pmd,
                             const qw_ws_rx_cb *cb)
{
    qw_err e = qw_ws_rx_reset(r, max_message, pmd, cb);
    r->server = 1;
    return e;
}

qw_err qw_ws_rx_reset(qw_ws_rx *r, size_t max_message, const qw_ws_pmd *pmd, const qw_ws_rx_cb *cb)
{
    char *msg = r->msg;
    size_t mcap = r->mcap;
    void *z = r->z;
    memset(r, 0, sizeof *r);
    r->msg = msg;
    r->mcap = mcap;
    r->z = z;
    r->cb = *cb;
    r->max_message = max_message ? max_message : DEFAULT_MAX;
    if (pmd)
        r->pmd = *pmd;
    if (r->pmd.enabled) {
        if (!r->z) {
            z_stream *zs = qw_calloc(1, sizeof *zs);
            if (!zs)
                return QW_NOMEM;
            /* 15: a window at least as large as any the server may use */
            if (inflateInit2(zs, -15) != Z_OK) {
                qw_free(zs);
                return QW_NOMEM;
            }
            r->z = zs;
        } else {
            inflateReset(r->z);
        }
    }
    return QW_OK;
}

void qw_ws_rx_free(qw_ws_rx *r)
{
    if (r->z) {
        inflateEnd(r->z);
        qw_free(r->z);
    }
    qw_free(r->msg);
    memset(r, 0, sizeof *r);
}

static qw_err perr(qw_ws_rx *r, const char *why)
{
    r->err = why;
    r->fail_code = QW_WS_CLOSE_PROTOCOL;
    return QW_PROTOCOL;
}

static qw_err perr_utf8(qw_ws_rx *r, const char *why)
{
    r->err = why;
    r->fail_code = QW_WS_CLOSE_INVALID;
    return QW_PROTOCOL;
}

/* Is p[0..n) well-formed UTF-8 (RFC 3629: shortest form, no surrogates,
 * nothing above U+10FFFF)? ASCII runs go 32, then 8 bytes at a time: a
 * 200-byte JSON message costs ~10 ns (docs/PERFORMANCE.md). */
static int utf8_ok(const unsigned char *p, size_t n)
{
    const uint64_t hi = 0x8080808080808080ull;
    size_t i = 0;
    for (;;) {
        while (n - i >= 32) {
            uint64_t w[4];
            memcpy(w, p + i, sizeof w);
            if ((w[0] | w[1] | w[2] | w[3]) & hi)
                break;
            i += 32;
        }
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & hi)
                break;
            i += 8;
        }
        while (i < n && p[i] < 0x80)
            i++;
        if (i >= n)
            return 1;
        unsigned char b = p[i];
        size_t k;
        unsigned char lo = 0x80, top = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
            k = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            k = 2;
            if (b == 0xe0)
                lo = 0xa0; /* overlong */
            else if (b == 0xed)
                top = 0x9f; /* surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
            k = 3;
            if (b == 0xf0)
                lo = 0x90; /* overlong */
            else if (b == 0xf4)
                top = 0x8f; /* above U+10FFFF */
        } else {
            return 0;
        }
        if (n - i <= k || p[i + 1] < lo || p[i + 1] > top)
            return 0;
        for (size_t j = 2; j <= k; j++)
            if (p[i + j] < 0x80 || p[i + j] > 0xbf)
                return 0;
        i += k + 1;
    }
}

/* A close code a peer may send (RFC 6455 7.4.1-7.4.2 and the IANA
 * registry): not 1004-1006 or 1015 (reserved, never on the wire), nothing
 * below 1000, nothing unassigned in 1016-2999, nothing from 5000. */
static int close_code_ok(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* room for at least one more byte (and the NUL) in msg; 0 or -1 (nomem) */
static int grow(qw_ws_rx *r, size_t want)
{
    if (want + 1 <= r->mcap)
        return 0;
    size_t n = r->mcap ? r->mcap : MSG_MIN;
    while (n < want + 1)
        n *= 2;
    if (n > r->max_message + 1)
        n = r->max_message + 1;
    char *p = qw_realloc(r->msg, n);
    if (!p)
        return -1;
    r->msg = p;
    r->mcap = n;
    return 0;
}

/* A server fails the connection with 1009 (RFC 6455 7.4.1) rather than
 * read and drop a message it will not take: a client's message is a
 * request, and dropping one silently would leave it waiting. */
static qw_err too_big(qw_ws_rx *r)
{
    r->err = "message over max_message";
    r->fail_code = QW_WS_CLOSE_TOO_BIG;
    r->oversized++;
    return QW_PROTOCOL;
}

static int oversize(qw_ws_rx *r)
{
    r->discard = 1;
    r->mlen = 0;
    r->oversized++;
    if (r->cb.on_oversized && r->cb.on_oversized(r->cb.ctx))
        r->stopped = 1;
    return r->stopped;
}

static qw_err append(qw_ws_rx *r, const char *p, size_t n)
{
    if (r->discard || !n)
        return QW_OK;
    if (n > r->max_message - r->mlen) {
        if (r->server)
            return too_big(r);
        oversize(r);
        return QW_OK;
    }
    if (grow(r, r->mlen + n) != 0)
        return QW_NOMEM;
    memcpy(r->msg + r->mlen, p, n);
    r->mlen += n;
    return QW_OK;
}

/* The rest of a discarded (oversized) compressed message still goes
 * through the inflater, so a kept context stays in step with the server's. */
static qw_err inflate_skip(qw_ws_rx *r)
{
    z_stream *z = r->z;
    unsigned char sink[4096];
    for (;;) {
        z->next_out = sink;
        z->avail_out = sizeof sink;
        int ret = inflate(z, Z_SYNC_FLUSH);
        if (ret == Z_STREAM_END) {
            r->zend = 1;
            return QW_OK;
        }
        if (ret != Z_OK && ret != Z_BUF_ERROR)
            return perr(r, "bad permessage-deflate data");
        /* done when the input is used up and nothing more came out */
        if (ret == Z_BUF_ERROR || (z->avail_in == 0 && z->avail_out != 0))
            return QW_OK;
    }
}

static qw_err inflate_in(qw_ws_rx *r, const unsigned char *p, size_t n)
{
    if (r->zend)
        return QW_OK;
    z_stream *z = r->z;
    z->next_in = (unsigned char *)p;
    z->avail_in = (uInt)n;
    if (r->discard)
        return inflate_skip(r);
    for (;;) {
        if (r->mlen >= r->max_message) {
            /* output full: anything more is too much */
            unsigned char probe;
            z->next_out = &probe;
            z->avail_out = 1;
            int ret = inflate(z, Z_SYNC_FLUSH);
            if (ret == Z_STREAM_END)
                r->zend = 1;
            if (z->avail_out == 0) {
                if (r->server)
                    return too_big(r);
                oversize(r);
                return inflate_skip(r);
            }
            if (ret != Z_OK && ret != Z_BUF_ERROR && ret != Z_STREAM_END)
                return perr(r, "bad permessage-deflate data");
            if (z->avail_in == 0 || r->zend)
                return QW_OK;
            continue;
        }
        size_t room = r->mcap ? r->mcap - 1 - r->mlen : 0;
        if (room == 0) {
            if (grow(r, r->mlen + 1) != 0) /* doubles, up to max_message + 1 */
                return QW_NOMEM;
            room = r->mcap - 1 - r->mlen;
        }
        size_t lim = r->max_message - r->mlen;
        if (room > lim)
            room = lim;
        if (room > 0x40000000u)
            room = 0x40000000u;
        z->next_out = (unsigned char *)r->msg + r->mlen;
        z->avail_out = (uInt)room;
        int ret = inflate(z, Z_SYNC_FLUSH);
        r->mlen += room - z->avail_out;
        if (ret == Z_STREAM_END) {
            r->zend = 1;
            return QW_OK;
        }
        if (ret == Z_BUF_ERROR)
            return QW_OK; /* no progress possible: input used up */
        if (ret != Z_OK)
            return perr(r, "bad permessage-deflate data");
        if (z->avail_in == 0 && z->avail_out != 0)
            return QW_OK;
    }
}

static qw_err deliver(qw_ws_rx *r, char *p, size_t n, int bin)
{
    if (!bin && !utf8_ok((const unsigned char *)p, n))
        return perr_utf8(r, "text message is not valid UTF-8");
    r->messages++;
    if (!r->cb.on_message)
        return QW_OK;
    char save = p[n];
    p[n] = '\0';
    int stop = r->cb.on_message(r->cb.ctx, p, n, bin);
    p[n] = save;
    if (stop)
        r->stopped = 1;
    return QW_OK;
}

static qw_err msg_end(qw_ws_rx *r)
{
    qw_err e = QW_OK;
    if (r->msg_z && !r->zend) {
        static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
        e = inflate_in(r, tail, sizeof tail);
    }
    /* the sender's context: the server's for a client, the client's for a server */
    int peer_resets =
        r->server ? r->pmd.client_no_context_takeover : r->pmd.server_no_context_takeover;
    if (r->msg_z && peer_resets)
        inflateReset(r->z);
    else if (r->msg_z && r->zend)
        inflateReset(r->z); /* the server ended its stream: next message starts a new one */
    if (e == QW_OK && !r->discard) {
        if (grow(r, r->mlen) != 0)
            return QW_NOMEM;
        e = deliver(r, r->msg, r->mlen, r->msg_bin);
    }
    r->in_msg = r->discard = r->msg_z = r->zend = 0;
    r->mlen = 0;
    return e;
}

static qw_err control_end(qw_ws_rx *r)
{
    switch (r->op) {
    case QW_WS_OP_PING:
        r->pings++;
        if (r->cb.on_ping && r->cb.on_ping(r->cb.ctx, r->ctl, r->cn))
            r->stopped = 1;
        break;
    case QW_WS_OP_CLOSE: {
        if (r->cn == 1)
            return perr(r, "close frame with a 1-byte payload");
        int code = r->cn >= 2 ? (r->ctl[0] << 8 | r->ctl[1]) : -1;
        if (code >= 0 && !close_code_ok(code))
            return perr(r, "close frame with an invalid code");
        if (r->cn > 2 && !utf8_ok(r->ctl + 2, r->cn - 2))
            return perr_utf8(r, "close reason is not valid UTF-8");
        r->closed = 1;
        if (r->cb.on_close)
            r->cb.on_close(r->cb.ctx, code, r->cn > 2 ? (const char *)r->ctl + 2 : "",
                           r->cn > 2 ? r->cn - 2 : 0);
        break;
    }
    default: /* pong: nothing to do */ break;
    }
    return QW_OK;
}

static unsigned hdr_need(const unsigned char *h)
{
    unsigned l = h[1] & 0x7f;
    return 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
}

/* A whole frame header is in h[0..hl): check it, start the frame. */
static qw_err frame_begin(qw_ws_rx *r, const unsigned char *h)
{
    uint8_t b0 = h[0], b1 = h[1], op = b0 & 0x0f;
    if (r->server && !(b1 & 0x80)) /* RFC 6455 5.1 */
        return perr(r, "unmasked frame from the client");
    if (!r->server && (b1 & 0x80))
        return perr(r, "masked frame from the server");
    if (b0 & 0x30)
        return perr(r, "RSV2/RSV3 set without an extension");
    uint64_t n = b1 & 0x7f;
    if (n == 126)
        n = (uint64_t)h[2] << 8 | h[3];
    else if (n == 127) {
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | h[2 + i];
        if (n >> 63)
            return perr(r, "frame length over 2^63");
    }
    int rsv1 = !!(b0 & 0x40), fin = !!(b0 & 0x80);
    if (op >= 0x8) {
        if (op > QW_WS_OP_PONG)
            return perr(r, "unknown control opcode");
        if (!fin)
            return perr(r, "fragmented control frame");
        if (n > 125)
            return perr(r, "control frame over 125 bytes");
        if (rsv1)
            return perr(r, "RSV1 on a control frame");
        r->cn = 0;
    } else if (op == QW_WS_OP_CONT) {
        if (!r->in_msg)
            return perr(r, "continuation frame outside a message");
        if (rsv1)
            return perr(r, "RSV1 on a continuation frame");
        if (r->server && !r->msg_z && n > r->max_message - r->mlen)
            return too_big(r);
    } else if (op == QW_WS_OP_TEXT || op == QW_WS_OP_BINARY) {
        if (r->in_msg)
            return perr(r, "new message inside a fragmented one");
        if (rsv1 && !r->pmd.enabled)
            return perr(r, "RSV1 set without permessage-deflate");
        if (r->server && !rsv1 && n > r->max_message)
            return too_big(r); /* known from the header: read none of it */
        r->in_msg = 1;
        r->msg_bin = op == QW_WS_OP_BINARY;
        r->msg_z = rsv1;
        r->discard = r->zend = 0;
        r->mlen = 0;
    } else {
        return perr(r, "unknown data opcode");
    }
    r->op = op;
    r->fin = (uint8_t)fin;
    r->left = n;
    r->in_frame = 1;
    if (b1 & 0x80) {
        unsigned hl = hdr_need(h);
        memcpy(r->key, h + hl - 4, 4);
        r->kpos = 0;
    }
    return QW_OK;
}

static qw_err frame_end(qw_ws_rx *r)
{
    r->in_frame = 0;
    if (r->op >= 0x8)
        return control_end(r);
    return r->fin ? msg_end(r) : QW_OK;
}

/* XOR a masked payload in place (the buffer is writable, see wsproto.h) */
static void unmask(char *p, size_t n, const unsigned char key[4], unsigned *kpos)
{
    unsigned k = *kpos;
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(p[i] ^ key[(k + i) & 3]);
    *kpos = (unsigned)((k + n) & 3);
}

static qw_err payload(qw_ws_rx *r, char *p, size_t n)
{
    if (r->server)
        unmask(p, n, r->key, &r->kpos);
    if (r->op >= 0x8) {
        memcpy(r->ctl + r->cn, p, n);
        r->cn += n;
        return QW_OK;
    }
    if (r->msg_z)
        return inflate_in(r, (const unsigned char *)p, n);
    return append(r, p, n);
}

qw_err qw_ws_rx_feed(qw_ws_rx *r, char *buf, size_t len)
{
    size_t p = 0;
    r->stopped = 0;
    while (p < len && !r->stopped && !r->closed) {
        qw_err e;
        if (!r->in_frame) {
            const unsigned char *h;
            if (r->hn == 0 && len - p >= 2 && len - p >= hdr_need((unsigned char *)buf + p)) {
                h = (unsigned char *)buf + p;
                size_t hl = hdr_need(h);
                /* fast path: a whole plain text/binary message, FIN, in buf
                 * with a byte after it for the NUL */
                uint8_t b0 = h[0];
                if ((b0 == 0x81 || b0 == 0x82) && !r->in_msg && !(h[1] & 0x80) == !r->server) {
                    uint64_t n = h[1] & 0x7f;
                    if (n == 126)
                        n = (uint64_t)h[2] << 8 | h[3];
                    else if (n == 127) {
                        n = 0;
                        for (int i = 0; i < 8; i++)
                            n = n << 8 | h[2 + i];
                    }
                    if (n < len - p - hl && n <= r->max_message) {
                        if (r->server) {
                            unsigned k = 0;
                            unmask(buf + p + hl, (size_t)n, h + hl - 4, &k);
                        }
                        if ((e = deliver(r, buf + p + hl, (size_t)n, b0 == 0x82)) != QW_OK)
                            return e;
                        p += hl + (size_t)n;
                        continue;
                    }
                }
                p += hl;
            } else {
                r->hdr[r->hn++] = (unsigned char)buf[p++];
                if (r->hn < 2 || r->hn < hdr_need(r->hdr))
                    continue;
                h = r->hdr;
                r->hn = 0;
            }
            if ((e = frame_begin(r, h)) != QW_OK)
                return e;
            if (r->left == 0 && (e = frame_end(r)) != QW_OK)
                return e;
            continue;
        }
        size_t n = len - p < r->left ? len - p : (size_t)r->left;
        if ((e = payload(r, buf + p, n)) != QW_OK)
            return e;
        p += n;
        r->left -= n;
        if (r->left == 0 && (e = frame_end(r)) != QW_OK)
            return e;
    }
    return QW_OK;
}

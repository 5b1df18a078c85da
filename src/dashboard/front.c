/* front.c: every dashboard connection starts here, as a raw socket whose
 * request head QuoteWatch reads itself before lws's HTTP parser sees it
 * (server thread).
 *
 * Why: lws 4.1.6 closes a request head that does not fit its header buffer
 * (16 KiB, host.c), or that has too many headers, without any reply and
 * without a callback (docs/DASHBOARD.md "Limits of lws 4.1.6"). RFC 9112
 * wants 414/431. So the listening vhost adopts every accepted socket as a
 * raw socket of protocol "qw-front"
 * (LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG), and:
 *   1. RAW_RX gathers the head in the connection's buffer (FRONT_MAX
 *      bytes): never more, whatever the client sends;
 *   2. a head we refuse gets its answer here (400 malformed, 405 CONNECT
 *      and methods lws does not parse, 414 request target over FRONT_URI,
 *      431 head over FRONT_MAX or over FRONT_LINES header lines); once it
 *      is flushed we shut our side down and read (discarding) until the
 *      client's FIN or LINGER_S, so the reply is not destroyed by a reset;
 *   3. a head we accept is handed to lws's HTTP role with the bytes read
 *      so far: the socket is dup()ed and the copy adopted by the non-
 *      listening vhost d->vh_http (lws_adopt_socket_vhost_readbuf: lws 4.1.6
 *      appends the bytes to a buflist, any length; its header comment's
 *      2048 bytes is an older limit), the original descriptor number is
 *      pointed at a fresh unconnected socket (dup2) and the raw wsi hung up
 *      (the trick of wsconn.c, in the other direction);
 *   4. after a keep-alive transaction (server.c, qw__dash_http_done) the
 *      connection comes back here the same way (qw__dash_front_handback),
 *      so lws parses no head we did not check. Pipelining (RFC 9112
 *      9.3.2): lws is handed the head alone when the request has no body
 *      (no Content-Length, Transfer-Encoding or Upgrade); the bytes read
 *      past it (the next requests) wait in d->carry and are given to the
 *      front wsi the connection comes back to, which checks them as if
 *      just read. Bytes lws itself reads during a transaction (a client
 *      pipelining in several writes, or past the first FRONT_MAX bytes)
 *      are lost at the handback: such a client gets no answer to those and
 *      is dropped at the idle bound.
 * Timeouts: IDLE_S with no byte of a head (a kept-alive or new connection),
 * then HEAD_S from its first byte (slowloris), LINGER_S after a refusal.
 *
 * Connection accounting (limits.c): a front wsi counts from its RAW_ADOPT
 * to its WSI_DESTROY or to a handoff; at a handoff (either way) the old
 * wsi is uncounted just before the new one is adopted (lws may serve the
 * head, /metrics included, inside that adoption), so the connection
 * counts once throughout. */
#define QW_MODULE "dashboard"
#include <fcntl.h>
#include <libwebsockets.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "dashboard/dash_int.h"

#define FRONT_URI 2048               /* request target: longer gets 414 */
#define FRONT_LINE0 (FRONT_URI + 64) /* a request line this long with no end: 414 */
#define FRONT_LINES 64               /* header lines: more get 431 (lws's fragment cliff is ~92) */
#define IDLE_S 10                    /* no byte of a head for this long: closed */
#define HEAD_S 10                    /* a head must be complete this long after its first byte */
#define LINGER_S 3                   /* after a refusal: wait this long for the client's FIN */

_Static_assert(QW_DASH_FRONT_MAX >= FRONT_LINE0 + 2, "the request line must fit the head buffer");

enum { F_HEAD, F_REPLY, F_LINGER };

static const char r400[] = "HTTP/1.1 400 Bad Request\r\n"
                           "content-type: text/plain\r\n"
                           "content-length: 12\r\n"
                           "connection: close\r\n\r\n"
                           "bad request\n";
static const char r405[] = "HTTP/1.1 405 Method Not Allowed\r\n"
                           "allow: GET, HEAD\r\n"
                           "content-type: text/plain\r\n"
                           "content-length: 32\r\n"
                           "connection: close\r\n\r\n"
                           "method not allowed: GET or HEAD\n";
static const char r414[] = "HTTP/1.1 414 URI Too Long\r\n"
                           "content-type: text/plain\r\n"
                           "content-length: 13\r\n"
                           "connection: close\r\n\r\n"
                           "URI too long\n";
static const char r431[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                           "content-type: text/plain\r\n"
                           "content-length: 32\r\n"
                           "connection: close\r\n\r\n"
                           "request header fields too large\n";

/* Queue a refusal; it is written at RAW_WRITEABLE. */
static int refuse(qw_dash *d, struct lws *wsi, dash_front *f, const char *r)
{
    f->state = F_REPLY;
    f->reply = r;
    d->http_requests++;
    d->http_rejected++;
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, LINGER_S + 2);
    lws_callback_on_writable(wsi);
    return 0;
}

static int is_tchar(unsigned char c)
{
    return c > ' ' && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* The request line buf[0, n) (no CRLF): NULL to pass it on, else the
 * refusal. Methods lws 4.1.6 parses go on (on_http answers 405 to the
 * ones we do not serve, with the WebSocket upgrade's own Allow); CONNECT
 * and the others get 405 here. */
static const char *check_line(const char *b, size_t n)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS", "DELETE"};
    size_t m = 0;
    while (m < n && m < 32 && is_tchar((unsigned char)b[m]))
        m++;
    if (m == 0 || m >= n || b[m] != ' ')
        return r400;
    const char *t = b + m + 1, *end = b + n;
    const char *sp = memchr(t, ' ', (size_t)(end - t));
    if (!sp)
        return (size_t)(end - t) > FRONT_URI ? r414 : r400;
    if ((size_t)(sp - t) > FRONT_URI)
        return r414;
    size_t vl = (size_t)(end - sp - 1);
    if (sp == t || vl != 8 || (memcmp(sp + 1, "HTTP/1.1", 8) && memcmp(sp + 1, "HTTP/1.0", 8)))
        return r400;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == m && memcmp(b, known[i], m) == 0)
            return NULL;
    return r405;
}

int qw__dash_move_begin(struct lws *wsi, int *cfd, int *ph)
{
    *cfd = fcntl(lws_get_socket_fd(wsi), F_DUPFD_CLOEXEC, 0);
    *ph = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*cfd >= 0 && *ph >= 0)
        return 0;
    if (*cfd >= 0)
        close(*cfd);
    if (*ph >= 0)
        close(*ph);
    return -1;
}

void qw__dash_move_finish(struct lws *wsi, int ph)
{
    if (dup2(ph, lws_get_socket_fd(wsi)) < 0)
        QW_LOG(WARN, "dashboard: dup2 over a moved socket failed");
    close(ph);
}

int qw__dash_linger_if_flushed(struct lws *wsi, int secs)
{
    if (lws_partial_buffered(wsi)) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    shutdown(lws_get_socket_fd(wsi), SHUT_WR);
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, secs);
    return 1;
}

void qw__dash_carry_drop(qw_dash *d, int fd)
{
    for (size_t i = 0; fd >= 0 && i < d->ncarry; i++)
        if (d->carry[i].fd == fd) {
            qw_free(d->carry[i].buf);
            d->carry[i] = d->carry[--d->ncarry];
            return;
        }
}

void qw__dash_carry_free(qw_dash *d)
{
    while (d->ncarry)
        qw_free(d->carry[--d->ncarry].buf);
    qw_free(d->carry);
    d->carry = NULL, d->carry_cap = 0;
}

/* Keeps n bytes for the connection on fd; 0 when they could not be kept. */
static int carry_put(qw_dash *d, int fd, const char *p, size_t n)
{
    qw__dash_carry_drop(d, fd); /* a stale one: that connection ended */
    if (d->ncarry == d->carry_cap) {
        size_t cap = d->carry_cap ? 2 * d->carry_cap : 8;
        dash_carry *c = qw_realloc(d->carry, cap * sizeof *c);
        if (!c)
            return 0;
        d->carry = c, d->carry_cap = cap;
    }
    char *b = qw_malloc(n);
    if (!b)
        return 0;
    memcpy(b, p, n);
    d->carry[d->ncarry++] = (dash_carry){fd, n, b};
    return 1;
}

/* Does the head (the first len bytes of h, request line first) announce a
 * body or a protocol switch? Then what follows it is not a request. */
static int has_body(const char *h, size_t len)
{
    static const char *const names[] = {"content-length:", "transfer-encoding:", "upgrade:"};
    for (const char *l = memchr(h, '\n', len); l && (size_t)(l + 1 - h) < len;
         l = memchr(l + 1, '\n', len - (size_t)(l + 1 - h))) {
        size_t left = len - (size_t)(l + 1 - h);
        for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
            size_t nl = strlen(names[k]);
            if (left >= nl && strncasecmp(l + 1, names[k], nl) == 0)
                return 1;
        }
    }
    return 0;
}

/* Gives the connection to lws's HTTP role with the head (the first
 * head_len bytes read) and, when the request has a body, what follows. */
static int handoff(qw_dash *d, struct lws *wsi, dash_front *f, size_t head_len)
{
    int cfd, ph;
    if (qw__dash_move_begin(wsi, &cfd, &ph) != 0)
        return -1;       /* out of descriptors: the client sees the connection closed */
    f->state = F_LINGER; /* nothing more for this wsi */
    size_t give = f->n;
    qw__dash_carry_drop(d, cfd);
    /* before the adoption: lws may answer and hand back inside it */
    if (f->n > head_len && !has_body(f->buf, head_len) &&
        carry_put(d, cfd, f->buf + head_len, f->n - head_len))
        give = head_len;
    /* counted from here by the HTTP wsi: lws may serve the head (/metrics
     * counts connections) inside the adoption below */
    qw__dash_conn_removed(d, wsi);
    /* lws serves the head inside this call when it can; NULL means it
     * failed (lws closed cfd) or already served and closed it: either way
     * cfd is lws's */
    (void)lws_adopt_socket_vhost_readbuf(d->vh_http, cfd, f->buf, give);
    qw__dash_move_finish(wsi, ph);
    return -1; /* lws hangs up this wsi: on the placeholder */
}

/* Checks the bytes from f->scan on; returns a refusal, the handoff, or 0
 * to wait for more. */
static int scan(qw_dash *d, struct lws *wsi, dash_front *f)
{
    for (size_t i = f->scan; i < f->n; i++) {
        char c = f->buf[i];
        if (c == '\0')
            return refuse(d, wsi, f, r400);
        if (c != '\n')
            continue;
        if (i == 0 || f->buf[i - 1] != '\r') /* bare LF */
            return refuse(d, wsi, f, r400);
        size_t ll = i - 1 - f->ls;
        if (!f->line0_done && ll == 0) { /* empty lines before the request (RFC 9112 2.2) */
            f->n -= i + 1;
            memmove(f->buf, f->buf + i + 1, f->n);
            f->scan = f->ls = 0;
            return scan(d, wsi, f);
        }
        if (!f->line0_done) {
            const char *r = check_line(f->buf, ll);
            if (r)
                return refuse(d, wsi, f, r);
            f->line0_done = 1;
        } else if (ll == 0) {
            return handoff(d, wsi, f, i + 1); /* the blank line: the head is complete */
        } else if (++f->lines > FRONT_LINES) {
            return refuse(d, wsi, f, r431);
        }
        f->ls = i + 1;
    }
    f->scan = f->n;
    if (!f->line0_done && f->n - f->ls > FRONT_LINE0) /* a request line with no end */
        return refuse(d, wsi, f, check_line(f->buf, f->n) == r400 ? r400 : r414);
    if (f->n == sizeof f->buf)
        return refuse(d, wsi, f, r431);
    return 0;
}

static int on_rx(qw_dash *d, struct lws *wsi, dash_front *f, const char *in, size_t len)
{
    if (f->state != F_HEAD)
        return 0; /* after a refusal: read and dropped */
    if (f->n == 0 && len)
        lws_set_timeout(wsi, PENDING_TIMEOUT_HOLDING_AH, HEAD_S);
    size_t room = sizeof f->buf - f->n;
    size_t take = len < room ? len : room;
    memcpy(f->buf + f->n, in, take);
    f->n += take;
    return scan(d, wsi, f);
}

static int on_writeable(struct lws *wsi, dash_front *f)
{
    if (f->state == F_REPLY && f->reply) {
        unsigned char buf[LWS_PRE + 256];
        size_t n = strlen(f->reply);
        memcpy(buf + LWS_PRE, f->reply, n);
        f->reply = NULL;
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
            return -1;
    }
    if (f->state == F_HEAD && f->scan < f->n) /* pipelined bytes given at the handback */
        return scan(lws_vhost_user(lws_get_vhost(wsi)), wsi, f);
    if (f->state != F_REPLY)
        return 0;
    /* flushed: FIN after the reply, then drop input until the client's FIN */
    if (qw__dash_linger_if_flushed(wsi, LINGER_S))
        f->state = F_LINGER;
    return 0;
}

int qw__dash_cb_front(struct lws *wsi, int reason, void *user, void *in, size_t len)
{
    struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
    qw_dash *d = vh ? lws_vhost_user(vh) : NULL;
    dash_front *f = user;
    switch ((enum lws_callback_reasons)reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        if (!d || !f)
            return -1;
        memset(f, 0, offsetof(dash_front, buf));
        qw__dash_conn_added(d, wsi);
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, IDLE_S);
        return 0;
    case LWS_CALLBACK_RAW_RX: return d && f && in ? on_rx(d, wsi, f, in, len) : 0;
    case LWS_CALLBACK_RAW_WRITEABLE: return f ? on_writeable(wsi, f) : 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (d)
            qw__dash_conn_removed(d, wsi);
        return 0;
    default: break;
    }
    return 0;
}

int qw__dash_front_handback(qw_dash *d, struct lws *wsi)
{
    int cfd, ph, fd = lws_get_socket_fd(wsi);
    if (qw__dash_move_begin(wsi, &cfd, &ph) != 0)
        return -1; /* closed after the response is flushed (its carry at WSI_DESTROY) */
    lws_sock_file_fd_type sock = {.sockfd = cfd};
    qw__dash_conn_removed(d, wsi); /* counted from here by the front wsi */
    /* RAW_ADOPT (above) runs inside this call; on failure lws closed cfd */
    struct lws *nw = lws_adopt_descriptor_vhost(d->vh, LWS_ADOPT_SOCKET, sock, "qw-front", NULL);
    if (!nw) {
        close(ph);
        qw__dash_carry_drop(d, fd);
        return -1;
    }
    qw__dash_move_finish(wsi, ph);
    dash_front *f = lws_wsi_user(nw);
    for (size_t i = 0; f && i < d->ncarry; i++)
        if (d->carry[i].fd == fd) { /* pipelined requests: checked from its writeable */
            size_t n = d->carry[i].n <= sizeof f->buf ? d->carry[i].n : sizeof f->buf;
            memcpy(f->buf, d->carry[i].buf, n);
            f->n = n;
            lws_set_timeout(nw, PENDING_TIMEOUT_HOLDING_AH, HEAD_S);
            lws_callback_on_writable(nw);
            break;
        }
    qw__dash_carry_drop(d, fd);
    return -1; /* lws hangs up the HTTP wsi: on the placeholder */
}

/* Does the request ask to keep the connection (lws 4.1.6's own rule:
 * HTTP/1.1 unless "Connection: close", HTTP/1.0 only with keep-alive)? */
static int keep_alive(struct lws *wsi)
{
    char ver[16] = "", conn[128] = "";
    int v11 = lws_hdr_copy(wsi, ver, sizeof ver, WSI_TOKEN_HTTP) > 0 && !strcmp(ver, "HTTP/1.1");
    if (lws_hdr_copy(wsi, conn, sizeof conn, WSI_TOKEN_CONNECTION) > 0) {
        if (qw__dash_has_token(conn, "close", 1))
            return 0;
        if (qw__dash_has_token(conn, "keep-alive", 1))
            return 1;
    }
    return v11;
}

int qw__dash_http_done(qw_dash *d, struct lws *wsi)
{
    dash_http *h = lws_wsi_user(wsi);
    if (!keep_alive(wsi) || !h) /* lws closes it once the response is flushed */
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    if (lws_partial_buffered(wsi)) {
        if (!h->handback)
            QW_LOG(DEBUG, "dashboard: keep-alive response not flushed yet: handback deferred");
        h->handback = 1; /* HTTP_WRITEABLE (server.c) calls us again once flushed */
        lws_callback_on_writable(wsi);
        return 0;
    }
    h->handback = 0;
    return qw__dash_front_handback(d, wsi);
}

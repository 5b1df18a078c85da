/* test_wsproto.c: the WebSocket client protocol pieces — handshake request
 * and 101 check, frame parser (every split, many frames per read,
 * control frames, errors, oversized), permessage-deflate, encoder. */
#include <zlib.h>

#include "core/alloc.h"
#include "harness.h"
#include "ingest/wsproto.h"

/* ---- helpers ---- */

typedef struct col {
    char out[1 << 20]; /* messages, each followed by '|' (binary: 'B' before) */
    size_t n;
    int msgs, pings, closes, oversized, close_code, stop_after;
    char ping[126], reason[126];
    size_t pingn;
    const char *lo, *hi; /* input buffer bounds: counts in-place deliveries */
    int inplace, bad_nul;
} col;

static int c_msg(void *ctx, char *buf, size_t len, int bin)
{
    col *c = ctx;
    if (buf[len] != '\0')
        c->bad_nul++;
    if (c->lo && buf >= c->lo && buf < c->hi)
        c->inplace++;
    if (bin)
        c->out[c->n++] = 'B';
    memcpy(c->out + c->n, buf, len);
    c->n += len;
    c->out[c->n++] = '|';
    c->msgs++;
    return c->stop_after && c->msgs >= c->stop_after;
}

static int c_ping(void *ctx, const unsigned char *p, size_t n)
{
    col *c = ctx;
    memcpy(c->ping, p, n);
    c->pingn = n;
    c->pings++;
    c->out[c->n++] = 'P';
    return 0;
}

static int c_close(void *ctx, int code, const char *reason, size_t n)
{
    col *c = ctx;
    c->closes++;
    c->close_code = code;
    memcpy(c->reason, reason, n);
    c->reason[n] = '\0';
    return 0;
}

static int c_over(void *ctx)
{
    ((col *)ctx)->oversized++;
    return 0;
}

static void rx_init(qw_ws_rx *r, col *c, size_t max, const qw_ws_pmd *pmd)
{
    memset(r, 0, sizeof *r);
    memset(c, 0, sizeof *c);
    qw_ws_rx_cb cb = {c, c_msg, c_ping, c_close, c_over};
    ASSERT_OK(qw_ws_rx_reset(r, max, pmd, &cb));
}

/* one unmasked server frame */
static size_t sframe(unsigned char *o, int fin, int rsv1, int op, const void *p, size_t n)
{
    size_t h = qw_ws_frame_hdr(o, fin, rsv1, op, n, NULL);
    if (n)
        memcpy(o + h, p, n);
    return h + n;
}

static size_t sstr(unsigned char *o, int fin, int op, const char *s)
{
    return sframe(o, fin, 0, op, s, strlen(s));
}

/* ---- handshake ---- */

TEST(wsproto_accept_rfc_example)
{
    char acc[QW_WS_ACCEPT_LEN + 1];
    qw_ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc);
    ASSERT_STREQ(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const unsigned char nonce[16] = "the sample nonce";
    char key[QW_WS_KEY_LEN + 1];
    qw_ws_make_key(nonce, key);
    ASSERT_STREQ(key, "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(wsproto_request)
{
    char b[1024];
    size_t n = 0;
    ASSERT_OK(qw_ws_request(b, sizeof b, &n, "127.0.0.1:8443", "/feed", "127.0.0.1",
                            "dGhlIHNhbXBsZSBub25jZQ==", 1));
    b[n] = '\0';
    ASSERT_TRUE(strncmp(b, "GET /feed HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n", 41) == 0);
    ASSERT_TRUE(strstr(b, "\r\nUpgrade: websocket\r\n") != NULL);
    ASSERT_TRUE(strstr(b, "\r\nConnection: Upgrade\r\n") != NULL);
    ASSERT_TRUE(strstr(b, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n") != NULL);
    ASSERT_TRUE(strstr(b, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
    ASSERT_TRUE(strstr(b, "\r\nOrigin: 127.0.0.1\r\n") != NULL);
    ASSERT_TRUE(strstr(b, "Sec-WebSocket-Extensions: permessage-deflate; "
                          "client_no_context_takeover; client_max_window_bits\r\n") != NULL);
    ASSERT_TRUE(n > 4 && memcmp(b + n - 4, "\r\n\r\n", 4) == 0);
    ASSERT_OK(qw_ws_request(b, sizeof b, &n, "h", "", NULL, "k", 0));
    b[n] = '\0';
    ASSERT_TRUE(strstr(b, "Extensions") == NULL && strstr(b, "Origin") == NULL);
    ASSERT_TRUE(strncmp(b, "GET / HTTP/1.1\r\n", 16) == 0);
    ASSERT_EQ(qw_ws_request(b, sizeof b, &n, "h\r\nX: y", "/", NULL, "k", 0), QW_INVAL);
    ASSERT_EQ(qw_ws_request(b, 40, &n, "h", "/", NULL, "k", 0), QW_TOO_LARGE);
}

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACC "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define OK101 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"

static qw_err resp(const char *s, int offered, qw_ws_pmd *pmd, char *err, size_t *hl)
{
    return qw_ws_response(s, strlen(s), KEY, offered, hl, pmd, err, 200);
}

TEST(wsproto_response_ok)
{
    qw_ws_pmd pmd;
    char err[200] = "";
    size_t hl = 0;
    const char *r = OK101 "Sec-WebSocket-Accept: " ACC "\r\n\r\n\x81\x02hi";
    ASSERT_OK(resp(r, 1, &pmd, err, &hl));
    ASSERT_EQ(hl, strlen(r) - 4); /* the frame after the header is not header */
    ASSERT_EQ(pmd.enabled, 0);
    /* case-insensitive names and tokens, extra tokens, deflate params */
    r = "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\n"
        "sec-websocket-accept: " ACC "\r\nSec-WebSocket-Extensions: permessage-deflate; "
        "server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=\"12\"\r\n"
        "Server: x\r\n\r\n";
    ASSERT_OK(resp(r, 1, &pmd, err, &hl));
    ASSERT_EQ(pmd.enabled, 1);
    ASSERT_EQ(pmd.server_no_context_takeover, 1);
    ASSERT_EQ(pmd.client_no_context_takeover, 0);
    ASSERT_EQ(pmd.server_max_window_bits, 10);
    ASSERT_EQ(pmd.client_max_window_bits, 12);
    r = OK101 "Sec-WebSocket-Accept: " ACC "\r\nSec-WebSocket-Extensions: permessage-deflate;"
              "client_no_context_takeover\r\n\r\n";
    ASSERT_OK(resp(r, 1, &pmd, err, &hl));
    ASSERT_EQ(pmd.client_no_context_takeover, 1);
    ASSERT_EQ(pmd.server_max_window_bits, 15);
}

TEST(wsproto_response_incomplete_every_prefix)
{
    qw_ws_pmd pmd;
    char err[200];
    size_t hl;
    const char *r = OK101 "Sec-WebSocket-Accept: " ACC "\r\n\r\n";
    for (size_t i = 0; i < strlen(r); i++)
        ASSERT_EQ(qw_ws_response(r, i, KEY, 0, &hl, &pmd, err, sizeof err), QW_AGAIN);
    ASSERT_OK(qw_ws_response(r, strlen(r), KEY, 0, &hl, &pmd, err, sizeof err));
}

TEST(wsproto_response_rejects)
{
    static const struct {
        const char *r, *why;
        int offered;
    } bad[] = {
        {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP 404 Not Found", 1},
        {"HTTP/1.1 200 OK\r\n\r\n", "HTTP 200", 1},
        {OK101 "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n", "Accept", 1},
        {OK101 "\r\n", "no Sec-WebSocket-Accept", 1},
        {"HTTP/1.1 101 x\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACC "\r\n\r\n",
         "Upgrade: websocket", 1},
        {"HTTP/1.1 101 x\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " ACC "\r\n\r\n",
         "Connection", 1},
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
         "not offered", 0},
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: x-webkit-deflate-frame\r\n\r\n",
         "did not offer", 1},
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n\r\n",
         "parameter", 1},
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: permessage-deflate; frobnicate\r\n\r\n",
         "frobnicate", 1},
        /* RFC 7692 7.1: repeated or out-of-range parameters fail the handshake */
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; "
               "server_max_window_bits=12\r\n\r\n",
         "server_max_window_bits", 1},
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9; "
               "client_max_window_bits=9\r\n\r\n",
         "client_max_window_bits", 1},
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
               "server_no_context_takeover\r\n\r\n",
         "server_no_context_takeover", 1},
        {OK101
         "Sec-WebSocket-Accept: " ACC
         "\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n\r\n",
         "server_max_window_bits", 1},
        {OK101 "Sec-WebSocket-Accept: " ACC
               "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=7\r\n\r\n",
         "client_max_window_bits", 1},
        {OK101
         "Sec-WebSocket-Accept: " ACC
         "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover=1\r\n\r\n",
         "server_no_context_takeover", 1},
        {OK101 "Sec-WebSocket-Accept: " ACC "\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
         "subprotocol", 1},
        {"SSH-2.0-OpenSSH\r\n", "did not answer HTTP", 1},
        {"HTTP/1.1 1O1 x\r\n\r\n", "status line", 1},
        {OK101 "no colon here\r\n\r\n", "header line", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qw_ws_pmd pmd;
        char err[200] = "";
        size_t hl;
        qw_err e = resp(bad[i].r, bad[i].offered, &pmd, err, &hl);
        if (e != QW_PROTOCOL || !strstr(err, bad[i].why))
            qwt_fail(__FILE__, __LINE__, "case %zu: %s / '%s' lacks '%s'", i, qw_err_name(e), err,
                     bad[i].why);
        ASSERT_EQ(e, QW_PROTOCOL);
    }
    /* no end of header within the limit */
    static char big[QW_WS_RESPONSE_MAX + 10];
    memcpy(big, OK101, strlen(OK101));
    memset(big + strlen(OK101), 'a', sizeof big - strlen(OK101));
    qw_ws_pmd pmd;
    char err[200];
    size_t hl;
    ASSERT_EQ(qw_ws_response(big, sizeof big, KEY, 1, &hl, &pmd, err, sizeof err), QW_PROTOCOL);
}

/* ---- frames ---- */

/* a varied stream: small/16-bit messages, binary, fragmented message with
 * a ping and a pong inside, empty message; then the expected output */
static size_t mixed(unsigned char *b, char *expect)
{
    size_t n = 0;
    char mid[300];
    memset(mid, 'm', sizeof mid - 1);
    mid[sizeof mid - 1] = '\0';
    n += sstr(b + n, 1, QW_WS_OP_TEXT, "{\"a\":1}");
    n += sstr(b + n, 1, QW_WS_OP_TEXT, mid);
    n += sframe(b + n, 1, 0, QW_WS_OP_BINARY, "\x01\x02", 2);
    n += sstr(b + n, 0, QW_WS_OP_TEXT, "frag1-");
    n += sstr(b + n, 1, QW_WS_OP_PING, "are you there");
    n += sstr(b + n, 0, QW_WS_OP_CONT, "frag2-");
    n += sstr(b + n, 1, QW_WS_OP_PONG, "");
    n += sstr(b + n, 1, QW_WS_OP_CONT, "frag3");
    n += sstr(b + n, 1, QW_WS_OP_TEXT, "");
    n += sstr(b + n, 1, QW_WS_OP_TEXT, "last");
    snprintf(expect, 1024, "{\"a\":1}|%s|B\x01\x02|Pfrag1-frag2-frag3||last|", mid);
    return n;
}

TEST(wsproto_split_at_every_byte)
{
    unsigned char s[1024], b[1024];
    char expect[1024];
    size_t n = mixed(s, expect);
    for (size_t cut = 0; cut <= n; cut++) {
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, NULL);
        memcpy(b, s, n);
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, cut));
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b + cut, n - cut));
        c.out[c.n] = '\0';
        if (strcmp(c.out, expect) != 0)
            qwt_fail(__FILE__, __LINE__, "cut %zu: got '%s'", cut, c.out);
        ASSERT_EQ(c.pings, 1);
        ASSERT_STREQ(c.ping, "are you there");
        ASSERT_EQ(c.bad_nul, 0);
        ASSERT_TRUE(memcmp(b, s, n) == 0); /* the NUL byte was restored */
        qw_ws_rx_free(&r);
    }
    /* one byte at a time */
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    memcpy(b, s, n);
    for (size_t i = 0; i < n; i++)
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b + i, 1));
    c.out[c.n] = '\0';
    ASSERT_STREQ(c.out, expect);
    qw_ws_rx_free(&r);
}

TEST(wsproto_64bit_lengths_and_splits)
{
    static unsigned char b[3 * 70010];
    static char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    size_t n = sframe(b, 1, 0, QW_WS_OP_TEXT, big, sizeof big);
    n += sstr(b + n, 1, QW_WS_OP_TEXT, "x");
    static const size_t cuts[] = {1, 2, 5, 9, 10, 11, 4096, 70009, 70010, 70011};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, NULL);
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, cuts[k]));
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b + cuts[k], n - cuts[k]));
        ASSERT_EQ(c.msgs, 2);
        ASSERT_EQ(c.n, sizeof big + 3);
        ASSERT_TRUE(memcmp(c.out, big, sizeof big) == 0);
        ASSERT_EQ(c.bad_nul, 0);
        qw_ws_rx_free(&r);
    }
}

TEST(wsproto_many_frames_in_place)
{
    static unsigned char b[200000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        char m[64];
        snprintf(m, sizeof m, "{\"seq\":%d}", i);
        n += sstr(b + n, 1, QW_WS_OP_TEXT, m);
    }
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    c.lo = (const char *)b;
    c.hi = (const char *)b + n;
    uint64_t a0 = qw_alloc_count();
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(c.msgs, 1000);
    ASSERT_EQ(r.messages, 1000);
    ASSERT_EQ(c.inplace, 999); /* the last one has no byte after it: copied */
    ASSERT_TRUE(strncmp(c.out, "{\"seq\":0}|{\"seq\":1}|", 20) == 0);
    ASSERT_TRUE(strstr(c.out, "|{\"seq\":999}|") != NULL);
    /* again: the reassembly buffer exists, nothing is allocated */
    uint64_t a1 = qw_alloc_count();
    ASSERT_TRUE(a1 - a0 <= 1);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(qw_alloc_count(), a1);
    ASSERT_EQ(c.msgs, 2000);
    qw_ws_rx_free(&r);
}

TEST(wsproto_callback_stops)
{
    unsigned char b[256];
    size_t n = 0;
    for (int i = 0; i < 5; i++)
        n += sstr(b + n, 1, QW_WS_OP_TEXT, "abc");
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    c.stop_after = 2;
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(r.stopped, 1);
    ASSERT_EQ(c.msgs, 2);
    qw_ws_rx_free(&r);
}

TEST(wsproto_close_frame)
{
    unsigned char b[256], cp[125];
    size_t pl = qw_ws_close_payload(cp, 1008, "policy violation");
    size_t n = sstr(b, 1, QW_WS_OP_TEXT, "before");
    n += sframe(b + n, 1, 0, QW_WS_OP_CLOSE, cp, pl);
    n += sstr(b + n, 1, QW_WS_OP_TEXT, "after");
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(r.closed, 1);
    ASSERT_EQ(c.closes, 1);
    ASSERT_EQ(c.close_code, 1008);
    ASSERT_STREQ(c.reason, "policy violation");
    ASSERT_EQ(c.msgs, 1); /* nothing after the close frame */
    /* empty close: no code */
    qw_ws_rx_free(&r);
    rx_init(&r, &c, 0, NULL);
    n = sframe(b, 1, 0, QW_WS_OP_CLOSE, "", 0);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(c.close_code, -1);
    /* one-byte close payload is a protocol error */
    qw_ws_rx_free(&r);
    rx_init(&r, &c, 0, NULL);
    n = sframe(b, 1, 0, QW_WS_OP_CLOSE, "x", 1);
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, n), QW_PROTOCOL);
    qw_ws_rx_free(&r);
}

/* RFC 6455 7.4: a close code outside the ones a peer may send fails the
 * connection (1002); so does a reason that is not UTF-8 (1007) */
TEST(wsproto_close_code_and_reason_checked)
{
    static const int bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535};
    static const int good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1014, 3000, 4999};
    unsigned char b[160], cp[125];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, NULL);
        size_t n = sframe(b, 1, 0, QW_WS_OP_CLOSE, cp, qw_ws_close_payload(cp, bad[i], "x"));
        qw_err e = qw_ws_rx_feed(&r, (char *)b, n);
        if (e != QW_PROTOCOL || r.fail_code != 1002 || c.closes)
            qwt_fail(__FILE__, __LINE__, "code %d: %s fail_code %d closes %d", bad[i],
                     qw_err_name(e), r.fail_code, c.closes);
        ASSERT_TRUE(strstr(r.err, "invalid code") != NULL);
        qw_ws_rx_free(&r);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, NULL);
        size_t n = sframe(b, 1, 0, QW_WS_OP_CLOSE, cp, qw_ws_close_payload(cp, good[i], NULL));
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
        ASSERT_EQ(c.close_code, good[i]);
        qw_ws_rx_free(&r);
    }
    static const char *reasons[] = {"\xff", "ok\xc3", "\xc0\xaf", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, NULL);
        size_t n = sframe(b, 1, 0, QW_WS_OP_CLOSE, cp, qw_ws_close_payload(cp, 1000, reasons[i]));
        ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, n), QW_PROTOCOL);
        ASSERT_EQ(r.fail_code, 1007);
        ASSERT_EQ(c.closes, 0);
        qw_ws_rx_free(&r);
    }
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    size_t n = sframe(b, 1, 0, QW_WS_OP_CLOSE, cp,
                      qw_ws_close_payload(cp, 1001, "caf\xc3\xa9 \xf0\x9f\x98\x80"));
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_STREQ(c.reason, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    qw_ws_rx_free(&r);
}

/* RFC 6455 8.1: a text message that is not UTF-8 fails the connection
 * (1007), whether it came whole (the in-place path), in fragments or in
 * pieces; binary messages are not checked; a character split between
 * fragments is fine */
TEST(wsproto_text_must_be_utf8)
{
    static const char *bad[] = {
        "\xff",
        "abc\x80",
        "\xc0\x80",
        "\xc1\xbf", /* overlong */
        "\xe0\x9f\xbf",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "0123456789\xc3",
        "{\"a\":\"\xe2\x82\"}",
        "\xf0\x8f\xbf\xbf",
    };
    unsigned char b[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int way = 0; way < 3; way++) {
            qw_ws_rx r;
            static col c;
            rx_init(&r, &c, 0, NULL);
            size_t n, l = strlen(bad[i]);
            if (way == 1) { /* two fragments */
                n = sframe(b, 0, 0, QW_WS_OP_TEXT, bad[i], l / 2);
                n += sframe(b + n, 1, 0, QW_WS_OP_CONT, bad[i] + l / 2, l - l / 2);
            } else {
                n = sframe(b, 1, 0, QW_WS_OP_TEXT, bad[i], l);
            }
            n += sstr(b + n, 1, QW_WS_OP_TEXT, "next");
            qw_err e = QW_OK;
            if (way == 2) /* a byte at a time */
                for (size_t k = 0; k < n && e == QW_OK; k++)
                    e = qw_ws_rx_feed(&r, (char *)b + k, 1);
            else
                e = qw_ws_rx_feed(&r, (char *)b, n);
            if (e != QW_PROTOCOL || r.fail_code != 1007 || c.msgs)
                qwt_fail(__FILE__, __LINE__, "case %zu way %d: %s fail_code %d msgs %d", i, way,
                         qw_err_name(e), r.fail_code, c.msgs);
            ASSERT_TRUE(strstr(r.err, "UTF-8") != NULL);
            qw_ws_rx_free(&r);
        }
    }
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    size_t n = sframe(b, 0, 0, QW_WS_OP_TEXT, "caf\xc3", 4);
    n += sframe(b + n, 1, 0, QW_WS_OP_CONT, "\xa9 \xf4\x8f\xbf\xbf \xef\xbf\xbf", 10);
    n += sframe(b + n, 1, 0, QW_WS_OP_BINARY, "\xff\xfe", 2);
    n += sstr(b + n, 1, QW_WS_OP_TEXT, "plain ascii, longer than eight bytes");
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(c.msgs, 3);
    qw_ws_rx_free(&r);
}

TEST(wsproto_protocol_errors)
{
    static const struct {
        const char *bytes;
        size_t n;
        const char *why;
    } bad[] = {
        {"\x81\x82\x01\x02\x03\x04hi", 8, "masked"},
        {"\xc1\x02hi", 4, "RSV1"},
        {"\xa1\x02hi", 4, "RSV2"},
        {"\x09\x00", 2, "fragmented control"},
        {"\x89\x7e\x00\x7e", 4, "over 125"},
        {"\x80\x02hi", 4, "continuation"},
        {"\x01\x01"
         "a\x81\x01"
         "b",
         6, "inside a fragmented"},
        {"\x83\x00", 2, "unknown data opcode"},
        {"\x8b\x00", 2, "unknown control"},
        {"\xc9\x00", 2, "RSV1 on a control"},
        {"\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, "2^63"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, NULL);
        char b[32];
        memcpy(b, bad[i].bytes, bad[i].n);
        qw_err e = qw_ws_rx_feed(&r, b, bad[i].n);
        if (e != QW_PROTOCOL || !r.err || !strstr(r.err, bad[i].why))
            qwt_fail(__FILE__, __LINE__, "case %zu: %s '%s'", i, qw_err_name(e),
                     r.err ? r.err : "-");
        ASSERT_EQ(e, QW_PROTOCOL);
        ASSERT_EQ(r.fail_code, QW_WS_CLOSE_PROTOCOL);
        qw_ws_rx_free(&r);
    }
}

TEST(wsproto_oversized)
{
    static unsigned char b[4096];
    char m150[151], m100[101];
    memset(m150, 'o', 150), m150[150] = '\0';
    memset(m100, 'k', 100), m100[100] = '\0';
    size_t n = sstr(b, 1, QW_WS_OP_TEXT, m150); /* one frame, too big */
    n += sstr(b + n, 1, QW_WS_OP_TEXT, m100);   /* exactly the limit */
    n += sstr(b + n, 0, QW_WS_OP_TEXT, m100);   /* fragmented, too big */
    n += sstr(b + n, 1, QW_WS_OP_PING, "p");
    n += sstr(b + n, 1, QW_WS_OP_CONT, "z");
    n += sstr(b + n, 1, QW_WS_OP_TEXT, "next");
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 100, NULL);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(r.oversized, 2);
    ASSERT_EQ(c.oversized, 2);
    ASSERT_EQ(c.pings, 1);
    c.out[c.n] = '\0';
    char expect[256];
    snprintf(expect, sizeof expect, "%s|Pnext|", m100);
    ASSERT_STREQ(c.out, expect);
    ASSERT_TRUE(r.mcap <= 101);
    qw_ws_rx_free(&r);
}

/* ---- permessage-deflate ---- */

/* python3: zlib.compressobj(9, DEFLATED, -15), one compressor for both,
 * compress(m) + flush(Z_SYNC_FLUSH), 00 00 ff ff removed */
static const unsigned char PY1[] =
    "\xaa\x56\x2a\xa9\x2c\x48\x55\xb2\x52\xca\x31\x2a\x2d\x48\x49\x2c"
    "\x49\x55\xd2\x51\x2a\x28\xca\x4f\x29\x4d\x2e\x89\xcf\x4c\x01\x8a"
    "\x3b\x85\x38\xeb\x86\x06\xbb\x28\xd5\x02\x00";
static const unsigned char PY2[] = "\xaa\x26\x56\xa5\x8e\x52\x85\x92\x95\x61\x2d\x00";
#define PYM1 "{\"type\":\"l2update\",\"product_id\":\"BTC-USD\"}"
#define PYM2 "{\"type\":\"l2update\",\"product_id\":\"BTC-USD\",\"x\":1}"

TEST(wsproto_deflate_context_takeover_python)
{
    unsigned char b[256];
    size_t n = sframe(b, 1, 1, QW_WS_OP_TEXT, PY1, sizeof PY1 - 1);
    size_t n1 = n;
    /* the second message fragmented: RSV1 on its first frame only */
    n += sframe(b + n, 0, 1, QW_WS_OP_TEXT, PY2, 5);
    n += sframe(b + n, 1, 0, QW_WS_OP_CONT, PY2 + 5, sizeof PY2 - 1 - 5);
    qw_ws_pmd pmd = {1, 0, 1, 15, 15};
    for (size_t cut = 0; cut <= n; cut++) {
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, &pmd);
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, cut));
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b + cut, n - cut));
        c.out[c.n] = '\0';
        ASSERT_STREQ(c.out, PYM1 "|" PYM2 "|");
        qw_ws_rx_free(&r);
    }
    /* server_no_context_takeover claimed, but the data needs the context:
     * the reset makes the second message undecodable */
    pmd.server_no_context_takeover = 1;
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, &pmd);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n1));
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b + n1, n - n1), QW_PROTOCOL);
    ASSERT_EQ(c.msgs, 1);
    qw_ws_rx_free(&r);
}

/* raw deflate of m with a fresh or a kept stream, tail removed */
static size_t zdeflate(z_stream *z, const char *m, size_t mn, unsigned char *out, size_t cap)
{
    z->next_in = (unsigned char *)m;
    z->avail_in = (uInt)mn;
    z->next_out = out;
    z->avail_out = (uInt)cap;
    if (deflate(z, Z_SYNC_FLUSH) != Z_OK || z->avail_in)
        return 0;
    size_t n = cap - z->avail_out;
    return n >= 4 && memcmp(out + n - 4, "\x00\x00\xff\xff", 4) == 0 ? n - 4 : 0;
}

TEST(wsproto_deflate_no_context_takeover)
{
    static unsigned char b[1 << 18], z[1 << 17];
    static char m[3][20000];
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        size_t l = 0;
        for (int i = 0; l + 40 < sizeof m[k] - 1; i++)
            l += (size_t)snprintf(m[k] + l, sizeof m[k] - l, "[\"buy\",\"%d.%02d\",\"%d\"],",
                                  100 + k, i % 100, i);
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -10, 8, Z_DEFAULT_STRATEGY), Z_OK);
        size_t zn = zdeflate(&zs, m[k], strlen(m[k]), z, sizeof z);
        deflateEnd(&zs);
        ASSERT_TRUE(zn > 0 && zn < strlen(m[k]) / 2);
        n += sframe(b + n, 1, 1, QW_WS_OP_TEXT, z, zn);
    }
    qw_ws_pmd pmd = {1, 1, 1, 10, 15};
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, &pmd);
    for (size_t i = 0; i < n; i += 1000) /* reads of 1000 bytes */
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b + i, n - i < 1000 ? n - i : 1000));
    ASSERT_EQ(c.msgs, 3);
    size_t off = 0;
    for (int k = 0; k < 3; k++) {
        ASSERT_TRUE(memcmp(c.out + off, m[k], strlen(m[k])) == 0);
        off += strlen(m[k]) + 1;
    }
    ASSERT_EQ(off, c.n);
    qw_ws_rx_free(&r);
}

TEST(wsproto_deflate_oversized)
{
    static unsigned char b[1 << 16], z[1 << 16];
    static char m[200000];
    memset(m, 'a', sizeof m);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t zn = zdeflate(&zs, m, sizeof m, z, sizeof z);
    size_t n = sframe(b, 1, 1, QW_WS_OP_TEXT, z, zn);
    /* the next message leans on the discarded one's window (context kept) */
    static const char next[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa{}";
    size_t zn2 = zdeflate(&zs, next, sizeof next - 1, z, sizeof z);
    deflateEnd(&zs);
    ASSERT_TRUE(zn > 0 && zn < 2000 && zn2 > 0 && zn2 < 10);
    n += sframe(b + n, 1, 1, QW_WS_OP_TEXT, z, zn2);
    qw_ws_pmd pmd = {1, 0, 1, 15, 15};
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 50000, &pmd);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(r.oversized, 1);
    ASSERT_TRUE(r.mcap <= 50001); /* never grew past the limit */
    ASSERT_EQ(c.oversized, 1);
    c.out[c.n] = '\0';
    ASSERT_EQ(c.msgs, 1);
    ASSERT_STREQ(c.out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa{}|");
    /* exactly at the limit: delivered */
    memset(&zs, 0, sizeof zs);
    ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zn = zdeflate(&zs, m, sizeof m, z, sizeof z);
    deflateEnd(&zs);
    n = sframe(b, 1, 1, QW_WS_OP_TEXT, z, zn);
    static col c2;
    qw_ws_rx r2;
    rx_init(&r2, &c2, sizeof m, &pmd);
    ASSERT_OK(qw_ws_rx_feed(&r2, (char *)b, n));
    ASSERT_EQ(c2.msgs, 1);
    ASSERT_EQ(c2.n, sizeof m + 1);
    ASSERT_EQ(r2.oversized, 0);
    qw_ws_rx_free(&r);
    qw_ws_rx_free(&r2);
}

TEST(wsproto_bad_deflate_data)
{
    unsigned char b[64];
    size_t n = sframe(b, 1, 1, QW_WS_OP_TEXT, "\xff\xff\xff\xff\xff", 5);
    qw_ws_pmd pmd = {1, 0, 1, 15, 15};
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, &pmd);
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, n), QW_PROTOCOL);
    ASSERT_TRUE(strstr(r.err, "deflate") != NULL);
    qw_ws_rx_free(&r);
}

/* ---- encoder ---- */

TEST(wsproto_encoder_masks_and_lengths)
{
    static unsigned char out[70100], pay[70000];
    for (size_t i = 0; i < sizeof pay; i++)
        pay[i] = (unsigned char)(i * 7);
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    static const size_t lens[] = {0, 1, 125, 126, 65535, 65536, 70000};
    static const size_t hls[] = {6, 6, 6, 8, 8, 14, 14};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = qw_ws_frame(out, sizeof out, QW_WS_OP_TEXT, pay, lens[k], mask);
        ASSERT_EQ(n, hls[k] + lens[k]);
        ASSERT_EQ(out[0], 0x81);
        ASSERT_TRUE(out[1] & 0x80);
        ASSERT_TRUE(memcmp(out + hls[k] - 4, mask, 4) == 0);
        int ok = 1;
        for (size_t i = 0; i < lens[k]; i++)
            ok &= (out[hls[k] + i] ^ mask[i & 3]) == pay[i];
        ASSERT_TRUE(ok);
    }
    ASSERT_EQ(qw_ws_frame(out, 10, QW_WS_OP_TEXT, pay, 5, mask), 0);
    /* the header alone: server frames are unmasked; RSV1, no FIN */
    static const size_t uhls[] = {2, 2, 2, 4, 4, 10, 10};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        unsigned char h[QW_WS_HDR_MAX];
        ASSERT_EQ(qw_ws_frame_hdr(h, 0, 1, QW_WS_OP_CONT, lens[k], NULL), uhls[k]);
        ASSERT_EQ(h[0], 0x40);
        ASSERT_EQ(h[1] & 0x80, 0);
    }
    unsigned char h8[QW_WS_HDR_MAX];
    ASSERT_EQ(qw_ws_frame_hdr(h8, 1, 0, QW_WS_OP_BINARY, 65536, NULL), 10);
    ASSERT_TRUE(memcmp(h8, "\x82\x7f\0\0\0\0\0\x01\0\0", 10) == 0);
    ASSERT_EQ(qw_ws_frame(out, sizeof out, QW_WS_OP_PONG, pay, 126, mask), 0);
    /* ping -> pong echoes the payload */
    unsigned char b[64];
    size_t n = sstr(b, 1, QW_WS_OP_PING, "hb-42");
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(r.pings, 1);
    n = qw_ws_frame(out, sizeof out, QW_WS_OP_PONG, c.ping, c.pingn, mask);
    ASSERT_EQ(n, 6 + 5);
    ASSERT_EQ(out[0], 0x8a);
    ASSERT_EQ(out[6] ^ 0x12, 'h');
    qw_ws_rx_free(&r);
}

/* ---- server role ---- */

static void srx_init(qw_ws_rx *r, col *c, size_t max, const qw_ws_pmd *pmd)
{
    memset(r, 0, sizeof *r);
    memset(c, 0, sizeof *c);
    qw_ws_rx_cb cb = {c, c_msg, c_ping, c_close, c_over};
    ASSERT_OK(qw_ws_rx_reset_server(r, max, pmd, &cb));
}

/* one masked client frame, header built by qw_ws_frame_hdr */
static size_t cframe(unsigned char *o, int fin, int rsv1, int op, const void *p, size_t n)
{
    static const unsigned char k[4] = {0xa1, 0x5e, 0x03, 0xfc};
    size_t h = qw_ws_frame_hdr(o, fin, rsv1, op, n, k);
    for (size_t i = 0; i < n; i++)
        o[h + i] = ((const unsigned char *)p)[i] ^ k[i & 3];
    return h + n;
}

TEST(wsproto_server_masked_every_split)
{
    static unsigned char b[70000 + 200], copy[sizeof b];
    static char big[66000];
    memset(big, 'g', sizeof big);
    size_t n = cframe(b, 1, 0, QW_WS_OP_TEXT, "{\"subscribe\":\"BTC-USD\"}", 23);
    n += cframe(b + n, 0, 0, QW_WS_OP_TEXT, "frag", 4);
    n += cframe(b + n, 1, 0, QW_WS_OP_PING, "hb", 2);
    n += cframe(b + n, 1, 0, QW_WS_OP_CONT, "ment", 4);
    n += cframe(b + n, 1, 0, QW_WS_OP_BINARY, "\x00\x01", 2);
    size_t nbig = n;
    n += cframe(b + n, 1, 0, QW_WS_OP_TEXT, big, sizeof big); /* 64-bit length form */
    n += cframe(b + n, 1, 0, QW_WS_OP_CLOSE,
                "\x03\xe8"
                "bye",
                5);
    memcpy(copy, b, n);
    for (size_t cut = 0; cut <= nbig + 20; cut++) {
        qw_ws_rx r;
        static col c;
        memcpy(b, copy, n);
        srx_init(&r, &c, 70000, NULL);
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, cut));
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)b + cut, n - cut));
        ASSERT_EQ(c.msgs, 4);
        ASSERT_EQ(c.pings, 1);
        ASSERT_EQ(c.pingn, 2);
        ASSERT_TRUE(memcmp(c.ping, "hb", 2) == 0);
        ASSERT_TRUE(memcmp(c.out, "{\"subscribe\":\"BTC-USD\"}|Pfragment|B\x00\x01|", 38) == 0);
        ASSERT_EQ(c.n, 38 + sizeof big + 1);
        ASSERT_EQ(c.bad_nul, 0);
        ASSERT_EQ(c.closes, 1);
        ASSERT_EQ(c.close_code, 1000);
        ASSERT_STREQ(c.reason, "bye");
        ASSERT_TRUE(r.closed);
        qw_ws_rx_free(&r);
    }
}

TEST(wsproto_server_rejects_unmasked)
{
    /* RFC 6455 5.1: a server must close on an unmasked client frame; and
     * a client role parser still refuses masked ones */
    static const struct {
        int op, fin;
        const char *p;
    } cases[] = {{QW_WS_OP_TEXT, 1, "hello"},
                 {QW_WS_OP_PING, 1, "x"},
                 {QW_WS_OP_CLOSE, 1, ""},
                 {QW_WS_OP_BINARY, 0, "ab"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char b[64];
        size_t n = sframe(b, cases[i].fin, 0, cases[i].op, cases[i].p, strlen(cases[i].p));
        for (size_t cut = 0; cut <= n; cut++) {
            qw_ws_rx r;
            static col c;
            srx_init(&r, &c, 0, NULL);
            qw_err e = qw_ws_rx_feed(&r, (char *)b, cut);
            if (e == QW_OK)
                e = qw_ws_rx_feed(&r, (char *)b + cut, n - cut);
            ASSERT_EQ(e, QW_PROTOCOL);
            ASSERT_EQ(r.fail_code, QW_WS_CLOSE_PROTOCOL);
            ASSERT_STREQ(r.err, "unmasked frame from the client");
            ASSERT_EQ(c.msgs + c.pings + c.closes, 0);
            qw_ws_rx_free(&r);
        }
    }
    /* a masked frame after a good one still fails a client-role parser */
    unsigned char b[64];
    size_t n = cframe(b, 1, 0, QW_WS_OP_TEXT, "m", 1);
    qw_ws_rx r;
    static col c;
    rx_init(&r, &c, 0, NULL);
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, n), QW_PROTOCOL);
    ASSERT_STREQ(r.err, "masked frame from the server");
    qw_ws_rx_free(&r);
}

TEST(wsproto_server_oversized_is_1009)
{
    static unsigned char b[8192];
    static char m[5000];
    memset(m, 'o', sizeof m);
    /* one frame over the limit: failed from its header, before its payload */
    size_t n = cframe(b, 1, 0, QW_WS_OP_TEXT, m, 4097);
    qw_ws_rx r;
    static col c;
    srx_init(&r, &c, 4096, NULL);
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, 8), QW_PROTOCOL); /* header only */
    ASSERT_EQ(r.fail_code, QW_WS_CLOSE_TOO_BIG);
    ASSERT_EQ(c.oversized, 0); /* no on_oversized in the server role */
    qw_ws_rx_free(&r);
    /* fragments adding up past it */
    n = cframe(b, 0, 0, QW_WS_OP_TEXT, m, 3000);
    n += cframe(b + n, 1, 0, QW_WS_OP_CONT, m, 1097);
    srx_init(&r, &c, 4096, NULL);
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, n), QW_PROTOCOL);
    ASSERT_EQ(r.fail_code, QW_WS_CLOSE_TOO_BIG);
    ASSERT_EQ(c.msgs, 0);
    qw_ws_rx_free(&r);
    /* exactly the limit is fine */
    n = cframe(b, 1, 0, QW_WS_OP_TEXT, m, 4096);
    srx_init(&r, &c, 4096, NULL);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(c.msgs, 1);
    qw_ws_rx_free(&r);
    /* a compressed message inflating past it (a small "deflate bomb") */
    qw_ws_pmd pmd = {1, 0, 0, 15, 15};
    qw_ws_tx t;
    memset(&t, 0, sizeof t);
    ASSERT_OK(qw_ws_tx_init(&t, &pmd, 0, 0));
    unsigned char *f;
    size_t fl;
    ASSERT_OK(qw_ws_tx_message(&t, QW_WS_OP_TEXT, m, sizeof m, &f, &fl));
    ASSERT_TRUE(fl < 100);
    /* re-frame its payload as a masked client frame */
    size_t hl = (f[1] & 0x7f) == 126 ? 4 : 2;
    n = cframe(b, 1, 1, QW_WS_OP_TEXT, f + hl, fl - hl);
    srx_init(&r, &c, 4096, &pmd);
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, n), QW_PROTOCOL);
    ASSERT_EQ(r.fail_code, QW_WS_CLOSE_TOO_BIG);
    qw_ws_rx_free(&r);
    qw_ws_tx_free(&t);
}

TEST(wsproto_server_utf8_is_1007)
{
    unsigned char b[64];
    size_t n = cframe(b, 0, 0, QW_WS_OP_TEXT, "ok \xc3", 4);
    n += cframe(b + n, 1, 0, QW_WS_OP_CONT, "\x28", 1); /* bad continuation byte */
    qw_ws_rx r;
    static col c;
    srx_init(&r, &c, 0, NULL);
    ASSERT_EQ(qw_ws_rx_feed(&r, (char *)b, n), QW_PROTOCOL);
    ASSERT_EQ(r.fail_code, QW_WS_CLOSE_INVALID);
    qw_ws_rx_free(&r);
    n = cframe(b, 1, 0, QW_WS_OP_TEXT, "\xc3\xa9t\xc3\xa9", 5); /* "été" */
    srx_init(&r, &c, 0, NULL);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    ASSERT_EQ(c.msgs, 1);
    qw_ws_rx_free(&r);
}

TEST(wsproto_server_inflates_python_client)
{
    /* the python-compressed messages of wsproto_deflate_context_takeover
     * sent by a client: masked, context kept between them */
    unsigned char b[256];
    size_t n = cframe(b, 1, 1, QW_WS_OP_TEXT, PY1, sizeof PY1 - 1);
    n += cframe(b + n, 0, 1, QW_WS_OP_TEXT, PY2, 5);
    n += cframe(b + n, 1, 0, QW_WS_OP_CONT, PY2 + 5, sizeof PY2 - 1 - 5);
    qw_ws_pmd pmd = {1, 0, 0, 15, 15};
    qw_ws_rx r;
    static col c;
    srx_init(&r, &c, 0, &pmd);
    ASSERT_OK(qw_ws_rx_feed(&r, (char *)b, n));
    c.out[c.n] = '\0';
    ASSERT_STREQ(c.out, PYM1 "|" PYM2 "|");
    qw_ws_rx_free(&r);
}

TEST(wsproto_server_key_check)
{
    ASSERT_TRUE(qw_ws_key_ok("dGhlIHNhbXBsZSBub25jZQ==", 24));
    ASSERT_TRUE(!qw_ws_key_ok("dGhlIHNhbXBsZSBub25jZQ=", 23));
    ASSERT_TRUE(!qw_ws_key_ok("dGhlIHNhbXBsZSBub25jZR==", 24)); /* padding bits set */
    ASSERT_TRUE(!qw_ws_key_ok("dGhlIHNhbXBsZSBub25j*Q==", 24));
    ASSERT_TRUE(!qw_ws_key_ok("dGhlIHNhbXBsZSBub25jZQQ=", 24));
}

TEST(wsproto_server_deflate_offers)
{
    static const struct {
        const char *offer, *resp;
        int s_nct, c_nct, smwb;
    } cases[] = {
        /* Chromium and Firefox */
        {"permessage-deflate; client_max_window_bits", "permessage-deflate", 0, 0, 15},
        {"permessage-deflate", "permessage-deflate", 0, 0, 15},
        {"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover", 1, 1, 15},
        {"permessage-deflate;server_max_window_bits=10",
         "permessage-deflate; server_max_window_bits=10", 0, 0, 10},
        {"permessage-deflate; server_max_window_bits=\"12\"; client_max_window_bits=9",
         "permessage-deflate; server_max_window_bits=12", 0, 0, 12},
        /* declined offers, then one we take */
        {"x-webkit-deflate-frame, permessage-deflate; foo=1, permessage-deflate; "
         "server_max_window_bits=8, permessage-deflate; client_no_context_takeover",
         "permessage-deflate; client_no_context_takeover", 0, 1, 15},
        /* nothing acceptable */
        {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", "", 0, 0, 0},
        {"permessage-deflate; server_max_window_bits", "", 0, 0, 0},
        {"permessage-deflate; server_max_window_bits=16", "", 0, 0, 0},
        {"permessage-deflate; client_no_context_takeover=1", "", 0, 0, 0},
        {"permessage-deflatex", "", 0, 0, 0},
        {"", "", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qw_ws_pmd pmd;
        char resp[160];
        ASSERT_OK(
            qw_ws_server_ext(cases[i].offer, strlen(cases[i].offer), &pmd, resp, sizeof resp));
        if (strcmp(resp, cases[i].resp) != 0)
            qwt_fail(__FILE__, __LINE__, "case %zu: '%s'", i, resp);
        ASSERT_EQ(pmd.enabled, cases[i].resp[0] != '\0');
        ASSERT_EQ(pmd.server_no_context_takeover, cases[i].s_nct);
        ASSERT_EQ(pmd.client_no_context_takeover, cases[i].c_nct);
        ASSERT_EQ(pmd.server_max_window_bits, cases[i].smwb);
    }
    qw_ws_pmd pmd;
    char small[8];
    ASSERT_ERR(QW_TOO_LARGE, qw_ws_server_ext("permessage-deflate", 18, &pmd, small, sizeof small));
    ASSERT_EQ(pmd.enabled, 0);
}

/* server frames (qw_ws_tx) read back by the client-role parser */
TEST(wsproto_server_tx_roundtrip)
{
    static const char *msgs[] = {"{\"products\":[{\"id\":\"BTC-USD\",\"mid\":97000.5}]}",
                                 "{\"products\":[{\"id\":\"BTC-USD\",\"mid\":97000.6}]}", "",
                                 "{\"products\":[{\"id\":\"BTC-USD\",\"mid\":97000.7}]}"};
    for (int mode = 0; mode < 3; mode++) { /* plain, deflate kept, deflate reset */
        qw_ws_pmd pmd = {mode > 0, mode == 2, 0, mode == 2 ? 9 : 15, 15};
        qw_ws_tx t;
        memset(&t, 0, sizeof t);
        ASSERT_OK(qw_ws_tx_init(&t, &pmd, 16, 0));
        static unsigned char wire[4096];
        size_t n = 0, sizes[4];
        for (int i = 0; i < 4; i++) {
            unsigned char *f;
            size_t fl;
            ASSERT_OK(qw_ws_tx_message(&t, QW_WS_OP_TEXT, msgs[i], strlen(msgs[i]), &f, &fl));
            ASSERT_TRUE(f >= t.buf + 16);                      /* the headroom */
            ASSERT_EQ(f[0], mode && msgs[i][0] ? 0xc1 : 0x81); /* "" goes uncompressed */
            ASSERT_EQ(f[1] & 0x80, 0);                         /* unmasked */
            memcpy(wire + n, f, fl);
            n += fl;
            sizes[i] = fl;
        }
        unsigned char *f;
        size_t fl;
        ASSERT_OK(qw_ws_tx_message(&t, QW_WS_OP_PING, "p", 1, &f, &fl));
        ASSERT_EQ(fl, 3);
        ASSERT_EQ(f[0], 0x89); /* control frames are never compressed */
        memcpy(wire + n, f, fl);
        n += fl;
        static char pay[126];
        ASSERT_ERR(QW_INVAL, qw_ws_tx_message(&t, QW_WS_OP_PONG, pay, 126, &f, &fl));
        if (mode == 1) /* a kept context: the repeat costs a few bytes */
            ASSERT_TRUE(sizes[1] < sizes[0] / 2);
        if (mode == 2)
            ASSERT_TRUE(sizes[1] + 2 >= sizes[0]);
        qw_ws_rx r;
        static col c;
        rx_init(&r, &c, 0, &pmd);
        ASSERT_OK(qw_ws_rx_feed(&r, (char *)wire, n));
        c.out[c.n] = '\0';
        char expect[512];
        snprintf(expect, sizeof expect, "%s|%s|%s|%s|P", msgs[0], msgs[1], msgs[2], msgs[3]);
        ASSERT_STREQ(c.out, expect);
        qw_ws_rx_free(&r);
        qw_ws_tx_free(&t);
    }
    /* over max */
    qw_ws_tx t;
    memset(&t, 0, sizeof t);
    ASSERT_OK(qw_ws_tx_init(&t, NULL, 0, 100));
    static char big[101];
    unsigned char *f;
    size_t fl;
    ASSERT_ERR(QW_TOO_LARGE, qw_ws_tx_message(&t, QW_WS_OP_TEXT, big, sizeof big, &f, &fl));
    ASSERT_OK(qw_ws_tx_message(&t, QW_WS_OP_TEXT, big, 100, &f, &fl));
    ASSERT_EQ(fl, 102);
    qw_ws_tx_free(&t);
}

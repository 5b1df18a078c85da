/* wsproto.h: the WebSocket protocol (RFC 6455, RFC 7692
 * permessage-deflate), without I/O. Client role (ingest/wsclient.c): the
 * HTTP/1.1 upgrade request and the check of the server's 101 answer, the
 * frame parser, a masked frame encoder. Server role (dashboard /ws): the
 * permessage-deflate answer to a client's offer, the same parser wanting
 * masked frames (an unmasked one is a 1002, RFC 6455 5.1; a message over
 * max_message a 1009), and a sender of unmasked, optionally deflated
 * frames (qw_ws_tx). The handshake's header parsing is the caller's.
 *
 * The parser takes any split of the byte stream (a frame header cut in
 * two, many frames per read) and reassembles messages up to max_message.
 * A whole unfragmented, uncompressed message already in the caller's
 * buffer is delivered in place (no copy): the byte after it is set to NUL
 * for the call and restored afterwards, so the buffer must be writable.
 * Nothing is allocated per message once the reassembly buffer has grown
 * to the largest message seen.
 */
#ifndef QW_INGEST_WSPROTO_H
#define QW_INGEST_WSPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_WS_KEY_LEN 24         /* base64 of 16 bytes */
#define QW_WS_ACCEPT_LEN 28      /* base64 of a SHA-1 */
#define QW_WS_HDR_MAX 14         /* client frame header: 2 + 8 length + 4 mask */
#define QW_WS_RESPONSE_MAX 16384 /* longest accepted response header */

enum {
    QW_WS_OP_CONT = 0x0,
    QW_WS_OP_TEXT = 0x1,
    QW_WS_OP_BINARY = 0x2,
    QW_WS_OP_CLOSE = 0x8,
    QW_WS_OP_PING = 0x9,
    QW_WS_OP_PONG = 0xA,
};

/* close codes we send when failing a connection (RFC 6455 7.4.1) */
#define QW_WS_CLOSE_PROTOCOL 1002 /* the server broke the framing rules */
#define QW_WS_CLOSE_INVALID 1007  /* a text message or close reason not UTF-8 */
#define QW_WS_CLOSE_TOO_BIG 1009  /* a message over max_message (wsraw.c) */

/* permessage-deflate as agreed in the handshake */
typedef struct qw_ws_pmd {
    int enabled;
    int server_no_context_takeover, client_no_context_takeover;
    int server_max_window_bits, client_max_window_bits; /* 8..15 (15 when not stated) */
} qw_ws_pmd;

/* ---- handshake ---- */

/* key = base64(nonce): the Sec-WebSocket-Key for 16 random bytes. */
void qw_ws_make_key(const unsigned char nonce[16], char key[QW_WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept a server must answer to key. */
void qw_ws_accept_for(const char *key, char out[QW_WS_ACCEPT_LEN + 1]);

/* The upgrade request into buf (not NUL-terminated; *len bytes). host is
 * the Host header value (host[:port]); origin may be NULL. QW_TOO_LARGE
 * when cap is too small, QW_INVAL for CR/LF in a value. */
qw_err qw_ws_request(char *buf, size_t cap, size_t *len, const char *host, const char *path,
                     const char *origin, const char *key, int offer_deflate);

/* Checks the server's answer in buf[0..len). QW_AGAIN: the header is not
 * complete yet (read more); QW_OK: the first *hdr_len bytes were the
 * header (the rest is already frame data) and *pmd says what was agreed;
 * QW_PROTOCOL: err says why the upgrade failed (status, headers, accept
 * value, an extension or parameter we did not offer). */
qw_err qw_ws_response(const char *buf, size_t len, const char *key, int offered_deflate,
                      size_t *hdr_len, qw_ws_pmd *pmd, char *err, size_t errlen);

/* ---- frames from the server ---- */

/* Callbacks return 0 to go on, nonzero to stop this qw_ws_rx_feed call
 * (the rest of that input is dropped: the connection is going away). */
typedef struct qw_ws_rx_cb {
    void *ctx;
    /* A complete text/binary message: buf writable, buf[len] == 0; a text
     * message is valid UTF-8 (else QW_PROTOCOL, fail_code 1007). */
    int (*on_message)(void *ctx, char *buf, size_t len, int binary);
    /* A ping (payload <= 125 bytes): answer with a pong of the same payload. */
    int (*on_ping)(void *ctx, const unsigned char *p, size_t n);
    /* The server's close frame; code -1 = none given, else a code a peer
     * may send (1000-1003, 1007-1014, 3000-4999); reason is UTF-8. A
     * close frame breaking these rules is a QW_PROTOCOL instead. Nothing
     * after it is parsed. */
    int (*on_close)(void *ctx, int code, const char *reason, size_t n);
    /* A message went over max_message; it is discarded (counted in
     * r->oversized), parsing goes on at the next message. */
    int (*on_oversized)(void *ctx);
} qw_ws_rx_cb;

typedef struct qw_ws_rx {
    qw_ws_rx_cb cb;
    size_t max_message;
    qw_ws_pmd pmd;
    /* frame header being assembled across reads */
    unsigned char hdr[QW_WS_HDR_MAX];
    unsigned hn;
    /* current frame */
    int in_frame;
    uint8_t op, fin;
    uint64_t left;
    /* data message being reassembled */
    int in_msg, msg_bin, msg_z, discard, zend;
    char *msg;
    size_t mlen, mcap;
    /* control frame payload */
    unsigned char ctl[125];
    size_t cn;
    void *z;              /* z_stream, when deflate was agreed */
    int server;           /* role: frames must be masked; unmasked in place */
    unsigned char key[4]; /* the current frame's masking key (server role) */
    unsigned kpos;        /* offset into it */
    int closed, stopped;
    const char *err; /* what the last QW_PROTOCOL was about */
    int fail_code;   /* and the close code to fail the connection with: 1002, 1007, 1009 */
    uint64_t messages, oversized, pings;
} qw_ws_rx;

/* Prepares r for a new connection (keeps any buffer r already owns: zero r
 * before the first call). max_message 0 = 32 MiB. QW_NOMEM. */
qw_err qw_ws_rx_reset(qw_ws_rx *r, size_t max_message, const qw_ws_pmd *pmd, const qw_ws_rx_cb *cb);
/* The same for the server role: frames must be masked (else QW_PROTOCOL,
 * fail_code 1002) and are unmasked in place; a message over max_message is
 * a QW_PROTOCOL with fail_code 1009 (not discarded: on_oversized is not
 * called); pmd as agreed by qw_ws_server_ext. */
qw_err qw_ws_rx_reset_server(qw_ws_rx *r, size_t max_message, const qw_ws_pmd *pmd,
                             const qw_ws_rx_cb *cb);
void qw_ws_rx_free(qw_ws_rx *r);

/* Parses len more bytes of the stream. QW_OK: consumed (or a callback
 * stopped it: r->stopped; or the close frame came: r->closed);
 * QW_PROTOCOL: the server broke the protocol (r->err), the connection
 * must go; QW_NOMEM. buf must be writable (see the top). */
qw_err qw_ws_rx_feed(qw_ws_rx *r, char *buf, size_t len);

/* ---- frames out (wsproto_tx.c) ---- */

/* A frame header into out (up to QW_WS_HDR_MAX bytes): FIN and RSV1 (a
 * compressed message's first frame) when set, the opcode, the payload
 * length n in its shortest form and, when mask is not NULL, the MASK bit
 * and the 4-byte key (client frames; servers send none). Returns its
 * length: 2..10 unmasked, 6..14 masked. The one place a frame header is
 * written (client frames here, the simulator's server frames, tests). */
size_t qw_ws_frame_hdr(unsigned char *out, int fin, int rsv1, int opcode, uint64_t n,
                       const unsigned char *mask);

/* One frame with FIN set (opcode QW_WS_OP_*), header and payload, into
 * out: masked with mask[0..4) (client), or unmasked when mask is NULL
 * (server). Returns its length, 0 when cap is too small or a control
 * payload is over 125 bytes. */
size_t qw_ws_frame(unsigned char *out, size_t cap, int opcode, const void *payload, size_t n,
                   const unsigned char *mask);
/* A close frame payload (code, then up to 123 bytes of reason) into
 * out[125]; returns its length. */
size_t qw_ws_close_payload(unsigned char out[125], int code, const char *reason);

/* ---- server role (wsproto_srv.c: handshake; wsproto_tx.c: qw_ws_tx) ---- */

/* Is key a Sec-WebSocket-Key a server may accept (base64 of 16 bytes,
 * RFC 6455 4.2.1)? */
int qw_ws_key_ok(const char *key, size_t n);

/* The server's answer to a client's Sec-WebSocket-Extensions offer[0..n)
 * (RFC 7692 5, 7.1): the first permessage-deflate offer whose parameters
 * are all known, unrepeated and in range is accepted (others, and other
 * extensions, are declined). QW_OK: pmd says what was agreed and resp
 * (NUL-terminated) is the header value to send, "" when nothing was
 * agreed (pmd->enabled 0). server_max_window_bits=8 is declined (zlib's
 * raw deflate cannot use a 256-byte window). The server keeps its
 * compression context unless the client asked otherwise, and accepts
 * client_no_context_takeover when offered. QW_TOO_LARGE: cap too small. */
qw_err qw_ws_server_ext(const char *offer, size_t n, qw_ws_pmd *pmd, char *resp, size_t cap);

/* A sender of whole messages as single unmasked frames (server role),
 * deflated when permessage-deflate was agreed. One per connection, used by
 * one thread. */
typedef struct qw_ws_tx {
    qw_ws_pmd pmd;
    size_t pre;         /* writable bytes kept before each frame (lws's LWS_PRE) */
    size_t max;         /* largest frame it will build */
    void *z;            /* deflate stream (pmd.enabled) */
    unsigned char *buf; /* frames are built here; grows up to max */
    size_t cap;
    uint64_t in_bytes, out_bytes; /* message payloads given, frame bytes built */
} qw_ws_tx;

/* Zero t first. max 0 = 32 MiB. QW_NOMEM. */
qw_err qw_ws_tx_init(qw_ws_tx *t, const qw_ws_pmd *pmd, size_t pre, size_t max);
void qw_ws_tx_free(qw_ws_tx *t);

/* The frame for a message p[0..n) with opcode (text and binary are
 * deflated when agreed, but for an empty one; control frames never are, and must be <= 125
 * bytes: else QW_INVAL). *frame points into t's buffer with t->pre
 * writable bytes before it, valid until the next call. QW_TOO_LARGE (over
 * max) and QW_NOMEM leave a kept deflate context out of step with the
 * peer's: close the connection. */
qw_err qw_ws_tx_message(qw_ws_tx *t, int opcode, const void *p, size_t n, unsigned char **frame,
                        size_t *len);

#endif

/* wsclient_int.h: the client's state, shared by wsclient.c (state machine,
 * subscribes) and wsraw.c (the connection: an lws RAW socket with our own
 * WebSocket framing, ingest/wsproto, and for wss:// our own TLS,
 * ingest/wstls). */
#ifndef QW_INGEST_WSCLIENT_INT_H
#define QW_INGEST_WSCLIENT_INT_H

#include <libwebsockets.h>

#include "ingest/wsclient.h"
#include "ingest/wsproto.h"
#include "ingest/wstls.h"

#define OUTQ 16                /* queued client messages (subscribes) */
#define OUTMSG 4096            /* one subscribe message */
#define PLAIN_CAP (256 * 1024) /* wss://: plaintext handed to the frame parser at once */
#define CT_OUT 18432           /* wss://: ciphertext moved to lws per write */

struct qw_wsclient {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct lws *wsi;
    qw_wsclient_cb cb;
    qw_wsclient_opts o;
    char products[64][32];
    const char *product_ptrs[64];
    char url[512];
    char host[256], path[256];
    int port, tls;
    char key[128], secret[128], pass[128];
    int auth;
    /* state */
    qw_live_stats st;
    uint64_t conn_id;
    uint64_t attempt_gen, closed_gen; /* attempt numbers started / finished */
    unsigned failures;
    int stopping, kill_reason_set;
    int64_t state_since_ns;
    double tokens; /* connect bucket */
    int64_t tokens_ns;
    double send_tokens; /* client-message bucket */
    int64_t send_tokens_ns;
    uint64_t rng;
    lws_sorted_usec_list_t sul_connect, sul_tick, sul_send;
    /* outgoing */
    char out[OUTQ][LWS_PRE + OUTMSG];
    size_t outlen[OUTQ];
    unsigned out_head, out_n;
    /* the RAW connection: our handshake and framing */
    int hs_sent, hs_done, dead, close_sent, close_reply, pong_pending;
    int tcp_up;    /* this attempt's TCP connection was made */
    int fail_code; /* failing: send a close with this code, then hang up */
    char wskey[QW_WS_KEY_LEN + 1];
    char hs[QW_WS_RESPONSE_MAX + 1]; /* a full-size header without its end fails */
    size_t hslen;
    qw_ws_rx wp;
    unsigned char pong[125];
    size_t pongn;
    int64_t rd_mono, rd_wall; /* clocks at the current read */
    unsigned char tx[LWS_PRE + QW_WS_HDR_MAX + OUTMSG];
    /* wss://: TLS over the RAW connection */
    qw_wstls ts;
    char *plain; /* PLAIN_CAP + 1 (the parser NUL-terminates in place) */
    unsigned char ctout[LWS_PRE + CT_OUT];
};

/* wsclient.c */
void qw__ws_established(qw_wsclient *c);
void qw__ws_closed(qw_wsclient *c, const char *why);
void qw__ws_drop(qw_wsclient *c, const char *why);
/* The next queued client message when the send pacing allows one now
 * (else a writable callback is scheduled): 1 and *p, *len; or 0. */
int qw__ws_out_next(qw_wsclient *c, const char **p, size_t *len);
void qw__ws_out_pop(qw_wsclient *c);
/* One complete message to the owner (stats, receive clocks). */
void qw__ws_deliver(qw_wsclient *c, char *buf, size_t len, int64_t wall, int64_t mono);

/* wsraw.c: lws RAW callbacks of a ws:// or wss:// connection */
qw_err qw__wsraw_init(qw_wsclient *c, char *errbuf, size_t errlen); /* at create */
void qw__wsraw_prepare(qw_wsclient *c, struct lws_client_connect_info *ci);
int qw__wsraw_callback(qw_wsclient *c, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                       size_t len);
void qw__wsraw_free(qw_wsclient *c);

#endif

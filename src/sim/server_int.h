/* server_int.h: state shared by server.c (lws, pacing), outq.c (queues, faults)
 * and session.c (client subscribe handling and per-protocol fan-out). */
#ifndef QW_SIM_SERVER_INT_H
#define QW_SIM_SERVER_INT_H

#include <libwebsockets.h>

#include "sim/encode.h"
#include "sim/server.h"

#define CHUNK (128 * 1024)     /* bytes per WebSocket frame of a large message */
#define RAW_NODE (64 * 1024)   /* bytes per batched output node (OM_RAW) */
#define RAW_WRITE (256 * 1024) /* most bytes handed to one raw lws_write */

enum { P_NONE = 0, P_EX = 1, P_ADV = 2 };
/* Per-product subscription channels. */
enum { CH_BOOK = 0, CH_TRADES, CH_HB, CH_TICKER, CH_L2AUTH, CH__N };
/* OM_DATA: one message, framed by lws at write time (permessage-deflate
 * with parameters we do not handle ourselves). OM_RAW: complete WebSocket
 * frames of many messages, framed (and with permessage-deflate compressed,
 * client->z) by us and written with LWS_WRITE_RAW, which lws passes by its
 * extensions. */
enum { OM_DATA = 0, OM_STALL, OM_DROP, OM_RAW };

typedef struct outmsg {
    struct outmsg *next;
    uint8_t kind;
    size_t len, off;
    size_t cap;          /* OM_RAW: bytes available after LWS_PRE */
    size_t nmsg;         /* OM_RAW: messages in the node */
    size_t pbytes;       /* OM_RAW: payload bytes of those messages */
    unsigned char buf[]; /* LWS_PRE + len */
} outmsg;

typedef struct client {
    struct client *next, *prev;
    struct qw_sim *srv;
    struct lws *wsi;
    uint64_t id;
    int proto;
    uint8_t *sub;     /* [nprod * CH__N] */
    uint8_t *snapped; /* [nprod]: book snapshot sent, updates may follow */
    int adv_hb;       /* Advanced heartbeats channel */
    int subscribed;   /* a subscribe succeeded once */
    uint64_t seqnum;  /* Advanced sequence_num */
    uint64_t nstream, nmatch, nmal;
    outmsg *qh, *qt;
    outmsg *spare; /* a free OM_RAW node kept for reuse */
    size_t qbytes;
    int raw;  /* we frame and batch (OM_RAW) */
    void *z;  /* z_stream: our permessage-deflate (raw && deflate agreed) */
    int znct; /* server_no_context_takeover agreed: reset z per message */
    int stalled, dead, drop_armed, oversize_done, stall_done;
    const char *kill; /* close with this reason at the next writable */
    qw_sbuf rx;
    lws_sorted_usec_list_t sul_timeout, sul_slowread, sul_stall;
} client;

struct qw_sim {
    qw_sim_opts o;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    int port;
    qw_market mk;
    qw_simsrc *src;
    client *clients;
    uint64_t next_id;
    qw_sim_stats st;
    int started, src_done, drop_once_used;
    int pending; /* a parsed source message awaits its time */
    const qw_msg *pmsg;
    int64_t pmsg_t, pmsg_pace;
    int64_t feed_now;            /* feed time of the last source message */
    int64_t src_end_mono;        /* mono ns when the source ended (0 while running) */
    int64_t pace_wall0, pace_t0; /* pacing origin */
    int64_t start_mono, start_wall, refuse_until, grace_until;
    int64_t hb_counter;
    int stopping;
    volatile sig_atomic_t *stop;
    lws_sorted_usec_list_t sul_pump, sul_hb, sul_tick;
    /* scratch */
    qw_sbuf e1, e2;
    qw_sbuf zb; /* one compressed message */
    qw_level *lb, *la;
    size_t lcap;
    qw_enc_chg *chg;
    size_t chgcap;
    qw_enc_trade *tr;
    size_t trcap;
};

/* outq.c */
void qw__sim_q_free(client *c);
void qw__sim_send(client *c, const char *p, size_t n, int streamed, int is_match);
void qw__sim_send_adv(client *c, const qw_sbuf *head, const qw_sbuf *body, int streamed);
/* server.c */
void qw__sim_start_source(struct qw_sim *s);
void qw__sim_kill(client *c, const char *reason);
int64_t qw__sim_feed_clock(const struct qw_sim *s);

/* session.c */
void qw__sim_on_client_msg(client *c, const char *buf, size_t len);
void qw__sim_apply(struct qw_sim *s, const qw_msg *m, int64_t t_ns);
void qw__sim_heartbeats(struct qw_sim *s);

#endif

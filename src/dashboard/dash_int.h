/* dash_int.h: dashboard internals shared by server.c, state.c, publish.c,
 * limits.c and host.c.
 *
 * Two threads touch a qw_dash (dashboard.h "Threads"): the OWNER (live:
 * the event-loop thread; replay: the replay thread) writes the sources,
 * the labeled samples and the readiness bookkeeping and builds snapshots;
 * the SERVER (the thread running the dashboard's lws context) owns
 * everything lws touches. Fields below say whose they are: {owner},
 * {server}, {lock} (pub_mu), or {const} (set before the server runs). */
#ifndef QW_DASHBOARD_DASH_INT_H
#define QW_DASHBOARD_DASH_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboard/dashboard.h"
#include "ingest/wsproto.h"

/* A growable text buffer with LWS_PRE bytes of headroom, reused. */
typedef struct qw_dbuf {
    char *b; /* b + pre is the text */
    size_t pre, n, cap;
    int oom;
} qw_dbuf;

void qw__dbuf_reset(qw_dbuf *d, size_t pre);
void qw__dbuf_put(qw_dbuf *d, const char *s, size_t n);
int qw__dbuf_reserve(qw_dbuf *d, size_t more); /* room for more bytes after n; -1 = oom */
void qw__dbuf_printf(qw_dbuf *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qw__dbuf_str(qw_dbuf *d, const char *s); /* JSON string, escaped */
void qw__dbuf_num(qw_dbuf *d, double v);      /* JSON number or null (non-finite) */
void qw__dbuf_free(qw_dbuf *d);

/* featjson.c: ,"feature_set":{"name","features":[{"name","unit"},...]} of
 * p's --features set; and a product's features object (that set's values,
 * in its order; "null" when f is NULL). */
void qw__dash_feature_set_json(qw_dbuf *d, const qw_pipeline *p);
void qw__dash_features_json(qw_dbuf *d, const qw_pipeline *p, const qw_features *f);

#define QW_DASH_PRE 32    /* bytes before every text handed to lws_write (>= LWS_PRE) */
#define QW_DASH_LABELS 64 /* recent labeled samples kept per product */

typedef struct dash_label {
    int64_t t_ns;
    double p;
    int label;
} dash_label;

/* Model quality over the last QW_DASH_MSTAT_WIN labeled predictions
 * (modelstats.c): incremental counts by p bin (1/QW_DASH_MSTAT_BINS wide), so
 * accuracy, the majority-class baseline, ROC AUC (ties within a bin count
 * half) and the calibration deciles cost O(bins) per publish, not O(window). */
#define QW_DASH_MSTAT_WIN 1000
#define QW_DASH_MSTAT_BINS 100
typedef struct dash_mstat {
    uint8_t bin[QW_DASH_MSTAT_WIN], lab[QW_DASH_MSTAT_WIN]; /* ring of (p bin, label) */
    size_t n, head;
    uint32_t pos[QW_DASH_MSTAT_BINS], neg[QW_DASH_MSTAT_BINS];
} dash_mstat;

typedef struct dash_prod {
    char product[32];
    dash_label lab[QW_DASH_LABELS];
    size_t nlab, head;
    uint64_t total; /* labels ever received: the newest label's sequence number */
    dash_mstat ms;
} dash_prod;

/* server.c (owner thread): dh's entry for product, NULL if none; with
 * add, made when missing (NULL when out of memory). */
dash_prod *qw__dash_prod(qw_dash *dh, const char *product, int add);
/* modelstats.c (owner thread) */
void qw__dash_mstat_add(dash_mstat *m, double p, int label); /* p not finite: ignored */
typedef struct dash_mstat_view {
    size_t n;
    double accuracy, baseline, auc;  /* NaN when undefined (n = 0, one class only) */
    uint32_t dec_n[10], dec_pos[10]; /* calibration: predictions with p in [k/10, (k+1)/10) */
    double dec_mean_p[10];           /* their mean p (bin centres) */
} dash_mstat_view;
void qw__dash_mstat_view(const dash_mstat *m, dash_mstat_view *v);
void qw__dash_mstat_json(const dash_mstat *m, qw_dbuf *out); /* the "recent" object */

typedef struct dash_file {
    char path[256]; /* URL path, "/index.html" */
    const char *type;
    char *body, *gz;
    size_t len, gzlen;
    int immutable;
} dash_file;

/* Where each product's object sits in a state JSON (built with it), so
 * the server can cut one product out of a snapshot for a subscribed client
 * (subscribe.c) without re-reading the pipeline. Offsets from b + pre. */
typedef struct dash_ix_prod {
    char product[32];
    size_t off, end;         /* the product's object: [off, end) */
    size_t lab_off, lab_end; /* inside "labels":[...]: first byte after '[', the ']' */
    size_t nlab;
    size_t lab_at[QW_DASH_LABELS]; /* each label object's first byte (its comma for i > 0) */
    uint64_t lab_seq;              /* sequence number of the newest label (0: none yet) */
} dash_ix_prod;

typedef struct dash_ix {
    size_t prods_off; /* where "products": starts (the text before ends with a comma) */
    size_t nprods, cap;
    dash_ix_prod *prods; /* every product of the pipeline (grown by the builder) */
    qw_dbuf summary;     /* [{"product","mid","spread","spread_bps","last_t_ns","valid",...}] */
} dash_ix;

/* One published snapshot: immutable while current or referenced. */
typedef struct dash_snap {
    qw_dbuf state;   /* the state JSON: /api/state and every WebSocket push */
    dash_ix ix;      /* the products in state, and the light summary of each */
    qw_dbuf metrics; /* the owner's metric families (the server appends its own) */
    char ready_why[160];
    int ready;
    uint64_t version; /* 1, 2, ... in publish order */
    int refs;         /* {lock} readers between snap_get and snap_put */
} dash_snap;

#define QW_DASH_NSNAP 3 /* current + one being read + one being built */

/* Connection guard (limits.c): reasons a connection is closed at accept. */
enum { QW_REJ_PER_IP, QW_REJ_TOTAL, QW_REJ_RATE, QW_REJ_COUNT };
extern const char *const qw__dash_rej_names[QW_REJ_COUNT];

typedef struct dash_bucket {
    double tokens;
    int64_t ns; /* last refill; 0 = never used (full) */
} dash_bucket;

typedef struct dash_ip {
    uint8_t addr[16]; /* IPv6, IPv4 as ::ffff:a.b.c.d */
    int n;            /* open connections; 0 = free entry */
} dash_ip;

struct qw_dash {
    struct lws_context *ctx;                 /* {const} */
    struct lws_vhost *vh;                    /* {const} listening: raw sockets (front.c) */
    struct lws_vhost *vh_http;               /* {const} not listening: HTTP after front.c */
    qw_dash_opts o;                          /* {const} */
    char bind[64], mode[16], web_root[1024]; /* {const} */
    dash_file *files;                        /* {const} loaded at create */
    size_t nfiles;
    /* ---- owner ---- */
    char replay_state[16];
    const qw_pipeline *p;
    const qw_live_stats *live;
    const qw_store_stats *store;
    dash_prod *prods; /* every product a label arrived for, in arrival order */
    size_t nprods, prods_cap;
    uint32_t *pslot;        /* open addressing over prods by name hash: index + 1, 0 empty */
    size_t npslot;          /* a power of two, at least twice prods_cap */
    qw_dbuf state, metrics; /* qw_dash_state_json / qw_dash_metrics_text */
    int64_t last_pub_ns, rate_ns;
    uint64_t rate_msgs;
    double msg_rate;
    int64_t first_sub_mono; /* first time the feed was seen subscribed (readiness) */
    int startup_done;       /* every product had a snapshot, or the grace passed */
    /* ---- publication ---- */
    pthread_mutex_t pub_mu;
    dash_snap snaps[QW_DASH_NSNAP];    /* refs {lock}; contents: the builder's until current */
    dash_snap *cur;                    /* {lock} the newest snapshot; NULL before the first */
    uint64_t pub_version, pub_skipped; /* {owner} */
    /* ---- server ---- */
    qw_dbuf srv_metrics;   /* /metrics: the snapshot's text + the server's families */
    qw_dbuf srv_push;      /* a subscribed client's push / a filtered /api/state (subscribe.c) */
    qw_dbuf srv_gz;        /* a gzipped /api/state */
    uint64_t ws_bytes;     /* payload bytes handed to lws_write for pushes (before deflate) */
    uint64_t push_version; /* the snapshot version pushes were scheduled for */
    int clients, max_clients;
    int64_t last_push_ns;
    uint64_t http_requests, http_rejected, ws_dropped, ws_refused;
    struct dash_client *conns;
    /* pipelined requests (front.c): the bytes the front read past a head
     * it handed to lws, by the HTTP wsi's descriptor, given back to the
     * front with the connection; at most one per open connection */
    struct dash_carry *carry;
    size_t ncarry, carry_cap;
    struct {
        int ready;     /* a takeover is adopting its socket (wsconn.c) */
        qw_ws_pmd pmd; /* what the client's offer got */
        char hs[384];  /* the 101 response */
        size_t hs_n;
    } adopt;
    /* connection guard (limits.c) */
    int max_conns, max_per_ip, conns_open;
    dash_ip *ips;         /* max_conns entries */
    dash_bucket *buckets; /* accept token buckets by address hash */
    uint64_t rejected[QW_REJ_COUNT];
};

/* publish.c: the owner builds and publishes; the server reads. */
void qw__dash_publish(qw_dash *d, int64_t now);
dash_snap *qw__dash_snap_get(qw_dash *d); /* NULL before the first publish */
void qw__dash_snap_put(qw_dash *d, dash_snap *s);
void qw__dash_snaps_init(qw_dash *d);
void qw__dash_snaps_free(qw_dash *d);
/* state.c: builders into a buffer (owner thread). */
void qw__dash_build_state(qw_dash *d, qw_dbuf *out, dash_ix *ix); /* ix may be NULL */
void qw__dash_build_metrics_owner(qw_dash *d, qw_dbuf *out);
void qw__dash_build_metrics_server(qw_dash *d, qw_dbuf *out); /* server's families + process */
/* limits.c (server thread) */
qw_err qw__dash_limits_init(qw_dash *d);
void qw__dash_limits_free(qw_dash *d);
int qw__dash_filter(qw_dash *d, int fd); /* 0 = accept, else close it now */
struct lws;
void qw__dash_conn_added(qw_dash *d, struct lws *wsi);   /* lws adopted it */
void qw__dash_conn_removed(qw_dash *d, struct lws *wsi); /* WSI_DESTROY; idempotent */
/* server.c: schedule pushes of a new snapshot, drop stuck clients (server). */
void qw__dash_serve_tick(qw_dash *d, int64_t now);

/* A /ws client (wsconn.c): lws's per-session data of protocol "qw-ws". */
typedef struct dash_client {
    struct lws *wsi;
    qw_dash *d;
    int linked; /* in d->conns, rx and tx set up */
    int state;  /* wsconn.c: open, closing, half-closed */
    uint64_t sent_version;
    int64_t stuck_since;
    /* subscription (subscribe.c): "" = every product, full state (as before) */
    char sub[32];
    uint64_t lab_seq; /* newest label sequence number sent for sub */
    char err[160];    /* an error message to send before the next push ("" = none) */
    qw_ws_rx rx;      /* frames from the client (server role) */
    qw_ws_tx tx;      /* frames to it */
    char hs[384];     /* the 101 response, until written */
    size_t hs_n;
    unsigned char pong[125], close[125];
    size_t pong_n, close_n;
    int pong_due, close_due;
    struct dash_client *next;
} dash_client;

/* subscribe.c (server thread) */
/* A whole client text message: {"subscribe":"P"} (or "" / null: every
 * product). Sets c->sub, or c->err for an unknown product or bad message. */
void qw__dash_client_msg(qw_dash *d, dash_client *c, const char *msg, size_t n);
/* The text for a client subscribed to product: the snapshot's state with
 * only that product's object (labels newer than *lab_seq if delta), plus
 * "subscribed" and "summary". Returns -1 if the snapshot lacks the product;
 * else 0 and *lab_seq = the newest label sent. */
int qw__dash_compose(const dash_snap *s, const char *product, int delta, uint64_t *lab_seq,
                     qw_dbuf *out);
/* wsconn.c (server thread): HTTP_CONFIRM_UPGRADE of a checked GET /ws:
 * answers 400/503 (1: lws ends the transaction) or moves the connection to
 * a raw wsi of protocol "qw-ws" (-1: lws hangs up the HTTP wsi). */
int qw__dash_ws_takeover(qw_dash *d, struct lws *wsi);
/* protocol "qw-ws": server.c's callback passes its arguments on (reason
 * is an enum lws_callback_reasons) */
int qw__dash_cb_ws(struct lws *wsi, int reason, void *user, void *in, size_t len);
/* front.c (server thread): the raw front of every connection. A head
 * is gathered in dash_front (lws's per-session data of "qw-front") and
 * refused there or handed to lws's HTTP role on vh_http; after a
 * keep-alive transaction qw__dash_http_done hands the connection back. */
#define QW_DASH_FRONT_MAX 8192 /* a request head (line, headers, blank line): more gets 431 */
typedef struct dash_front {
    int state;          /* reading the head, replying, lingering */
    int line0_done;     /* the request line was checked */
    int lines;          /* header lines so far */
    size_t n, scan, ls; /* bytes in buf, checked, start of the current line */
    const char *reply;  /* a refusal to write */
    char buf[QW_DASH_FRONT_MAX];
} dash_front;
typedef struct dash_carry {
    int fd;    /* the HTTP wsi's descriptor */
    size_t n;  /* bytes in buf */
    char *buf; /* owned */
} dash_carry;
void qw__dash_carry_drop(qw_dash *d, int fd); /* the connection on fd ended */
void qw__dash_carry_free(qw_dash *d);
typedef struct dash_http { /* per-session data of "http" (vh_http) */
    int handback;          /* hand back once the response is flushed */
} dash_http;
int qw__dash_cb_front(struct lws *wsi, int reason, void *user, void *in, size_t len);
/* The response is written: keep-alive -> back to the front (-1: lws hangs
 * up this wsi), else lws_http_transaction_completed's answer. */
int qw__dash_http_done(qw_dash *d, struct lws *wsi);
int qw__dash_front_handback(qw_dash *d, struct lws *wsi); /* always -1 */
/* Moving a connection to another wsi (front.c handoff and handback,
 * wsconn.c takeover): begin gives *cfd, a duplicate of wsi's socket for
 * the adopting wsi, and *ph, a fresh unconnected socket (0; -1 with
 * nothing left open when out of descriptors); finish puts ph in the place
 * of wsi's descriptor, so lws's shutdown and close of the old wsi hit the
 * placeholder, not the client. */
int qw__dash_move_begin(struct lws *wsi, int *cfd, int *ph);
void qw__dash_move_finish(struct lws *wsi, int ph);
/* After a last reply: 0 while it is still buffered (writable requested);
 * once flushed 1, our side shut down (SHUT_WR) and a secs timeout for the
 * client's FIN, input read and dropped meanwhile. */
int qw__dash_linger_if_flushed(struct lws *wsi, int secs);
/* server.c: a refusal of an upgrade (HTTP_CONFIRM_UPGRADE's return value) */
int qw__dash_refuse(qw_dash *d, struct lws *wsi, unsigned status, const char *text);
/* gzip (RFC 1952) of text into out (with QW_DASH_PRE headroom); -1 on failure. */
int qw__dash_gzip(const char *text, size_t n, qw_dbuf *out);

/* server.c: is tok one of list's comma-separated tokens (ci: any case) */
int qw__dash_has_token(const char *list, const char *tok, int ci);

#endif

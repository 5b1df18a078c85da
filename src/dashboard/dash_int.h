/* dash_int.h: dashboard internals shared by server.c and state.c. */
#ifndef QW_DASHBOARD_DASH_INT_H
#define QW_DASHBOARD_DASH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dashboard/dashboard.h"

/* A growable text buffer with LWS_PRE bytes of headroom, reused. */
typedef struct qw_dbuf {
    char *b; /* b + pre is the text */
    size_t pre, n, cap;
    int oom;
} qw_dbuf;

void qw__dbuf_reset(qw_dbuf *d, size_t pre);
void qw__dbuf_put(qw_dbuf *d, const char *s, size_t n);
void qw__dbuf_printf(qw_dbuf *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qw__dbuf_str(qw_dbuf *d, const char *s); /* JSON string, escaped */
void qw__dbuf_num(qw_dbuf *d, double v);      /* JSON number or null (non-finite) */
void qw__dbuf_free(qw_dbuf *d);

#define QW_DASH_PRE 32    /* bytes before every text handed to lws_write (>= LWS_PRE) */
#define QW_DASH_LABELS 64 /* recent labeled samples kept per product */

typedef struct dash_label {
    int64_t t_ns;
    double p;
    int label;
} dash_label;

typedef struct dash_prod {
    char product[32];
    dash_label lab[QW_DASH_LABELS];
    size_t nlab, head;
    uint64_t total;
} dash_prod;

typedef struct dash_file {
    char path[256]; /* URL path, "/index.html" */
    const char *type;
    char *body, *gz;
    size_t len, gzlen;
    int immutable;
} dash_file;

struct qw_dash {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    qw_dash_opts o;
    char bind[64], mode[16], replay_state[16], web_root[1024];
    const qw_pipeline *p;
    const qw_live_stats *live;
    const qw_store_stats *store;
    dash_prod prods[64];
    size_t nprods;
    dash_file *files;
    size_t nfiles;
    qw_dbuf state, metrics, push;
    uint64_t push_version;
    int clients, max_clients;
    int64_t last_push_ns, rate_ns;
    uint64_t rate_msgs;
    double msg_rate;
    uint64_t http_requests, http_rejected, ws_dropped, ws_refused;
    struct dash_client *conns;
    int64_t first_sub_mono; /* first time the feed was seen subscribed (readiness) */
    int startup_done;       /* every product had a snapshot, or the grace passed */
};

typedef struct dash_client {
    struct lws *wsi;
    uint64_t sent_version;
    int64_t stuck_since;
    uint8_t u8_need, u8_lo, u8_hi; /* UTF-8 check of the client's text message (on_ws_rx) */
    struct dash_client *next;
} dash_client;

#endif

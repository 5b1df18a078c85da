/* limits.c: the dashboard's connection guard (server thread only).
 *
 * A dashboard client, however hostile, costs the process only a bounded
 * number of descriptors and accepts per second. lws hands every accepted
 * socket to FILTER_NETWORK_CONNECTION before it builds anything for it;
 * qw__dash_filter closes it there when
 *   - max_conns connections are open (reason "total"),
 *   - its source address already has max_per_ip open ("per_ip"; behind a
 *     proxy every client shares the proxy's address: raise the limit), or
 *   - its source address's accept token bucket (RATE_PER_S, burst
 *     RATE_BURST) is empty ("rate"). Buckets are per hash of the address
 *     (NBUCKET of them; colliding addresses share one, which only makes
 *     them stricter), so one flooding address cannot use up the accepts
 *     of the others; only accepted connections take a token.
 * A connection counts as open from its adoption (RAW_ADOPT of the front,
 * front.c; SERVER_NEW_CLIENT_INSTANTIATED of the HTTP wsi it hands a head
 * to) to WSI_DESTROY; its address entry rides along in the wsi's opaque
 * user data. At front.c's handoffs (front -> HTTP -> front) the old wsi is
 * uncounted just before the new one is adopted (qw__dash_conn_removed is
 * idempotent: its WSI_DESTROY then does nothing). A /ws connection taken
 * over by wsconn.c lives on in a new wsi, counted from its RAW_ADOPT; the
 * HTTP wsi it leaves is uncounted at its WSI_DESTROY (for that moment the
 * connection counts twice, under the same address entry). The
 * per-address table has max_conns entries: more distinct addresses than
 * open connections cannot exist. */
#include <libwebsockets.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/alloc.h"
#include "core/time.h"
#include "dashboard/dash_int.h"

#define RATE_PER_S 50.0
#define RATE_BURST 100.0
#define NBUCKET 1024

const char *const qw__dash_rej_names[QW_REJ_COUNT] = {"per_ip", "total", "rate"};

qw_err qw__dash_limits_init(qw_dash *d)
{
    d->buckets = qw_calloc(NBUCKET, sizeof *d->buckets);
    d->ips = qw_calloc((size_t)d->max_conns, sizeof *d->ips);
    return d->buckets && d->ips ? QW_OK : QW_NOMEM;
}

void qw__dash_limits_free(qw_dash *d)
{
    qw_free(d->buckets);
    qw_free(d->ips);
    d->buckets = NULL;
    d->ips = NULL;
}

static int peer_addr(int fd, uint8_t out[16])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1; /* the listening socket, or already gone */
    memset(out, 0, 16);
    if (ss.ss_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        return 0;
    }
    if (ss.ss_family == AF_INET6) {
        memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static dash_ip *find_ip(qw_dash *d, const uint8_t a[16], int add)
{
    dash_ip *free_e = NULL;
    for (int i = 0; i < d->max_conns; i++) {
        if (d->ips[i].n && memcmp(d->ips[i].addr, a, 16) == 0)
            return &d->ips[i];
        if (!d->ips[i].n && !free_e)
            free_e = &d->ips[i];
    }
    if (add && free_e)
        memcpy(free_e->addr, a, 16);
    return add ? free_e : NULL;
}

static dash_bucket *bucket_of(qw_dash *d, const uint8_t a[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 16777619u;
    return &d->buckets[h % NBUCKET];
}

int qw__dash_filter(qw_dash *d, int fd)
{
    uint8_t a[16];
    int reason = -1;
    dash_bucket *b = NULL;
    if (d->conns_open >= d->max_conns) {
        reason = QW_REJ_TOTAL;
    } else if (peer_addr(fd, a) == 0) {
        dash_ip *e = find_ip(d, a, 0);
        b = bucket_of(d, a);
        int64_t now = qw_now_mono_ns();
        b->tokens = b->ns ? b->tokens + (double)(now - b->ns) / 1e9 * RATE_PER_S : RATE_BURST;
        if (b->tokens > RATE_BURST)
            b->tokens = RATE_BURST;
        b->ns = now;
        if (e && e->n >= d->max_per_ip)
            reason = QW_REJ_PER_IP;
        else if (b->tokens < 1)
            reason = QW_REJ_RATE;
    }
    if (reason >= 0) {
        d->rejected[reason]++;
        return 1;
    }
    if (b)
        b->tokens -= 1;
    return 0;
}

void qw__dash_conn_added(qw_dash *d, struct lws *wsi)
{
    uint8_t a[16];
    if (lws_get_opaque_user_data(wsi))
        return; /* counted already */
    dash_ip *e = peer_addr(lws_get_socket_fd(wsi), a) == 0 ? find_ip(d, a, 1) : NULL;
    d->conns_open++;
    if (e)
        e->n++;
    /* index + 1, or -1: counted in the total only (no address, or no entry) */
    lws_set_opaque_user_data(wsi, (void *)(intptr_t)(e ? (e - d->ips) + 1 : -1));
}

void qw__dash_conn_removed(qw_dash *d, struct lws *wsi)
{
    intptr_t k = (intptr_t)lws_get_opaque_user_data(wsi);
    if (!k)
        return;
    if (k > 0)
        d->ips[k - 1].n--;
    d->conns_open--;
    lws_set_opaque_user_data(wsi, NULL);
}

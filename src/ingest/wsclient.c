/* wsclient.c: the Coinbase WebSocket client: connection state machine,
 * subscribe/resubscribe, watchdog (see wsclient.h). The connection itself
 * (ws:// and wss://) is an lws RAW socket driven by wsraw.c. */
#define QW_MODULE "ws"
#include "ingest/wsclient_int.h"

#include <libwebsockets.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"

#define HEALTHY_NS (10 * QW_NS_PER_SEC)
#define TICK_US (250 * LWS_US_PER_MS)
#define SEND_PER_S 5.0 /* client messages per second (Coinbase: 8/s unauthenticated) */

static const char *const state_names[] = {"idle", "connecting", "subscribed", "backoff", "stopped"};

const char *qw_ws_state_name(qw_ws_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "unknown";
}

static void set_state(qw_wsclient *c, qw_ws_state s)
{
    if (c->st.state != s)
        QW_LOG(DEBUG, "state %s -> %s", qw_ws_state_name(c->st.state), qw_ws_state_name(s));
    c->st.state = s;
    c->state_since_ns = qw_now_mono_ns();
}

static double rnd01(qw_wsclient *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return (double)(c->rng >> 11) / 9007199254740992.0;
}

/* ---- subscribe messages ---- */

static size_t json_ids(char *b, size_t cap, const char *const *ids, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s\"%s\"", i ? "," : "", ids[i]);
    return k < cap ? k : cap;
}

/* base64(HMAC_SHA256(base64decode(secret), ts + "GET" + "/users/self/verify")) */
static int exchange_sign(const char *secret_b64, const char *ts, char *out, size_t cap)
{
    unsigned char key[96], mac[EVP_MAX_MD_SIZE];
    size_t sl = strlen(secret_b64);
    if (sl == 0 || sl > 128 || sl % 4 || (sl / 4) * 3 > sizeof key)
        return -1;
    int kl = EVP_DecodeBlock(key, (const unsigned char *)secret_b64, (int)sl);
    if (kl < 0)
        return -1;
    while (sl && secret_b64[sl - 1] == '=') /* DecodeBlock counts padding as zero bytes */
        sl--, kl--;
    char msg[64];
    int ml = snprintf(msg, sizeof msg, "%sGET/users/self/verify", ts);
    unsigned int macl = 0;
    if (!HMAC(EVP_sha256(), key, kl, (const unsigned char *)msg, (size_t)ml, mac, &macl))
        return -1;
    if (cap < 4 * ((macl + 2) / 3) + 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, mac, (int)macl);
    memset(key, 0, sizeof key);
    return 0;
}

/* One subscribe/unsubscribe message for one channel. */
static int make_msg(const qw_wsclient_opts *o, int auth, const char *type, const char *channel,
                    const char *const *ids, size_t n, int64_t unix_s, char *b, size_t cap)
{
    char idbuf[2600];
    json_ids(idbuf, sizeof idbuf, ids, n);
    int k;
    if (!o->exchange) {
        k = snprintf(b, cap, "{\"type\":\"%s\",\"product_ids\":[%s],\"channel\":\"%s\"}", type,
                     idbuf, channel);
    } else if (auth) {
        char ts[24], sig[128];
        snprintf(ts, sizeof ts, "%lld", (long long)unix_s);
        if (exchange_sign(o->ex_secret_b64, ts, sig, sizeof sig) != 0)
            return -1;
        k = snprintf(
            b, cap,
            "{\"type\":\"%s\",\"product_ids\":[%s],\"channels\":[\"%s\"],"
            "\"signature\":\"%s\",\"key\":\"%s\",\"passphrase\":\"%s\",\"timestamp\":\"%s\"}",
            type, idbuf, channel, sig, o->ex_key, o->ex_passphrase, ts);
    } else {
        k = snprintf(b, cap, "{\"type\":\"%s\",\"product_ids\":[%s],\"channels\":[\"%s\"]}", type,
                     idbuf, channel);
    }
    return k > 0 && (size_t)k < cap ? k : -1;
}

static const char *book_channel(const qw_wsclient_opts *o, int auth)
{
    return !o->exchange ? "level2" : auth ? "level2" : "level2_batch";
}

static void channels(const qw_wsclient_opts *o, int auth, const char *ch[3])
{
    ch[0] = book_channel(o, auth);
    ch[1] = o->exchange ? "matches" : "market_trades";
    ch[2] = o->exchange ? "heartbeat" : "heartbeats";
}

qw_err qw_wsclient_subscribe_msgs(const qw_wsclient_opts *o, int64_t unix_s, char *buf, size_t cap)
{
    int auth = o->exchange && o->ex_key && o->ex_secret_b64 && o->ex_passphrase;
    const char *ch[3];
    channels(o, auth, ch);
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        if (k >= cap)
            return QW_TOO_LARGE;
        int n = make_msg(o, auth, "subscribe", ch[i], o->products, o->nproducts, unix_s, buf + k,
                         cap - k);
        if (n < 0)
            return QW_TOO_LARGE;
        k += (size_t)n + 1;
    }
    if (k >= cap)
        return QW_TOO_LARGE;
    buf[k] = '\0';
    return QW_OK;
}

/* ---- outgoing queue, paced ---- */

static void request_send(qw_wsclient *c);

static void sul_send_cb(lws_sorted_usec_list_t *sul)
{
    qw_wsclient *c = lws_container_of(sul, qw_wsclient, sul_send);
    if (c->wsi && c->out_n)
        lws_callback_on_writable(c->wsi);
}

static void request_send(qw_wsclient *c)
{
    if (c->wsi && c->out_n)
        lws_callback_on_writable(c->wsi);
}

static qw_err enqueue(qw_wsclient *c, const char *type, const char *channel, const char *const *ids,
                      size_t n)
{
    if (c->out_n == OUTQ)
        return QW_FULL;
    unsigned slot = (c->out_head + c->out_n) % OUTQ;
    int k = make_msg(&c->o, c->auth, type, channel, ids, n, qw_now_wall_ns() / QW_NS_PER_SEC,
                     c->out[slot] + LWS_PRE, OUTMSG);
    if (k < 0)
        return QW_TOO_LARGE;
    c->outlen[slot] = (size_t)k;
    c->out_n++;
    request_send(c);
    return QW_OK;
}

int qw__ws_out_next(qw_wsclient *c, const char **p, size_t *len)
{
    if (!c->out_n)
        return 0;
    int64_t now = qw_now_mono_ns();
    c->send_tokens += (double)(now - c->send_tokens_ns) / 1e9 * SEND_PER_S;
    c->send_tokens_ns = now;
    if (c->send_tokens > SEND_PER_S)
        c->send_tokens = SEND_PER_S;
    if (c->send_tokens < 1) {
        lws_usec_t wait = (lws_usec_t)((1 - c->send_tokens) / SEND_PER_S * 1e6) + 1000;
        lws_sul_schedule(c->ctx, 0, &c->sul_send, sul_send_cb, wait);
        return 0;
    }
    *p = c->out[c->out_head] + LWS_PRE;
    *len = c->outlen[c->out_head];
    return 1;
}

void qw__ws_out_pop(qw_wsclient *c)
{
    c->send_tokens -= 1;
    c->out_head = (c->out_head + 1) % OUTQ;
    c->out_n--;
    if (c->out_n && c->wsi)
        lws_callback_on_writable(c->wsi);
}

/* ---- connecting ---- */

static void sul_connect_cb(lws_sorted_usec_list_t *sul);

static void schedule_connect(qw_wsclient *c, double delay_s)
{
    set_state(c, QW_WS_BACKOFF);
    c->st.backoff_s = delay_s;
    lws_sul_schedule(c->ctx, 0, &c->sul_connect, sul_connect_cb, (lws_usec_t)(delay_s * 1e6) + 1);
}

static void backoff(qw_wsclient *c)
{
    if (c->stopping) {
        set_state(c, QW_WS_STOPPED);
        return;
    }
    c->failures++;
    double cap = 0.5;
    for (unsigned i = 1; i < c->failures && cap < c->o.backoff_max_s; i++)
        cap *= 2;
    if (cap > c->o.backoff_max_s)
        cap = c->o.backoff_max_s;
    double d = rnd01(c) * cap; /* full jitter */
    QW_LOG(INFO, "reconnecting in %.3f s (failure %u)", d, c->failures);
    schedule_connect(c, d);
}

static void sul_connect_cb(lws_sorted_usec_list_t *sul)
{
    qw_wsclient *c = lws_container_of(sul, qw_wsclient, sul_connect);
    if (c->stopping || c->wsi)
        return;
    int64_t now = qw_now_mono_ns();
    c->tokens += (double)(now - c->tokens_ns) / 1e9 * c->o.connect_rate;
    c->tokens_ns = now;
    double burst = c->o.connect_rate < 1 ? 1 : c->o.connect_rate;
    if (c->tokens > burst)
        c->tokens = burst;
    if (c->tokens < 1) {
        c->st.rate_limited++;
        schedule_connect(c, (1 - c->tokens) / c->o.connect_rate);
        return;
    }
    c->tokens -= 1;
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = c->ctx;
    ci.vhost = c->vh;
    ci.address = c->host;
    ci.port = c->port;
    ci.path = c->path;
    ci.host = c->host;
    ci.origin = c->host;
    ci.local_protocol_name = "qw-coinbase";
    ci.opaque_user_data = c;
    qw__wsraw_prepare(c, &ci);
    set_state(c, QW_WS_CONNECTING);
    c->st.attempts++;
    uint64_t attempt = ++c->attempt_gen;
    struct lws *w = lws_client_connect_via_info(&ci);
    if (c->closed_gen == attempt) /* failed synchronously: already in BACKOFF */
        return;
    c->wsi = w;
    if (!w) {
        c->closed_gen = attempt;
        snprintf(c->st.last_error, sizeof c->st.last_error, "connect to %.100s:%d failed", c->host,
                 c->port);
        QW_LOG(WARN, "%s", c->st.last_error);
        backoff(c);
    }
}

void qw__ws_drop(qw_wsclient *c, const char *why)
{
    if (!c->wsi)
        return;
    c->dead = 1; /* parse and send nothing more */
    snprintf(c->st.last_error, sizeof c->st.last_error, "%s", why);
    QW_LOG(WARN, "dropping the connection: %s", why);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void sul_tick_cb(lws_sorted_usec_list_t *sul)
{
    qw_wsclient *c = lws_container_of(sul, qw_wsclient, sul_tick);
    int64_t now = qw_now_mono_ns();
    int64_t wd = (int64_t)(c->o.watchdog_s * 1e9);
    if (c->wsi && c->st.state == QW_WS_SUBSCRIBED) {
        int64_t last = c->st.last_msg_mono_ns > c->st.connected_since_mono_ns
                           ? c->st.last_msg_mono_ns
                           : c->st.connected_since_mono_ns;
        if (now - last > wd) {
            c->st.watchdog_trips++;
            char why[96];
            snprintf(why, sizeof why, "watchdog: no message for %.1f s",
                     (double)(now - last) / 1e9);
            qw__ws_drop(c, why);
        } else if (c->failures && now - c->st.connected_since_mono_ns > HEALTHY_NS) {
            c->failures = 0;
        }
    } else if (c->wsi && c->st.state == QW_WS_CONNECTING) {
        int64_t limit = wd > 10 * QW_NS_PER_SEC ? wd : 10 * QW_NS_PER_SEC;
        if (now - c->state_since_ns > limit) {
            c->st.watchdog_trips++;
            qw__ws_drop(c, "watchdog: handshake took too long");
        }
    }
    if (!c->stopping)
        lws_sul_schedule(c->ctx, 0, &c->sul_tick, sul_tick_cb, TICK_US);
}

/* ---- lws protocol callback ---- */

void qw__ws_established(qw_wsclient *c)
{
    int64_t now = qw_now_mono_ns();
    c->st.connects++;
    if (c->st.connects > 1)
        c->st.reconnects++;
    c->st.connected_since_mono_ns = now;
    c->st.last_error[0] = '\0';
    c->conn_id++;
    c->out_n = 0;
    c->send_tokens = SEND_PER_S;
    c->send_tokens_ns = now;
    set_state(c, QW_WS_SUBSCRIBED);
    QW_LOG(INFO, "connected to %s (connection %llu)", c->url, (unsigned long long)c->conn_id);
    if (c->cb.on_connect)
        c->cb.on_connect(c->cb.ctx, c->conn_id);
    const char *ch[3];
    channels(&c->o, c->auth, ch);
    for (int i = 0; i < 3; i++)
        if (enqueue(c, "subscribe", ch[i], c->o.products, c->o.nproducts) != QW_OK)
            QW_LOG(ERROR, "cannot queue the %s subscribe", ch[i]);
}

void qw__ws_closed(qw_wsclient *c, const char *why_in)
{
    if (c->closed_gen == c->attempt_gen)
        return;                        /* this attempt was already handled */
    char why[sizeof c->st.last_error]; /* why_in is often st.last_error itself */
    snprintf(why, sizeof why, "%s", why_in);
    c->closed_gen = c->attempt_gen;
    int was_up = c->st.state == QW_WS_SUBSCRIBED;
    c->wsi = NULL;
    c->out_n = 0;
    if (!was_up && c->tcp_up && !c->stopping)
        c->st.handshake_failures++; /* TLS, HTTP or 101 check failed, or it took too long */
    if (was_up) {
        c->st.disconnects++;
        c->st.connected_since_mono_ns = 0;
        if (!c->st.last_error[0] || !c->stopping)
            snprintf(c->st.last_error, sizeof c->st.last_error, "%s", why);
        if (c->cb.on_disconnect)
            c->cb.on_disconnect(c->cb.ctx, why);
    }
    if (c->stopping)
        QW_LOG(INFO, "connection closed: %s", why);
    else
        QW_LOG(WARN, "connection closed: %s", why);
    backoff(c);
}

void qw__ws_deliver(qw_wsclient *c, char *buf, size_t len, int64_t wall, int64_t mono)
{
    c->st.last_msg_mono_ns = mono;
    if (!c->st.first_msg_mono_ns)
        c->st.first_msg_mono_ns = mono;
    c->st.messages++;
    c->st.bytes += len;
    if (c->cb.on_message)
        c->cb.on_message(c->cb.ctx, buf, len, wall, mono);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    qw_wsclient *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        if (!c)
            break;
        char why[160];
        snprintf(why, sizeof why, "connection error: %.120s", in ? (const char *)in : "unknown");
        snprintf(c->st.last_error, sizeof c->st.last_error, "%s", why);
        qw__ws_closed(c, why);
        break;
    }
    case LWS_CALLBACK_RAW_CONNECTED:
    case LWS_CALLBACK_RAW_RX:
    case LWS_CALLBACK_RAW_WRITEABLE:
    case LWS_CALLBACK_RAW_CLOSE: return c ? qw__wsraw_callback(c, wsi, reason, in, len) : 0;
    default: break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    /* rx_buffer_size is also what lws reads per recv() (capped by the
     * context's pt_serv_buf_size): 256 KiB = thousands of messages */
    {"qw-coinbase", callback, 0, 256 * 1024 - LWS_PRE, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- public ---- */

static int parse_url(qw_wsclient *c, char *errbuf, size_t errlen)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", c->url);
    const char *prot, *ads, *path;
    int port;
    if (lws_parse_uri(tmp, &prot, &ads, &port, &path) != 0 || !*ads) {
        snprintf(errbuf, errlen, "bad URL '%s'", c->url);
        return -1;
    }
    if (strcmp(prot, "wss") == 0 || strcmp(prot, "https") == 0)
        c->tls = 1;
    else if (strcmp(prot, "ws") == 0 || strcmp(prot, "http") == 0)
        c->tls = 0;
    else {
        snprintf(errbuf, errlen, "URL scheme must be ws:// or wss://, got '%s'", prot);
        return -1;
    }
    /* lws_parse_uri defaults the port to 80 unless https/wss is spelled */
    if (port == 80 && c->tls && !strstr(c->url + 6, ":80"))
        port = 443;
    snprintf(c->host, sizeof c->host, "%s", ads);
    /* lws_parse_uri gives "/" for a URL without a path, else the path without its "/" */
    snprintf(c->path, sizeof c->path, "%s%s", path[0] == '/' ? "" : "/", path);
    c->port = port;
    return 0;
}

qw_err qw_wsclient_create(qw_wsclient **out, struct lws_context *ctx, const qw_wsclient_opts *o,
                          const qw_wsclient_cb *cb, char *errbuf, size_t errlen)
{
    if (!o->nproducts || o->nproducts > 64) {
        snprintf(errbuf, errlen, "1..64 products required");
        return QW_INVAL;
    }
    qw_wsclient *c = qw_calloc(1, sizeof *c);
    if (!c)
        return QW_NOMEM;
    c->ctx = ctx;
    c->cb = *cb;
    c->o = *o;
    for (size_t i = 0; i < o->nproducts; i++) {
        if (strlen(o->products[i]) >= sizeof c->products[i]) {
            snprintf(errbuf, errlen, "product id too long");
            qw_free(c);
            return QW_INVAL;
        }
        snprintf(c->products[i], sizeof c->products[i], "%s", o->products[i]);
        c->product_ptrs[i] = c->products[i];
    }
    c->o.products = c->product_ptrs;
    if (!c->o.max_message)
        c->o.max_message = 32u << 20;
    if (!(c->o.watchdog_s > 0))
        c->o.watchdog_s = 10;
    if (!(c->o.backoff_max_s > 0))
        c->o.backoff_max_s = 30;
    if (!(c->o.connect_rate > 0))
        c->o.connect_rate = 4;
    snprintf(c->url, sizeof c->url, "%s",
             o->url && *o->url ? o->url
             : o->exchange     ? QW_WS_EXCHANGE_URL
                               : QW_WS_ADVANCED_URL);
    if (parse_url(c, errbuf, errlen) != 0) {
        qw_free(c);
        return QW_INVAL;
    }
    int nauth = !!(o->ex_key && *o->ex_key) + !!(o->ex_secret_b64 && *o->ex_secret_b64) +
                !!(o->ex_passphrase && *o->ex_passphrase);
    if (o->exchange && nauth == 3) {
        if (strlen(o->ex_key) >= sizeof c->key || strlen(o->ex_secret_b64) >= sizeof c->secret ||
            strlen(o->ex_passphrase) >= sizeof c->pass) {
            snprintf(errbuf, errlen, "Exchange credentials too long");
            qw_free(c);
            return QW_INVAL;
        }
        snprintf(c->key, sizeof c->key, "%s", o->ex_key);
        snprintf(c->secret, sizeof c->secret, "%s", o->ex_secret_b64);
        snprintf(c->pass, sizeof c->pass, "%s", o->ex_passphrase);
        c->o.ex_key = c->key;
        c->o.ex_secret_b64 = c->secret;
        c->o.ex_passphrase = c->pass;
        c->auth = 1;
        char probe[128];
        if (exchange_sign(c->secret, "0", probe, sizeof probe) != 0) {
            snprintf(errbuf, errlen, "Exchange API secret is not valid base64");
            qw_free(c);
            return QW_INVAL;
        }
    } else {
        if (o->exchange && nauth && nauth != 3)
            QW_LOG(WARN, "Exchange credentials incomplete (need key, secret and passphrase): "
                         "using the public level2_batch channel");
        c->o.ex_key = c->o.ex_secret_b64 = c->o.ex_passphrase = NULL;
    }
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.port = CONTEXT_PORT_NO_LISTEN;
    vi.protocols = protocols;
    vi.vhost_name = "qw-client";
    qw_err e = qw__wsraw_init(c, errbuf, errlen);
    if (e != QW_OK) {
        if (e == QW_NOMEM)
            snprintf(errbuf, errlen, "out of memory");
        qw__wsraw_free(c);
        qw_free(c);
        return e;
    }
    c->vh = lws_create_vhost(ctx, &vi);
    if (!c->vh) {
        snprintf(errbuf, errlen, "cannot create the client vhost");
        qw__wsraw_free(c);
        qw_free(c);
        return QW_INVAL;
    }
    c->rng = (uint64_t)qw_now_mono_ns() * 0x9E3779B97F4A7C15ull | 1;
    c->tokens = c->o.connect_rate < 1 ? 1 : c->o.connect_rate;
    c->tokens_ns = qw_now_mono_ns();
    *out = c;
    return QW_OK;
}

void qw_wsclient_destroy(qw_wsclient *c)
{
    if (!c)
        return;
    lws_sul_cancel(&c->sul_connect);
    lws_sul_cancel(&c->sul_tick);
    lws_sul_cancel(&c->sul_send);
    if (c->wsi)
        lws_set_opaque_user_data(c->wsi, NULL);
    memset(c->secret, 0, sizeof c->secret);
    memset(c->pass, 0, sizeof c->pass);
    qw__wsraw_free(c);
    qw_free(c);
}

void qw_wsclient_start(qw_wsclient *c)
{
    QW_LOG(INFO, "feed %s, %zu product(s), url %s", c->o.exchange ? "exchange" : "advanced",
           c->o.nproducts, c->url);
    lws_sul_schedule(c->ctx, 0, &c->sul_tick, sul_tick_cb, TICK_US);
    schedule_connect(c, 0);
}

void qw_wsclient_stop(qw_wsclient *c)
{
    c->stopping = 1;
    lws_sul_cancel(&c->sul_connect);
    lws_sul_cancel(&c->sul_tick);
    lws_sul_cancel(&c->sul_send);
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
    else
        set_state(c, QW_WS_STOPPED);
}

int qw_wsclient_stopped(const qw_wsclient *c)
{
    return c->st.state == QW_WS_STOPPED;
}

void qw_wsclient_reconnect(qw_wsclient *c, const char *why)
{
    if (c->wsi)
        qw__ws_drop(c, why);
}

qw_err qw_wsclient_resubscribe(qw_wsclient *c, const char *product)
{
    if (!c->wsi || c->st.state != QW_WS_SUBSCRIBED)
        return QW_AGAIN;
    if (OUTQ - c->out_n < 2)
        return QW_FULL;
    const char *ids[1] = {product};
    const char *ch = book_channel(&c->o, c->auth);
    qw_err e = enqueue(c, "unsubscribe", ch, ids, 1);
    if (e == QW_OK)
        e = enqueue(c, "subscribe", ch, ids, 1);
    if (e == QW_OK) {
        c->st.resubscribes++;
        QW_LOG(INFO, "%s: resubscribing %s for a fresh snapshot", product, ch);
    }
    return e;
}

const qw_live_stats *qw_wsclient_stats(const qw_wsclient *c)
{
    return &c->st;
}

qw_live_stats *qw_wsclient_stats_mut(qw_wsclient *c)
{
    return &c->st;
}

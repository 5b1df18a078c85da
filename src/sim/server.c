/* server.c: the simulator's libwebsockets side — listening, connections,
 * bounded per-connection output queues written as fragmented messages,
 * fault injection, source pacing and heartbeat timers (server.h). */
#define QW_MODULE "sim"
#include "sim/server.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/time.h"
#include "sim/server_int.h"

#define LOW_WM (1024 * 1024)  /* --speed max: advance the source below this backlog */
#define RX_MAX (1024 * 1024)  /* largest client message */
#define EXT_PROBE "qw-active" /* see pmd_cb */
#define US(sec) ((lws_usec_t)((sec)*1e6))

static int64_t mono(void)
{
    return qw_now_mono_ns();
}

int64_t qw__sim_feed_clock(const struct qw_sim *s)
{
    if (s->src_done && s->src_end_mono)
        return s->feed_now + (mono() - s->src_end_mono);
    return s->feed_now;
}

void qw__sim_kill(client *c, const char *reason)
{
    if (c->kill)
        return;
    c->kill = reason;
    c->dead = 1;
    qw__sim_q_free(c);
    if (c->wsi) {
        lws_callback_on_writable(c->wsi);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 2);
    }
}

/* ---- source pacing ---- */

static int backlogged(struct qw_sim *s)
{
    int subscribed = 0;
    for (client *c = s->clients; c; c = c->next) {
        if (c->qbytes > LOW_WM)
            return 1;
        subscribed |= c->subscribed && !c->dead;
    }
    return !subscribed; /* max speed with nobody listening: wait */
}

static void pump_cb(lws_sorted_usec_list_t *sul)
{
    struct qw_sim *s = lws_container_of(sul, struct qw_sim, sul_pump);
    int64_t t_end = mono() + 5 * QW_NS_PER_MS;
    uint64_t restarted_at = UINT64_MAX;
    if (mono() < s->grace_until) {
        lws_sul_schedule(s->ctx, 0, &s->sul_pump, pump_cb,
                         (lws_usec_t)((s->grace_until - mono()) / 1000 + 1));
        return;
    }
    for (unsigned n = 1;; n++) {
        if (s->stopping || s->src_done)
            return;
        if (s->o.speed == 0 && backlogged(s))
            return; /* resumed from the writable callback */
        if (!s->pending) {
            qw_err e = qw_simsrc_next(s->src, &s->pmsg, &s->pmsg_t, &s->pmsg_pace);
            if (e == QW_NOT_FOUND && s->o.loop && restarted_at != s->st.source_messages) {
                restarted_at = s->st.source_messages;
                if (qw_simsrc_rewind(s->src) == QW_OK) {
                    s->st.source_restarts++;
                    s->pace_t0 = 0;
                    QW_LOG(INFO, "source restart=%llu", (unsigned long long)s->st.source_restarts);
                    continue;
                }
            }
            if (e != QW_OK) {
                if (e != QW_NOT_FOUND)
                    QW_LOG(ERROR, "source: %s",
                           qw_simsrc_errmsg(s->src)[0] ? qw_simsrc_errmsg(s->src) : qw_strerror(e));
                s->src_done = 1;
                s->src_end_mono = mono();
                QW_LOG(INFO, "source_end messages=%llu", (unsigned long long)s->st.source_messages);
                return;
            }
            s->pending = 1;
        }
        if (s->o.speed > 0) {
            int64_t now = mono();
            if (!s->pace_t0) {
                s->pace_t0 = s->pmsg_pace;
                s->pace_wall0 = now;
            }
            int64_t due =
                s->pace_wall0 + (int64_t)((double)(s->pmsg_pace - s->pace_t0) / s->o.speed);
            if (due > now + 50000) {
                lws_sul_schedule(s->ctx, 0, &s->sul_pump, pump_cb,
                                 (lws_usec_t)((due - now) / 1000));
                return;
            }
        }
        s->pending = 0;
        s->st.source_messages++;
        qw__sim_apply(s, s->pmsg, s->pmsg_t);
        if (n % 32 == 0 && mono() > t_end) {
            lws_sul_schedule(s->ctx, 0, &s->sul_pump, pump_cb, 1);
            return;
        }
    }
}

/* The first subscribe starts the source after a short grace period, so
 * the rest of that client's subscribes (Advanced Trade sends one per
 * channel) land before anything streams. */
#define START_GRACE_S 0.2

void qw__sim_start_source(struct qw_sim *s)
{
    if (!s->started) {
        s->started = 1;
        s->grace_until = mono() + (int64_t)(START_GRACE_S * 1e9);
        QW_LOG(INFO, "source_start speed=%g grace_s=%g", s->o.speed, START_GRACE_S);
    }
    if (!s->src_done)
        lws_sul_schedule(s->ctx, 0, &s->sul_pump, pump_cb, 1);
}

/* ---- timers ---- */

static void hb_cb(lws_sorted_usec_list_t *sul)
{
    struct qw_sim *s = lws_container_of(sul, struct qw_sim, sul_hb);
    if (!s->stopping)
        qw__sim_heartbeats(s);
    lws_sul_schedule(s->ctx, 0, &s->sul_hb, hb_cb, US(1));
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    struct qw_sim *s = lws_container_of(sul, struct qw_sim, sul_tick);
    if ((s->stop && *s->stop) ||
        (s->o.duration_s > 0 && mono() - s->start_mono >= (int64_t)(s->o.duration_s * 1e9)))
        s->stopping = 1;
    lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick_cb, US(0.05));
}

static void timeout_cb(lws_sorted_usec_list_t *sul)
{
    client *c = lws_container_of(sul, client, sul_timeout);
    if (c->subscribed)
        return;
    c->srv->st.timeouts++;
    QW_LOG(INFO, "disconnect client=%llu reason=no_subscribe_within_timeout",
           (unsigned long long)c->id);
    qw__sim_kill(c, "no subscribe received in time");
}

static void slowread_cb(lws_sorted_usec_list_t *sul)
{
    client *c = lws_container_of(sul, client, sul_slowread);
    if (c->wsi)
        lws_rx_flow_control(c->wsi, 1);
}

static void stall_cb(lws_sorted_usec_list_t *sul)
{
    client *c = lws_container_of(sul, client, sul_stall);
    c->stalled = 0;
    QW_LOG(INFO, "fault=stall_end client=%llu", (unsigned long long)c->id);
    if (c->wsi)
        lws_callback_on_writable(c->wsi);
}

/* ---- lws callbacks ---- */

/* What lws agreed for the server->client direction of the connection in
 * handshake, taken from its option calls (ESTABLISHED follows in the same
 * service call; see pmd_cb). lws 4.1.6 applies only arg-less options as a
 * server (server_no_context_takeover); a window is followed should a
 * version apply server_max_window_bits. */
static struct {
    struct lws *wsi;
    int snct, smwb;
} agreed;

/* Our own deflate stream with lws's settings (level 1, memLevel 8, the
 * agreed window): 0, or -1 to leave the connection to lws's extension. */
static int deflate_setup(client *c, struct lws *wsi)
{
    int wbits = agreed.wsi == wsi && agreed.smwb ? agreed.smwb : 15;
    int nct = agreed.wsi == wsi && agreed.snct;
    agreed.wsi = NULL;
    if (wbits < 9 || wbits > 15) /* zlib's raw deflate cannot keep a 256-byte window */
        return -1;
    z_stream *z = qw_calloc(1, sizeof *z);
    if (!z)
        return -1;
    if (deflateInit2(z, 1, Z_DEFLATED, -wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        qw_free(z);
        return -1;
    }
    c->z = z;
    c->znct = nct;
    return 0;
}

static void on_established(struct qw_sim *s, client *c, struct lws *wsi)
{
    memset(c, 0, sizeof *c);
    c->srv = s;
    c->wsi = wsi;
    c->id = ++s->next_id;
    size_t np = s->mk.n ? s->mk.n : 1;
    c->sub = qw_calloc(np, CH__N);
    c->snapped = qw_calloc(np, 1);
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->st.connections++;
    if (!c->sub || !c->snapped) {
        qw__sim_kill(c, "out of memory");
        return;
    }
    const qw_sim_faults *f = &s->o.faults;
    if (f->drop_n && (!f->drop_once || !s->drop_once_used)) {
        c->drop_armed = 1;
        s->drop_once_used = 1;
    }
    double wait = s->o.subscribe_timeout_s > 0 ? s->o.subscribe_timeout_s : 5.0;
    if (f->slowread_s > 0) {
        lws_rx_flow_control(wsi, 0);
        lws_sul_schedule(s->ctx, 0, &c->sul_slowread, slowread_cb, US(f->slowread_s));
        s->st.f_slowread++;
        wait += f->slowread_s;
    }
    lws_sul_schedule(s->ctx, 0, &c->sul_timeout, timeout_cb, US(wait));
    /* We frame (and compress) ourselves unless permessage-deflate was
     * agreed with parameters we leave to lws (the probe is -1 exactly
     * when no extension runs on this connection). */
    int defl = lws_set_extension_option(wsi, "permessage-deflate", EXT_PROBE, NULL) == 0;
    c->raw = !defl || deflate_setup(c, wsi) == 0;
    QW_LOG(INFO, "connect client=%llu%s%s", (unsigned long long)c->id,
           f->slowread_s > 0 ? " fault=slowread" : "",
           !defl  ? ""
           : c->z ? " deflate=1"
                  : " deflate=1 (lws)");
}

static void on_closed(struct qw_sim *s, client *c)
{
    if (!c->srv)
        return;
    lws_sul_cancel(&c->sul_timeout);
    lws_sul_cancel(&c->sul_slowread);
    lws_sul_cancel(&c->sul_stall);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->st.disconnects++;
    QW_LOG(INFO, "disconnect client=%llu sent_sequence_num=%llu streamed=%llu reason=%s",
           (unsigned long long)c->id, (unsigned long long)c->seqnum, (unsigned long long)c->nstream,
           c->kill ? c->kill : "closed");
    qw__sim_q_free(c);
    qw_free(c->spare);
    c->spare = NULL;
    qw_sbuf_free(&c->rx);
    if (c->z) {
        deflateEnd(c->z);
        qw_free(c->z);
        c->z = NULL;
    }
    qw_free(c->sub);
    qw_free(c->snapped);
    c->srv = NULL;
    c->wsi = NULL;
    if (s->o.speed == 0 && s->started && !s->src_done)
        lws_sul_schedule(s->ctx, 0, &s->sul_pump, pump_cb, 1);
}

static int on_writable(struct qw_sim *s, client *c, struct lws *wsi)
{
    if (c->kill) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)c->kill,
                         strlen(c->kill));
        return -1;
    }
    for (int k = 0; k < 64 && c->qh && !c->stalled; k++) {
        outmsg *m = c->qh;
        if (m->kind == OM_STALL) {
            c->qh = m->next;
            if (!c->qh)
                c->qt = NULL;
            qw_free(m);
            c->stalled = 1;
            s->st.f_stall++;
            QW_LOG(INFO, "fault=stall client=%llu seconds=%g after=%llu", (unsigned long long)c->id,
                   s->o.faults.stall_s, (unsigned long long)s->o.faults.stall_at);
            lws_sul_schedule(s->ctx, 0, &c->sul_stall, stall_cb, US(s->o.faults.stall_s));
            return 0;
        }
        if (m->kind == OM_DROP) {
            s->st.f_drop++;
            if (s->o.faults.refuse_s > 0)
                s->refuse_until = mono() + (int64_t)(s->o.faults.refuse_s * 1e9);
            QW_LOG(INFO, "fault=drop client=%llu after=%llu", (unsigned long long)c->id,
                   (unsigned long long)s->o.faults.drop_n);
            c->kill = "fault drop";
            int fd = (int)lws_get_socket_fd(wsi);
            if (fd >= 0) {
                struct linger lg = {1, 0}; /* RST, no close frame */
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                shutdown(fd, SHUT_RDWR);
            }
            return -1;
        }
        if (m->kind == OM_RAW) {
            size_t n = m->len - m->off > RAW_WRITE ? RAW_WRITE : m->len - m->off;
            if (n && lws_write(wsi, m->buf + LWS_PRE + m->off, n, LWS_WRITE_RAW) < (int)n)
                return -1;
            m->off += n;
            if (m->off == m->len) {
                c->qh = m->next;
                if (!c->qh)
                    c->qt = NULL;
                c->qbytes -= m->len;
                s->st.messages += m->nmsg;
                s->st.bytes += m->pbytes;
                if (!c->spare && m->cap == RAW_NODE)
                    c->spare = m;
                else
                    qw_free(m);
            }
            if (lws_send_pipe_choked(wsi) || lws_partial_buffered(wsi))
                break;
            continue;
        }
        size_t left = m->len - m->off, n = left > CHUNK ? CHUNK : left;
        int flags = lws_write_ws_flags(LWS_WRITE_TEXT, m->off == 0, m->off + n == m->len);
        if (lws_write(wsi, m->buf + LWS_PRE + m->off, n, (enum lws_write_protocol)flags) < (int)n)
            return -1;
        m->off += n;
        if (m->off == m->len) {
            c->qh = m->next;
            if (!c->qh)
                c->qt = NULL;
            c->qbytes -= m->len;
            s->st.messages++;
            s->st.bytes += m->len;
            qw_free(m);
        }
        if (lws_send_pipe_choked(wsi) || lws_partial_buffered(wsi))
            break;
    }
    if (c->qh && !c->stalled)
        lws_callback_on_writable(wsi);
    if (s->o.speed == 0 && c->qbytes <= LOW_WM && s->started && !s->src_done)
        lws_sul_schedule(s->ctx, 0, &s->sul_pump, pump_cb, 1);
    return 0;
}

static int on_receive(client *c, struct lws *wsi, const void *in, size_t len)
{
    if (c->dead || !c->srv)
        return 0;
    if (c->rx.len + len > RX_MAX) {
        qw_sbuf_reset(&c->rx);
        QW_LOG(WARN, "disconnect client=%llu reason=message_too_big", (unsigned long long)c->id);
        qw__sim_kill(c, "Message too big");
        return 0;
    }
    qw_sbuf_put(&c->rx, in, len);
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    if (!c->rx.oom)
        qw__sim_on_client_msg(c, c->rx.p, c->rx.len);
    qw_sbuf_reset(&c->rx);
    return 0;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct qw_sim *s = ctx ? lws_context_user(ctx) : NULL;
    client *c = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        if (s && mono() < s->refuse_until) {
            s->st.refused++;
            s->st.f_refuse++;
            QW_LOG(INFO, "fault=refuse connection refused");
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: on_established(s, c, wsi); return 0;
    case LWS_CALLBACK_CLOSED: on_closed(s, c); return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return c->srv ? on_writable(s, c, wsi) : 0;
    case LWS_CALLBACK_RECEIVE: return c->srv ? on_receive(c, wsi, in, len) : 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"coinbase", cb, sizeof(client), 65536, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

/* lws's permessage-deflate with two changes:
 * - a probe option that does nothing: for it lws_set_extension_option()
 *   is 0 when the extension is active on a connection, -1 when it is not;
 * - the client's client_no_context_takeover hint is declined (RFC 7692
 *   7.1.1.1: the server may leave it out of its response). lws 4.1 keys its
 *   own deflate reset on that flag, so accepting it made the sim rebuild its
 *   zlib state for every message; declined, both sides keep their context,
 *   as the response then says. */
static int pmd_cb(struct lws_context *ctx, const struct lws_extension *ext, struct lws *wsi,
                  enum lws_extension_callback_reasons reason, void *user, void *in, size_t len)
{
    const struct lws_ext_option_arg *oa = in;
    if (reason == LWS_EXT_CB_NAMED_OPTION_SET && oa && oa->option_name &&
        !strcmp(oa->option_name, EXT_PROBE))
        return 0;
    if (reason == LWS_EXT_CB_CONSTRUCT && agreed.wsi == wsi)
        agreed.wsi = NULL;
    if (reason == LWS_EXT_CB_OPTION_SET && oa && !oa->option_name) {
        if (agreed.wsi != wsi) {
            agreed.wsi = wsi;
            agreed.snct = agreed.smwb = 0;
        }
        if (oa->option_index == 1) /* client_no_context_takeover */
            return 1;
        if (oa->option_index == 0) /* server_no_context_takeover */
            agreed.snct = 1;
        if (oa->option_index == 2) { /* server_max_window_bits */
            int v = 0;
            for (int i = 0; oa->start && i < oa->len && i < 3; i++)
                v = oa->start[i] >= '0' && oa->start[i] <= '9' ? v * 10 + oa->start[i] - '0' : 99;
            agreed.smwb = v ? v : 99;
        }
    }
    return lws_extension_callback_pm_deflate(ctx, ext, wsi, reason, user, in, len);
}

static const struct lws_extension exts[] = {
    {"permessage-deflate", pmd_cb,
     "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
    {NULL, NULL, NULL}};

static void lws_emit(int level, const char *line)
{
    char t[512];
    size_t n = strlen(line);
    if (n >= sizeof t)
        n = sizeof t - 1;
    memcpy(t, line, n);
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\r'))
        n--;
    t[n] = '\0';
    if (level & LLL_ERR)
        QW_LOG(ERROR, "lws: %s", t);
    else
        QW_LOG(WARN, "lws: %s", t);
}

/* ---- lifecycle ---- */

static void add_product(void *ctx, const char *id)
{
    struct qw_sim *s = ctx;
    if (s->o.products) {
        int ok = 0;
        for (size_t i = 0; i < s->o.nproducts; i++)
            ok |= strcmp(s->o.products[i], id) == 0;
        if (!ok)
            return;
    }
    if (qw_market_add(&s->mk, id) == QW_NOMEM)
        QW_LOG(ERROR, "out of memory adding product %s", id);
}

qw_err qw_sim_create(qw_sim **out, const qw_sim_opts *o)
{
    if ((o->tls_cert && *o->tls_cert) != (o->tls_key && *o->tls_key)) {
        QW_LOG(ERROR, "--tls-cert and --tls-key go together");
        return QW_INVAL;
    }
    if (o->port < 0 || o->port > 65535 || o->speed < 0)
        return QW_INVAL;
    struct qw_sim *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->o = *o;
    s->start_mono = mono();
    s->start_wall = qw_now_wall_ns();
    int64_t t0 = mono();
    qw_err e = qw_simsrc_prescan(&o->src, add_product, s, &s->feed_now);
    if (e == QW_OK && s->mk.n == 0) {
        QW_LOG(ERROR, "the source names no products");
        e = QW_INVAL;
    }
    if (e == QW_OK)
        e = qw_simsrc_open(&s->src, &o->src);
    if (e != QW_OK) {
        qw_sim_destroy(s);
        return e == QW_NOMEM || e == QW_INVAL ? e : QW_IO;
    }
    if (!s->feed_now)
        s->feed_now = qw_now_wall_ns();
    QW_LOG(INFO, "prescan products=%zu first_time_ns=%lld ms=%lld", s->mk.n, (long long)s->feed_now,
           (long long)((mono() - t0) / QW_NS_PER_MS));

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    int tls = o->tls_cert && *o->tls_cert;
    if (tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = s;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        qw_sim_destroy(s);
        return QW_IO;
    }
    memset(&info, 0, sizeof info);
    info.port = o->port;
    const char *want = o->bind && *o->bind ? o->bind : "127.0.0.1";
    char mapped[80], eb[256];
#if defined(LWS_WITH_IPV6)
    const int ipv6 = 1;
#else
    const int ipv6 = 0;
#endif
    if (qw_net_listen_iface(want, o->port, ipv6, mapped, sizeof mapped, &info.iface, eb,
                            sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "sim: %s", eb);
        qw_sim_destroy(s);
        return QW_INVAL;
    }
    info.protocols = protocols;
    info.extensions = s->o.no_deflate ? NULL : exts;
    info.vhost_name = "sim";
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = o->tls_cert;
        info.ssl_private_key_filepath = o->tls_key;
    }
    s->vh = lws_create_vhost(s->ctx, &info);
    if (!s->vh) {
        QW_LOG(ERROR, "cannot listen on %s:%d%s", want, o->port, tls ? " (TLS)" : "");
        qw_sim_destroy(s);
        return QW_IO;
    }
    s->port = lws_get_vhost_listen_port(s->vh);
    if (o->faults.refuse_s > 0)
        s->refuse_until = s->start_mono + (int64_t)(o->faults.refuse_s * 1e9);
    lws_sul_schedule(s->ctx, 0, &s->sul_hb, hb_cb, US(1));
    lws_sul_schedule(s->ctx, 0, &s->sul_tick, tick_cb, US(0.05));
    QW_LOG(INFO, "listen %s://%s:%d products=%zu speed=%g loop=%d", tls ? "wss" : "ws", want,
           s->port, s->mk.n, o->speed, o->loop);
    *out = s;
    return QW_OK;
}

int qw_sim_port(const qw_sim *s)
{
    return s->port;
}

qw_err qw_sim_run(qw_sim *s, volatile sig_atomic_t *stop)
{
    s->stop = stop;
    while (!s->stopping && !(stop && *stop))
        if (lws_service(s->ctx, 0) < 0)
            break;
    s->stopping = 1;
    return QW_OK;
}

void qw_sim_summary(const qw_sim *s, char *buf, size_t cap)
{
    const qw_sim_stats *t = &s->st;
    snprintf(buf, cap,
             "{\"sim\":\"summary\",\"port\":%d,\"connections\":%llu,\"refused\":%llu,"
             "\"subscribes\":%llu,\"unsubscribes\":%llu,\"errors_sent\":%llu,\"timeouts\":%llu,"
             "\"slow_disconnects\":%llu,\"messages\":%llu,\"bytes\":%llu,\"source_messages\":%llu,"
             "\"source_restarts\":%llu,\"faults\":{\"drop\":%llu,\"skip\":%llu,\"malformed\":%llu,"
             "\"oversize\":%llu,\"stall\":%llu,\"refuse\":%llu,\"slowread\":%llu}}",
             s->port, (unsigned long long)t->connections, (unsigned long long)t->refused,
             (unsigned long long)t->subscribes, (unsigned long long)t->unsubscribes,
             (unsigned long long)t->errors_sent, (unsigned long long)t->timeouts,
             (unsigned long long)t->slow_disconnects, (unsigned long long)t->messages,
             (unsigned long long)t->bytes, (unsigned long long)t->source_messages,
             (unsigned long long)t->source_restarts, (unsigned long long)t->f_drop,
             (unsigned long long)t->f_skip, (unsigned long long)t->f_malformed,
             (unsigned long long)t->f_oversize, (unsigned long long)t->f_stall,
             (unsigned long long)t->f_refuse, (unsigned long long)t->f_slowread);
}

void qw_sim_destroy(qw_sim *s)
{
    if (!s)
        return;
    if (s->ctx) {
        s->stopping = 1;
        lws_sul_cancel(&s->sul_pump);
        lws_sul_cancel(&s->sul_hb);
        lws_sul_cancel(&s->sul_tick);
        lws_context_destroy(s->ctx); /* closes every connection (CLOSED frees them) */
    }
    qw_simsrc_close(s->src);
    qw_market_free(&s->mk);
    qw_sbuf_free(&s->e1);
    qw_sbuf_free(&s->e2);
    qw_sbuf_free(&s->zb);
    qw_free(s->lb);
    qw_free(s->la);
    qw_free(s->chg);
    qw_free(s->tr);
    qw_free(s);
}

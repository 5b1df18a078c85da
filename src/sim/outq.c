/* outq.c: the simulator's per-connection output queues — messages queued
 * for lws to frame (permessage-deflate connections) or framed here and
 * batched into large raw writes (no extension), plus the faults that act
 * around streamed messages (docs/SIM.md). */
#define QW_MODULE "sim"
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/log.h"
#include "ingest/wsproto.h"
#include "sim/server_int.h"

/* ---- output queue ---- */

#define FRAME_HDR_MAX 10 /* server->client frame header, unmasked */

static void q_push(client *c, outmsg *m)
{
    m->next = NULL;
    if (c->qt)
        c->qt->next = m;
    else
        c->qh = m;
    c->qt = m;
    c->qbytes += m->len;
    if (c->wsi && !c->stalled)
        lws_callback_on_writable(c->wsi);
}

/* 0, or -1 after closing c for going over its output bound. */
static int q_limit(client *c, size_t len)
{
    struct qw_sim *s = c->srv;
    size_t lim = s->o.queue_limit ? s->o.queue_limit : (size_t)64 << 20;
    if (c->qbytes + len <= lim)
        return 0;
    s->st.slow_disconnects++;
    QW_LOG(WARN, "disconnect client=%llu reason=ErrSlowConsume queued=%zu limit=%zu",
           (unsigned long long)c->id, c->qbytes + len, lim);
    qw__sim_kill(c, "ErrSlowConsume");
    return -1;
}

static outmsg *q_alloc(client *c, size_t len)
{
    if (q_limit(c, len))
        return NULL;
    outmsg *m = qw_malloc(sizeof *m + LWS_PRE + len);
    if (!m) {
        qw__sim_kill(c, "out of memory");
        return NULL;
    }
    memset(m, 0, sizeof *m);
    m->kind = OM_DATA;
    m->len = len;
    return m;
}

static void q_marker(client *c, uint8_t kind)
{
    outmsg *m = qw_malloc(sizeof *m + LWS_PRE);
    if (!m)
        return;
    memset(m, 0, sizeof *m);
    m->kind = kind;
    q_push(c, m);
}

void qw__sim_q_free(client *c)
{
    while (c->qh) {
        outmsg *m = c->qh;
        c->qh = m->next;
        qw_free(m);
    }
    c->qt = NULL;
    c->qbytes = 0;
}

/* One part of a message; p NULL = n bytes of 'x' (padding). */
typedef struct part {
    const void *p;
    size_t n;
} part;

/* The OM_RAW tail node with room for need more bytes (a new one if not). */
static outmsg *raw_tail(client *c, size_t need)
{
    outmsg *m = c->qt;
    if (m && m->kind == OM_RAW && m->cap - m->len >= need)
        return m;
    size_t cap = need > RAW_NODE ? need : RAW_NODE;
    if (c->spare && c->spare->cap >= cap) {
        m = c->spare;
        c->spare = NULL;
        cap = m->cap;
    } else {
        m = qw_malloc(sizeof *m + LWS_PRE + cap);
        if (!m) {
            qw__sim_kill(c, "out of memory");
            return NULL;
        }
    }
    memset(m, 0, sizeof *m);
    m->kind = OM_RAW;
    m->cap = cap;
    q_push(c, m); /* len 0: adds nothing to qbytes */
    return m;
}

/* deflate n bytes (p NULL: n 'x') into b with flush; 0 or -1 */
static int zrun(z_stream *z, qw_sbuf *b, const void *p, size_t n, int flush)
{
    static char xs[4096];
    if (!p && !xs[0])
        memset(xs, 'x', sizeof xs);
    do {
        size_t take = p ? n : n < sizeof xs ? n : sizeof xs;
        z->next_in = (unsigned char *)(p ? p : xs);
        z->avail_in = (uInt)take;
        int fl = take == n ? flush : Z_NO_FLUSH;
        for (;;) {
            if (!qw_sbuf_reserve(b, 1024 + take / 2))
                return -1;
            size_t room = b->cap - b->len;
            z->next_out = (unsigned char *)b->p + b->len;
            z->avail_out = (uInt)room;
            int r = deflate(z, fl);
            b->len += room - z->avail_out;
            if (r == Z_STREAM_ERROR)
                return -1;
            if (z->avail_in == 0 && z->avail_out != 0)
                break;
        }
        n -= take;
    } while (n);
    return 0;
}

/* The permessage-deflate payload of the parts into s->zb (the sync
 * flush's 00 00 ff ff tail removed, RFC 7692 7.2.1): 0, or -1. */
static int zmsg(client *c, const part *v, int nv)
{
    qw_sbuf *b = &c->srv->zb;
    qw_sbuf_reset(b);
    for (int i = 0; i < nv; i++)
        if (zrun(c->z, b, v[i].p, v[i].n, i + 1 == nv ? Z_SYNC_FLUSH : Z_NO_FLUSH) != 0)
            return -1;
    if (b->len < 4 || memcmp(b->p + b->len - 4, "\x00\x00\xff\xff", 4) != 0)
        return -1;
    b->len -= 4;
    if (c->znct)
        deflateReset(c->z);
    return 0;
}

/* Queue one text message made of the parts v[0..nv). */
static void q_msg(client *c, const part *v, int nv)
{
    size_t n = 0;
    for (int i = 0; i < nv; i++)
        n += v[i].n;
    if (!c->raw) { /* lws frames it (and runs the extension) at write time */
        outmsg *m = q_alloc(c, n);
        if (!m)
            return;
        unsigned char *w = m->buf + LWS_PRE;
        for (int i = 0; i < nv; i++, w += v[i - 1].n)
            if (v[i].p)
                memcpy(w, v[i].p, v[i].n);
            else
                memset(w, 'x', v[i].n);
        q_push(c, m);
        return;
    }
    /* our own frames: CHUNK-byte fragments as the lws path makes them */
    size_t plain = n;
    part zp;
    if (c->z) {
        if (zmsg(c, v, nv) != 0) {
            qw__sim_kill(c, "out of memory");
            return;
        }
        zp.p = c->srv->zb.p;
        zp.n = n = c->srv->zb.len;
        v = &zp;
        nv = 1;
    }
    size_t nfr = n ? (n + CHUNK - 1) / CHUNK : 1, need = n + nfr * FRAME_HDR_MAX;
    if (q_limit(c, need))
        return;
    outmsg *m = raw_tail(c, need);
    if (!m)
        return;
    unsigned char *w0 = m->buf + LWS_PRE + m->len, *w = w0;
    size_t done = 0, po = 0;
    int pi = 0;
    for (size_t f = 0; f < nfr; f++) {
        size_t fl = n - done > CHUNK ? CHUNK : n - done;
        /* text, then continuations; RSV1 on the first frame of a compressed message */
        w += qw_ws_frame_hdr(w, f + 1 == nfr, f == 0 && c->z,
                             f == 0 ? QW_WS_OP_TEXT : QW_WS_OP_CONT, fl, NULL);
        for (size_t k = fl; k;) {
            size_t take = v[pi].n - po < k ? v[pi].n - po : k;
            if (v[pi].p)
                memcpy(w, (const char *)v[pi].p + po, take);
            else
                memset(w, 'x', take);
            w += take, po += take, k -= take;
            if (po == v[pi].n)
                pi++, po = 0;
        }
        done += fl;
    }
    size_t added = (size_t)(w - w0);
    m->len += added;
    m->nmsg++;
    m->pbytes += plain;
    c->qbytes += added;
    if (c->wsi && !c->stalled)
        lws_callback_on_writable(c->wsi);
}

static void q_text(client *c, const char *p, size_t n)
{
    part v = {p, n};
    q_msg(c, &v, 1);
}

/* ---- faults around streamed messages ---- */

static const char *malformed_kind(client *c, char *buf, size_t cap, size_t *n)
{
    struct qw_sim *s = c->srv;
    const char *prod = s->mk.n ? s->mk.p[0].id : "BTC-USD";
    int k = (int)(c->nmal++ % 4), adv = c->proto == P_ADV;
    static const char *const names[] = {"truncated", "wrong_types", "bad_values", "not_json"};
    switch (k) {
    case 0:
        *n =
            (size_t)snprintf(buf, cap,
                             adv ? "{\"channel\":\"l2_data\",\"timestamp\":\"2026-01-02T00:00:00Z\""
                                   ",\"sequence_num\":"
                                 : "{\"type\":\"l2update\",\"product_id\":\"%s\",\"changes\":[["
                                   "\"buy\",\"100",
                             prod);
        break;
    case 1:
        *n = (size_t)snprintf(
            buf, cap,
            adv ? "{\"channel\":\"l2_data\",\"timestamp\":7,\"sequence_num\":\"x\","
                  "\"events\":{\"type\":\"update\"}}"
                : "{\"type\":\"l2update\",\"product_id\":42,\"changes\":{\"buy\":1}"
                  ",\"time\":7}");
        break;
    case 2:
        *n = (size_t)snprintf(
            buf, cap,
            adv ? "{\"channel\":\"market_trades\",\"timestamp\":\"2026-13-45T99:00:00Z\","
                  "\"sequence_num\":\"x\",\"events\":[{\"type\":\"update\",\"trades\":[{"
                  "\"product_id\":\"%s\",\"price\":1,\"size\":\"-1\",\"side\":\"UP\"}]}]}"
                : "{\"type\":\"match\",\"trade_id\":\"abc\",\"side\":\"up\",\"size\":1.5,\"price\":"
                  "null,\"product_id\":\"%s\",\"sequence\":\"1\",\"time\":\"yesterday\"}",
            prod);
        break;
    default: *n = (size_t)snprintf(buf, cap, "not json }{ ["); break;
    }
    return names[k];
}

static void post_faults(client *c)
{
    struct qw_sim *s = c->srv;
    const qw_sim_faults *f = &s->o.faults;
    if (f->malformed_n && c->nstream % f->malformed_n == 0) {
        char buf[512];
        size_t n;
        const char *kind = malformed_kind(c, buf, sizeof buf, &n);
        q_text(c, buf, n);
        s->st.f_malformed++;
        QW_LOG(DEBUG, "fault=malformed client=%llu kind=%s", (unsigned long long)c->id, kind);
    }
    if (f->oversize_bytes && !c->oversize_done && c->nstream >= f->oversize_at) {
        c->oversize_done = 1;
        qw_sbuf tmp = {0}; /* aside: s->e1/e2 may hold the caller's encoding */
        if (c->proto == P_ADV) {
            qw_enc_adv_head(&tmp, "padding", qw__sim_feed_clock(s));
            qw_sbuf_i64(&tmp, (int64_t)c->seqnum++);
            qw_sbuf_str(&tmp, ",\"events\":[],\"pad\":\"");
        } else {
            qw_sbuf_str(&tmp, "{\"type\":\"padding\",\"pad\":\"");
        }
        size_t want = (size_t)f->oversize_bytes, tail = 2;
        size_t pad = want > tmp.len + tail ? want - tmp.len - tail : 0;
        if (!tmp.oom) {
            part v[3] = {{tmp.p, tmp.len}, {NULL, pad}, {"\"}", tail}};
            q_msg(c, v, 3);
            if (!c->kill) {
                s->st.f_oversize++;
                QW_LOG(INFO, "fault=oversize client=%llu bytes=%zu after=%llu",
                       (unsigned long long)c->id, tmp.len + pad + tail,
                       (unsigned long long)c->nstream);
            }
        }
        qw_sbuf_free(&tmp);
    }
    if (f->stall_s > 0 && !c->stall_done && c->nstream >= f->stall_at) {
        c->stall_done = 1;
        q_marker(c, OM_STALL);
    }
    if (c->drop_armed && c->nstream >= f->drop_n) {
        c->drop_armed = 0;
        q_marker(c, OM_DROP);
        c->dead = 1; /* nothing more is queued */
    }
}

void qw__sim_send(client *c, const char *p, size_t n, int streamed, int is_match)
{
    if (c->dead || !p)
        return;
    const qw_sim_faults *f = &c->srv->o.faults;
    if (streamed) {
        c->nstream++;
        if (is_match && f->skip_n && ++c->nmatch % f->skip_n == 0) {
            c->srv->st.f_skip++;
            QW_LOG(DEBUG, "fault=skip client=%llu match=%llu", (unsigned long long)c->id,
                   (unsigned long long)c->nmatch);
            post_faults(c);
            return;
        }
    }
    q_text(c, p, n);
    if (streamed && !c->dead)
        post_faults(c);
}

void qw__sim_send_adv(client *c, const qw_sbuf *head, const qw_sbuf *body, int streamed)
{
    if (c->dead || head->oom || body->oom)
        return;
    const qw_sim_faults *f = &c->srv->o.faults;
    if (streamed) {
        c->nstream++;
        if (f->skip_n && c->nstream % f->skip_n == 0) {
            c->srv->st.f_skip++;
            QW_LOG(DEBUG, "fault=skip client=%llu sequence_num=%llu", (unsigned long long)c->id,
                   (unsigned long long)c->seqnum);
            c->seqnum++; /* consumed: the gap is visible */
            post_faults(c);
            return;
        }
    }
    char d[24];
    size_t dn = 0;
    uint64_t q = c->seqnum++;
    do
        d[sizeof d - 1 - dn++] = (char)('0' + q % 10);
    while (q /= 10);
    part v[3] = {{head->p, head->len}, {d + sizeof d - dn, dn}, {body->p, body->len}};
    q_msg(c, v, 3);
    if (c->dead)
        return;
    if (streamed)
        post_faults(c);
}

/* wsproto_srv.c: the server role of the WebSocket codec (see wsproto.h):
 * the Sec-WebSocket-Key check, the answer to a client's permessage-deflate
 * offer (RFC 7692), and a sender of unmasked, optionally deflated frames.
 * No I/O; the parser for both roles is in wsproto.c.
 *
 * Deflate: level 1 (what lws's permessage-deflate used, and what the
 * dashboard's bandwidth budget was measured with), the window the client
 * allowed (server_max_window_bits, 9..15), memLevel 8. The context is kept
 * between messages unless the client offered server_no_context_takeover:
 * the dashboard's pushes are repetitive JSON and shrink ~10x with it. */
#include "ingest/wsproto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/alloc.h"

#define DEFAULT_MAX ((size_t)32 << 20)
#define HDR_ROOM 10 /* longest unmasked header: 2 + 8 */

int qw_ws_key_ok(const char *key, size_t n)
{
    /* 16 bytes in base64: 22 symbols, then "==" (the last symbol's low
     * 4 bits are padding) */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n != QW_WS_KEY_LEN || key[22] != '=' || key[23] != '=')
        return 0;
    for (size_t i = 0; i < 22; i++)
        if (!key[i] || !strchr(b64, key[i]))
            return 0;
    return ((strchr(b64, key[21]) - b64) & 0x0f) == 0;
}

static int is_sp(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* One offer o[0..n) ("permessage-deflate; a; b=1"): 1 and *pmd when we
 * accept it, 0 to decline it. */
static int offer_ok(const char *o, size_t n, qw_ws_pmd *pmd)
{
    static const char name[] = "permessage-deflate";
    const size_t nl = sizeof name - 1;
    size_t i = 0;
    while (i < n && is_sp(o[i]))
        i++;
    if (n - i < nl || strncasecmp(o + i, name, nl) != 0)
        return 0;
    i += nl;
    while (i < n && is_sp(o[i]))
        i++;
    if (i < n && o[i] != ';')
        return 0; /* "permessage-deflatex" */
    memset(pmd, 0, sizeof *pmd);
    int seen_cmwb = 0;
    while (i < n) {
        i++; /* the ';' */
        while (i < n && is_sp(o[i]))
            i++;
        size_t ks = i;
        while (i < n && o[i] != '=' && o[i] != ';' && !is_sp(o[i]))
            i++;
        size_t kl = i - ks;
        while (i < n && is_sp(o[i]))
            i++;
        int val = -1;
        if (i < n && o[i] == '=') {
            i++;
            while (i < n && is_sp(o[i]))
                i++;
            int q = i < n && o[i] == '"';
            i += (size_t)q;
            size_t ds = i;
            val = 0;
            while (i < n && o[i] >= '0' && o[i] <= '9' && i - ds < 3)
                val = val * 10 + (o[i++] - '0');
            if (i == ds || (q && (i >= n || o[i++] != '"')))
                return 0;
            while (i < n && is_sp(o[i]))
                i++;
        }
        if (i < n && o[i] != ';')
            return 0;
        const char *k = o + ks;
#define KEY(s) (kl == sizeof(s) - 1 && strncasecmp(k, s, kl) == 0)
        if (KEY("server_no_context_takeover") && val < 0 && !pmd->server_no_context_takeover)
            pmd->server_no_context_takeover = 1;
        else if (KEY("client_no_context_takeover") && val < 0 && !pmd->client_no_context_takeover)
            pmd->client_no_context_takeover = 1;
        else if (KEY("server_max_window_bits") && val >= 8 && val <= 15 &&
                 !pmd->server_max_window_bits)
            pmd->server_max_window_bits = val;
        else if (KEY("client_max_window_bits") && (val < 0 || (val >= 8 && val <= 15)) &&
                 !seen_cmwb)
            seen_cmwb = 1; /* a hint we need not answer: our inflater takes any window */
        else
            return 0; /* RFC 7692 5.1: unknown, repeated or invalid: decline */
#undef KEY
    }
    if (pmd->server_max_window_bits == 8)
        return 0;
    pmd->enabled = 1;
    pmd->client_max_window_bits = 15;
    return 1;
}

qw_err qw_ws_server_ext(const char *offer, size_t n, qw_ws_pmd *pmd, char *resp, size_t cap)
{
    memset(pmd, 0, sizeof *pmd);
    if (!cap)
        return QW_TOO_LARGE;
    resp[0] = '\0';
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && offer[i] != ',')
            i++;
        if (offer_ok(offer + s, i - s, pmd)) {
            int w = snprintf(resp, cap, "permessage-deflate%s%s",
                             pmd->server_no_context_takeover ? "; server_no_context_takeover" : "",
                             pmd->client_no_context_takeover ? "; client_no_context_takeover" : "");
            if (w > 0 && (size_t)w < cap && pmd->server_max_window_bits)
                w += snprintf(resp + w, cap - (size_t)w, "; server_max_window_bits=%d",
                              pmd->server_max_window_bits);
            if (w < 0 || (size_t)w >= cap) {
                memset(pmd, 0, sizeof *pmd);
                resp[0] = '\0';
                return QW_TOO_LARGE;
            }
            if (!pmd->server_max_window_bits)
                pmd->server_max_window_bits = 15;
            return QW_OK;
        }
        i++; /* the ',' */
    }
    memset(pmd, 0, sizeof *pmd);
    return QW_OK;
}

/* ---- sender ---- */

qw_err qw_ws_tx_init(qw_ws_tx *t, const qw_ws_pmd *pmd, size_t pre, size_t max)
{
    qw_ws_tx_free(t);
    if (pmd)
        t->pmd = *pmd;
    t->pre = pre;
    t->max = max ? max : DEFAULT_MAX;
    if (t->pmd.enabled) {
        int bits = t->pmd.server_max_window_bits ? t->pmd.server_max_window_bits : 15;
        if (bits < 9 || bits > 15)
            return QW_INVAL;
        z_stream *z = qw_calloc(1, sizeof *z);
        if (!z)
            return QW_NOMEM;
        if (deflateInit2(z, 1, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            qw_free(z);
            return QW_NOMEM;
        }
        t->z = z;
    }
    return QW_OK;
}

void qw_ws_tx_free(qw_ws_tx *t)
{
    if (t->z) {
        deflateEnd(t->z);
        qw_free(t->z);
    }
    qw_free(t->buf);
    memset(t, 0, sizeof *t);
}

/* room for want bytes of payload after pre + HDR_ROOM */
static qw_err reserve(qw_ws_tx *t, size_t want)
{
    if (want > t->max)
        return QW_TOO_LARGE;
    size_t need = t->pre + HDR_ROOM + want;
    if (need <= t->cap)
        return QW_OK;
    size_t c = t->cap ? t->cap : 4096;
    while (c < need)
        c *= 2;
    unsigned char *b = qw_realloc(t->buf, c);
    if (!b)
        return QW_NOMEM;
    t->buf = b;
    t->cap = c;
    return QW_OK;
}

/* deflate p[0..n) with a sync flush into the payload area; *out_n bytes
 * without the final 00 00 ff ff (RFC 7692 7.2.1) */
static qw_err deflate_msg(qw_ws_tx *t, const void *p, size_t n, size_t *out_n)
{
    z_stream *z = t->z;
    size_t used = 0;
    z->next_in = (Bytef *)(uintptr_t)p;
    z->avail_in = (uInt)n;
    qw_err e = reserve(t, n / 2 + 64);
    for (;;) {
        if (e != QW_OK)
            return e;
        size_t room = t->cap - t->pre - HDR_ROOM - used;
        if (room > 0x40000000u)
            room = 0x40000000u;
        z->next_out = t->buf + t->pre + HDR_ROOM + used;
        z->avail_out = (uInt)room;
        int ret = deflate(z, Z_SYNC_FLUSH);
        used += room - z->avail_out;
        if (ret != Z_OK && ret != Z_BUF_ERROR)
            return QW_INVAL;
        if (z->avail_in == 0 && z->avail_out != 0)
            break; /* the flush is complete */
        e = reserve(t, used + (used >> 1) + 64);
    }
    if (used < 4)
        return QW_INVAL; /* cannot happen: a sync flush ends in 00 00 ff ff */
    *out_n = used - 4;
    if (t->pmd.server_no_context_takeover)
        deflateReset(z);
    return QW_OK;
}

qw_err qw_ws_tx_message(qw_ws_tx *t, int opcode, const void *p, size_t n, unsigned char **frame,
                        size_t *len)
{
    int control = opcode >= 0x8;
    if (control && n > 125)
        return QW_INVAL;
    /* an empty message goes uncompressed: a sync flush with no new input
     * gives zlib nothing to emit (RFC 7692 lets any message go plain) */
    int z = t->z && !control && n > 0;
    size_t pn = n;
    qw_err e;
    if (z) {
        e = deflate_msg(t, p, n, &pn);
    } else if ((e = reserve(t, n)) == QW_OK && n) {
        memcpy(t->buf + t->pre + HDR_ROOM, p, n);
    }
    if (e != QW_OK)
        return e;
    unsigned char h[QW_WS_HDR_MAX];
    size_t hl = qw_ws_frame_hdr(h, 1, z, opcode, pn, NULL);
    unsigned char *f = t->buf + t->pre + HDR_ROOM - hl;
    memcpy(f, h, hl);
    *frame = f;
    *len = hl + pn;
    t->in_bytes += n;
    t->out_bytes += hl + pn;
    return QW_OK;
}

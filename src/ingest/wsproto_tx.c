/* wsproto_tx.c: frames out, for both roles of the WebSocket codec (see
 * wsproto.h): the frame header writer, a whole frame (masked by a client,
 * plain from a server), the close payload, and qw_ws_tx, the server's
 * sender of whole messages, deflated when permessage-deflate was agreed.
 *
 * Deflate: level 1 (what lws's permessage-deflate used, and what the
 * dashboard's bandwidth budget was measured with), the window the client
 * allowed (server_max_window_bits, 9..15), memLevel 8. The context is kept
 * between messages unless the client offered server_no_context_takeover:
 * the dashboard's pushes are repetitive JSON and shrink ~10x with it. */
#include "ingest/wsproto.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"

#define DEFAULT_MAX ((size_t)32 << 20)
#define HDR_ROOM 10 /* longest unmasked header: 2 + 8 */

/* ---- frames ---- */

size_t qw_ws_frame_hdr(unsigned char *out, int fin, int rsv1, int opcode, uint64_t n,
                       const unsigned char *mask)
{
    size_t hl = 2;
    out[0] = (unsigned char)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f));
    unsigned char m = mask ? 0x80 : 0;
    if (n < 126) {
        out[1] = (unsigned char)(m | n);
    } else if (n < 65536) {
        out[1] = m | 126;
        out[2] = (unsigned char)(n >> 8);
        out[3] = (unsigned char)n;
        hl = 4;
    } else {
        out[1] = m | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (unsigned char)(n >> (56 - 8 * i));
        hl = 10;
    }
    if (mask) {
        memcpy(out + hl, mask, 4);
        hl += 4;
    }
    return hl;
}

size_t qw_ws_frame(unsigned char *out, size_t cap, int opcode, const void *payload_p, size_t n,
                   const unsigned char *mask)
{
    if (opcode >= 0x8 && n > 125)
        return 0;
    size_t hl = 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + (mask ? 4 : 0);
    if (cap < hl || cap - hl < n)
        return 0;
    qw_ws_frame_hdr(out, 1, 0, opcode, n, mask);
    const unsigned char *s = payload_p;
    if (!mask) {
        if (n)
            memcpy(out + hl, s, n);
        return hl + n;
    }
    for (size_t i = 0; i < n; i++)
        out[hl + i] = s[i] ^ mask[i & 3];
    return hl + n;
}

size_t qw_ws_close_payload(unsigned char out[125], int code, const char *reason)
{
    out[0] = (unsigned char)(code >> 8);
    out[1] = (unsigned char)code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > 123)
        n = 123;
    if (n)
        memcpy(out + 2, reason, n);
    return 2 + n;
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

/* subscribe.c: per-client subscriptions and response compression for the
 * dashboard (docs/DASHBOARD.md "Subscriptions").
 *
 * A WebSocket client that sends {"subscribe":"P"} gets, from then on, the
 * state with only P's full object plus a light summary of every product;
 * its labels are deltas (only those newer than the last push it got).
 * Everything is cut from the published snapshot with the offsets state.c
 * recorded while building it (dash_ix): no pipeline access, no JSON
 * re-parse. Also the WebSocket write callback that sends them. Server
 * thread. */
#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "dashboard/dash_int.h"

static const dash_ix_prod *ix_find(const dash_ix *ix, const char *product)
{
    for (size_t i = 0; i < ix->nprods; i++)
        if (strcmp(ix->prods[i].product, product) == 0)
            return &ix->prods[i];
    return NULL;
}

/* The JSON string value after "key": in msg (no escapes accepted: product
 * ids are [A-Z0-9-]). Returns 1 and the value, 0 for null, -1 if absent or
 * malformed. */
static int str_field(const char *msg, size_t n, const char *key, char *val, size_t cap)
{
    char k[40];
    int kl = snprintf(k, sizeof k, "\"%s\"", key);
    const char *end = msg + n, *p = memmem(msg, n, k, (size_t)kl);
    if (!p)
        return -1;
    p += kl;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || *p++ != ':')
        return -1;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
        val[0] = '\0';
        return 0;
    }
    if (p >= end || *p++ != '"')
        return -1;
    size_t i = 0;
    for (; p < end && *p != '"'; p++) {
        if (*p == '\\' || (unsigned char)*p < 0x20 || i + 1 >= cap)
            return -1;
        val[i++] = *p;
    }
    if (p >= end)
        return -1;
    val[i] = '\0';
    return 1;
}

static void set_err(dash_client *c, const char *what, const char *product)
{
    /* product is a plain string (str_field refuses quotes and escapes) */
    snprintf(c->err, sizeof c->err, "{\"error\":\"%s%s\"}", what, product);
}

void qw__dash_client_msg(qw_dash *d, dash_client *c, const char *msg, size_t n)
{
    char want[64];
    int r = str_field(msg, n, "subscribe", want, sizeof want);
    if (r < 0) {
        set_err(c, "expected {\\\"subscribe\\\":\\\"PRODUCT\\\"}", "");
        return;
    }
    if (r == 0 || !want[0]) { /* back to every product */
        c->sub[0] = '\0';
        c->sent_version = 0;
        return;
    }
    dash_snap *s = qw__dash_snap_get(d);
    int known = s && ix_find(&s->ix, want);
    qw__dash_snap_put(d, s);
    size_t wl = strlen(want);
    if (!known || wl >= sizeof c->sub) {
        set_err(c, "unknown product: ", want);
        return;
    }
    memcpy(c->sub, want, wl + 1);
    c->lab_seq = 0;      /* the first push has every recent label */
    c->sent_version = 0; /* and comes with the next wake-up */
}

int qw__dash_compose(const dash_snap *s, const char *product, int delta, uint64_t *lab_seq,
                     qw_dbuf *out)
{
    const dash_ix_prod *p = ix_find(&s->ix, product);
    if (!p)
        return -1;
    const char *t = s->state.b + s->state.pre;
    qw__dbuf_reset(out, QW_DASH_PRE);
    qw__dbuf_put(out, t, s->ix.prods_off);
    qw__dbuf_put(out, "\"subscribed\":", 13);
    qw__dbuf_str(out, product);
    qw__dbuf_printf(out, ",\"labels_delta\":%s,\"summary\":", delta ? "true" : "false");
    qw__dbuf_put(out, s->ix.summary.b + s->ix.summary.pre, s->ix.summary.n);
    qw__dbuf_put(out, ",\"products\":[", 13);
    /* labels with sequence numbers in (since, lab_seq]: label i of nlab has
     * lab_seq - nlab + 1 + i */
    uint64_t since = delta ? *lab_seq : 0;
    size_t k = 0;
    if (since > p->lab_seq)
        since = 0; /* cannot happen (sequences only grow): send them all */
    if (since + p->nlab > p->lab_seq)
        k = (size_t)(since + p->nlab - p->lab_seq);
    if (k > p->nlab)
        k = p->nlab;
    qw__dbuf_put(out, t + p->off, p->lab_off - p->off);
    if (k < p->nlab) {
        size_t from = p->lab_at[k] + (k > 0); /* skip the separating comma */
        qw__dbuf_put(out, t + from, p->lab_end - from);
    }
    qw__dbuf_put(out, t + p->lab_end, p->end - p->lab_end);
    qw__dbuf_put(out, "]}", 2);
    *lab_seq = p->lab_seq;
    return out->oom ? -1 : 0;
}

int qw__dash_gzip(const char *text, size_t n, qw_dbuf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* level 6, 15 window bits + 16: a gzip wrapper */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    qw__dbuf_reset(out, QW_DASH_PRE);
    if (qw__dbuf_reserve(out, deflateBound(&z, (uLong)n)) != 0) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)text;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->b + out->pre;
    z.avail_out = (uInt)(out->cap - out->pre - 1);
    int rc = deflate(&z, Z_FINISH);
    out->n = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

/* cb_exchange.c: the Coinbase Exchange feed (ws-feed.exchange.coinbase.com).
 *
 * Types: snapshot, l2update (level2 and level2_batch), match, last_match,
 * heartbeat, subscriptions, error; ticker/status are valid but ignored;
 * anything else is counted as unknown. Shapes per docs/coinbase_protocol.md
 * section 1.3. Trade `side` on the wire is the MAKER side: "sell" means the
 * buyer was the aggressor.
 *
 * Keys may come in any order. The big arrays (bids, asks, changes) are
 * parsed straight into the scratch arrays once "type" is known (it is the
 * first key on the real feed); when they come before "type" their span is
 * remembered, skipped (validated) and parsed after the object is read.
 */
#include <stdio.h>
#include <string.h>

#include "core/dec.h"
#include "feed/feed_int.h"

enum xtype {
    X_NONE,
    X_SNAPSHOT,
    X_L2UPDATE,
    X_MATCH,
    X_LAST_MATCH,
    X_HEARTBEAT,
    X_SUBSCRIPTIONS,
    X_ERROR,
    X_IGNORED,
    X_UNKNOWN
};

static enum xtype classify(const qw__jstr *t)
{
    if (QW__JS_EQ(t, "l2update"))
        return X_L2UPDATE;
    if (QW__JS_EQ(t, "match"))
        return X_MATCH;
    if (QW__JS_EQ(t, "snapshot"))
        return X_SNAPSHOT;
    if (QW__JS_EQ(t, "last_match"))
        return X_LAST_MATCH;
    if (QW__JS_EQ(t, "heartbeat"))
        return X_HEARTBEAT;
    if (QW__JS_EQ(t, "subscriptions"))
        return X_SUBSCRIPTIONS;
    if (QW__JS_EQ(t, "error"))
        return X_ERROR;
    if (QW__JS_EQ(t, "ticker") || QW__JS_EQ(t, "status") || QW__JS_EQ(t, "received") ||
        QW__JS_EQ(t, "open") || QW__JS_EQ(t, "done") || QW__JS_EQ(t, "change") ||
        QW__JS_EQ(t, "activate") || QW__JS_EQ(t, "pong"))
        return X_IGNORED;
    return X_UNKNOWN;
}

/* [[price, size], ...] -> chg with the given side. */
static int parse_levels(qw_feed *f, qw__js *j, uint8_t side)
{
    int first = 1, r;
    if (!qw__js_arr_open(j))
        return 0;
    while ((r = qw__js_arr_next(j, &first)) == 1) {
        int f2 = 1;
        qw_chg *c;
        if (!qw__js_arr_open(j) || !qw__feed_push_chg(f, j, &c))
            return 0;
        c->side = side;
        c->t_ns = 0;
        if (qw__js_arr_next(j, &f2) != 1 || !qw__feed_dec(j, "price", &c->px) ||
            qw__js_arr_next(j, &f2) != 1 || !qw__feed_sz(j, "size", &c->sz))
            return qw__js_fail(j, QW_BAD_TYPE, "snapshot level: expected [price, size]");
        if (qw__js_arr_next(j, &f2) != 0)
            return qw__js_fail(j, QW_BAD_TYPE, "snapshot level: expected [price, size]");
    }
    return r == 0;
}

static int parse_side(qw__js *j, uint8_t *side)
{
    qw__jstr s;
    if (qw__js_peek(j) != '"')
        return qw__js_fail(j, QW_BAD_TYPE, "side: expected a string");
    if (!qw__js_string(j, &s))
        return 0;
    if (QW__JS_EQ(&s, "buy"))
        *side = QW_FEED_BID;
    else if (QW__JS_EQ(&s, "sell"))
        *side = QW_FEED_ASK;
    else
        return qw__js_fail(j, QW_BAD_SIDE, "side: expected \"buy\" or \"sell\"");
    return 1;
}

/* Fast path for one compact change element, exactly
 * ["buy"|"sell","<decimal>","<decimal>"] with no whitespace or escapes.
 * On any deviation the cursor is restored and 0 returned, and the generic
 * path parses (and, if need be, rejects) the element. */
static int change_fast(qw__js *j, qw_chg *c)
{
    const unsigned char *save = j->p, *end = j->end;
    const unsigned char *p = j->p;
    if (end - p >= 8 && memcmp(p, "[\"buy\",", 7) == 0) {
        c->side = QW_FEED_BID;
        p += 7;
    } else if (end - p >= 9 && memcmp(p, "[\"sell\",", 8) == 0) {
        c->side = QW_FEED_ASK;
        p += 8;
    } else {
        return 0;
    }
    j->p = p;
    if (*j->p != '"' || !qw__feed_dec_fast(j, &c->px) || j->p >= end || *j->p != ',' ||
        (j->p++, j->p >= end) || *j->p != '"' || !qw__feed_sz_fast(j, &c->sz) || j->p >= end ||
        *j->p != ']') {
        j->p = save;
        return 0;
    }
    j->p++;
    return 1;
}

/* [[side, price, size], ...] */
static int parse_changes(qw_feed *f, qw__js *j)
{
    int first = 1, r;
    if (!qw__js_arr_open(j))
        return 0;
    while ((r = qw__js_arr_next(j, &first)) == 1) {
        int f2 = 1;
        qw_chg *c;
        if (j->depth + 1 <= j->max_depth && j->p < j->end && *j->p == '[') {
            if (!qw__feed_push_chg(f, j, &c))
                return 0;
            c->t_ns = 0;
            if (change_fast(j, c))
                continue;
            f->msg.nchg--; /* generic path below pushes again */
        }
        if (!qw__js_arr_open(j) || !qw__feed_push_chg(f, j, &c))
            return 0;
        c->t_ns = 0;
        if (qw__js_arr_next(j, &f2) != 1 || !parse_side(j, &c->side) ||
            qw__js_arr_next(j, &f2) != 1 || !qw__feed_dec(j, "price", &c->px) ||
            qw__js_arr_next(j, &f2) != 1 || !qw__feed_sz(j, "size", &c->sz))
            return qw__js_fail(j, QW_BAD_TYPE, "change: expected [side, price, size]");
        if (qw__js_arr_next(j, &f2) != 0)
            return qw__js_fail(j, QW_BAD_TYPE, "change: expected [side, price, size]");
    }
    return r == 0;
}

static int text_field(qw__js *j, char *dst, size_t cap)
{
    qw__jstr s;
    size_t n;
    if (qw__js_peek(j) != '"')
        return qw__js_skip(j); /* message/reason of another type: keep going */
    if (!qw__js_string(j, &s))
        return 0;
    if (!qw__js_decode(&s, dst, cap, &n)) {
        size_t k = s.n < cap - 1 ? s.n : cap - 1; /* keep a raw prefix */
        memcpy(dst, s.s, k);
        dst[k] = '\0';
    }
    return 1;
}

/* Deferred big arrays (seen before "type"). */
typedef struct deferred {
    const char *at;
    int which; /* 0 bids, 1 asks, 2 changes */
} deferred;

int qw__feed_parse_exchange(qw_feed *f, qw__js *j, qw_msg *m)
{
    enum xtype type = X_NONE;
    qw__jstr key, tstr = {0}, sstr;
    int have_time = 0, have_product = 0, have_px = 0, have_sz = 0, have_side = 0;
    int have_tid = 0, have_bids = 0, have_asks = 0, have_changes = 0, have_seq = 0;
    char product[QW_PRODUCT_MAX] = "";
    uint8_t product_len = 0, side = 0;
    int64_t px = 0, tid = 0, seq = -1;
    qw_sz sz = 0;
    char msgtxt[120] = "", reason[120] = "";
    deferred dfr[3];
    int ndfr = 0, first = 1, r;

    m->feed = QW_FEED_EXCHANGE;
    if (!qw__js_obj_open(j))
        return 0;
    while ((r = qw__js_obj_next(j, &first, &key)) == 1) {
        const char *k = key.s;
        size_t kn = key.esc ? 0 : key.n; /* escaped keys: compare slowly below */
        char kb[32];
        if (key.esc) {
            if (!qw__js_decode(&key, kb, sizeof kb, &kn))
                kn = 0;
            k = kb;
        }
#define KEY(lit) (kn == sizeof(lit) - 1 && memcmp(k, lit, kn) == 0)
        if (KEY("type")) {
            if (type != X_NONE)
                return qw__js_fail(j, QW_BAD_JSON, "duplicate key \"type\"");
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "type: expected a string");
            if (!qw__js_string(j, &sstr))
                return 0;
            type = classify(&sstr);
            if (type == X_IGNORED || type == X_UNKNOWN) {
                size_t n;
                if (!qw__js_decode(&sstr, m->text, sizeof m->text, &n))
                    m->text[0] = '\0';
            }
        } else if (KEY("product_id")) {
            if (!qw__js_once(j, &have_product, "product_id"))
                return 0;
            if (type == X_IGNORED || type == X_UNKNOWN || type == X_SUBSCRIPTIONS) {
                if (!qw__js_skip(j))
                    return 0;
            } else if (!qw__feed_product(j, product, &product_len)) {
                return 0;
            }
        } else if (KEY("time")) {
            if (!qw__js_once(j, &have_time, "time"))
                return 0;
            if (!qw__feed_time_str(j, &tstr))
                return 0;
        } else if ((KEY("bids") || KEY("asks") || KEY("changes")) &&
                   (type == X_NONE || type == X_SNAPSHOT || type == X_L2UPDATE)) {
            int which = KEY("bids") ? 0 : KEY("asks") ? 1 : 2;
            int *have = which == 0 ? &have_bids : which == 1 ? &have_asks : &have_changes;
            if (!qw__js_once(j, have, which == 0 ? "bids" : which == 1 ? "asks" : "changes"))
                return 0;
            if (type == X_NONE) {
                dfr[ndfr].at = (const char *)j->p;
                dfr[ndfr++].which = which;
                if (!qw__js_skip(j))
                    return 0;
            } else if (which == 2 ? (type == X_L2UPDATE ? !parse_changes(f, j) : !qw__js_skip(j))
                                  : (type == X_SNAPSHOT
                                         ? !parse_levels(f, j, which ? QW_FEED_ASK : QW_FEED_BID)
                                         : !qw__js_skip(j))) {
                return 0;
            }
        } else if ((KEY("price") || KEY("size")) && type != X_IGNORED && type != X_UNKNOWN) {
            int isp = KEY("price");
            int *seen = isp ? &have_px : &have_sz;
            if (!qw__js_once(j, seen, isp ? "price" : "size"))
                return 0;
            if (isp ? !qw__feed_dec(j, "price", &px) : !qw__feed_sz(j, "size", &sz))
                return 0;
        } else if (KEY("side") && type != X_IGNORED && type != X_UNKNOWN) {
            if (!qw__js_once(j, &have_side, "side"))
                return 0;
            if (!parse_side(j, &side))
                return 0;
        } else if (KEY("trade_id") && type != X_IGNORED && type != X_UNKNOWN) {
            if (!qw__js_once(j, &have_tid, "trade_id"))
                return 0;
            if (!qw__js_int64(j, &tid))
                return 0;
        } else if (KEY("sequence") && type != X_IGNORED && type != X_UNKNOWN) {
            if (!qw__js_once(j, &have_seq, "sequence"))
                return 0;
            if (!qw__js_int64(j, &seq))
                return 0;
        } else if (KEY("message")) {
            if (!text_field(j, msgtxt, sizeof msgtxt))
                return 0;
        } else if (KEY("reason")) {
            if (!text_field(j, reason, sizeof reason))
                return 0;
        } else if (!qw__js_skip(j)) {
            return 0;
        }
#undef KEY
    }
    if (r < 0)
        return 0;
    if (type == X_NONE)
        return qw__js_fail(j, QW_MISSING_FIELD, "no \"type\"");

    /* Deferred arrays, now that the type is known. */
    for (int i = 0; i < ndfr; i++) {
        qw__js sub = *j;
        sub.p = (const unsigned char *)dfr[i].at;
        sub.depth = 1;
        int ok = 1;
        if (dfr[i].which == 2 && type == X_L2UPDATE)
            ok = parse_changes(f, &sub);
        else if (dfr[i].which < 2 && type == X_SNAPSHOT)
            ok = parse_levels(f, &sub, dfr[i].which ? QW_FEED_ASK : QW_FEED_BID);
        if (!ok) {
            j->err = sub.err;
            return 0;
        }
    }

    int64_t t = 0;
    if (have_time && type != X_IGNORED && type != X_UNKNOWN && type != X_SUBSCRIPTIONS &&
        !qw__feed_time(f, j, &tstr, 0, &t))
        return 0;
    m->t_ns = t;

    qw_group *g;
    switch (type) {
    case X_SNAPSHOT:
    case X_L2UPDATE:
        if (!have_product)
            return qw__js_fail(j, QW_MISSING_FIELD, "no \"product_id\"");
        if (type == X_SNAPSHOT && (!have_bids || !have_asks))
            return qw__js_fail(j, QW_MISSING_FIELD, "snapshot without bids/asks");
        if (type == X_L2UPDATE && !have_changes)
            return qw__js_fail(j, QW_MISSING_FIELD, "l2update without changes");
        if (type == X_L2UPDATE && !have_time) {
            t = f->last_time; /* repaired: missing time */
            m->times_repaired++;
        }
        if (!qw__feed_push_group(f, j, &g))
            return 0;
        g->kind = type == X_SNAPSHOT ? QW_GRP_SNAPSHOT : QW_GRP_UPDATE;
        memcpy(g->product, product, QW_PRODUCT_MAX);
        g->product_len = product_len;
        g->t_ns = t;
        g->first = 0;
        g->count = (uint32_t)m->nchg;
        for (size_t i = 0; i < m->nchg; i++)
            f->chg[i].t_ns = t;
        m->type = QW_MSG_BOOK;
        return 1;
    case X_MATCH:
    case X_LAST_MATCH: {
        if (!have_product || !have_px || !have_sz || !have_side || !have_tid)
            return qw__js_fail(j, QW_MISSING_FIELD,
                               "match without product/price/size/side/trade_id");
        if (!have_time) {
            t = f->last_time;
            m->times_repaired++;
        }
        qw_trade *tr;
        if (!qw__feed_push_trade(f, j, &tr))
            return 0;
        tr->px = px;
        tr->sz = sz;
        tr->t_ns = t;
        tr->seq = seq;
        tr->aggressor = side == QW_FEED_ASK ? QW_FEED_BID : QW_FEED_ASK; /* maker -> taker */
        tr->snapshot = type == X_LAST_MATCH;
        memcpy(tr->product, product, QW_PRODUCT_MAX);
        tr->product_len = product_len;
        char tb[QW_DEC_STR_MAX];
        size_t n = 0;
        uint64_t u = tid < 0 ? (uint64_t)0 - (uint64_t)tid : (uint64_t)tid;
        do {
            tb[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        size_t o = 0;
        if (tid < 0)
            tr->trade_id[o++] = '-';
        while (n)
            tr->trade_id[o++] = tb[--n];
        tr->trade_id[o] = '\0';
        m->type = QW_MSG_TRADES;
        return 1;
    }
    case X_HEARTBEAT:
        m->type = QW_MSG_HEARTBEAT;
        if (have_product) {
            if (!qw__feed_push_group(f, j, &g))
                return 0;
            g->kind = QW_GRP_HEARTBEAT;
            memcpy(g->product, product, QW_PRODUCT_MAX);
            g->product_len = product_len;
            g->t_ns = t;
        }
        return 1;
    case X_SUBSCRIPTIONS: m->type = QW_MSG_SUBSCRIPTIONS; return 1;
    case X_ERROR:
        m->type = QW_MSG_ERROR;
        snprintf(m->text, sizeof m->text, "%s%s%s", msgtxt, reason[0] ? ": " : "", reason);
        return 1;
    case X_UNKNOWN:
        m->unknown_type = 1;
        m->type = QW_MSG_IGNORED;
        return 1;
    default: m->type = QW_MSG_IGNORED; return 1;
    }
}

/* cb_advanced.c: the Coinbase Advanced Trade feed (advanced-trade-ws).
 *
 * Envelope {channel, client_id?, timestamp, sequence_num, events[]}; the
 * channels used are l2_data (subscribe name "level2"), market_trades,
 * heartbeats and subscriptions; ticker, ticker_batch, candles, status are
 * valid but ignored; unknown channels are counted. Errors are
 * {"type":"error","message":...}. Shapes per docs/coinbase_protocol.md 2.
 *
 * sequence_num is one counter per connection shared by every channel, so
 * any jump is a lost message: the message is still delivered, flagged
 * `gap`, and the pipeline invalidates books. A restart at 0 is a new
 * connection (`seq_restart`), not a gap.
 *
 * Feed time of a book event is the envelope timestamp (monotonic per
 * connection); each change keeps its own event_time. A snapshot's
 * placeholder event_time (1970-01-01 in 2023 captures) is repaired with the
 * envelope timestamp. Trade side on the wire is the maker side.
 */
#include <stdio.h>
#include <string.h>

#include "feed/feed_int.h"

enum achan { A_NONE, A_L2, A_TRADES, A_HEARTBEATS, A_SUBSCRIPTIONS, A_IGNORED, A_UNKNOWN };

static enum achan classify(const qw__jstr *c)
{
    if (QW__JS_EQ(c, "l2_data"))
        return A_L2;
    if (QW__JS_EQ(c, "market_trades"))
        return A_TRADES;
    if (QW__JS_EQ(c, "heartbeats"))
        return A_HEARTBEATS;
    if (QW__JS_EQ(c, "subscriptions"))
        return A_SUBSCRIPTIONS;
    if (QW__JS_EQ(c, "ticker") || QW__JS_EQ(c, "ticker_batch") || QW__JS_EQ(c, "candles") ||
        QW__JS_EQ(c, "status") || QW__JS_EQ(c, "user") || QW__JS_EQ(c, "futures_balance_summary"))
        return A_IGNORED;
    return A_UNKNOWN;
}

/* Event-time cache: consecutive updates usually share one event_time. */
typedef struct tcache {
    const char *s;
    size_t n;
    int64_t t;
} tcache;

static int get_time(qw_feed *f, qw__js *j, const qw__jstr *s, int64_t fallback, tcache *tc,
                    int64_t *out)
{
    if (tc->s && !s->esc && s->n == tc->n && memcmp(s->s, tc->s, s->n) == 0) {
        *out = tc->t;
        return 1;
    }
    uint32_t before = f->msg.times_repaired;
    if (!qw__feed_time(f, j, s, fallback, out))
        return 0;
    if (f->msg.times_repaired == before && !s->esc) {
        tc->s = s->s;
        tc->n = s->n;
        tc->t = *out;
    }
    return 1;
}

static int parse_update(qw_feed *f, qw__js *j, int64_t env_t, tcache *tc)
{
    qw__jstr key, s, ts = {0};
    int first = 1, r, hs = 0, ht = 0, hp = 0, hq = 0;
    qw_chg *c;
    if (!qw__js_obj_open(j) || !qw__feed_push_chg(f, j, &c))
        return 0;
    while ((r = qw__js_obj_next(j, &first, &key)) == 1) {
        if (QW__JS_EQ(&key, "price_level")) {
            if (!qw__js_once(j, &hp, "price_level") || !qw__feed_dec(j, "price_level", &c->px))
                return 0;
        } else if (QW__JS_EQ(&key, "new_quantity")) {
            if (!qw__js_once(j, &hq, "new_quantity") || !qw__feed_sz(j, "new_quantity", &c->sz))
                return 0;
        } else if (QW__JS_EQ(&key, "side")) {
            if (!qw__js_once(j, &hs, "side"))
                return 0;
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "side: expected a string");
            if (!qw__js_string(j, &s))
                return 0;
            if (QW__JS_EQ(&s, "bid"))
                c->side = QW_FEED_BID;
            else if (QW__JS_EQ(&s, "offer"))
                c->side = QW_FEED_ASK;
            else
                return qw__js_fail(j, QW_BAD_SIDE, "side: expected \"bid\" or \"offer\"");
        } else if (QW__JS_EQ(&key, "event_time")) {
            if (!qw__js_once(j, &ht, "event_time"))
                return 0;
            if (!qw__feed_time_str(j, &ts))
                return 0;
        } else if (!qw__js_skip(j)) {
            return 0;
        }
    }
    if (r < 0)
        return 0;
    if (!hs || !hp || !hq)
        return qw__js_fail(j, QW_MISSING_FIELD, "update without side/price_level/new_quantity");
    c->t_ns = env_t;
    if (ht && !get_time(f, j, &ts, env_t, tc, &c->t_ns))
        return 0;
    return 1;
}

static int parse_l2_event(qw_feed *f, qw__js *j, int64_t env_t)
{
    qw__jstr key, s;
    int first = 1, r, have_type = 0, have_updates = 0, have_product = 0;
    qw_group g;
    tcache tc = {0};
    memset(&g, 0, sizeof g);
    g.first = (uint32_t)f->msg.nchg;
    if (!qw__js_obj_open(j))
        return 0;
    while ((r = qw__js_obj_next(j, &first, &key)) == 1) {
        if (QW__JS_EQ(&key, "type")) {
            if (!qw__js_once(j, &have_type, "type"))
                return 0;
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "event type: expected a string");
            if (!qw__js_string(j, &s))
                return 0;
            if (QW__JS_EQ(&s, "snapshot"))
                g.kind = QW_GRP_SNAPSHOT;
            else if (QW__JS_EQ(&s, "update"))
                g.kind = QW_GRP_UPDATE;
            else
                return qw__js_fail(j, QW_BAD_TYPE, "l2_data event type: snapshot|update");
        } else if (QW__JS_EQ(&key, "product_id")) {
            if (!qw__js_once(j, &have_product, "product_id"))
                return 0;
            if (!qw__feed_product(j, g.product, &g.product_len))
                return 0;
        } else if (QW__JS_EQ(&key, "updates")) {
            int f2 = 1, r2;
            if (!qw__js_once(j, &have_updates, "updates"))
                return 0;
            if (!qw__js_arr_open(j))
                return 0;
            while ((r2 = qw__js_arr_next(j, &f2)) == 1)
                if (!parse_update(f, j, env_t, &tc))
                    return 0;
            if (r2 < 0)
                return 0;
        } else if (!qw__js_skip(j)) {
            return 0;
        }
    }
    if (r < 0)
        return 0;
    if (!have_type || !have_product || !have_updates)
        return qw__js_fail(j, QW_MISSING_FIELD, "l2_data event without type/product_id/updates");
    g.count = (uint32_t)(f->msg.nchg - g.first);
    g.t_ns = env_t;
    qw_group *gp;
    if (!qw__feed_push_group(f, j, &gp))
        return 0;
    *gp = g;
    return 1;
}

static int parse_trade(qw_feed *f, qw__js *j, int snapshot, int64_t env_t)
{
    qw__jstr key, s, ts = {0};
    int first = 1, r, hp = 0, hs = 0, hpx = 0, hsz = 0, ht = 0, hid = 0;
    qw_trade *t;
    if (!qw__js_obj_open(j) || !qw__feed_push_trade(f, j, &t))
        return 0;
    memset(t, 0, sizeof *t);
    t->seq = -1;
    t->snapshot = (uint8_t)snapshot;
    while ((r = qw__js_obj_next(j, &first, &key)) == 1) {
        if (QW__JS_EQ(&key, "product_id")) {
            if (!qw__js_once(j, &hp, "product_id") ||
                !qw__feed_product(j, t->product, &t->product_len))
                return 0;
        } else if (QW__JS_EQ(&key, "price")) {
            if (!qw__js_once(j, &hpx, "price") || !qw__feed_dec(j, "price", &t->px))
                return 0;
        } else if (QW__JS_EQ(&key, "size")) {
            if (!qw__js_once(j, &hsz, "size") || !qw__feed_sz(j, "size", &t->sz))
                return 0;
        } else if (QW__JS_EQ(&key, "side")) {
            if (!qw__js_once(j, &hs, "side"))
                return 0;
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "side: expected a string");
            if (!qw__js_string(j, &s))
                return 0;
            if (QW__JS_EQ(&s, "SELL")) /* maker sold: the buyer was the aggressor */
                t->aggressor = QW_FEED_BID;
            else if (QW__JS_EQ(&s, "BUY"))
                t->aggressor = QW_FEED_ASK;
            else
                return qw__js_fail(j, QW_BAD_SIDE, "trade side: expected \"BUY\" or \"SELL\"");
        } else if (QW__JS_EQ(&key, "time")) {
            if (!qw__js_once(j, &ht, "time"))
                return 0;
            if (!qw__feed_time_str(j, &ts))
                return 0;
        } else if (QW__JS_EQ(&key, "trade_id")) {
            size_t n;
            if (!qw__js_once(j, &hid, "trade_id"))
                return 0;
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "trade_id: expected a string");
            if (!qw__js_string(j, &s))
                return 0;
            if (!qw__js_decode(&s, t->trade_id, sizeof t->trade_id, &n) || n == 0)
                return qw__js_fail(j, QW_TOO_LARGE, "trade_id empty or too long");
        } else if (!qw__js_skip(j)) {
            return 0;
        }
    }
    if (r < 0)
        return 0;
    if (!hp || !hpx || !hsz || !hs || !hid)
        return qw__js_fail(j, QW_MISSING_FIELD,
                           "trade without product_id/price/size/side/trade_id");
    t->t_ns = env_t;
    if (ht && !qw__feed_time(f, j, &ts, env_t, &t->t_ns))
        return 0;
    return 1;
}

static int parse_trades_event(qw_feed *f, qw__js *j, int64_t env_t)
{
    qw__jstr key, s;
    int first = 1, r, snapshot = 0, have_type = 0, have_trades = 0;
    const unsigned char *trades_at = NULL;
    if (!qw__js_obj_open(j))
        return 0;
    while ((r = qw__js_obj_next(j, &first, &key)) == 1) {
        if (QW__JS_EQ(&key, "type")) {
            if (!qw__js_once(j, &have_type, "type"))
                return 0;
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "event type: expected a string");
            if (!qw__js_string(j, &s))
                return 0;
            if (QW__JS_EQ(&s, "snapshot"))
                snapshot = 1;
            else if (!QW__JS_EQ(&s, "update"))
                return qw__js_fail(j, QW_BAD_TYPE, "market_trades event type: snapshot|update");
        } else if (QW__JS_EQ(&key, "trades")) {
            if (!qw__js_once(j, &have_trades, "trades"))
                return 0;
            trades_at = j->p;
            if (!qw__js_skip(j)) /* validate now; parse once the type is known */
                return 0;
        } else if (!qw__js_skip(j)) {
            return 0;
        }
    }
    if (r < 0)
        return 0;
    if (!have_type || !have_trades)
        return qw__js_fail(j, QW_MISSING_FIELD, "market_trades event without type/trades");
    qw__js sub = *j;
    int f2 = 1, r2;
    sub.p = trades_at;
    if (!qw__js_arr_open(&sub))
        goto sub_fail;
    while ((r2 = qw__js_arr_next(&sub, &f2)) == 1)
        if (!parse_trade(f, &sub, snapshot, env_t))
            goto sub_fail;
    if (r2 < 0)
        goto sub_fail;
    return 1;
sub_fail:
    j->err = sub.err;
    return 0;
}

static int parse_events(qw_feed *f, qw__js *j, enum achan ch, int64_t env_t)
{
    int first = 1, r;
    if (ch != A_L2 && ch != A_TRADES)
        return qw__js_peek(j) == '[' ? qw__js_skip(j)
                                     : qw__js_fail(j, QW_BAD_TYPE, "events: expected an array");
    if (!qw__js_arr_open(j))
        return 0;
    while ((r = qw__js_arr_next(j, &first)) == 1)
        if (!(ch == A_L2 ? parse_l2_event(f, j, env_t) : parse_trades_event(f, j, env_t)))
            return 0;
    return r == 0;
}

int qw__feed_parse_advanced(qw_feed *f, qw__js *j, qw_msg *m)
{
    qw__jstr key, s, ts = {0};
    enum achan ch = A_NONE;
    int first = 1, r, have_ts = 0, have_seq = 0, have_events = 0, is_error = 0, have_type = 0;
    int env_done = 0, events_done = 0;
    int64_t seq = -1, env_t = 0;
    const unsigned char *events_at = NULL;
    char msgtxt[200] = "";

    m->feed = QW_FEED_ADVANCED;
    if (!qw__js_obj_open(j))
        return 0;
    while ((r = qw__js_obj_next(j, &first, &key)) == 1) {
        if (QW__JS_EQ(&key, "channel")) {
            if (ch != A_NONE)
                return qw__js_fail(j, QW_BAD_JSON, "duplicate channel");
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "channel: expected a string");
            if (!qw__js_string(j, &s))
                return 0;
            ch = classify(&s);
            if (ch == A_IGNORED || ch == A_UNKNOWN) {
                size_t n;
                if (!qw__js_decode(&s, m->text, sizeof m->text, &n))
                    m->text[0] = '\0';
            }
        } else if (QW__JS_EQ(&key, "timestamp")) {
            if (!qw__js_once(j, &have_ts, "timestamp"))
                return 0;
            if (!qw__feed_time_str(j, &ts))
                return 0;
        } else if (QW__JS_EQ(&key, "sequence_num")) {
            if (!qw__js_once(j, &have_seq, "sequence_num"))
                return 0;
            if (!qw__js_int64(j, &seq))
                return 0;
            if (seq < 0)
                return qw__js_fail(j, QW_BAD_SEQUENCE, "negative sequence_num");
        } else if (QW__JS_EQ(&key, "events")) {
            if (!qw__js_once(j, &have_events, "events"))
                return 0;
            if (ch != A_NONE && have_ts) { /* the usual key order: parse in place */
                if (!env_done && !qw__feed_time(f, j, &ts, 0, &env_t))
                    return 0;
                env_done = 1;
                if (!parse_events(f, j, ch, env_t))
                    return 0;
                events_done = 1;
            } else {
                events_at = j->p;
                if (!qw__js_skip(j)) /* validated now, parsed below */
                    return 0;
            }
        } else if (QW__JS_EQ(&key, "type")) {
            if (!qw__js_once(j, &have_type, "type"))
                return 0;
            if (qw__js_peek(j) != '"')
                return qw__js_fail(j, QW_BAD_TYPE, "type: expected a string");
            if (!qw__js_string(j, &s))
                return 0;
            is_error = QW__JS_EQ(&s, "error");
        } else if (QW__JS_EQ(&key, "message")) {
            size_t n;
            if (qw__js_peek(j) == '"') {
                if (!qw__js_string(j, &s))
                    return 0;
                if (!qw__js_decode(&s, msgtxt, sizeof msgtxt, &n))
                    msgtxt[0] = '\0';
            } else if (!qw__js_skip(j)) {
                return 0;
            }
        } else if (!qw__js_skip(j)) {
            return 0;
        }
    }
    if (r < 0)
        return 0;
    if (is_error) {
        m->type = QW_MSG_ERROR;
        snprintf(m->text, sizeof m->text, "%s", msgtxt);
        return 1;
    }
    if (ch == A_NONE)
        return qw__js_fail(j, QW_MISSING_FIELD, "no \"channel\"");
    if (have_ts) {
        if (!env_done && !qw__feed_time(f, j, &ts, 0, &env_t))
            return 0;
    } else {
        env_t = f->last_time;
        m->times_repaired++;
    }
    m->t_ns = env_t;
    if (have_seq) {
        m->seq = seq;
        if (f->last_seq >= 0 && seq != f->last_seq + 1) {
            if (seq == 0) {
                m->seq_restart = 1;
            } else {
                m->gap = 1;
                m->gap_expected = f->last_seq + 1;
            }
        }
        f->last_seq = seq;
    }
    if ((ch == A_L2 || ch == A_TRADES) && !have_events)
        return qw__js_fail(j, QW_MISSING_FIELD, "no \"events\"");
    if (have_events && !events_done) {
        qw__js sub = *j;
        sub.p = events_at;
        sub.depth = 1;
        if (!parse_events(f, &sub, ch, env_t)) {
            j->err = sub.err;
            return 0;
        }
    }
    switch (ch) {
    case A_L2: m->type = QW_MSG_BOOK; break;
    case A_TRADES: m->type = QW_MSG_TRADES; break;
    case A_HEARTBEATS: m->type = QW_MSG_HEARTBEAT; break;
    case A_SUBSCRIPTIONS: m->type = QW_MSG_SUBSCRIPTIONS; break;
    case A_UNKNOWN:
        m->unknown_type = 1;
        m->type = QW_MSG_IGNORED;
        break;
    default: m->type = QW_MSG_IGNORED; break;
    }
    return 1;
}

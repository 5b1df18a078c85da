/* session.c: the simulator's protocol side — subscribe/unsubscribe for
 * both Coinbase feeds, acks, snapshots, and fan-out of source events to
 * each connection in its own protocol (docs/SIM.md). */
#define QW_MODULE "sim"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "sim/server_int.h"

#define L2_AUTH_REASON                                                                             \
    "level2, level3, and full channels now require authentication. "                               \
    "https://docs.cloud.coinbase.com/exchange/docs/websocket-auth"

static uint8_t *SUB(client *c, int pi, int ch)
{
    return &c->sub[(size_t)pi * CH__N + (size_t)ch];
}

static void send_error(client *c, const char *message, const char *reason)
{
    qw_sbuf *b = &c->srv->e1;
    qw_sbuf_reset(b);
    qw_sbuf_str(b, "{\"type\":\"error\",\"message\":");
    if (c->proto == P_ADV || (c->proto == P_NONE && !reason)) {
        char t[512];
        snprintf(t, sizeof t, "%s%s%s", message, reason ? ": " : "", reason ? reason : "");
        qw_sbuf_jstr(b, t);
    } else {
        qw_sbuf_jstr(b, message);
        if (reason) {
            qw_sbuf_str(b, ",\"reason\":");
            qw_sbuf_jstr(b, reason);
        }
    }
    qw_sbuf_chr(b, '}');
    c->srv->st.errors_sent++;
    if (!b->oom)
        qw__sim_send(c, b->p, b->len, 0, 0);
}

static int book_sub(client *c, int pi)
{
    return *SUB(c, pi, CH_BOOK) || *SUB(c, pi, CH_L2AUTH);
}

/* ---- snapshots ---- */

static int levels(struct qw_sim *s, const qw_simprod *p, size_t *nb, size_t *na)
{
    size_t db = qw_book_depth(p->book, QW_BID), da = qw_book_depth(p->book, QW_ASK);
    size_t need = db > da ? db : da;
    if (need > s->lcap) {
        qw_level *b = qw_realloc(s->lb, need * sizeof *b);
        if (!b)
            return 0;
        s->lb = b;
        qw_level *a = qw_realloc(s->la, need * sizeof *a);
        if (!a)
            return 0;
        s->la = a;
        s->lcap = need;
    }
    *nb = qw_book_top(p->book, QW_BID, s->lb, db);
    *na = qw_book_top(p->book, QW_ASK, s->la, da);
    return 1;
}

/* Send product pi's book snapshot to c, or (c NULL) to every connection
 * subscribed to its book; encodes once per protocol. */
static void send_snapshot(struct qw_sim *s, client *only, int pi)
{
    qw_simprod *p = &s->mk.p[pi];
    size_t nb, na;
    if (!levels(s, p, &nb, &na)) {
        QW_LOG(ERROR, "out of memory for a %s snapshot", p->id);
        return;
    }
    int have[3] = {0, 0, 0};
    for (client *c = only ? only : s->clients; c; c = only ? NULL : c->next) {
        if (!c->proto || !book_sub(c, pi) || c->dead)
            continue;
        if (c->proto == P_EX) {
            if (!have[P_EX]) {
                qw_sbuf_reset(&s->e1);
                qw_enc_ex_snapshot(&s->e1, p->id, s->lb, nb, s->la, na);
                have[P_EX] = 1, have[P_ADV] = 0;
            }
            if (!s->e1.oom)
                qw__sim_send(c, s->e1.p, s->e1.len, 1, 0);
        } else {
            if (!have[P_ADV]) {
                qw_sbuf_reset(&s->e1);
                qw_sbuf_reset(&s->e2);
                qw_enc_adv_head(&s->e1, "l2_data", qw__sim_feed_clock(s));
                qw_enc_adv_l2_snapshot(&s->e2, p->id, s->lb, nb, s->la, na,
                                       p->book_t_ns ? p->book_t_ns : s->feed_now);
                have[P_ADV] = 1, have[P_EX] = 0;
            }
            if (!s->e1.oom && !s->e2.oom)
                qw__sim_send_adv(c, &s->e1, &s->e2, 1);
        }
        c->snapped[pi] = 1;
    }
}

static void fill_trade(const qw_simprod *p, const qw_trade_rec *r, qw_enc_trade *t, char *idbuf)
{
    t->product = p->id;
    t->trade_id = r->trade_id;
    (void)idbuf;
    t->px = r->px;
    t->sz = r->sz;
    t->t_ns = r->t_ns;
    t->seq = p->seq;
    t->aggressor = (uint8_t)r->aggressor;
}

static int numeric(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void send_trade_snapshot(struct qw_sim *s, client *c, int pi)
{
    qw_simprod *p = &s->mk.p[pi];
    size_t n = qw_trades_count(p->trades);
    if (n == 0 && c->proto == P_EX)
        return; /* Advanced: an empty snapshot still comes */
    if (c->proto == P_EX) {
        qw_enc_trade t;
        const qw_trade_rec *r = qw_trades_get(p->trades, 0);
        fill_trade(p, r, &t, NULL);
        char idb[24];
        if (!numeric(r->trade_id)) {
            snprintf(idb, sizeof idb, "%lld", (long long)p->last_trade_id);
            t.trade_id = idb;
        }
        qw_sbuf_reset(&s->e1);
        qw_enc_ex_match(&s->e1, 1, &t);
        if (!s->e1.oom)
            qw__sim_send(c, s->e1.p, s->e1.len, 1, 0);
        return;
    }
    if (n > s->trcap || !s->tr) {
        qw_enc_trade *nt = qw_realloc(s->tr, (n ? n : 1) * sizeof *nt);
        if (!nt)
            return;
        s->tr = nt;
        s->trcap = n ? n : 1;
    }
    for (size_t i = 0; i < n; i++)
        fill_trade(p, qw_trades_get(p->trades, i), &s->tr[i], NULL);
    qw_sbuf_reset(&s->e1);
    qw_sbuf_reset(&s->e2);
    qw_enc_adv_head(&s->e1, "market_trades", qw__sim_feed_clock(s));
    qw_enc_adv_trades(&s->e2, 1, s->tr, n);
    if (!s->e1.oom && !s->e2.oom)
        qw__sim_send_adv(c, &s->e1, &s->e2, 1);
}

/* ---- acks ---- */

static void ids_json(qw_sbuf *b, client *c, int ch)
{
    struct qw_sim *s = c->srv;
    int first = 1;
    qw_sbuf_chr(b, '[');
    for (size_t i = 0; i < s->mk.n; i++)
        if (*SUB(c, (int)i, ch)) {
            if (!first)
                qw_sbuf_chr(b, ',');
            qw_sbuf_jstr(b, s->mk.p[i].id);
            first = 0;
        }
    qw_sbuf_chr(b, ']');
}

static int any_sub(client *c, int ch)
{
    for (size_t i = 0; i < c->srv->mk.n; i++)
        if (*SUB(c, (int)i, ch))
            return 1;
    return 0;
}

static void send_ack(client *c)
{
    struct qw_sim *s = c->srv;
    qw_sbuf *b = &s->e2;
    qw_sbuf_reset(b);
    if (c->proto == P_EX) {
        static const struct {
            int ch;
            const char *name;
        } order[] = {{CH_L2AUTH, "level2"},
                     {CH_BOOK, "level2_50"},
                     {CH_TRADES, "matches"},
                     {CH_HB, "heartbeat"},
                     {CH_TICKER, "ticker"}};
        int first = 1;
        qw_sbuf_str(b, "{\"type\":\"subscriptions\",\"channels\":[");
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
            if (!any_sub(c, order[k].ch))
                continue;
            qw_sbuf_str(b, first ? "{\"name\":\"" : ",{\"name\":\"");
            qw_sbuf_str(b, order[k].name);
            qw_sbuf_str(b, "\",\"product_ids\":");
            ids_json(b, c, order[k].ch);
            qw_sbuf_str(b, ",\"account_ids\":null}");
            first = 0;
        }
        qw_sbuf_str(b, "]}");
        if (!b->oom)
            qw__sim_send(c, b->p, b->len, 0, 0);
        return;
    }
    static const struct {
        int ch;
        const char *name;
    } order[] = {{CH_BOOK, "level2"}, {CH_TRADES, "market_trades"}, {CH_TICKER, "ticker"}};
    qw_sbuf_reset(&s->e1);
    qw_enc_adv_head(&s->e1, "subscriptions", qw__sim_feed_clock(s));
    qw_sbuf_str(b, ",\"events\":[{\"subscriptions\":{");
    int first = 1;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        if (!any_sub(c, order[k].ch))
            continue;
        if (!first)
            qw_sbuf_chr(b, ',');
        qw_sbuf_jstr(b, order[k].name);
        qw_sbuf_chr(b, ':');
        ids_json(b, c, order[k].ch);
        first = 0;
    }
    if (c->adv_hb)
        qw_sbuf_str(b,
                    first ? "\"heartbeats\":[\"heartbeats\"]" : ",\"heartbeats\":[\"heartbeats\"]");
    qw_sbuf_str(b, "}}]}");
    if (!b->oom && !s->e1.oom)
        qw__sim_send_adv(c, &s->e1, b, 0);
}

/* ---- subscribe / unsubscribe ---- */

typedef struct item {
    int ch; /* CH_*, or -1 = Advanced heartbeats */
    int pi; /* product index; -1 = every product of the channel (unsubscribe) */
} item;

typedef struct reqv {
    item *v;
    size_t n, cap;
    int oom;
} reqv;

static void add_item(reqv *r, int ch, int pi)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 32;
        item *nv = qw_realloc(r->v, nc * sizeof *nv);
        if (!nv) {
            r->oom = 1;
            return;
        }
        r->v = nv;
        r->cap = nc;
    }
    r->v[r->n++] = (item){ch, pi};
}

/* Product ids of one channel: NULL error on success, else the reason. */
static const char *add_ids(client *c, reqv *r, int ch, json_t *ids, int unsub, char *why,
                           size_t whycap)
{
    if (!ids || (json_is_array(ids) && json_array_size(ids) == 0)) {
        if (unsub) {
            add_item(r, ch, -1);
            return NULL;
        }
        return "No product ids provided";
    }
    if (!json_is_array(ids))
        return "product_ids must be an array";
    size_t k;
    json_t *v;
    json_array_foreach(ids, k, v)
    {
        const char *id = json_string_value(v);
        if (!id)
            return "product_ids must be strings";
        int pi = qw_market_find(&c->srv->mk, id);
        if (pi < 0) {
            snprintf(why, whycap, "%.64s is not a valid product", id);
            return why;
        }
        add_item(r, ch, pi);
    }
    return NULL;
}

static int ex_channel(const char *name, int auth, const char **err)
{
    if (!strcmp(name, "level2_batch") || !strcmp(name, "level2_50"))
        return CH_BOOK;
    if (!strcmp(name, "level2") || !strcmp(name, "level3") || !strcmp(name, "full")) {
        if (!auth || strcmp(name, "level2")) {
            *err = L2_AUTH_REASON;
            return -2;
        }
        return CH_L2AUTH;
    }
    if (!strcmp(name, "matches"))
        return CH_TRADES;
    if (!strcmp(name, "heartbeat"))
        return CH_HB;
    if (!strcmp(name, "ticker") || !strcmp(name, "ticker_batch"))
        return CH_TICKER;
    *err = NULL;
    return -3;
}

static const char *parse_ex(client *c, json_t *j, int unsub, reqv *r, char *why, size_t whycap)
{
    json_t *chans = json_object_get(j, "channels"), *top = json_object_get(j, "product_ids");
    int auth = json_object_get(j, "signature") && json_object_get(j, "key") &&
               json_object_get(j, "passphrase") && json_object_get(j, "timestamp");
    if (!json_is_array(chans) || json_array_size(chans) == 0)
        return "channels must be a non-empty array";
    size_t k;
    json_t *e;
    json_array_foreach(chans, k, e)
    {
        const char *name = json_string_value(e);
        json_t *ids = top;
        if (json_is_object(e)) {
            name = json_string_value(json_object_get(e, "name"));
            if (json_object_get(e, "product_ids"))
                ids = json_object_get(e, "product_ids");
        }
        if (!name)
            return "channel must be a name or {name, product_ids}";
        const char *err = NULL;
        int ch = ex_channel(name, auth, &err);
        if (ch == -2 && !unsub)
            return err;
        if (ch == -2)
            ch = CH_L2AUTH;
        if (ch == -3) {
            snprintf(why, whycap, "%.64s is not a valid channel", name);
            return why;
        }
        const char *bad = add_ids(c, r, ch, ids, unsub, why, whycap);
        if (bad)
            return bad;
    }
    return NULL;
}

static const char *parse_adv(client *c, json_t *j, int unsub, reqv *r, char *why, size_t whycap)
{
    const char *name = json_string_value(json_object_get(j, "channel"));
    json_t *ids = json_object_get(j, "product_ids");
    if (!name)
        return "channel must be a string";
    if (!strcmp(name, "heartbeats")) {
        add_item(r, -1, -1);
        return NULL;
    }
    int ch;
    if (!strcmp(name, "level2") || !strcmp(name, "l2_data"))
        ch = CH_BOOK;
    else if (!strcmp(name, "market_trades"))
        ch = CH_TRADES;
    else if (!strcmp(name, "ticker") || !strcmp(name, "ticker_batch"))
        ch = CH_TICKER;
    else if (!strcmp(name, "user") || !strcmp(name, "futures_balance_summary"))
        return json_object_get(j, "jwt") ? "channel not served by the simulator"
                                         : "authentication failure";
    else {
        snprintf(why, whycap, "unknown channel %.64s", name);
        return why;
    }
    return add_ids(c, r, ch, ids, unsub, why, whycap);
}

static void apply(client *c, const reqv *r, int unsub)
{
    struct qw_sim *s = c->srv;
    for (size_t i = 0; i < r->n; i++) {
        const item *it = &r->v[i];
        if (it->ch == -1) {
            c->adv_hb = !unsub;
            continue;
        }
        for (size_t pi = 0; pi < s->mk.n; pi++) {
            if (it->pi >= 0 && (size_t)it->pi != pi)
                continue;
            *SUB(c, (int)pi, it->ch) = (uint8_t)!unsub;
            if (unsub && (it->ch == CH_BOOK || it->ch == CH_L2AUTH) && !*SUB(c, (int)pi, CH_BOOK) &&
                !*SUB(c, (int)pi, CH_L2AUTH))
                c->snapped[pi] = 0;
        }
    }
}

void qw__sim_on_client_msg(client *c, const char *buf, size_t len)
{
    struct qw_sim *s = c->srv;
    json_error_t jerr;
    json_t *j = json_loadb(buf, len, 0, &jerr);
    if (!json_is_object(j)) {
        send_error(c, "Failed to subscribe", "malformed JSON");
        json_decref(j);
        return;
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    int proto = json_object_get(j, "channel") ? P_ADV : json_object_get(j, "channels") ? P_EX : 0;
    if (!type || (strcmp(type, "subscribe") && strcmp(type, "unsubscribe"))) {
        send_error(c, "Failed to subscribe", "type must be subscribe or unsubscribe");
        json_decref(j);
        return;
    }
    int unsub = type[0] == 'u';
    if (!proto || (c->proto && proto != c->proto)) {
        send_error(c, "Failed to subscribe",
                   proto ? "mixing Exchange and Advanced Trade messages on one connection"
                         : "expected \"channel\" (Advanced Trade) or \"channels\" (Exchange)");
        json_decref(j);
        return;
    }
    int was = c->proto;
    c->proto = proto;
    reqv r = {0};
    char why[160];
    const char *bad = proto == P_EX ? parse_ex(c, j, unsub, &r, why, sizeof why)
                                    : parse_adv(c, j, unsub, &r, why, sizeof why);
    if (!bad && r.oom)
        bad = "out of memory";
    if (bad) {
        QW_LOG(INFO, "subscribe_error client=%llu reason=%s", (unsigned long long)c->id, bad);
        send_error(c, "Failed to subscribe", bad);
        if (!was && !c->subscribed)
            c->proto = P_NONE;
        qw_free(r.v);
        json_decref(j);
        return;
    }
    apply(c, &r, unsub);
    if (unsub)
        s->st.unsubscribes++;
    else
        s->st.subscribes++;
    QW_LOG(INFO, "%s client=%llu protocol=%s items=%zu", unsub ? "unsubscribe" : "subscribe",
           (unsigned long long)c->id, proto == P_EX ? "exchange" : "advanced", r.n);
    send_ack(c);
    if (!unsub) {
        if (!c->subscribed) {
            c->subscribed = 1;
            lws_sul_cancel(&c->sul_timeout);
        }
        for (size_t i = 0; i < r.n; i++) {
            const item *it = &r.v[i];
            if (it->pi < 0)
                continue;
            if ((it->ch == CH_BOOK || it->ch == CH_L2AUTH) && s->mk.p[it->pi].valid)
                send_snapshot(s, c, it->pi);
            else if (it->ch == CH_TRADES)
                send_trade_snapshot(s, c, it->pi);
        }
        qw__sim_start_source(s);
    }
    qw_free(r.v);
    json_decref(j);
}

/* ---- source events -> market -> connections ---- */

static void apply_book(struct qw_sim *s, const qw_msg *m, const qw_group *g)
{
    int pi = qw_market_find(&s->mk, g->product);
    if (pi < 0)
        return;
    qw_simprod *p = &s->mk.p[pi];
    const qw_chg *ch = m->chg + g->first;
    int64_t t = g->t_ns ? g->t_ns : s->feed_now;
    if (g->kind == QW_GRP_SNAPSHOT) {
        size_t nb = 0, na = 0;
        if (g->count > s->lcap) {
            qw_level *b = qw_realloc(s->lb, g->count * sizeof *b);
            qw_level *a = b ? qw_realloc(s->la, g->count * sizeof *a) : NULL;
            if (b)
                s->lb = b;
            if (!a)
                return;
            s->la = a;
            s->lcap = g->count;
        }
        for (uint32_t i = 0; i < g->count; i++) {
            qw_level l = {ch[i].px, ch[i].sz};
            if (ch[i].side == QW_FEED_BID)
                s->lb[nb++] = l;
            else
                s->la[na++] = l;
        }
        if (qw_book_snapshot(p->book, s->lb, nb, s->la, na) != QW_OK) {
            QW_LOG(WARN, "source snapshot for %s rejected by the book", p->id);
            return;
        }
        p->valid = 1;
        p->book_t_ns = t;
        p->seq++;
        send_snapshot(s, NULL, pi);
        return;
    }
    if (!p->valid || g->count == 0)
        return;
    if (g->count > s->chgcap) {
        qw_enc_chg *nc = qw_realloc(s->chg, g->count * sizeof *nc);
        if (!nc)
            return;
        s->chg = nc;
        s->chgcap = g->count;
    }
    if (qw_book_reserve(p->book, QW_BID, g->count) != QW_OK ||
        qw_book_reserve(p->book, QW_ASK, g->count) != QW_OK)
        return;
    size_t n = 0;
    for (uint32_t i = 0; i < g->count; i++) {
        if (qw_book_set(p->book, (qw_side)ch[i].side, ch[i].px, ch[i].sz) != QW_OK)
            continue; /* a zero price: nothing to tell anyone */
        s->chg[n++] = (qw_enc_chg){ch[i].px, ch[i].sz, ch[i].t_ns ? ch[i].t_ns : t, ch[i].side};
    }
    if (n == 0)
        return;
    p->book_t_ns = t;
    p->seq++;
    int have[3] = {0, 0, 0};
    for (client *c = s->clients; c; c = c->next) {
        if (!c->proto || !c->snapped[pi] || !book_sub(c, pi) || c->dead)
            continue;
        if (c->proto == P_EX) {
            if (!have[P_EX]) {
                qw_sbuf_reset(&s->e1);
                qw_enc_ex_l2update(&s->e1, p->id, s->chg, n, t);
                have[P_EX] = 1, have[P_ADV] = 0;
            }
            if (!s->e1.oom)
                qw__sim_send(c, s->e1.p, s->e1.len, 1, 0);
        } else {
            if (!have[P_ADV]) {
                qw_sbuf_reset(&s->e1);
                qw_sbuf_reset(&s->e2);
                qw_enc_adv_head(&s->e1, "l2_data", t);
                qw_enc_adv_l2_update(&s->e2, p->id, s->chg, n);
                have[P_ADV] = 1, have[P_EX] = 0;
            }
            qw__sim_send_adv(c, &s->e1, &s->e2, 1);
        }
    }
}

static void apply_trades(struct qw_sim *s, const qw_msg *m, int64_t t_msg)
{
    /* Snapshot trades (last_match, market_trades snapshot: newest first)
     * seed an empty ring, oldest first; they are history, not news. */
    for (size_t k = m->ntrades; k-- > 0;) {
        const qw_trade *tr = &m->trades[k];
        int pi = tr->snapshot ? qw_market_find(&s->mk, tr->product) : -1;
        if (pi < 0 || qw_trades_total(s->mk.p[pi].trades) > 0)
            continue;
        qw_trade_rec r = {tr->t_ns, tr->px, tr->sz, (qw_side)tr->aggressor, ""};
        memcpy(r.trade_id, tr->trade_id, sizeof r.trade_id);
        qw_trades_push(s->mk.p[pi].trades, &r);
        if (numeric(tr->trade_id))
            s->mk.p[pi].last_trade_id = strtoll(tr->trade_id, NULL, 10);
    }
    for (size_t k = 0; k < m->ntrades; k++) {
        const qw_trade *tr = &m->trades[k];
        int pi = tr->snapshot ? -1 : qw_market_find(&s->mk, tr->product);
        if (pi < 0)
            continue;
        qw_simprod *p = &s->mk.p[pi];
        qw_trade_rec r = {tr->t_ns ? tr->t_ns : t_msg, tr->px, tr->sz, (qw_side)tr->aggressor, ""};
        memcpy(r.trade_id, tr->trade_id, sizeof r.trade_id);
        qw_trades_push(p->trades, &r);
        p->seq = tr->seq > p->seq ? tr->seq : p->seq + 1;
        char idb[24];
        if (numeric(tr->trade_id))
            p->last_trade_id = strtoll(tr->trade_id, NULL, 10);
        else
            p->last_trade_id++;
        snprintf(idb, sizeof idb, "%lld", (long long)p->last_trade_id);
        qw_enc_trade et;
        fill_trade(p, &r, &et, NULL);
        int have[3] = {0, 0, 0};
        for (client *c = s->clients; c; c = c->next) {
            if (!c->proto || !*SUB(c, pi, CH_TRADES) || c->dead)
                continue;
            if (c->proto == P_EX) {
                if (!have[P_EX]) {
                    et.trade_id = idb;
                    qw_sbuf_reset(&s->e1);
                    qw_enc_ex_match(&s->e1, 0, &et);
                    have[P_EX] = 1, have[P_ADV] = 0;
                }
                if (!s->e1.oom)
                    qw__sim_send(c, s->e1.p, s->e1.len, 1, 1);
            } else {
                if (!have[P_ADV]) {
                    et.trade_id = r.trade_id;
                    qw_sbuf_reset(&s->e1);
                    qw_sbuf_reset(&s->e2);
                    qw_enc_adv_head(&s->e1, "market_trades", t_msg);
                    qw_enc_adv_trades(&s->e2, 0, &et, 1);
                    have[P_ADV] = 1, have[P_EX] = 0;
                }
                qw__sim_send_adv(c, &s->e1, &s->e2, 1);
            }
        }
    }
}

void qw__sim_apply(struct qw_sim *s, const qw_msg *m, int64_t t_ns)
{
    if (t_ns > 0)
        s->feed_now = t_ns;
    if (m->type == QW_MSG_BOOK)
        for (size_t i = 0; i < m->ngroups; i++)
            apply_book(s, m, &m->groups[i]);
    else if (m->type == QW_MSG_TRADES)
        apply_trades(s, m, s->feed_now);
}

void qw__sim_heartbeats(struct qw_sim *s)
{
    int64_t now = qw__sim_feed_clock(s), wall = qw_now_wall_ns();
    int64_t up = qw_now_mono_ns() - s->start_mono;
    int have_adv = 0;
    for (client *c = s->clients; c; c = c->next) {
        if (c->dead)
            continue;
        if (c->proto == P_ADV && c->adv_hb) {
            if (!have_adv) {
                qw_sbuf_reset(&s->e1);
                qw_sbuf_reset(&s->e2);
                qw_enc_adv_head(&s->e1, "heartbeats", now);
                qw_enc_adv_heartbeat(&s->e2, wall, up, s->hb_counter);
                have_adv = 1;
            }
            qw__sim_send_adv(c, &s->e1, &s->e2, 1);
        } else if (c->proto == P_EX) {
            for (size_t pi = 0; pi < s->mk.n; pi++) {
                if (!*SUB(c, (int)pi, CH_HB))
                    continue;
                const qw_simprod *p = &s->mk.p[pi];
                qw_sbuf_reset(&s->e1);
                qw_enc_ex_heartbeat(&s->e1, p->id, p->seq, p->last_trade_id, now);
                if (!s->e1.oom)
                    qw__sim_send(c, s->e1.p, s->e1.len, 1, 0);
            }
        }
    }
    s->hb_counter++;
}

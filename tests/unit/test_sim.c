/* test_sim.c: the simulator's fault-spec parser and its encoders
 * (encode -> qw_feed_parse round trip, both feeds, big snapshots). */
#include <stdio.h>
#include <string.h>

#include "feed/feed.h"
#include "harness.h"
#include "sim/encode.h"
#include "sim/fault.h"

#define T0 1767312000123456789LL /* 2026-01-02T00:00:00.123456789Z */

TEST(sim_fault_parse_ok)
{
    qw_sim_faults f;
    char err[200];
    ASSERT_OK(qw_sim_faults_parse("", &f, err, sizeof err));
    ASSERT_EQ(qw_sim_faults_any(&f), 0);
    ASSERT_OK(qw_sim_faults_parse("drop=5/once,skip=10,malformed=7,oversize=2m@3,stall=1.5@20,"
                                  "refuse=2,slowread=0.5",
                                  &f, err, sizeof err));
    ASSERT_EQ(f.drop_n, 5);
    ASSERT_EQ(f.drop_once, 1);
    ASSERT_EQ(f.skip_n, 10);
    ASSERT_EQ(f.malformed_n, 7);
    ASSERT_EQ(f.oversize_bytes, 2 * 1024 * 1024);
    ASSERT_EQ(f.oversize_at, 3);
    ASSERT_DBL_NEAR(f.stall_s, 1.5, 1e-12);
    ASSERT_EQ(f.stall_at, 20);
    ASSERT_DBL_NEAR(f.refuse_s, 2.0, 1e-12);
    ASSERT_DBL_NEAR(f.slowread_s, 0.5, 1e-12);
    ASSERT_EQ(qw_sim_faults_any(&f), 1);
    ASSERT_OK(qw_sim_faults_parse("drop=3", &f, err, sizeof err));
    ASSERT_EQ(f.drop_n, 3);
    ASSERT_EQ(f.drop_once, 0);
    ASSERT_OK(qw_sim_faults_parse("oversize=1000@0", &f, err, sizeof err));
    ASSERT_EQ(f.oversize_bytes, 1000);
    ASSERT_EQ(f.oversize_at, 0);
}

TEST(sim_fault_parse_errors_name_the_item)
{
    static const char *const bad[] = {
        "drop",      "drop=0",        "drop=x",      "drop=3/twice",  "skip=1",
        "skip=-2",   "oversize=5",    "oversize=@3", "oversize=9g@1", "stall=2",
        "stall=0@1", "refuse=-1",     "refuse=",     "slowread=nan",  "teleport=1",
        "drop=1,,",  "drop=1,drop=2", "=3",          "malformed=1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        qw_sim_faults f;
        char err[200];
        ASSERT_ERR(QW_INVAL, qw_sim_faults_parse(bad[i], &f, err, sizeof err));
        ASSERT_TRUE(strstr(err, "--fault") != NULL);
        ASSERT_TRUE(err[0] != '\0');
    }
    qw_sim_faults f;
    char err[200];
    ASSERT_ERR(QW_INVAL, qw_sim_faults_parse("skip=3,teleport=9", &f, err, sizeof err));
    ASSERT_TRUE(strstr(err, "teleport=9") != NULL);
}

static const qw_msg *parse(qw_feed *f, const qw_sbuf *b)
{
    const qw_msg *m = NULL;
    qw_err e = qw_feed_parse(f, b->p, b->len, &m);
    if (e != QW_OK) {
        fprintf(stderr, "parse: %s: %.300s\n", qw_feed_errmsg(f), b->p);
        return NULL;
    }
    return m;
}

/* n levels per side around 100: bids descending, asks ascending, odd e8 values. */
static void make_book(qw_level *bids, qw_level *asks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bids[i] = (qw_level){10000000000LL - (int64_t)i * 123457 - 1, (int64_t)(i * 7919 + 1)};
        asks[i] = (qw_level){10000000000LL + (int64_t)i * 123457 + 1, (int64_t)(i * 104729 + 3)};
    }
}

static int snapshot_roundtrip(int adv, size_t n)
{
    static qw_level bids[50000], asks[50000];
    make_book(bids, asks, n);
    qw_sbuf b = {0};
    if (adv) {
        qw_enc_adv_head(&b, "l2_data", T0);
        qw_sbuf_i64(&b, 0);
        qw_enc_adv_l2_snapshot(&b, "BTC-USD", bids, n, asks, n, T0 - 5);
    } else {
        qw_enc_ex_snapshot(&b, "BTC-USD", bids, n, asks, n);
    }
    qw_feed *f;
    if (qw_feed_create(&f, NULL) != QW_OK)
        return 0;
    const qw_msg *m = parse(f, &b);
    int ok = m && m->type == QW_MSG_BOOK && m->ngroups == 1 &&
             m->groups[0].kind == QW_GRP_SNAPSHOT && strcmp(m->groups[0].product, "BTC-USD") == 0 &&
             m->nchg == 2 * n && m->feed == (adv ? QW_FEED_ADVANCED : QW_FEED_EXCHANGE);
    size_t nb = 0, na = 0;
    for (size_t i = 0; ok && i < m->nchg; i++) {
        const qw_chg *c = &m->chg[i];
        const qw_level *want = c->side == QW_FEED_BID ? &bids[nb++] : &asks[na++];
        ok = c->px == want->px && c->sz == want->sz && (!adv || c->t_ns == T0 - 5);
    }
    ok = ok && nb == n && na == n && (!adv || (m->t_ns == T0 && m->seq == 0));
    qw_feed_destroy(f);
    qw_sbuf_free(&b);
    return ok;
}

TEST(sim_encode_snapshot_roundtrip_both_feeds)
{
    ASSERT_TRUE(snapshot_roundtrip(0, 1));
    ASSERT_TRUE(snapshot_roundtrip(1, 1));
    ASSERT_TRUE(snapshot_roundtrip(0, 5000));
    ASSERT_TRUE(snapshot_roundtrip(1, 5000));
    ASSERT_TRUE(snapshot_roundtrip(1, 50000));
}

TEST(sim_encode_updates_roundtrip)
{
    qw_enc_chg c[3] = {{1, 0, T0, QW_BID},
                       {999999999999LL, 123456789, T0 + 1, QW_ASK},
                       {5000000000LL, 100000000, T0 + 2, QW_BID}};
    qw_feed *f;
    ASSERT_OK(qw_feed_create(&f, NULL));
    qw_sbuf b = {0};
    /* Exchange: times to the microsecond, one time for the message */
    int64_t tex = 1767312000123456000LL;
    qw_enc_ex_l2update(&b, "ETH-EUR", c, 3, tex);
    const qw_msg *m = parse(f, &b);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->type, QW_MSG_BOOK);
    ASSERT_EQ(m->nchg, 3);
    ASSERT_EQ(m->groups[0].kind, QW_GRP_UPDATE);
    ASSERT_EQ(m->t_ns, tex);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(m->chg[i].px, c[i].px);
        ASSERT_EQ(m->chg[i].sz, c[i].sz);
        ASSERT_EQ(m->chg[i].side, c[i].side);
    }
    /* Advanced: each update keeps its own event_time, ns exact */
    qw_sbuf_reset(&b);
    qw_enc_adv_head(&b, "l2_data", T0 + 9);
    qw_sbuf_i64(&b, 0);
    qw_enc_adv_l2_update(&b, "ETH-EUR", c, 3);
    m = parse(f, &b);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->nchg, 3);
    ASSERT_EQ(m->t_ns, T0 + 9);
    ASSERT_STREQ(m->groups[0].product, "ETH-EUR");
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(m->chg[i].px, c[i].px);
        ASSERT_EQ(m->chg[i].sz, c[i].sz);
        ASSERT_EQ(m->chg[i].side, c[i].side);
        ASSERT_EQ(m->chg[i].t_ns, c[i].t_ns);
    }
    qw_sbuf_free(&b);
    qw_feed_destroy(f);
}

TEST(sim_encode_trades_and_heartbeats_roundtrip)
{
    qw_enc_trade t[2] = {{"BTC-USD", "4242", 6543210000000LL, 1500000, T0, 77, QW_BID},
                         {"BTC-USD", "4241", 6543200000000LL, 1, T0 - 1000, 70, QW_ASK}};
    qw_feed *f;
    ASSERT_OK(qw_feed_create(&f, NULL));
    qw_sbuf b = {0};
    t[0].t_ns = 1767312000123456000LL;
    qw_enc_ex_match(&b, 0, &t[0]);
    const qw_msg *m = parse(f, &b);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->type, QW_MSG_TRADES);
    ASSERT_EQ(m->ntrades, 1);
    ASSERT_EQ(m->trades[0].px, t[0].px);
    ASSERT_EQ(m->trades[0].sz, t[0].sz);
    ASSERT_EQ(m->trades[0].aggressor, QW_FEED_BID); /* wire side "sell" */
    ASSERT_TRUE(strstr(b.p, "\"side\":\"sell\"") != NULL);
    ASSERT_EQ(m->trades[0].seq, 77);
    ASSERT_STREQ(m->trades[0].trade_id, "4242");
    ASSERT_EQ(m->trades[0].t_ns, t[0].t_ns);
    ASSERT_EQ(m->trades[0].snapshot, 0);
    qw_sbuf_reset(&b);
    qw_enc_ex_match(&b, 1, &t[1]);
    m = parse(f, &b);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->trades[0].snapshot, 1);
    ASSERT_EQ(m->trades[0].aggressor, QW_FEED_ASK);

    qw_sbuf_reset(&b);
    qw_enc_adv_head(&b, "market_trades", T0);
    qw_sbuf_i64(&b, 0);
    t[0].t_ns = T0;
    qw_enc_adv_trades(&b, 1, t, 2);
    m = parse(f, &b);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->ntrades, 2);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(m->trades[i].px, t[i].px);
        ASSERT_EQ(m->trades[i].sz, t[i].sz);
        ASSERT_EQ(m->trades[i].t_ns, t[i].t_ns);
        ASSERT_EQ(m->trades[i].aggressor, t[i].aggressor);
        ASSERT_STREQ(m->trades[i].trade_id, t[i].trade_id);
        ASSERT_EQ(m->trades[i].snapshot, 1);
    }
    qw_sbuf_reset(&b);
    qw_enc_ex_heartbeat(&b, "BTC-USD", 90, 20, 1767312000000001000LL);
    m = parse(f, &b);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->type, QW_MSG_HEARTBEAT);
    ASSERT_EQ(m->t_ns, 1767312000000001000LL);
    qw_sbuf_reset(&b);
    qw_enc_adv_head(&b, "heartbeats", T0);
    qw_sbuf_i64(&b, 1);
    qw_enc_adv_heartbeat(&b, 1786309548854840045LL, 41691260485341LL, 41691);
    m = parse(f, &b);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->type, QW_MSG_HEARTBEAT);
    ASSERT_TRUE(strstr(b.p, "\"current_time\":\"2026-08-09 21:05:48.854840045 +0000 UTC "
                            "m=+41691.260485341\",\"heartbeat_counter\":41691") != NULL);
    qw_sbuf_free(&b);
    qw_feed_destroy(f);
}

TEST(sim_encode_times_and_decimals_exact)
{
    qw_sbuf b = {0};
    qw_sbuf_time(&b, T0, 9, 1);
    qw_sbuf_chr(&b, ' ');
    qw_sbuf_time(&b, 1767312000100000000LL, 9, 1);
    qw_sbuf_chr(&b, ' ');
    qw_sbuf_time(&b, 1767312000000000000LL, 9, 1);
    qw_sbuf_chr(&b, ' ');
    qw_sbuf_time(&b, T0, 6, 0);
    qw_sbuf_chr(&b, ' ');
    qw_sbuf_dec(&b, 150000000);
    qw_sbuf_chr(&b, ' ');
    qw_sbuf_dec(&b, 1);
    qw_sbuf_chr(&b, ' ');
    qw_sbuf_jstr(&b, "a\"b\\c\n");
    qw_sbuf_chr(&b, '\0');
    ASSERT_STREQ(b.p, "2026-01-02T00:00:00.123456789Z 2026-01-02T00:00:00.1Z 2026-01-02T00:00:00Z "
                      "2026-01-02T00:00:00.123456Z 1.5 0.00000001 \"a\\\"b\\\\c\\u000a\"");
    qw_sbuf_free(&b);
}

/* test_feed.c: both Coinbase feeds, message by message: every event field,
 * key-order independence, time repair, sequence gaps, and rejection
 * reasons for malformed input. */
#include "core/alloc.h"
#include "core/dec.h"
#include "core/time.h"
#include "feed/feed.h"
#include "harness.h"

static qw_feed *mkfeed(void)
{
    qw_feed *f;
    if (qw_feed_create(&f, NULL) != QW_OK)
        abort();
    return f;
}

static qw_err parse(qw_feed *f, const char *s, const qw_msg **m)
{
    return qw_feed_parse(f, s, strlen(s), m);
}

static int64_t D(const char *s)
{
    int64_t v;
    if (qw_dec_parse(s, strlen(s), &v) != QW_OK)
        abort();
    return v;
}

TEST(feed_exchange_snapshot)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(
        f,
        "{\"type\":\"snapshot\",\"product_id\":\"BAND-GBP\",\"asks\":[[\"14.8024\",\"12.77\"],"
        "[\"14.8069\",\"12.49\"]],\"bids\":[[\"14.70\",\"0.5\"]]}",
        &m));
    ASSERT_EQ(m->feed, QW_FEED_EXCHANGE);
    ASSERT_EQ(m->type, QW_MSG_BOOK);
    ASSERT_EQ(m->ngroups, 1);
    ASSERT_EQ(m->groups[0].kind, QW_GRP_SNAPSHOT);
    ASSERT_STREQ(m->groups[0].product, "BAND-GBP");
    ASSERT_EQ(m->groups[0].count, 3);
    ASSERT_EQ(m->chg[0].side, QW_FEED_ASK);
    ASSERT_EQ(m->chg[0].px, D("14.8024"));
    ASSERT_EQ(m->chg[0].sz, D("12.77"));
    ASSERT_EQ(m->chg[2].side, QW_FEED_BID);
    ASSERT_EQ(m->chg[2].sz, D("0.5"));
    ASSERT_EQ(m->t_ns, 0);
    qw_feed_destroy(f);
}

TEST(feed_exchange_l2update)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(
        f,
        "{\"type\":\"l2update\",\"product_id\":\"SKL-USD\",\"changes\":[[\"buy\",\"0.4\",\"0.00\"],"
        "[\"sell\",\"0.41\",\"100\"]],\"time\":\"2021-04-17T16:43:37.300000Z\"}",
        &m));
    ASSERT_EQ(m->type, QW_MSG_BOOK);
    ASSERT_EQ(m->groups[0].kind, QW_GRP_UPDATE);
    ASSERT_EQ(m->nchg, 2);
    ASSERT_EQ(m->chg[0].side, QW_FEED_BID);
    ASSERT_EQ(m->chg[0].sz, 0);
    ASSERT_EQ(m->chg[1].side, QW_FEED_ASK);
    ASSERT_EQ(m->t_ns, 1618677817300000000);
    ASSERT_EQ(m->groups[0].t_ns, 1618677817300000000);
    ASSERT_EQ(m->chg[1].t_ns, 1618677817300000000);
    qw_feed_destroy(f);
}

TEST(feed_exchange_key_order_independent)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(f,
                    "{\"changes\":[[\"buy\",\"1\",\"2\"]],\"time\":\"2021-04-17T16:43:37Z\","
                    "\"product_id\":\"A-B\",\"type\":\"l2update\"}",
                    &m));
    ASSERT_EQ(m->type, QW_MSG_BOOK);
    ASSERT_EQ(m->nchg, 1);
    ASSERT_EQ(m->chg[0].px, D("1"));
    ASSERT_STREQ(m->groups[0].product, "A-B");
    ASSERT_OK(parse(f,
                    "{\"bids\":[[\"1\",\"2\"]],\"asks\":[[\"3\",\"4\"]],\"product_id\":\"A-B\","
                    "\"type\":\"snapshot\"}",
                    &m));
    ASSERT_EQ(m->nchg, 2);
    ASSERT_EQ(m->chg[1].side, QW_FEED_ASK);
    qw_feed_destroy(f);
}

TEST(feed_exchange_match_aggressor_is_opposite_of_maker)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(
        parse(f,
              "{\"type\":\"match\",\"trade_id\":134905860111,\"maker_order_id\":\"a\",\"taker_"
              "order_id\":\"b\","
              "\"side\":\"sell\",\"size\":\"0.5\",\"price\":\"100.25\",\"product_id\":\"BTC-USD\","
              "\"sequence\":50,\"time\":\"2021-04-17T16:43:37.5Z\"}",
              &m));
    ASSERT_EQ(m->type, QW_MSG_TRADES);
    ASSERT_EQ(m->ntrades, 1);
    ASSERT_EQ(m->trades[0].aggressor, QW_FEED_BID); /* maker sold: buyer aggressed */
    ASSERT_STREQ(m->trades[0].trade_id, "134905860111");
    ASSERT_EQ(m->trades[0].seq, 50);
    ASSERT_EQ(m->trades[0].px, D("100.25"));
    ASSERT_EQ(m->trades[0].snapshot, 0);
    ASSERT_OK(parse(
        f,
        "{\"type\":\"last_match\",\"trade_id\":1,\"side\":\"buy\",\"size\":\"1\",\"price\":\"2\","
        "\"product_id\":\"BTC-USD\",\"sequence\":1,\"time\":\"2021-04-17T16:43:37.5Z\"}",
        &m));
    ASSERT_EQ(m->trades[0].aggressor, QW_FEED_ASK);
    ASSERT_EQ(m->trades[0].snapshot, 1);
    qw_feed_destroy(f);
}

TEST(feed_exchange_other_types)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(f,
                    "{\"type\":\"heartbeat\",\"sequence\":90,\"last_trade_id\":20,\"product_id\":"
                    "\"BTC-USD\",\"time\":\"2014-11-07T08:19:28.464459Z\"}",
                    &m));
    ASSERT_EQ(m->type, QW_MSG_HEARTBEAT);
    ASSERT_EQ(m->ngroups, 1);
    ASSERT_STREQ(m->groups[0].product, "BTC-USD");
    ASSERT_OK(parse(f,
                    "{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"level2_50\",\"product_"
                    "ids\":[\"BTC-USD\"],\"account_ids\":null}]}",
                    &m));
    ASSERT_EQ(m->type, QW_MSG_SUBSCRIPTIONS);
    ASSERT_OK(parse(f,
                    "{\"type\":\"error\",\"message\":\"Failed to subscribe\",\"reason\":\"level2 "
                    "requires auth\"}",
                    &m));
    ASSERT_EQ(m->type, QW_MSG_ERROR);
    ASSERT_STREQ(m->text, "Failed to subscribe: level2 requires auth");
    ASSERT_OK(parse(
        f, "{\"type\":\"ticker\",\"sequence\":1,\"product_id\":\"X-Y\",\"price\":\"1\"}", &m));
    ASSERT_EQ(m->type, QW_MSG_IGNORED);
    ASSERT_EQ(m->unknown_type, 0);
    ASSERT_OK(parse(f, "{\"type\":\"brand_new\",\"x\":[1,2,{\"y\":null}]}", &m));
    ASSERT_EQ(m->type, QW_MSG_IGNORED);
    ASSERT_EQ(m->unknown_type, 1);
    ASSERT_STREQ(m->text, "brand_new");
    ASSERT_EQ(qw_feed_get_stats(f)->unknown_types, 1);
    ASSERT_EQ(qw_feed_get_stats(f)->ignored, 1);
    qw_feed_destroy(f);
}

TEST(feed_time_repair_counts)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(f,
                    "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[],\"time\":\"2021-"
                    "04-17T16:43:37Z\"}",
                    &m));
    ASSERT_EQ(m->times_repaired, 0);
    ASSERT_OK(parse(f,
                    "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1\","
                    "\"1\"]],\"time\":\"0001-01-01T00:00:00.000000Z\"}",
                    &m));
    ASSERT_EQ(m->times_repaired, 1);
    ASSERT_EQ(m->t_ns, 1618677817000000000); /* the last good time */
    ASSERT_ERR(
        QW_BAD_TIME,
        parse(
            f,
            "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[],\"time\":\"yesterday\"}",
            &m));
    ASSERT_EQ(qw_feed_get_stats(f)->times_repaired, 1);
    qw_feed_destroy(f);
}

static const struct {
    const char *msg;
    qw_err want;
} bad[] = {
    {"", QW_BAD_JSON},
    {"   ", QW_BAD_JSON},
    {"[1,2]", QW_BAD_TYPE},
    {"42", QW_BAD_TYPE},
    {"{", QW_BAD_JSON},
    {"{}", QW_MISSING_FIELD},
    {"{\"type\":5}", QW_BAD_TYPE},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":{},\"time\":\"2021-04-17T16:43:"
     "37Z\"}",
     QW_BAD_TYPE},
    {"{\"type\":\"l2update\",\"product_id\":5,\"changes\":[],\"time\":\"2021-04-17T16:43:37Z\"}",
     QW_BAD_TYPE},
    {"{\"type\":\"l2update\",\"product_id\":\"A "
     "B\",\"changes\":[],\"time\":\"2021-04-17T16:43:37Z\"}",
     QW_BAD_PRODUCT},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",12,\"1\"]],\"time\":"
     "\"2021-04-17T16:43:37Z\"}",
     QW_BAD_TYPE},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1e5\",\"1\"]],\"time\":"
     "\"2021-04-17T16:43:37Z\"}",
     QW_BAD_NUMBER},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1\",\"-1\"]],\"time\":"
     "\"2021-04-17T16:43:37Z\"}",
     QW_BAD_NUMBER},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1\",\"NaN\"]],\"time\":"
     "\"2021-04-17T16:43:37Z\"}",
     QW_BAD_NUMBER},
    {"{\"type\":\"snapshot\",\"product_id\":\"A-B\",\"bids\":[[\"1\",\"0.-10000\"]],\"asks\":[]}",
     QW_BAD_NUMBER},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"hold\",\"1\",\"1\"]],\"time\":"
     "\"2021-04-17T16:43:37Z\"}",
     QW_BAD_SIDE},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1\"]],\"time\":\"2021-"
     "04-17T16:43:37Z\"}",
     QW_BAD_TYPE},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1\",\"1\",\"1\"]],"
     "\"time\":\"2021-04-17T16:43:37Z\"}",
     QW_BAD_TYPE},
    {"{\"type\":\"l2update\",\"product_id\":\"A-B\",\"time\":\"2021-04-17T16:43:37Z\"}",
     QW_MISSING_FIELD},
    {"{\"type\":\"snapshot\",\"product_id\":\"A-B\",\"bids\":[]}", QW_MISSING_FIELD},
    {"{\"type\":\"match\",\"trade_id\":\"x\",\"side\":\"buy\",\"size\":\"1\",\"price\":\"1\","
     "\"product_id\":\"A-B\"}",
     QW_BAD_TYPE},
    {"{\"type\":\"match\",\"trade_id\":1.5,\"side\":\"buy\",\"size\":\"1\",\"price\":\"1\","
     "\"product_id\":\"A-B\"}",
     QW_BAD_NUMBER},
    {"{\"type\":\"match\",\"side\":\"buy\",\"size\":\"1\",\"price\":\"1\",\"product_id\":\"A-B\"}",
     QW_MISSING_FIELD},
    {"{\"type\":\"l2update\",\"type\":\"l2update\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\"} x", QW_BAD_JSON},
    {"{\"type\":\"ticker\",}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":[1,]}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":01}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":1e999}", QW_BAD_NUMBER},
    {"{\"type\":\"ticker\",\"a\":99999999999999999999}", QW_BAD_NUMBER},
    {"{\"type\":\"ticker\",\"a\":tru}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"\\x\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"\\u0000\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"\\udc00\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"\\ud800x\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"\xff\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"\xc0\xaf\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"\xed\xa0\x80\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":\"tab\there\"}", QW_BAD_JSON},
    {"{\"type\":\"ticker\",\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]"
     "]]]]]]]]]]]]]]}",
     QW_TOO_DEEP},
    {"{\"channel\":\"l2_data\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0}",
     QW_MISSING_FIELD},
    {"{\"channel\":\"l2_data\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":-1,"
     "\"events\":[]}",
     QW_BAD_SEQUENCE},
    {"{\"channel\":\"l2_data\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0,"
     "\"events\":[{\"type\":\"update\",\"product_id\":\"A-B\",\"updates\":[{\"side\":\"ask\","
     "\"price_level\":\"1\",\"new_quantity\":\"1\"}]}]}",
     QW_BAD_SIDE},
    {"{\"channel\":\"l2_data\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0,"
     "\"events\":[{\"type\":\"update\",\"product_id\":\"A-B\",\"updates\":[{\"side\":\"bid\",\"new_"
     "quantity\":\"1\"}]}]}",
     QW_MISSING_FIELD},
    {"{\"channel\":\"l2_data\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0,"
     "\"events\":[{\"type\":\"weird\",\"product_id\":\"A-B\",\"updates\":[]}]}",
     QW_BAD_TYPE},
    {"{\"channel\":\"market_trades\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0,"
     "\"events\":[{\"type\":\"update\",\"trades\":[{\"product_id\":\"A-B\",\"trade_id\":5,"
     "\"price\":\"1\",\"size\":\"1\",\"side\":\"BUY\",\"time\":\"2023-01-01T00:00:00Z\"}]}]}",
     QW_BAD_TYPE},
    {"{\"channel\":\"market_trades\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0,"
     "\"events\":[{\"type\":\"update\",\"trades\":[{\"product_id\":\"A-B\",\"trade_id\":\"5\","
     "\"price\":\"1\",\"size\":\"1\",\"side\":\"buy\",\"time\":\"2023-01-01T00:00:00Z\"}]}]}",
     QW_BAD_SIDE},
    {"{\"channel\":\"l2_data\",\"timestamp\":\"not a time\",\"sequence_num\":0,\"events\":[]}",
     QW_BAD_TIME},
};

TEST(feed_rejects_with_reason)
{
    qw_feed *f = mkfeed();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const qw_msg *m;
        qw_err e = parse(f, bad[i].msg, &m);
        if (e != bad[i].want)
            qwt_fail(__FILE__, __LINE__, "case %zu %s: want %s got %s (%s)", i, bad[i].msg,
                     qw_err_name(bad[i].want), qw_err_name(e), qw_feed_errmsg(f));
        ASSERT_EQ(e, bad[i].want);
        ASSERT_TRUE(qw_feed_errmsg(f)[0] != '\0');
    }
    ASSERT_EQ(qw_feed_get_stats(f)->rejected, sizeof bad / sizeof bad[0]);
    qw_feed_destroy(f);
}

TEST(feed_rejects_nul_byte_inside)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    const char s[] = "{\"type\":\"ticker\",\"a\":\"x\0y\"}";
    ASSERT_ERR(QW_BAD_JSON, qw_feed_parse(f, s, sizeof s - 1, &m));
    const char t[] = "{\"type\":\"ticker\"}\0";
    ASSERT_ERR(QW_BAD_JSON, qw_feed_parse(f, t, sizeof t - 1, &m));
    qw_feed_destroy(f);
}

TEST(feed_accepts_escapes_and_unicode)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(f,
                    "{\"type\":\"l2update\",\"product_\\u0069d\":\"A\\u002dB\",\"changes\":[["
                    "\"b\\u0075y\",\"1\\u002e5\",\"2\"]],"
                    "\"time\":\"2021-04-17T16:43:37Z\",\"note\":\"caf\xc3\xa9 \\ud83d\\ude00 "
                    "\xf0\x9f\x98\x80\"}",
                    &m));
    ASSERT_STREQ(m->groups[0].product, "A-B");
    ASSERT_EQ(m->chg[0].px, D("1.5"));
    ASSERT_EQ(m->chg[0].side, QW_FEED_BID);
    qw_feed_destroy(f);
}

#define ADV_SNAP                                                                                   \
    "{\"channel\":\"l2_data\",\"client_id\":\"\",\"timestamp\":\"2026-08-09T21:05:48.85484Z\","    \
    "\"sequence_num\":%d,"                                                                         \
    "\"events\":[{\"type\":\"snapshot\",\"product_id\":\"BTC-USD\",\"updates\":["                  \
    "{\"side\":\"bid\",\"event_time\":\"1970-01-01T00:00:00Z\",\"price_level\":\"100.5\",\"new_"   \
    "quantity\":\"1.25\"},"                                                                        \
    "{\"side\":\"offer\",\"event_time\":\"1970-01-01T00:00:00Z\",\"price_level\":\"100.6\",\"new_" \
    "quantity\":\"2\"}]}]}"

TEST(feed_advanced_l2_data)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    char buf[1024];
    snprintf(buf, sizeof buf, ADV_SNAP, 0);
    ASSERT_OK(parse(f, buf, &m));
    ASSERT_EQ(m->feed, QW_FEED_ADVANCED);
    ASSERT_EQ(m->type, QW_MSG_BOOK);
    ASSERT_EQ(m->seq, 0);
    ASSERT_EQ(m->gap, 0);
    ASSERT_EQ(m->ngroups, 1);
    ASSERT_EQ(m->groups[0].kind, QW_GRP_SNAPSHOT);
    ASSERT_EQ(m->nchg, 2);
    ASSERT_EQ(m->chg[1].side, QW_FEED_ASK);
    ASSERT_EQ(m->t_ns, 1786309548854840000);
    ASSERT_EQ(m->chg[0].t_ns, m->t_ns); /* 1970 placeholder repaired with the envelope time */
    ASSERT_EQ(m->times_repaired, 2);
    ASSERT_OK(parse(
        f,
        "{\"channel\":\"l2_data\",\"timestamp\":\"2026-08-09T21:05:48.9Z\",\"sequence_num\":1,"
        "\"events\":[{\"type\":\"update\",\"product_id\":\"BTC-USD\",\"updates\":["
        "{\"side\":\"bid\",\"event_time\":\"2026-08-09T21:05:48.870Z\",\"price_level\":\"100.5\","
        "\"new_quantity\":\"0\"}]},"
        "{\"type\":\"update\",\"product_id\":\"ETH-USD\",\"updates\":["
        "{\"side\":\"offer\",\"event_time\":\"2026-08-09T21:05:48.871Z\",\"price_level\":\"3000\","
        "\"new_quantity\":\"1\"}]}]}",
        &m));
    ASSERT_EQ(m->ngroups, 2);
    ASSERT_STREQ(m->groups[1].product, "ETH-USD");
    ASSERT_EQ(m->groups[1].first, 1);
    ASSERT_EQ(m->groups[1].count, 1);
    ASSERT_EQ(m->chg[0].t_ns, 1786309548870000000);
    ASSERT_EQ(m->gap, 0);
    qw_feed_destroy(f);
}

TEST(feed_advanced_sequence_gap_and_restart)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
#define HB                                                                                         \
    "{\"channel\":\"heartbeats\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_num\":%d,"      \
    "\"events\":[{\"current_time\":\"2026-08-09 21:05:48.854840045 +0000 UTC "                     \
    "m=+41691.260485341\",\"heartbeat_counter\":41691}]}"
    char buf[512];
    int seqs[] = {0, 1, 2, 5, 6, 0, 1};
    int gaps[] = {0, 0, 0, 1, 0, 0, 0};
    int restarts[] = {0, 0, 0, 0, 0, 1, 0};
    for (int i = 0; i < 7; i++) {
        snprintf(buf, sizeof buf, HB, seqs[i]);
        ASSERT_OK(parse(f, buf, &m));
        ASSERT_EQ(m->type, QW_MSG_HEARTBEAT);
        ASSERT_EQ(m->gap, gaps[i]);
        ASSERT_EQ(m->seq_restart, restarts[i]);
        if (gaps[i])
            ASSERT_EQ(m->gap_expected, 3);
    }
    ASSERT_EQ(qw_feed_get_stats(f)->gaps, 1);
    qw_feed_reset(f);
    snprintf(buf, sizeof buf, HB, 7);
    ASSERT_OK(parse(f, buf, &m));
    ASSERT_EQ(m->gap, 0); /* first message after a reset sets the baseline */
    qw_feed_destroy(f);
}

TEST(feed_advanced_trades_and_others)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(
        f,
        "{\"channel\":\"market_trades\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_num\":3,"
        "\"events\":[{\"type\":\"update\",\"trades\":[{\"product_id\":\"BTC-USD\",\"trade_id\":"
        "\"123\",\"price\":\"100\","
        "\"size\":\"0.1\",\"time\":\"2026-08-09T21:05:47.5Z\",\"side\":\"SELL\"},{\"product_id\":"
        "\"ETH-USD\",\"trade_id\":\"9\","
        "\"price\":\"3\",\"size\":\"1\",\"time\":\"2026-08-09T21:05:47.6Z\",\"side\":\"BUY\"}]}]}",
        &m));
    ASSERT_EQ(m->type, QW_MSG_TRADES);
    ASSERT_EQ(m->ntrades, 2);
    ASSERT_EQ(m->trades[0].aggressor, QW_FEED_BID);
    ASSERT_EQ(m->trades[1].aggressor, QW_FEED_ASK);
    ASSERT_STREQ(m->trades[1].product, "ETH-USD");
    ASSERT_STREQ(m->trades[0].trade_id, "123");
    ASSERT_EQ(m->trades[0].t_ns, 1786309547500000000);
    ASSERT_OK(parse(
        f,
        "{\"channel\":\"subscriptions\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_num\":4,"
        "\"events\":[{\"subscriptions\":{\"level2\":[\"BTC-USD\"],\"heartbeats\":[\"heartbeats\"]}}"
        "]}",
        &m));
    ASSERT_EQ(m->type, QW_MSG_SUBSCRIPTIONS);
    ASSERT_OK(parse(f,
                    "{\"channel\":\"ticker\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_"
                    "num\":5,\"events\":[]}",
                    &m));
    ASSERT_EQ(m->type, QW_MSG_IGNORED);
    ASSERT_OK(parse(f,
                    "{\"channel\":\"mystery\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_"
                    "num\":6,\"events\":[]}",
                    &m));
    ASSERT_EQ(m->unknown_type, 1);
    ASSERT_OK(parse(f, "{\"type\":\"error\",\"message\":\"failure to subscribe\"}", &m));
    ASSERT_EQ(m->type, QW_MSG_ERROR);
    ASSERT_STREQ(m->text, "failure to subscribe");
    /* events before channel: deferred path */
    ASSERT_OK(parse(f,
                    "{\"events\":[{\"type\":\"update\",\"product_id\":\"BTC-USD\",\"updates\":[{"
                    "\"side\":\"bid\",\"price_level\":\"1\","
                    "\"new_quantity\":\"2\"}]}],\"sequence_num\":7,\"timestamp\":\"2026-08-09T21:"
                    "05:48Z\",\"channel\":\"l2_data\"}",
                    &m));
    ASSERT_EQ(m->type, QW_MSG_BOOK);
    ASSERT_EQ(m->nchg, 1);
    ASSERT_EQ(m->chg[0].t_ns, 1786309548000000000);
    qw_feed_destroy(f);
}

TEST(feed_no_allocation_after_warmup)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    char buf[1024];
    snprintf(buf, sizeof buf, ADV_SNAP, 0);
    ASSERT_OK(parse(f, buf, &m));
    uint64_t before = qw_alloc_count();
    for (int i = 0; i < 10000; i++) {
        snprintf(buf, sizeof buf, ADV_SNAP, i + 1);
        ASSERT_OK(parse(f, buf, &m));
        ASSERT_OK(parse(f,
                        "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1\","
                        "\"2\"]],\"time\":\"2021-04-17T16:43:37Z\"}",
                        &m));
    }
    ASSERT_EQ(qw_alloc_count(), before);
    qw_feed_destroy(f);
}

TEST(feed_limits_bound_growth)
{
    qw_feed *f;
    qw_feed_opts o = {.max_changes = 300};
    ASSERT_OK(qw_feed_create(&f, &o));
    char *buf = malloc(64 * 1024);
    size_t n = (size_t)sprintf(buf, "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"time\":\"2021-"
                                    "04-17T16:43:37Z\",\"changes\":[");
    for (int i = 0; i < 400; i++)
        n += (size_t)sprintf(buf + n, "%s[\"buy\",\"%d\",\"1\"]", i ? "," : "", i + 1);
    n += (size_t)sprintf(buf + n, "]}");
    const qw_msg *m;
    ASSERT_ERR(QW_TOO_LARGE, qw_feed_parse(f, buf, n, &m));
    free(buf);
    qw_feed_destroy(f);
}

TEST(feed_alloc_failure_is_clean)
{
    for (long k = 0; k < 4; k++) {
        qw_feed *f = NULL;
        qw_alloc_fail_after(k);
        qw_err e = qw_feed_create(&f, NULL);
        qw_alloc_fail_after(-1);
        if (e == QW_OK)
            qw_feed_destroy(f);
        else
            ASSERT_ERR(QW_NOMEM, e);
    }
    qw_feed *f = mkfeed();
    char *buf = malloc(64 * 1024);
    size_t n = (size_t)sprintf(
        buf, "{\"type\":\"snapshot\",\"product_id\":\"A-B\",\"asks\":[],\"bids\":[");
    for (int i = 0; i < 1000; i++)
        n += (size_t)sprintf(buf + n, "%s[\"%d\",\"1\"]", i ? "," : "", i + 1);
    n += (size_t)sprintf(buf + n, "]}");
    const qw_msg *m;
    qw_alloc_fail_after(0);
    ASSERT_ERR(QW_NOMEM, qw_feed_parse(f, buf, n, &m));
    qw_alloc_fail_after(-1);
    ASSERT_OK(qw_feed_parse(f, buf, n, &m));
    ASSERT_EQ(m->nchg, 1000);
    free(buf);
    qw_feed_destroy(f);
}

TEST(feed_guess_product)
{
    char out[QW_PRODUCT_MAX];
    const char *s = "{\"type\":\"l2update\",\"product_id\" : \"ETH-USD\",\"changes\":[[\"buy\",\"x";
    ASSERT_EQ(qw_feed_guess_product(s, strlen(s), out), 7);
    ASSERT_STREQ(out, "ETH-USD");
    ASSERT_EQ(qw_feed_guess_product("{\"product_id\":5}", 16, out), 0);
    ASSERT_EQ(qw_feed_guess_product("garbage", 7, out), 0);
}

TEST(feed_time_cache_matches_full_parser)
{
    /* Times that share a minute take the cached fast path; every form must
     * give what qw_time_parse gives. */
    qw_feed *f = mkfeed();
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        char prefix[32], ts[64], msg[256];
        snprintf(prefix, sizeof prefix, "2021-04-17T16:%02d:", (int)((x >> 20) % 3));
        int sec = (int)((x >> 30) % 60), frac = (int)((x >> 40) % 1000000);
        switch ((x >> 8) % 6) {
        case 0: snprintf(ts, sizeof ts, "%s%02d.%06dZ", prefix, sec, frac); break;
        case 1: snprintf(ts, sizeof ts, "%s%02dZ", prefix, sec); break;
        case 2: snprintf(ts, sizeof ts, "%s%02d.%dZ", prefix, sec, frac % 10); break;
        case 3: snprintf(ts, sizeof ts, "%s%02d.%09dZ", prefix, sec, frac * 997); break;
        case 4: snprintf(ts, sizeof ts, "%s%02d.%06d+00:00", prefix, sec, frac); break;
        default: snprintf(ts, sizeof ts, "%s%02d.%03dz", prefix, sec, frac % 1000); break;
        }
        snprintf(msg, sizeof msg,
                 "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[],\"time\":\"%s\"}",
                 ts);
        int64_t want;
        ASSERT_OK(qw_time_parse(ts, strlen(ts), &want));
        const qw_msg *m;
        ASSERT_OK(parse(f, msg, &m));
        if (m->t_ns != want)
            qwt_fail(__FILE__, __LINE__, "%s: %lld != %lld", ts, (long long)m->t_ns,
                     (long long)want);
    }
    const qw_msg *m;
    /* a malformed tail after a cached prefix is still rejected */
    ASSERT_ERR(QW_BAD_TIME, parse(f,
                                  "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[],"
                                  "\"time\":\"2021-04-17T16:01:7x.5Z\"}",
                                  &m));
    ASSERT_ERR(QW_BAD_TIME, parse(f,
                                  "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[],"
                                  "\"time\":\"2021-04-17T16:01:60Z\"}",
                                  &m));
    ASSERT_ERR(QW_BAD_TIME, parse(f,
                                  "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[],"
                                  "\"time\":\"2021-04-17T16:01:07.Z\"}",
                                  &m));
    qw_feed_destroy(f);
}

TEST(feed_changes_fast_path_equals_generic)
{
    /* the compact form takes the fast path; spaced and escaped forms take
     * the generic one; all must give the same events */
    const char *forms[] = {
        "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"10.5\",\"0.00\"],["
        "\"sell\",\"11\",\"2.12345678\"]],\"time\":\"2021-04-17T16:43:37Z\"}",
        "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[ [ \"buy\" , \"10.5\" , "
        "\"0.00\" ] , [\"sell\",\"11\",\"2.12345678\"] ],\"time\":\"2021-04-17T16:43:37Z\"}",
        "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1\\u0030.5\",\"0."
        "00\"],[\"s\\u0065ll\",\"11.0\",\"2.123456780\"]],\"time\":\"2021-04-17T16:43:37Z\"}",
    };
    qw_feed *f = mkfeed();
    for (int i = 0; i < 3; i++) {
        const qw_msg *m;
        ASSERT_OK(parse(f, forms[i], &m));
        ASSERT_EQ(m->nchg, 2);
        ASSERT_EQ(m->chg[0].side, QW_FEED_BID);
        ASSERT_EQ(m->chg[0].px, D("10.5"));
        ASSERT_EQ(m->chg[0].sz, 0);
        ASSERT_EQ(m->chg[1].side, QW_FEED_ASK);
        ASSERT_EQ(m->chg[1].px, D("11"));
        ASSERT_EQ(m->chg[1].sz, D("2.12345678"));
    }
    const qw_msg *m;
    ASSERT_ERR(QW_BAD_NUMBER,
               parse(f,
                     "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"1."
                     "123456789\",\"1\"]],\"time\":\"2021-04-17T16:43:37Z\"}",
                     &m));
    ASSERT_ERR(QW_BAD_JSON, parse(f,
                                  "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[["
                                  "\"buy\",\"1\",\"1\"],],\"time\":\"2021-04-17T16:43:37Z\"}",
                                  &m));
    ASSERT_ERR(QW_BAD_NUMBER,
               parse(f,
                     "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\","
                     "\"92233720369\",\"1\"]],\"time\":\"2021-04-17T16:43:37Z\"}",
                     &m));
    qw_feed_destroy(f);
}

/* One rule for repeated keys on both feeds: the message is refused with
 * bad_json and the error names the key. */
TEST(feed_duplicate_keys_named_on_both_feeds)
{
    static const struct {
        const char *msg, *key;
    } cases[] = {
        {"{\"type\":\"l2update\",\"product_id\":\"BTC-USD\",\"time\":\"2021-04-17T16:43:30Z\","
         "\"changes\":[],\"changes\":[]}",
         "changes"},
        {"{\"type\":\"match\",\"product_id\":\"BTC-USD\",\"price\":\"1\",\"price\":\"2\"}",
         "price"},
        {"{\"channel\":\"l2_data\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0,"
         "\"events\":[{\"type\":\"update\",\"product_id\":\"BTC-USD\",\"updates\":[{\"side\":"
         "\"bid\",\"event_time\":\"2023-01-01T00:00:00Z\",\"price_level\":\"1\",\"price_level\":"
         "\"2\",\"new_quantity\":\"1\"}]}]}",
         "price_level"},
        {"{\"channel\":\"market_trades\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"sequence_num\":0,"
         "\"events\":[{\"type\":\"update\",\"trades\":[{\"trade_id\":\"1\",\"trade_id\":\"2\"}]}]}",
         "trade_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qw_feed *f = mkfeed();
        const qw_msg *m;
        qw_err e = parse(f, cases[i].msg, &m);
        char want[64];
        snprintf(want, sizeof want, "duplicate key \"%s\"", cases[i].key);
        if (e != QW_BAD_JSON || !strstr(qw_feed_errmsg(f), want))
            qwt_fail(__FILE__, __LINE__, "case %zu: %s (%s), want bad_json with '%s'", i,
                     qw_err_name(e), qw_feed_errmsg(f), want);
        ASSERT_EQ(e, QW_BAD_JSON);
        qw_feed_destroy(f);
    }
}

/* Every proper prefix of a valid message is rejected, and no parser reads
 * past its end: each prefix sits in a heap block of exactly its size, so
 * the sanitizer build sees an overread (the fuzzer once found one after a
 * comma that ended the input, in the fast path for l2update changes). */
TEST(feed_every_prefix_rejected_without_overread)
{
    static const char *const msgs[] = {
        "{\"type\":\"l2update\",\"product_id\":\"SKL-BTC\",\"changes\":[[\"sell\",\"0.00001306\","
        "\"660.5\"],[\"buy\",\"0.00001300\",\"0\"]],\"time\":\"2021-04-17T16:43:37.300000Z\"}",
        "{\"type\":\"snapshot\",\"product_id\":\"BAND-GBP\",\"asks\":[[\"14.8024\",\"12.77\"]],"
        "\"bids\":[[\"14.70\",\"0.5\"]]}",
        "{\"type\":\"match\",\"trade_id\":7,\"product_id\":\"BTC-USD\",\"price\":\"100.5\","
        "\"size\":\"0.1\",\"side\":\"buy\",\"time\":\"2021-04-17T16:43:37.3Z\",\"sequence\":9}",
        "{\"channel\":\"l2_data\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_num\":7,"
        "\"events\":[{\"type\":\"update\",\"product_id\":\"BTC-USD\",\"updates\":[{\"side\":"
        "\"bid\",\"event_time\":\"2026-08-09T21:05:48Z\",\"price_level\":\"1\","
        "\"new_quantity\":\"2\"}]}]}",
        "{\"channel\":\"market_trades\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_num\":3,"
        "\"events\":[{\"type\":\"update\",\"trades\":[{\"product_id\":\"BTC-USD\",\"trade_id\":"
        "\"123\",\"price\":\"100\",\"size\":\"0.1\",\"time\":\"2026-08-09T21:05:47.5Z\","
        "\"side\":\"SELL\"}]}]}",
    };
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
        qw_feed *f = mkfeed();
        const qw_msg *m;
        size_t n = strlen(msgs[k]);
        ASSERT_OK(qw_feed_parse(f, msgs[k], n, &m));
        for (size_t len = 0; len < n; len++) {
            char *b = malloc(len ? len : 1);
            ASSERT_TRUE(b != NULL);
            memcpy(b, msgs[k], len);
            ASSERT_NE(qw_feed_parse(f, b, len, &m), QW_OK);
            free(b);
        }
        qw_feed_destroy(f);
    }
}

/* Sizes beyond INT64_MAX e8 (a SHIB or PEPE level, 1e12 units) parse
 * exactly on both feeds, in the fast and the general path; beyond
 * QW_SZ_MAX they are rejected. */
TEST(feed_sizes_beyond_int64)
{
    qw_feed *f = mkfeed();
    const qw_msg *m;
    ASSERT_OK(parse(f,
                    "{\"type\":\"snapshot\",\"product_id\":\"PEPE-USD\",\"bids\":[[\"0.00000871\","
                    "\"1000000000000\"]],\"asks\":[[\"0.00000872\",\"92233720368.54775808\"]]}",
                    &m));
    ASSERT_TRUE(m->chg[0].sz == (qw_sz)1000000000000LL * QW_DEC_SCALE);
    ASSERT_TRUE(m->chg[1].sz == (qw_sz)INT64_MAX + 1);
    ASSERT_OK(parse(f,
                    "{\"type\":\"l2update\",\"product_id\":\"PEPE-USD\",\"changes\":[[\"buy\","
                    "\"0.0000087\",\"123456789012345.5\"]],\"time\":\"2021-04-17T16:43:37.3Z\"}",
                    &m));
    ASSERT_TRUE(m->chg[0].sz == (qw_sz)12345678901234550LL * 1000000);
    ASSERT_OK(parse(f,
                    "{\"type\":\"match\",\"trade_id\":7,\"product_id\":\"PEPE-USD\",\"price\":"
                    "\"0.00000871\",\"size\":\"500000000000\",\"side\":\"buy\",\"time\":\"2021-04-"
                    "17T16:43:37.5Z\",\"sequence\":9}",
                    &m));
    ASSERT_TRUE(m->trades[0].sz == (qw_sz)500000000000LL * QW_DEC_SCALE);
    ASSERT_OK(parse(f,
                    "{\"channel\":\"l2_data\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_"
                    "num\":7,\"events\":[{\"type\":\"update\",\"product_id\":\"PEPE-USD\","
                    "\"updates\":[{\"side\":\"bid\",\"event_time\":\"2026-08-09T21:05:48Z\","
                    "\"price_level\":\"1\",\"new_quantity\":\"99999999999999\"}]}]}",
                    &m));
    ASSERT_TRUE(m->chg[0].sz == (qw_sz)99999999999999LL * QW_DEC_SCALE);
    ASSERT_NE(parse(f,
                    "{\"type\":\"l2update\",\"product_id\":\"PEPE-USD\",\"changes\":[[\"buy\","
                    "\"1\",\"10000000000000000000000\"]],\"time\":\"2021-04-17T16:43:37.3Z\"}",
                    &m),
              QW_OK);
    /* a price stays int64 e8: beyond it is refused */
    ASSERT_NE(parse(f,
                    "{\"type\":\"l2update\",\"product_id\":\"PEPE-USD\",\"changes\":[[\"buy\","
                    "\"92233720368.54775808\",\"1\"]],\"time\":\"2021-04-17T16:43:37.3Z\"}",
                    &m),
              QW_OK);
    qw_feed_destroy(f);
}

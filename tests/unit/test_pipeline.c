/* test_pipeline.c: routing, book application, the resync rule (gap,
 * restart, crossed, rejected, error), atomic groups and trades. */
#include <unistd.h>

#include "core/dec.h"
#include "harness.h"
#include "pipeline/pipeline.h"

typedef struct env {
    qw_feed *f;
    qw_pipeline *p;
} env;

static env mk(int auto_add)
{
    env e;
    qw_pipeline_opts o = {.auto_add = auto_add, .trades_ring = 4};
    if (qw_feed_create(&e.f, NULL) != QW_OK || qw_pipeline_create(&e.p, &o) != QW_OK)
        abort();
    return e;
}

static void done(env *e)
{
    qw_pipeline_destroy(e->p);
    qw_feed_destroy(e->f);
}

static qw_err feed(env *e, const char *s)
{
    return qw_pipeline_ingest(e->p, e->f, s, strlen(s), 0, NULL);
}

static const qw_chain *chain(env *e, const char *prod)
{
    size_t idx;
    if (qw_pipeline_product(e->p, prod, strlen(prod), &idx) != QW_OK)
        return NULL;
    return qw_pipeline_chain(e->p, idx);
}

static int64_t D(const char *s)
{
    int64_t v;
    if (qw_dec_parse(s, strlen(s), &v) != QW_OK)
        abort();
    return v;
}

#define SNAP                                                                                       \
    "{\"type\":\"snapshot\",\"product_id\":\"A-B\",\"bids\":[[\"10\",\"1\"],[\"9\",\"2\"]],"       \
    "\"asks\":[[\"11\",\"1\"],[\"12\",\"3\"]]}"
#define UPD(side, px, sz)                                                                          \
    "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"" side "\",\"" px "\",\"" sz    \
    "\"]],\"time\":\"2021-04-17T16:43:37Z\"}"

TEST(pipeline_snapshot_then_updates)
{
    env e = mk(1);
    ASSERT_OK(feed(&e, SNAP));
    const qw_chain *c = chain(&e, "A-B");
    ASSERT_TRUE(c != NULL);
    ASSERT_EQ(c->needs_resync, 0);
    ASSERT_EQ(c->st.snapshots, 1);
    ASSERT_OK(feed(&e, UPD("buy", "10.5", "4")));
    ASSERT_OK(feed(&e, UPD("sell", "11", "0.00")));
    qw_level l;
    ASSERT_TRUE(qw_book_best(c->book, QW_BID, &l));
    ASSERT_EQ(l.px, D("10.5"));
    ASSERT_TRUE(qw_book_best(c->book, QW_ASK, &l));
    ASSERT_EQ(l.px, D("12"));
    ASSERT_EQ(c->st.book_updates, 2);
    ASSERT_EQ(c->last_t_ns, 1618677817000000000);
    ASSERT_EQ(c->needs_resync, 0);
    done(&e);
}

TEST(pipeline_crossed_flags_resync_until_snapshot)
{
    env e = mk(1);
    ASSERT_OK(feed(&e, SNAP));
    ASSERT_OK(feed(&e, UPD("buy", "11", "1"))); /* locked: bid == ask */
    const qw_chain *c = chain(&e, "A-B");
    ASSERT_EQ(c->st.crossed, 1);
    ASSERT_EQ(c->needs_resync, 1);
    ASSERT_EQ(c->st.resyncs, 1);
    ASSERT_EQ(c->st.resyncs_by[QW_RESYNC_CROSSED], 1);
    ASSERT_OK(feed(&e, UPD("buy", "11.5", "1"))); /* still crossed: counted, no new resync */
    ASSERT_EQ(c->st.crossed, 2);
    ASSERT_EQ(c->st.resyncs, 1);
    ASSERT_EQ(c->st.updates_while_invalid, 1);
    ASSERT_OK(feed(&e, SNAP));
    ASSERT_EQ(c->needs_resync, 0);
    done(&e);
}

TEST(pipeline_rejected_message_flags_its_product_only)
{
    env e = mk(1);
    ASSERT_OK(feed(&e, SNAP));
    ASSERT_OK(feed(&e, "{\"type\":\"snapshot\",\"product_id\":\"C-D\",\"bids\":[[\"1\",\"1\"]],"
                       "\"asks\":[[\"2\",\"1\"]]}"));
    ASSERT_ERR(QW_BAD_NUMBER, feed(&e, UPD("buy", "10", "1e3")));
    ASSERT_EQ(chain(&e, "A-B")->needs_resync, 1);
    ASSERT_EQ(chain(&e, "A-B")->st.rejected, 1);
    ASSERT_EQ(chain(&e, "C-D")->needs_resync, 0);
    /* the book itself is untouched by the rejected message */
    ASSERT_EQ(qw_book_get(chain(&e, "A-B")->book, QW_BID, D("10")), D("1"));
    const qw_pipeline_stats *st = qw_pipeline_get_stats(e.p);
    ASSERT_EQ(st->rejected, 1);
    ASSERT_EQ(st->rejected_by[QW_BAD_NUMBER], 1);
    /* garbage naming an unknown product creates no chain */
    ASSERT_ERR(QW_BAD_JSON, feed(&e, "{\"product_id\":\"ZZ-TOP\",,"));
    ASSERT_EQ(qw_pipeline_count(e.p), 2);
    done(&e);
}

TEST(pipeline_group_is_all_or_nothing)
{
    env e = mk(1);
    ASSERT_OK(feed(&e, SNAP));
    /* a zero price is refused by the book: no change of the group may land */
    ASSERT_OK(feed(&e, "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"9\","
                       "\"7\"],[\"buy\",\"0\",\"1\"]],\"time\":\"2021-04-17T16:43:37Z\"}"));
    const qw_chain *c = chain(&e, "A-B");
    ASSERT_EQ(qw_book_get(c->book, QW_BID, D("9")), D("2"));
    ASSERT_EQ(c->needs_resync, 1);
    ASSERT_EQ(c->st.resyncs_by[QW_RESYNC_BOOK], 1);
    done(&e);
}

TEST(pipeline_advanced_gap_and_restart_flag_all)
{
    env e = mk(1);
    const char *s0 = "{\"channel\":\"l2_data\",\"timestamp\":\"2026-08-09T21:05:48Z\",\"sequence_"
                     "num\":0,\"events\":["
                     "{\"type\":\"snapshot\",\"product_id\":\"BTC-USD\",\"updates\":[{\"side\":"
                     "\"bid\",\"price_level\":\"1\",\"new_quantity\":\"1\"},"
                     "{\"side\":\"offer\",\"price_level\":\"2\",\"new_quantity\":\"1\"}]},"
                     "{\"type\":\"snapshot\",\"product_id\":\"ETH-USD\",\"updates\":[{\"side\":"
                     "\"bid\",\"price_level\":\"1\",\"new_quantity\":\"1\"}]}]}";
    ASSERT_OK(feed(&e, s0));
    ASSERT_EQ(chain(&e, "BTC-USD")->needs_resync, 0);
    ASSERT_EQ(chain(&e, "ETH-USD")->needs_resync, 0);
    ASSERT_OK(feed(&e, "{\"channel\":\"heartbeats\",\"timestamp\":\"2026-08-09T21:05:49Z\","
                       "\"sequence_num\":2,\"events\":[]}"));
    ASSERT_EQ(chain(&e, "BTC-USD")->needs_resync, 1);
    ASSERT_EQ(chain(&e, "ETH-USD")->st.gaps, 1);
    ASSERT_EQ(chain(&e, "ETH-USD")->st.resyncs_by[QW_RESYNC_GAP], 1);
    ASSERT_EQ(qw_pipeline_get_stats(e.p)->gaps, 1);
    ASSERT_OK(feed(&e, s0)); /* sequence 0 again: a new connection, not a gap */
    ASSERT_EQ(qw_pipeline_get_stats(e.p)->gaps, 1);
    ASSERT_EQ(qw_pipeline_get_stats(e.p)->seq_restarts, 1);
    ASSERT_EQ(chain(&e, "BTC-USD")->needs_resync, 0); /* rebuilt from the fresh snapshot */
    done(&e);
}

TEST(pipeline_trades_ring_and_error)
{
    env e = mk(1);
    for (int i = 0; i < 6; i++) {
        char b[400];
        snprintf(b, sizeof b,
                 "{\"type\":\"match\",\"trade_id\":%d,\"side\":\"%s\",\"size\":\"1\",\"price\":\"%"
                 "d\",\"product_id\":\"A-B\",\"sequence\":%d,\"time\":\"2021-04-17T16:43:37Z\"}",
                 i, i % 2 ? "buy" : "sell", 100 + i, i);
        ASSERT_OK(feed(&e, b));
    }
    const qw_chain *c = chain(&e, "A-B");
    ASSERT_EQ(c->st.trades, 6);
    ASSERT_EQ(qw_trades_count(c->trades), 4);
    ASSERT_EQ(qw_trades_get(c->trades, 0)->px, D("105"));
    ASSERT_EQ(qw_trades_get(c->trades, 0)->aggressor, QW_ASK); /* maker bought: seller aggressed */
    ASSERT_STREQ(qw_trades_get(c->trades, 0)->trade_id, "5");
    ASSERT_OK(feed(&e, "{\"type\":\"error\",\"message\":\"Failed to subscribe\"}"));
    ASSERT_EQ(qw_pipeline_get_stats(e.p)->errors, 1);
    ASSERT_STREQ(qw_pipeline_get_stats(e.p)->last_error, "Failed to subscribe");
    ASSERT_EQ(c->needs_resync, 1);
    done(&e);
}

TEST(pipeline_without_auto_add_ignores_unknown_products)
{
    env e = mk(0);
    ASSERT_OK(feed(&e, SNAP));
    ASSERT_EQ(qw_pipeline_count(e.p), 0);
    ASSERT_EQ(qw_pipeline_get_stats(e.p)->unknown_product, 1);
    done(&e);
}

TEST(pipeline_product_table_is_bounded)
{
    qw_pipeline *p;
    qw_pipeline_opts o = {.auto_add = 1, .max_products = 3};
    ASSERT_OK(qw_pipeline_create(&p, &o));
    size_t idx;
    ASSERT_OK(qw_pipeline_product(p, "A", 1, &idx));
    ASSERT_OK(qw_pipeline_product(p, "B", 1, &idx));
    ASSERT_OK(qw_pipeline_product(p, "C", 1, &idx));
    ASSERT_ERR(QW_TOO_MANY_PRODUCTS, qw_pipeline_product(p, "D", 1, &idx));
    ASSERT_OK(qw_pipeline_product(p, "B", 1, &idx));
    ASSERT_EQ(idx, 1);
    qw_pipeline_destroy(p);
}

TEST(pipeline_models_save_and_hot_reload)
{
    env a = mk(1), b = mk(1);
    /* teach A something: labeled samples on a moving book */
    ASSERT_OK(feed(&a, SNAP));
    for (int i = 0; i < 400; i++) {
        char m[300];
        snprintf(m, sizeof m,
                 "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"%d.5\","
                 "\"1\"],[\"buy\",\"%d.5\",\"0\"]],"
                 "\"time\":\"2021-04-17T16:%02d:%02d.%03dZ\"}",
                 9 + (i % 2), 9 + ((i + 1) % 2), i / 120, (i / 2) % 60, (i % 2) * 300);
        ASSERT_OK(feed(&a, m));
    }
    const qw_chain *ca = chain(&a, "A-B");
    ASSERT_TRUE(qw_classifier_labeled(ca->clf) > 100);
    char path[] = "/tmp/qwtest_models_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    char eb[256];
    ASSERT_OK(qw_pipeline_save_models(a.p, path, eb, sizeof eb));
    /* B is running with its own chain; reload replaces that product's model */
    ASSERT_OK(feed(&b, SNAP));
    ASSERT_OK(qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    const qw_chain *cb = chain(&b, "A-B");
    ASSERT_EQ(qw_classifier_labeled(cb->clf), qw_classifier_labeled(ca->clf));
    ASSERT_DBL_NEAR(qw_sgd_intercept(qw_classifier_sgd(cb->clf)),
                    qw_sgd_intercept(qw_classifier_sgd(ca->clf)), 0);
    /* a truncated file changes nothing */
    uint64_t before = qw_classifier_labeled(cb->clf);
    ASSERT_EQ(truncate(path, 40), 0);
    ASSERT_ERR(QW_CORRUPT, qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    ASSERT_TRUE(strstr(eb, "truncated") != NULL || strstr(eb, "corrupt") != NULL);
    ASSERT_EQ(qw_classifier_labeled(cb->clf), before);
    unlink(path);
    done(&a);
    done(&b);
}

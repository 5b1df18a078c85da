/* test_dashboard.c: the dashboard's state JSON (parsed back with jansson,
 * exact decimals) and Prometheus text (format, cumulative histogram). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dashboard/dash_int.h"
#include "dashboard/dashboard.h"
#include "feed/feed.h"
#include "harness.h"

static qw_pipeline *fed_pipeline(qw_feed **f)
{
    qw_pipeline *p;
    qw_pipeline_opts po = {0};
    if (qw_pipeline_create(&p, &po) != QW_OK || qw_feed_create(f, NULL) != QW_OK)
        return NULL;
    qw_pipeline_add_product(p, "BTC-USD");
    qw_pipeline_add_product(p, "ETH-USD");
    static const char *msgs[] = {
        "{\"type\":\"snapshot\",\"product_id\":\"BTC-USD\",\"bids\":[[\"100.10\",\"1.5\"],[\"99\","
        "\"2\"]],\"asks\":[[\"100.2\",\"0.25\"]]}",
        "{\"type\":\"l2update\",\"product_id\":\"BTC-USD\",\"changes\":[[\"buy\",\"100.15\",\"0."
        "00000001\"]],\"time\":\"2026-01-01T00:00:00.000000Z\"}",
        "{\"type\":\"match\",\"trade_id\":7,\"side\":\"sell\",\"size\":\"0.5\",\"price\":\"100.2\","
        "\"product_id\":\"BTC-USD\",\"sequence\":1,\"time\":\"2026-01-01T00:00:00.100000Z\"}",
    };
    for (int i = 0; i < 3; i++)
        qw_pipeline_ingest(p, *f, msgs[i], strlen(msgs[i]), 0, NULL);
    return p;
}

TEST(dashboard_state_json_exact)
{
    qw_feed *f;
    qw_pipeline *p = fed_pipeline(&f);
    ASSERT_TRUE(p != NULL);
    qw_dash *d;
    char eb[128];
    qw_dash_opts o = {.mode = "replay"};
    ASSERT_OK(qw_dash_create(&d, NULL, &o, eb, sizeof eb));
    qw_dash_set_sources(d, p, NULL, NULL);
    size_t n;
    const char *s = qw_dash_state_json(d, &n);
    ASSERT_TRUE(s != NULL && n == strlen(s));
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    ASSERT_TRUE(j != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(j, "mode")), "replay");
    json_t *prods = json_object_get(j, "products");
    ASSERT_EQ(json_array_size(prods), 2u);
    json_t *b = json_array_get(prods, 0);
    ASSERT_STREQ(json_string_value(json_object_get(b, "best_bid")), "100.15");
    ASSERT_STREQ(json_string_value(json_object_get(b, "best_ask")), "100.2");
    ASSERT_STREQ(json_string_value(json_object_get(b, "spread")), "0.05");
    json_t *bids = json_object_get(b, "bids");
    ASSERT_EQ(json_array_size(bids), 3u);
    ASSERT_STREQ(json_string_value(json_array_get(json_array_get(bids, 0), 1)), "0.00000001");
    ASSERT_STREQ(json_string_value(json_array_get(json_array_get(bids, 1), 0)), "100.1");
    ASSERT_TRUE(json_is_true(json_object_get(b, "valid")));
    json_t *tr = json_array_get(json_object_get(b, "trades"), 0);
    ASSERT_STREQ(json_string_value(json_object_get(tr, "aggressor")), "buy"); /* maker side sell */
    ASSERT_STREQ(json_string_value(json_object_get(tr, "price")), "100.2");
    json_t *m = json_object_get(b, "model");
    ASSERT_TRUE(json_is_false(json_object_get(m, "ready")));
    /* readiness progress the page shows while the model warms up */
    ASSERT_EQ(json_integer_value(json_object_get(m, "min_per_class")), 100);
    ASSERT_EQ(json_integer_value(json_object_get(m, "window_fill")), 0);
    ASSERT_TRUE(json_integer_value(json_object_get(m, "window")) > 0);
    ASSERT_TRUE(json_is_integer(json_object_get(m, "scored")));
    /* feed time: the newest message time seen, here the trade at 00:00:00.1 */
    ASSERT_EQ(json_integer_value(json_object_get(j, "feed_time_ns")), 1767225600100000000LL);
    /* a product without a snapshot: not valid, no prices */
    json_t *e = json_array_get(prods, 1);
    ASSERT_STREQ(json_string_value(json_object_get(e, "product")), "ETH-USD");
    ASSERT_TRUE(json_is_false(json_object_get(e, "valid")));
    ASSERT_TRUE(json_is_null(json_object_get(e, "best_bid")));
    json_decref(j);
    char why[64]; /* replay serves whatever it has: ready, with the count of valid books */
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 1);
    ASSERT_TRUE(strstr(why, "1/2 books valid") != NULL);
    qw_dash_destroy(d);
    qw_pipeline_destroy(p);
    qw_feed_destroy(f);
}

TEST(dashboard_prometheus_text)
{
    qw_feed *f;
    qw_pipeline *p = fed_pipeline(&f);
    static qw_live_stats live;
    memset(&live, 0, sizeof live);
    live.state = QW_WS_SUBSCRIBED;
    live.connects = 3;
    uint64_t vals[] = {500, 1500, 900000, 3000000, 70000000000ull};
    for (int i = 0; i < 5; i++)
        qw_hist_record(&live.latency, vals[i]);
    qw_dash *d;
    char eb[128];
    qw_dash_opts o = {.mode = "live"};
    ASSERT_OK(qw_dash_create(&d, NULL, &o, eb, sizeof eb));
    qw_dash_set_sources(d, p, &live, NULL);
    size_t n;
    const char *m = qw_dash_metrics_text(d, &n);
    ASSERT_TRUE(m != NULL);
    ASSERT_TRUE(
        strstr(
            m,
            "# TYPE quotewatch_feed_connects_total counter\nquotewatch_feed_connects_total 3\n") !=
        NULL);
    ASSERT_TRUE(strstr(m, "quotewatch_book_valid{product=\"BTC-USD\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(m, "quotewatch_book_valid{product=\"ETH-USD\"} 0\n") != NULL);
    /* histogram: cumulative, ends at +Inf = count */
    const char *q = m;
    long prev = -1, buckets = 0;
    while ((q = strstr(q, "quotewatch_receive_to_prediction_seconds_bucket{le=\""))) {
        const char *sp = strchr(q, ' ');
        long v = strtol(sp + 1, NULL, 10);
        ASSERT_TRUE(v >= prev);
        prev = v;
        buckets++;
        q = sp;
    }
    ASSERT_TRUE(buckets > 5);
    ASSERT_EQ(prev, 5);
    ASSERT_TRUE(
        strstr(m, "quotewatch_receive_to_prediction_seconds_bucket{le=\"1.024e-06\"} 1\n") &&
        strstr(m, "quotewatch_receive_to_prediction_seconds_bucket{le=\"4.096e-06\"} 2\n") != NULL);
    ASSERT_TRUE(strstr(m, "quotewatch_receive_to_prediction_seconds_count 5\n") != NULL);
    /* every sample line is NAME[{labels}] VALUE */
    for (const char *l = m; *l;) {
        const char *nl = strchr(l, '\n');
        ASSERT_TRUE(nl != NULL);
        if (*l != '#') {
            const char *sp = memchr(l, ' ', (size_t)(nl - l));
            ASSERT_TRUE(sp != NULL && sp > l);
        }
        l = nl + 1;
    }
    char why[64];
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 0); /* ETH book never had a snapshot */
    qw_dash_destroy(d);
    qw_pipeline_destroy(p);
    qw_feed_destroy(f);
}

/* A streaming service's readiness: subscribed and past startup; one book
 * resyncing later does not take the instance out of service. */
TEST(dashboard_ready_is_not_every_book)
{
    qw_feed *f;
    qw_pipeline *p = fed_pipeline(&f); /* BTC-USD has a snapshot, ETH-USD none yet */
    ASSERT_TRUE(p != NULL);
    qw_dash *d;
    char eb[128], why[160];
    qw_dash_opts o = {.mode = "live", .ready_grace_s = 3600};
    ASSERT_OK(qw_dash_create(&d, NULL, &o, eb, sizeof eb));
    qw_live_stats ls;
    memset(&ls, 0, sizeof ls);
    ls.state = QW_WS_CONNECTING;
    qw_dash_set_sources(d, p, &ls, NULL);
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 0);
    ASSERT_TRUE(strstr(why, "feed connecting") != NULL);
    ls.state = QW_WS_SUBSCRIBED;
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 0);
    ASSERT_TRUE(strstr(why, "starting: 1/2") != NULL);
    static const char snap[] = "{\"type\":\"snapshot\",\"product_id\":\"ETH-USD\",\"bids\":[[\"1\","
                               "\"1\"]],\"asks\":[[\"2\",\"1\"]]}";
    ASSERT_OK(qw_pipeline_ingest(p, f, snap, strlen(snap), 0, NULL));
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 1);
    ASSERT_TRUE(strstr(why, "2/2 books valid") != NULL);
    qw_pipeline_invalidate_all(p, QW_RESYNC_RECONNECT); /* every book resyncing */
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 1);
    ASSERT_TRUE(strstr(why, "0/2 books valid") != NULL);
    ls.state = QW_WS_BACKOFF;
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 0);
    /* the grace ends startup when a product never gets its snapshot */
    qw_dash_destroy(d);
    o.ready_grace_s = 1e-9;
    ASSERT_OK(qw_dash_create(&d, NULL, &o, eb, sizeof eb));
    qw_feed *f2;
    qw_pipeline *p2 = fed_pipeline(&f2);
    ls.state = QW_WS_SUBSCRIBED;
    qw_dash_set_sources(d, p2, &ls, NULL);
    qw_dash_ready(d, why, sizeof why); /* starts the clock */
    ASSERT_EQ(qw_dash_ready(d, why, sizeof why), 1);
    qw_dash_destroy(d);
    qw_pipeline_destroy(p);
    qw_pipeline_destroy(p2);
    qw_feed_destroy(f);
    qw_feed_destroy(f2);
}

/* Model quality (modelstats.c) against values computed by hand, and the
 * window bound: after QW_DASH_MSTAT_WIN more samples the old ones are gone. */
TEST(dashboard_model_quality)
{
    dash_mstat *m = calloc(1, sizeof *m);
    ASSERT_TRUE(m != NULL);
    dash_mstat_view v;
    qw__dash_mstat_view(m, &v);
    ASSERT_TRUE(v.n == 0 && isnan(v.accuracy) && isnan(v.auc) && isnan(v.baseline));
    /* p: 0.05 (no), 0.15 (no), 0.62 (yes), 0.65 (no), 0.9 (yes); NaN ignored */
    const double p[] = {0.05, 0.15, 0.62, 0.65, 0.9, NAN};
    const int y[] = {0, 0, 1, 0, 1, 1};
    for (int i = 0; i < 6; i++)
        qw__dash_mstat_add(m, p[i], y[i]);
    qw__dash_mstat_view(m, &v);
    ASSERT_EQ(v.n, 5u);
    ASSERT_DBL_NEAR(v.accuracy, 4.0 / 5, 1e-12); /* 0.65 -> 1 is the miss */
    ASSERT_DBL_NEAR(v.baseline, 3.0 / 5, 1e-12); /* majority: no move */
    /* positives {0.62, 0.9} vs negatives {0.05, 0.15, 0.65}: 5 of 6 pairs ordered */
    ASSERT_DBL_NEAR(v.auc, 5.0 / 6, 1e-12);
    ASSERT_EQ(v.dec_n[6], 2u); /* 0.62 and 0.65 */
    ASSERT_EQ(v.dec_pos[6], 1u);
    ASSERT_DBL_NEAR(v.dec_mean_p[6], (0.625 + 0.655) / 2, 1e-12); /* bin centres */
    ASSERT_EQ(v.dec_n[9], 1u);
    ASSERT_TRUE(isnan(v.dec_mean_p[3]));
    /* ties: same bin for a positive and a negative count half */
    dash_mstat *t = calloc(1, sizeof *t);
    qw__dash_mstat_add(t, 0.301, 1);
    qw__dash_mstat_add(t, 0.305, 0);
    qw__dash_mstat_view(t, &v);
    ASSERT_DBL_NEAR(v.auc, 0.5, 1e-12);
    free(t);
    /* bounded: a full window of perfect predictions evicts the five above */
    for (int i = 0; i < QW_DASH_MSTAT_WIN; i++)
        qw__dash_mstat_add(m, i % 2 ? 0.95 : 0.02, i % 2);
    qw__dash_mstat_view(m, &v);
    ASSERT_EQ(v.n, (size_t)QW_DASH_MSTAT_WIN);
    ASSERT_DBL_NEAR(v.accuracy, 1.0, 1e-12);
    ASSERT_DBL_NEAR(v.auc, 1.0, 1e-12);
    ASSERT_DBL_NEAR(v.baseline, 0.5, 1e-12);
    ASSERT_EQ(v.dec_n[6], 0u);
    ASSERT_EQ(v.dec_n[0] + v.dec_n[9], (uint32_t)QW_DASH_MSTAT_WIN);
    free(m);
}

static json_t *compose_json(const dash_snap *s, const char *prod, int delta, uint64_t *seq,
                            qw_dbuf *out)
{
    if (qw__dash_compose(s, prod, delta, seq, out) != 0)
        return NULL;
    json_error_t je;
    return json_loadb(out->b + out->pre, out->n, 0, &je);
}

/* A subscription's push (subscribe.c): one product's full object, the
 * summary of every product, labels as deltas; gzip round trip. */
TEST(dashboard_subscription_compose)
{
    qw_feed *f;
    qw_pipeline *p = fed_pipeline(&f);
    ASSERT_TRUE(p != NULL);
    qw_dash *d;
    char eb[128];
    qw_dash_opts o = {.mode = "replay"};
    ASSERT_OK(qw_dash_create(&d, NULL, &o, eb, sizeof eb));
    qw_dash_set_sources(d, p, NULL, NULL);
    qw_labeled l = {0};
    for (int i = 0; i < 70; i++) { /* more than the 64 kept */
        l.s.f.t_ns = 1000 + i;
        l.s.p = 0.5;
        l.label = i & 1;
        qw_dash_on_labeled(d, "BTC-USD", &l);
    }
    qw_dash_tick(d, 1);
    dash_snap *s = qw__dash_snap_get(d);
    ASSERT_TRUE(s != NULL);
    qw_dbuf out = {0};
    uint64_t seq = 0;
    json_t *j = compose_json(s, "BTC-USD", 1, &seq, &out);
    ASSERT_TRUE(j != NULL);
    ASSERT_EQ(seq, 70u);
    ASSERT_STREQ(json_string_value(json_object_get(j, "subscribed")), "BTC-USD");
    ASSERT_STREQ(json_string_value(json_object_get(j, "mode")), "replay");
    json_t *prods = json_object_get(j, "products");
    ASSERT_EQ(json_array_size(prods), 1u);
    json_t *b = json_array_get(prods, 0);
    ASSERT_STREQ(json_string_value(json_object_get(b, "best_bid")), "100.15");
    ASSERT_EQ(json_array_size(json_object_get(b, "labels")), 64u);
    ASSERT_EQ(json_integer_value(json_object_get(b, "labels_total")), 70);
    ASSERT_EQ(json_integer_value(
                  json_object_get(json_array_get(json_object_get(b, "labels"), 0), "t_ns")),
              1006);
    json_t *sum = json_object_get(j, "summary");
    ASSERT_EQ(json_array_size(sum), 2u);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(sum, 0), "spread")), "0.05");
    ASSERT_TRUE(json_is_false(json_object_get(json_array_get(sum, 1), "valid")));
    ASSERT_TRUE(json_is_null(json_object_get(json_array_get(sum, 1), "mid")));
    json_decref(j);
    /* delta: nothing new -> no labels; then two new -> exactly those two */
    j = compose_json(s, "BTC-USD", 1, &seq, &out);
    ASSERT_TRUE(j != NULL);
    ASSERT_EQ(json_array_size(
                  json_object_get(json_array_get(json_object_get(j, "products"), 0), "labels")),
              0u);
    json_decref(j);
    qw__dash_snap_put(d, s);
    for (int i = 70; i < 72; i++) {
        l.s.f.t_ns = 1000 + i;
        qw_dash_on_labeled(d, "BTC-USD", &l);
    }
    qw_dash_tick(d, 1 + 200 * 1000000LL);
    s = qw__dash_snap_get(d);
    j = compose_json(s, "BTC-USD", 1, &seq, &out);
    ASSERT_TRUE(j != NULL);
    json_t *labs = json_object_get(json_array_get(json_object_get(j, "products"), 0), "labels");
    ASSERT_EQ(json_array_size(labs), 2u);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(labs, 0), "t_ns")), 1070);
    ASSERT_EQ(seq, 72u);
    json_decref(j);
    /* the product without labels, and an unknown one */
    seq = 0;
    j = compose_json(s, "ETH-USD", 1, &seq, &out);
    ASSERT_TRUE(j != NULL && seq == 0);
    json_decref(j);
    ASSERT_EQ(qw__dash_compose(s, "NOPE", 1, &seq, &out), -1);
    /* gzip of the full state inflates back to it */
    qw_dbuf gz = {0};
    ASSERT_EQ(qw__dash_gzip(s->state.b + s->state.pre, s->state.n, &gz), 0);
    ASSERT_TRUE(gz.n > 18 && gz.n < s->state.n);
    ASSERT_EQ((unsigned char)gz.b[gz.pre], 0x1f);
    char *back = malloc(s->state.n + 1);
    z_stream z = {0};
    ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)gz.b + gz.pre;
    z.avail_in = (uInt)gz.n;
    z.next_out = (Bytef *)back;
    z.avail_out = (uInt)s->state.n + 1;
    ASSERT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    ASSERT_EQ(z.total_out, s->state.n);
    ASSERT_TRUE(memcmp(back, s->state.b + s->state.pre, s->state.n) == 0);
    inflateEnd(&z);
    free(back);
    qw__dash_snap_put(d, s);
    qw__dbuf_free(&out);
    qw__dbuf_free(&gz);
    qw_dash_destroy(d);
    qw_pipeline_destroy(p);
    qw_feed_destroy(f);
}

/* Client messages (subscribe.c): what subscribes, what is an error. */
TEST(dashboard_subscribe_messages)
{
    qw_feed *f;
    qw_pipeline *p = fed_pipeline(&f);
    ASSERT_TRUE(p != NULL);
    qw_dash *d;
    char eb[128];
    qw_dash_opts o = {.mode = "replay"};
    ASSERT_OK(qw_dash_create(&d, NULL, &o, eb, sizeof eb));
    qw_dash_set_sources(d, p, NULL, NULL);
    dash_client c;
    memset(&c, 0, sizeof c);
#define MSG(s) qw__dash_client_msg(d, &c, s, strlen(s))
    MSG("{\"subscribe\":\"BTC-USD\"}"); /* before the first snapshot: nothing is known */
    ASSERT_STREQ(c.err, "{\"error\":\"unknown product: BTC-USD\"}");
    c.err[0] = '\0';
    qw_dash_tick(d, 1);
    c.sent_version = 5;
    c.lab_seq = 9;
    MSG(" { \"subscribe\" :\n \"ETH-USD\" } ");
    ASSERT_STREQ(c.sub, "ETH-USD");
    ASSERT_EQ(c.err[0], '\0');
    ASSERT_EQ(c.sent_version, 0u); /* pushed at the next wake-up, every recent label */
    ASSERT_EQ(c.lab_seq, 0u);
    MSG("{\"subscribe\":\"NOPE\"}"); /* error; the subscription stays */
    ASSERT_STREQ(c.err, "{\"error\":\"unknown product: NOPE\"}");
    ASSERT_STREQ(c.sub, "ETH-USD");
    c.err[0] = '\0';
    const char *bad[] = {"hello",
                         "{\"subscribe\":1}",
                         "{\"subscribe\":\"BTC\\\"-USD\"}",
                         "{\"subscribe\":\"BTC-USD",
                         "{\"sub\":\"BTC-USD\"}",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        MSG(bad[i]);
        ASSERT_TRUE(strstr(c.err, "expected") != NULL);
        ASSERT_STREQ(c.sub, "ETH-USD");
        c.err[0] = '\0';
    }
    MSG("{\"subscribe\":null}");
    ASSERT_STREQ(c.sub, "");
    MSG("{\"subscribe\":\"BTC-USD\"}");
    ASSERT_STREQ(c.sub, "BTC-USD");
    MSG("{\"subscribe\":\"\"}");
    ASSERT_STREQ(c.sub, "");
    ASSERT_EQ(c.err[0], '\0');
#undef MSG
    qw_dash_destroy(d);
    qw_pipeline_destroy(p);
    qw_feed_destroy(f);
}

/* live --shard I/N: "shard" in the state JSON (null when not sharded) and the
 * quotewatch_shard_index / quotewatch_shard_count gauges. */
TEST(dashboard_shard)
{
    qw_feed *f;
    qw_pipeline *p = fed_pipeline(&f);
    ASSERT_TRUE(p != NULL);
    for (int sharded = 0; sharded < 2; sharded++) {
        qw_dash *d;
        char eb[128];
        qw_dash_opts o = {.mode = "live", .shard_i = sharded ? 2 : 0, .shard_n = sharded ? 3 : 0};
        ASSERT_OK(qw_dash_create(&d, NULL, &o, eb, sizeof eb));
        qw_dash_set_sources(d, p, NULL, NULL);
        size_t n;
        json_error_t je;
        json_t *j = json_loads(qw_dash_state_json(d, &n), 0, &je);
        ASSERT_TRUE(j != NULL);
        json_t *sh = json_object_get(j, "shard");
        if (!sharded) {
            ASSERT_TRUE(json_is_null(sh));
        } else {
            ASSERT_EQ(json_integer_value(json_object_get(sh, "index")), 2);
            ASSERT_EQ(json_integer_value(json_object_get(sh, "count")), 3);
            json_t *ps = json_object_get(sh, "products");
            ASSERT_EQ(json_array_size(ps), 2u);
            ASSERT_STREQ(json_string_value(json_array_get(ps, 1)), "ETH-USD");
        }
        json_decref(j);
        const char *m = qw_dash_metrics_text(d, &n);
        ASSERT_TRUE(m != NULL);
        ASSERT_TRUE(
            strstr(m, sharded ? "\nquotewatch_shard_index 2\n" : "\nquotewatch_shard_index 0\n"));
        ASSERT_TRUE(
            strstr(m, sharded ? "\nquotewatch_shard_count 3\n" : "\nquotewatch_shard_count 1\n"));
        ASSERT_TRUE(strstr(m, "# TYPE quotewatch_shard_count gauge\n") != NULL);
        qw_dash_destroy(d);
    }
    qw_pipeline_destroy(p);
    qw_feed_destroy(f);
}

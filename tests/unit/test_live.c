/* test_live.c: live-mode pieces that need no network: subscribe messages
 * (incl. Exchange auth signatures checked against Python's hmac), the
 * recorder round trip through the replay framer, msg_hex, pipeline hooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "feed/feed.h"
#include "harness.h"
#include "ingest/ingest.h"
#include "ingest/recorder.h"
#include "ingest/wsclient.h"
#include "pipeline/pipeline.h"

static const char *next_str(const char *p)
{
    return p + strlen(p) + 1;
}

TEST(live_subscribe_messages_advanced)
{
    const char *ids[] = {"BTC-USD", "ETH-USD"};
    qw_wsclient_opts o = {.products = ids, .nproducts = 2};
    char buf[4096];
    ASSERT_OK(qw_wsclient_subscribe_msgs(&o, 0, buf, sizeof buf));
    const char *m = buf;
    ASSERT_STREQ(m, "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],\"channel\":"
                    "\"level2\"}");
    m = next_str(m);
    ASSERT_STREQ(m, "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],\"channel\":"
                    "\"market_trades\"}");
    m = next_str(m);
    ASSERT_STREQ(m, "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\",\"ETH-USD\"],\"channel\":"
                    "\"heartbeats\"}");
    m = next_str(m);
    ASSERT_STREQ(m, "");
    ASSERT_ERR(QW_TOO_LARGE, qw_wsclient_subscribe_msgs(&o, 0, buf, 100));
}

TEST(live_subscribe_messages_exchange_public_and_signed)
{
    const char *ids[] = {"BTC-USD"};
    qw_wsclient_opts o = {.products = ids, .nproducts = 1, .exchange = 1};
    char buf[4096];
    ASSERT_OK(qw_wsclient_subscribe_msgs(&o, 0, buf, sizeof buf));
    ASSERT_STREQ(
        buf,
        "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"level2_batch\"]}");
    ASSERT_STREQ(
        next_str(buf),
        "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"matches\"]}");
    ASSERT_STREQ(
        next_str(next_str(buf)),
        "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"heartbeat\"]}");
    /* signatures computed independently with Python's hmac + base64 */
    o.ex_key = "k1";
    o.ex_passphrase = "pp";
    o.ex_secret_b64 =
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
    ASSERT_OK(qw_wsclient_subscribe_msgs(&o, 1700000000, buf, sizeof buf));
    ASSERT_STREQ(buf,
                 "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channels\":[\"level2\"],"
                 "\"signature\":\"VWEblJISZzHK29JLE7EP1VNXMFU1COxq3vybOn3OVEk=\",\"key\":\"k1\","
                 "\"passphrase\":\"pp\",\"timestamp\":\"1700000000\"}");
    o.ex_secret_b64 = "c2VjcmV0IQ==";
    ASSERT_OK(qw_wsclient_subscribe_msgs(&o, 1700000000, buf, sizeof buf));
    ASSERT_TRUE(strstr(buf, "\"signature\":\"tkCIkvVUNpGNIHrF48UFScjMtwiVZ1XzdeJOnGkTmsI=\"") !=
                NULL);
    o.ex_secret_b64 = "not base64!";
    ASSERT_ERR(QW_TOO_LARGE, qw_wsclient_subscribe_msgs(&o, 1700000000, buf, sizeof buf));
}

TEST(live_ws_state_names)
{
    ASSERT_STREQ(qw_ws_state_name(QW_WS_CONNECTING), "connecting");
    ASSERT_STREQ(qw_ws_state_name(QW_WS_SUBSCRIBED), "subscribed");
    ASSERT_STREQ(qw_ws_state_name(QW_WS_BACKOFF), "backoff");
    ASSERT_STREQ(qw_ws_state_name((qw_ws_state)99), "unknown");
}

TEST(live_recorder_roundtrip_through_framer)
{
    char dir[] = "/tmp/qwrecXXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    qw_recorder *r;
    char eb[256];
    ASSERT_OK(qw_recorder_open(&r, dir, 3, eb, sizeof eb));
    const int64_t t0 = 1763000000123456789LL; /* some hour in 2025 */
    static const char *msgs[] = {
        "{\"type\":\"heartbeat\",\"x\":1}",
        "{\"broken\": [1,2",       /* malformed: kept verbatim */
        "{\"a\":\n\"two lines\"}", /* newline: goes as msg_hex */
        "",
    };
    ASSERT_OK(qw_recorder_connect(r, t0, 1, "ws://127.0.0.1:9/x\"y"));
    for (int i = 0; i < 4; i++)
        ASSERT_OK(qw_recorder_msg(r, t0 + i, msgs[i], strlen(msgs[i])));
    qw_recorder_tick(r, 1LL << 62); /* flush */
    char path[700];
    snprintf(path, sizeof path, "%s", qw_recorder_get_stats(r)->path);
    ASSERT_EQ(qw_recorder_get_stats(r)->messages, 4u);
    ASSERT_OK(qw_recorder_close(r));
    ASSERT_TRUE(strstr(path, "/quotewatch-20251113-") != NULL);
    ASSERT_TRUE(strstr(path, ".ndjson.zst") != NULL);

    qw_linesrc *s;
    ASSERT_OK(qw_linesrc_open(&s, path, 0));
    const char *line;
    size_t len;
    qw_frame fr;
    ASSERT_OK(qw_linesrc_next(s, &line, &len));
    qw_frame_line(line, len, &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_CONNECT);
    ASSERT_EQ(fr.recv_ns, t0);
    for (int i = 0; i < 4; i++) {
        ASSERT_OK(qw_linesrc_next(s, &line, &len));
        qw_frame_line(line, len, &fr);
        ASSERT_EQ(fr.recv_ns, t0 + i);
        if (i == 2) {
            ASSERT_EQ(fr.kind, QW_FRAME_MSG_HEX);
            char out[64];
            size_t n = qw_frame_unhex(fr.msg, fr.len, out);
            ASSERT_EQ(n, strlen(msgs[i]));
            ASSERT_TRUE(memcmp(out, msgs[i], n) == 0);
        } else {
            ASSERT_EQ(fr.kind, QW_FRAME_MSG);
            ASSERT_EQ(fr.len, strlen(msgs[i]));
            ASSERT_TRUE(memcmp(fr.msg, msgs[i], fr.len) == 0);
        }
    }
    ASSERT_ERR(QW_NOT_FOUND, qw_linesrc_next(s, &line, &len));
    qw_linesrc_close(s);
    /* a second recorder in the same hour appends a new zstd frame */
    ASSERT_OK(qw_recorder_open(&r, dir, 1, eb, sizeof eb));
    ASSERT_OK(qw_recorder_msg(r, t0 + 10, "{}", 2));
    ASSERT_OK(qw_recorder_close(r));
    ASSERT_OK(qw_linesrc_open(&s, path, 0));
    int n = 0;
    while (qw_linesrc_next(s, &line, &len) == QW_OK)
        n++;
    ASSERT_EQ(n, 6);
    qw_linesrc_close(s);
    unlink(path);
    rmdir(dir);
}

TEST(live_recorder_rejects_bad_dir)
{
    qw_recorder *r;
    char eb[256];
    ASSERT_ERR(QW_IO, qw_recorder_open(&r, "/proc/nope/qw", 3, eb, sizeof eb));
    ASSERT_TRUE(strstr(eb, "--record") != NULL);
}

TEST(live_frame_unhex_rejects_bad_digits)
{
    char out[8];
    ASSERT_EQ(qw_frame_unhex("4a", 2, out), 1u);
    ASSERT_EQ(out[0], 'J');
    ASSERT_EQ(qw_frame_unhex("4", 1, out), (size_t)-1);
    ASSERT_EQ(qw_frame_unhex("zz", 2, out), (size_t)-1);
}

TEST(live_pipeline_add_product_and_timer_labels)
{
    qw_pipeline *p;
    qw_pipeline_opts po = {0};
    ASSERT_OK(qw_pipeline_create(&p, &po));
    ASSERT_OK(qw_pipeline_add_product(p, "BTC-USD"));
    ASSERT_OK(qw_pipeline_add_product(p, "BTC-USD"));
    ASSERT_EQ(qw_pipeline_count(p), 1u);
    qw_feed *f;
    ASSERT_OK(qw_feed_create(&f, NULL));
    /* an unknown product is not auto-added in live mode */
    const char *other = "{\"type\":\"snapshot\",\"product_id\":\"ETH-USD\",\"bids\":[[\"1\",\"1\"]]"
                        ",\"asks\":[[\"2\",\"1\"]]}";
    qw_pipeline_ingest(p, f, other, strlen(other), 0, NULL);
    ASSERT_EQ(qw_pipeline_count(p), 1u);
    const char *snap = "{\"type\":\"snapshot\",\"product_id\":\"BTC-USD\",\"bids\":[[\"100\",\"1\"]"
                       "],\"asks\":[[\"101\",\"1\"]]}";
    ASSERT_OK(qw_pipeline_ingest(p, f, snap, strlen(snap), 0, NULL));
    const char *upd = "{\"type\":\"l2update\",\"product_id\":\"BTC-USD\",\"changes\":[[\"buy\","
                      "\"100.5\",\"2\"]],\"time\":\"2026-01-01T00:00:00.000000Z\"}";
    ASSERT_OK(qw_pipeline_ingest(p, f, upd, strlen(upd), 0, NULL));
    const qw_chain *c = qw_pipeline_chain(p, 0);
    ASSERT_EQ(qw_labeler_pending(c->lab), 1u);
    /* before the horizon nothing happens; after it the sample is labeled */
    qw_pipeline_advance_time(p, c->last_t_ns + 100 * 1000000LL);
    ASSERT_EQ(qw_labeler_pending(c->lab), 1u);
    qw_pipeline_advance_time(p, c->last_t_ns + 501 * 1000000LL);
    ASSERT_EQ(qw_labeler_pending(c->lab), 0u);
    ASSERT_EQ(qw_classifier_labeled(c->clf), 1u);
    qw_feed_destroy(f);
    qw_pipeline_destroy(p);
}

TEST(live_recorder_rotates_hourly)
{
    char dir[] = "/tmp/qwrecXXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    qw_recorder *r;
    char eb[256], p1[700], p2[700];
    ASSERT_OK(qw_recorder_open(&r, dir, 1, eb, sizeof eb));
    const int64_t h = 3600LL * 1000000000LL, t0 = 1763000000000000000LL;
    ASSERT_OK(qw_recorder_msg(r, t0, "{\"a\":1}", 7));
    snprintf(p1, sizeof p1, "%s", qw_recorder_get_stats(r)->path);
    ASSERT_OK(qw_recorder_msg(r, t0 + h, "{\"a\":2}", 7)); /* next hour: a new file */
    snprintf(p2, sizeof p2, "%s", qw_recorder_get_stats(r)->path);
    ASSERT_OK(qw_recorder_msg(r, t0 + h + 1, "{\"a\":3}", 7));
    ASSERT_EQ(qw_recorder_get_stats(r)->files, 2u);
    ASSERT_OK(qw_recorder_close(r));
    ASSERT_TRUE(strcmp(p1, p2) != 0);
    ASSERT_TRUE(strstr(p1, "-02.ndjson.zst") != NULL && strstr(p2, "-03.ndjson.zst") != NULL);
    const char *paths[2] = {p1, p2};
    int counts[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        qw_linesrc *s;
        const char *line;
        size_t len;
        ASSERT_OK(qw_linesrc_open(&s, paths[k], 0)); /* each file is complete on its own */
        while (qw_linesrc_next(s, &line, &len) == QW_OK)
            counts[k]++;
        qw_linesrc_close(s);
        unlink(paths[k]);
    }
    ASSERT_EQ(counts[0], 1);
    ASSERT_EQ(counts[1], 2);
    rmdir(dir);
}

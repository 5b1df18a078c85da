/* test_msgsrc.c: the one message source (ingest/msgsrc.c) and its two
 * users: every capture format (raw, recorder msg / msg_hex / connect,
 * cryptofeed messages, connect and sent lines, zstd, stdin, a too-long
 * line, garbage, blank lines) through the replay driver (ingest/replay.c)
 * and the simulator's source (sim/source.c) must give the same messages,
 * in the same order, with the same counts. */
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include "harness.h"
#include "ingest/msgsrc.h"
#include "ingest/replay.h"
#include "sim/source.h"

#define T "\"time\":\"2021-04-17T16:43:3"
#define SNAP(p, t)                                                                                 \
    "{\"type\":\"snapshot\",\"product_id\":\"" p "\",\"bids\":[[\"10\",\"1\"],[\"9\",\"2\"]],"     \
    "\"asks\":[[\"11\",\"1\"],[\"12\",\"3\"]]," T t "Z\"}"
#define UPD(p, px, t)                                                                              \
    "{\"type\":\"l2update\",\"product_id\":\"" p "\",\"changes\":[[\"buy\",\"" px                  \
    "\",\"1\"]]," T t "Z\"}"
#define MATCH(p, id, t)                                                                            \
    "{\"type\":\"match\",\"trade_id\":" id ",\"side\":\"buy\",\"size\":\"1\",\"price\":\"10.5\","  \
    "\"product_id\":\"" p "\",\"sequence\":" id "," T t "Z\"}"

#define MAX_LINE 4096

static char *write_tmp(const char *tag, const void *data, size_t n)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/qwtest_msgsrc_%s_XXXXXX", tag);
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n)
        abort();
    close(fd);
    return path;
}

static void hex(char *out, const char *s)
{
    for (; *s; s++, out += 2)
        snprintf(out, 3, "%02x", (unsigned char)*s);
    *out = '\0';
}

/* The capture: plain file with every line format, a zstd file, stdin. */
typedef struct fixture {
    char *plain, *zst, *in;
    const char *paths[3];
} fixture;

static fixture mk_fixture(void)
{
    fixture fx;
    static char buf[64 << 10];
    char h[1024];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", SNAP("A-B", "0")); /* raw */
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"recv_ns\":1618677817020616000,\"msg\":%s}\n",
                          UPD("A-B", "9.5", "1")); /* recorder */
    hex(h,
        "{\"type\":\"l2update\",\n\"product_id\":\"A-B\",\"changes\":[[\"sell\",\"11.5\",\"2\"]],"
        "\"time\":\"2021-04-17T16:43:32Z\"}");
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "{\"recv_ns\":1618677817020617000,\"msg_hex\":\"%s\"}\n", h);
    n += (size_t)snprintf(
        buf + n, sizeof buf - n,
        "{\"recv_ns\":1618677817020618000,\"event\":\"connect\",\"url\":\"ws://x\"}\n");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"recv_ns\":5,\"msg_hex\":\"7bzz\"}\n");
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "wss://ws-feed.pro.coinbase.com <-> 1618677816.8434298\n");
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "wss://ws-feed.pro.coinbase.com <- 1618677817.020616: "
                          "{\"type\":\"subscribe\"}\n");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "1618677817.0208309: %s\n", SNAP("C-D", "3"));
    n += (size_t)snprintf(buf + n, sizeof buf - n, "1618677817.0208310: %s\n",
                          MATCH("C-D", "7", "4"));
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"type\":\"heartbeat\",\"pad\":\"");
    memset(buf + n, 'x', MAX_LINE);
    n += MAX_LINE;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\"}\n");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "this is not a feed message\n\n  \r\n");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"recv_ns\":7,\"msg\": }\n");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", UPD("A-B", "8", "5")); /* no newline */
    fx.plain = write_tmp("plain", buf, n);

    n = (size_t)snprintf(buf, sizeof buf, "%s\n%s\n{\"recv_ns\":9,\"msg\":%s}\n",
                         UPD("C-D", "9", "6"), MATCH("C-D", "8", "7"), "[1,2");
    char z[8192];
    size_t zn = ZSTD_compress(z, sizeof z, buf, n, 3);
    if (ZSTD_isError(zn))
        abort();
    fx.zst = write_tmp("zst", z, zn);

    n = (size_t)snprintf(buf, sizeof buf, "%s\n1618677900.5: %s\n", SNAP("E-F", "8"),
                         UPD("E-F", "9.25", "9"));
    fx.in = write_tmp("stdin", buf, n);
    fx.paths[0] = fx.plain;
    fx.paths[1] = fx.zst;
    fx.paths[2] = "-";
    return fx;
}

static void stdin_from(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || dup2(fd, 0) < 0)
        abort();
    close(fd);
}

static void rm_fixture(fixture *fx)
{
    unlink(fx->plain);
    unlink(fx->zst);
    unlink(fx->in);
    free(fx->plain);
    free(fx->zst);
    free(fx->in);
}

/* One line per message: what both paths must agree on. */
typedef struct trace {
    char s[64][160];
    size_t n;
    int64_t last_t;
} trace;

static void trace_add(trace *t, const qw_msg *m, int64_t pace_ns)
{
    if (t->n == 64)
        abort();
    const char *prod = m->ngroups ? m->groups[0].product : m->ntrades ? m->trades[0].product : "";
    snprintf(t->s[t->n++], sizeof t->s[0],
             "type=%d prod=%s groups=%zu chg=%zu trades=%zu t=%lld pace=%lld", (int)m->type, prod,
             m->ngroups, m->nchg, m->ntrades, (long long)m->t_ns, (long long)pace_ns);
}

typedef struct replay_ctx {
    trace tr;
    uint64_t rejected, connects;
} replay_ctx;

static void r_msg(void *ctx, const qw_msg *m, int64_t recv_ns)
{
    replay_ctx *r = ctx;
    if (!m) {
        r->rejected++;
        return;
    }
    if (m->t_ns > 0)
        r->tr.last_t = m->t_ns;
    trace_add(&r->tr, m, recv_ns > 0 ? recv_ns : r->tr.last_t);
}

static void r_connect(void *ctx, int64_t recv_ns)
{
    (void)recv_ns;
    ((replay_ctx *)ctx)->connects++;
}

TEST(msgsrc_replay_and_sim_agree_on_every_format)
{
    fixture fx = mk_fixture();

    /* replay */
    stdin_from(fx.in);
    qw_pipeline *pl;
    ASSERT_OK(qw_pipeline_create(&pl, &(qw_pipeline_opts){.auto_add = 1, .books_only = 1}));
    static replay_ctx rc;
    qw_replay_opts ro = {.files = fx.paths,
                         .nfiles = 3,
                         .max_line = MAX_LINE,
                         .hooks = {.ctx = &rc, .on_msg = r_msg, .on_connect = r_connect}};
    qw_replay_result rr = {0};
    ASSERT_OK(qw_replay_files(pl, &ro, &rr));
    const qw_pipeline_stats *ps = qw_pipeline_get_stats(pl);

    /* the simulator's source */
    stdin_from(fx.in);
    qw_simsrc *ss;
    ASSERT_OK(qw_simsrc_open(
        &ss, &(qw_simsrc_opts){.files = fx.paths, .nfiles = 3, .max_line = MAX_LINE}));
    static trace st;
    const qw_msg *m;
    int64_t t, pace;
    qw_err e;
    while ((e = qw_simsrc_next(ss, &m, &t, &pace)) == QW_OK)
        trace_add(&st, m, pace);
    ASSERT_ERR(QW_NOT_FOUND, e);
    qw_simsrc_stats sst;
    qw_simsrc_get_stats(ss, &sst);

    /* the same messages in the same order */
    for (size_t i = 0; i < rc.tr.n && i < st.n; i++)
        if (strcmp(rc.tr.s[i], st.s[i]) != 0)
            fprintf(stderr, "message %zu:\n  replay %s\n  sim    %s\n", i, rc.tr.s[i], st.s[i]);
    ASSERT_EQ(rc.tr.n, st.n);
    for (size_t i = 0; i < st.n; i++)
        ASSERT_TRUE(strcmp(rc.tr.s[i], st.s[i]) == 0);
    /* raw, msg, msg_hex, cryptofeed x2, last line; zst x2; stdin x2 */
    ASSERT_EQ(st.n, 10);
    ASSERT_EQ(sst.messages, 10);
    ASSERT_EQ(ps->messages - ps->rejected, sst.messages); /* the pipeline counts rejects too */
    ASSERT_TRUE(strstr(st.s[2], "chg=1") && strstr(st.s[2], "pace=1618677817020617000"));
    /* the garbage line and the truncated JSON; the too-long line apart */
    ASSERT_EQ(rc.rejected, 2);
    ASSERT_EQ(sst.rejected, 2);
    ASSERT_EQ(ps->rejected_by[QW_TOO_LARGE], 1);
    ASSERT_EQ(sst.too_long, 1);
    ASSERT_EQ(ps->rejected, sst.rejected + sst.too_long);
    /* connect event + cryptofeed connect; meta: the sent line and the bad hex */
    ASSERT_EQ(rr.connects, 2);
    ASSERT_EQ(rc.connects, 2);
    ASSERT_EQ(sst.connects, 2);
    ASSERT_EQ(rr.meta_lines, 2);
    ASSERT_EQ(sst.meta, 2);
    ASSERT_EQ(rr.input_errors, 0);
    ASSERT_EQ(rr.failed, 0);
    qw_simsrc_close(ss);
    qw_pipeline_destroy(pl);
    rm_fixture(&fx);
}

TEST(msgsrc_items_counters_and_errors)
{
    fixture fx = mk_fixture();
    stdin_from(fx.in);
    const char *paths[] = {fx.plain, "/nonexistent/qw-msgsrc", fx.zst, "-"};
    qw_msgsrc *s;
    ASSERT_OK(qw_msgsrc_open(&s, paths, 4, MAX_LINE));
    ASSERT_TRUE(qw_msgsrc_progress(s) == 0);
    qw_msgsrc_item it;
    int kinds[8] = {0};
    size_t hexlen = 0;
    while (qw_msgsrc_next(s, &it) == QW_OK) {
        kinds[it.kind]++;
        if (it.kind == QW_MSGSRC_MSG && it.recv_ns == 1618677817020617000) {
            hexlen = it.len;
            ASSERT_TRUE(memchr(it.msg, '\n', it.len) != NULL);
        }
        if (it.kind == QW_MSGSRC_OPEN_FAILED) {
            ASSERT_EQ(it.input, 1);
            ASSERT_ERR(QW_IO, it.err);
            ASSERT_TRUE(strcmp(it.path, paths[1]) == 0);
        }
        if (it.kind == QW_MSGSRC_TOO_LONG)
            ASSERT_TRUE(it.len > MAX_LINE);
    }
    ASSERT_TRUE(hexlen > 0);
    ASSERT_EQ(kinds[QW_MSGSRC_MSG], 12);
    ASSERT_EQ(kinds[QW_MSGSRC_CONNECT], 2);
    ASSERT_EQ(kinds[QW_MSGSRC_INPUT], 3);
    ASSERT_EQ(kinds[QW_MSGSRC_OPEN_FAILED], 1);
    ASSERT_EQ(kinds[QW_MSGSRC_TOO_LONG], 1);
    qw_msgsrc_stats st;
    qw_msgsrc_get_stats(s, &st);
    ASSERT_EQ(st.messages, 12);
    ASSERT_EQ(st.msg_hex, 1);
    ASSERT_EQ(st.bad_hex, 1);
    ASSERT_EQ(st.meta, 2);
    ASSERT_EQ(st.blank, 3); /* "", "  \r", a recorder line with an empty msg */
    ASSERT_EQ(st.too_long, 1);
    ASSERT_EQ(st.connects, 2);
    ASSERT_EQ(st.inputs, 3);
    ASSERT_EQ(st.open_errors, 1);
    ASSERT_EQ(st.lines, 15 + 3 + 2);
    ASSERT_TRUE(st.bytes > MAX_LINE);
    ASSERT_TRUE(qw_msgsrc_progress(s) == 1);
    /* rewind: the same again, counters keep counting */
    qw_msgsrc_rewind(s);
    stdin_from(fx.in);
    while (qw_msgsrc_next(s, &it) == QW_OK)
        ;
    qw_msgsrc_get_stats(s, &st);
    ASSERT_EQ(st.messages, 24);
    qw_msgsrc_close(s);
    rm_fixture(&fx);
}

TEST(msgsrc_truncated_zstd_is_a_read_error_and_goes_on)
{
    char plain[2048];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        n +=
            (size_t)snprintf(plain + n, sizeof plain - n, "{\"type\":\"heartbeat\",\"i\":%d}\n", i);
    char z[4096];
    size_t zn = ZSTD_compress(z, sizeof z, plain, n, 3);
    ASSERT_TRUE(!ZSTD_isError(zn));
    char *bad = write_tmp("trunc", z, zn - 7), *good = write_tmp("good", plain, n);
    const char *paths[] = {bad, good};
    qw_msgsrc *s;
    ASSERT_OK(qw_msgsrc_open(&s, paths, 2, 0));
    qw_msgsrc_item it;
    int msgs = 0, fails = 0;
    while (qw_msgsrc_next(s, &it) == QW_OK) {
        msgs += it.kind == QW_MSGSRC_MSG;
        if (it.kind == QW_MSGSRC_READ_FAILED) {
            fails++;
            ASSERT_ERR(QW_CORRUPT, it.err);
            ASSERT_EQ(it.input, 0);
            ASSERT_TRUE(strstr(qw_msgsrc_errmsg(s), "zstd") != NULL);
        }
    }
    ASSERT_EQ(fails, 1);
    ASSERT_TRUE(msgs >= 40 && msgs < 80);
    qw_msgsrc_stats st;
    qw_msgsrc_get_stats(s, &st);
    ASSERT_EQ(st.input_errors, 1);
    qw_msgsrc_close(s);
    unlink(bad);
    unlink(good);
    free(bad);
    free(good);
}

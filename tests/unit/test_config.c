/* test_config.c: precedence (defaults < env < flags) and flag checking. */
#include "core/config.h"
#include "harness.h"

static qw_err load(qw_config *c, char **env, int argc, char **argv)
{
    qw_config_defaults(c);
    return qw_config_load(c, env, argc, argv);
}

TEST(config_defaults_env_flags)
{
    qw_config c;
    char *env0[] = {NULL};
    char *a0[] = {"qw", NULL};
    ASSERT_OK(load(&c, env0, 1, a0));
    ASSERT_EQ(c.cmd, QW_CMD_LIVE);
    ASSERT_EQ(c.port, 8050);
    ASSERT_STREQ(c.bind, "127.0.0.1");
    ASSERT_STREQ(c.products[0], "BTC-USD");
    ASSERT_EQ(c.persist, 0);

    char *env1[] = {"PORT=9000", "ENABLE_PERSISTENCE=true", "ICEBERG_WAREHOUSE=file:///tmp/wh",
                    NULL};
    ASSERT_OK(load(&c, env1, 1, a0));
    ASSERT_EQ(c.port, 9000);
    ASSERT_STREQ(c.bind, "0.0.0.0");
    ASSERT_EQ(c.persist, 1);
    ASSERT_STREQ(c.warehouse, "file:///tmp/wh");

    char *a1[] = {"qw",     "live",     "--port", "7000", "--products=BTC-USD,ETH-USD",
                  "--feed", "exchange", NULL};
    ASSERT_OK(load(&c, env1, 7, a1));
    ASSERT_EQ(c.port, 7000);
    ASSERT_EQ(c.nproducts, 2);
    ASSERT_STREQ(c.products[1], "ETH-USD");
    ASSERT_EQ(c.feed_exchange, 1);
}

TEST(config_replay_flags)
{
    qw_config c;
    char *env[] = {NULL};
    char *a[] = {"qw", "replay", "--speed", "10x", "--summary", "-", "f1", "-", NULL};
    ASSERT_OK(load(&c, env, 8, a));
    ASSERT_EQ(c.cmd, QW_CMD_REPLAY);
    ASSERT_EQ(c.nfiles, 2);
    ASSERT_STREQ(c.files[1], "-");
    ASSERT_DBL_NEAR(c.speed, 10.0, 0);
    ASSERT_STREQ(c.summary, "-");
    char *b[] = {"qw", "replay", "--speed=max", "f", NULL};
    ASSERT_OK(load(&c, env, 4, b));
    ASSERT_DBL_NEAR(c.speed, 0.0, 0);
}

TEST(config_errors_name_the_flag)
{
    qw_config c;
    char *env[] = {NULL};
    struct {
        int argc;
        char *argv[5];
        const char *needle;
    } cases[] = {
        {3, {"qw", "--port", "-1"}, "--port"},
        {3, {"qw", "--port", "65536"}, "--port"},
        {3, {"qw", "--port", "http"}, "--port"},
        {2, {"qw", "--bogus"}, "--bogus"},
        {3, {"qw", "--feed", "pro"}, "--feed"},
        {3, {"qw", "--products", "BTC USD"}, "--products"},
        {3, {"qw", "--products", "A,"}, "--products"},
        {4, {"qw", "replay", "--speed", "fast"}, "--speed"},
        {4, {"qw", "replay", "--speed", "-2x"}, "--speed"},
        {2, {"qw", "replay"}, "no input"},
        {2, {"qw", "frobnicate"}, "frobnicate"},
        {3, {"qw", "--url", "http://x"}, "--url"},
        {2, {"qw", "--port"}, "missing value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ASSERT_ERR(QW_INVAL, load(&c, env, cases[i].argc, cases[i].argv));
        if (!strstr(c.errbuf, cases[i].needle))
            qwt_fail(__FILE__, __LINE__, "case %zu: '%s' lacks '%s'", i, c.errbuf, cases[i].needle);
    }
    char *env2[] = {"PORT=99999", NULL};
    char *a0[] = {"qw", NULL};
    ASSERT_ERR(QW_INVAL, load(&c, env2, 1, a0));
    ASSERT_TRUE(strstr(c.errbuf, "PORT") != NULL);
}

TEST(config_describe_hides_secrets)
{
    qw_config c;
    char *env[] = {"ICEBERG_CATALOG_URI=postgresql://u:hunter2@db/x", NULL};
    char *a0[] = {"qw", NULL};
    ASSERT_OK(load(&c, env, 1, a0));
    char buf[512];
    qw_config_describe(&c, buf, sizeof buf);
    ASSERT_TRUE(strstr(buf, "hunter2") == NULL);
    ASSERT_TRUE(strstr(buf, "catalog=(set)") != NULL);
}

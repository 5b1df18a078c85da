/* test_config.c: precedence (defaults < env < flags), flag checking, the
 * flag table (every row parses, ranges, subcommand masks) and redaction. */
#include "core/config.h"
#include "core/flags.h"
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
    char *env[] = {
        "ICEBERG_CATALOG_URI=postgresql://u:hunter2@db/x", "COINBASE_EXCHANGE_KEY=key-AKIA1234",
        "COINBASE_EXCHANGE_SECRET=c2VjcmV0LXM3Cg==", "COINBASE_EXCHANGE_PASSPHRASE=pass-phrase-77",
        NULL};
    char *a0[] = {"qw", NULL};
    ASSERT_OK(load(&c, env, 1, a0));
    ASSERT_STREQ(c.ex_key, "key-AKIA1234"); /* env -> config; cmd_live reads the fields */
    ASSERT_STREQ(c.ex_secret, "c2VjcmV0LXM3Cg==");
    ASSERT_STREQ(c.ex_passphrase, "pass-phrase-77");
    char buf[1024];
    qw_config_describe(&c, buf, sizeof buf);
    ASSERT_TRUE(strstr(buf, "hunter2") == NULL);
    ASSERT_TRUE(strstr(buf, "AKIA1234") == NULL);
    ASSERT_TRUE(strstr(buf, "c2VjcmV0") == NULL);
    ASSERT_TRUE(strstr(buf, "pass-phrase") == NULL);
    ASSERT_TRUE(strstr(buf, "catalog=postgresql://u:***@db/x") != NULL);
    ASSERT_TRUE(strstr(buf, "exchange_auth=(set)") != NULL);
    /* and --help's defaults never show a secret */
    size_t n;
    const qw_flag *t = qw_flags(&n);
    for (size_t i = 0; i < n; i++) {
        qw_flag_default(&t[i], buf, sizeof buf);
        ASSERT_TRUE(strstr(buf, "AKIA") == NULL);
    }
}

TEST(config_redact_uri)
{
    char b[256];
    qw_config_redact_uri("postgresql://qw:s3cret@127.0.0.1:5432/qw", b, sizeof b);
    ASSERT_STREQ(b, "postgresql://qw:***@127.0.0.1:5432/qw");
    qw_config_redact_uri("host=db user=qw password=s3cret dbname=x", b, sizeof b);
    ASSERT_STREQ(b, "host=db user=qw password=*** dbname=x");
    qw_config_redact_uri("postgresql://qw@db/x", b, sizeof b);
    ASSERT_STREQ(b, "postgresql://qw@db/x");
    qw_config_redact_uri("sqlite:///tmp/a:b@c.db", b, sizeof b);
    ASSERT_STREQ(b, "sqlite:///tmp/a:b@c.db");
}

/* argv for one flag of one subcommand, with whatever the subcommand needs. */
static int argv_for(unsigned sub, const char *flag, const char *val, char **a)
{
    int n = 0;
    a[n++] = "qw";
    switch (sub) {
    case QW_SUB_LIVE: a[n++] = "live"; break;
    case QW_SUB_REPLAY: a[n++] = "replay"; break;
    case QW_SUB_SIM: a[n++] = "sim"; break;
    case QW_SUB_LAKE_TABLES: a[n++] = "lake", a[n++] = "tables"; break;
    case QW_SUB_LAKE_DESCRIBE: a[n++] = "lake", a[n++] = "describe", a[n++] = "labels"; break;
    case QW_SUB_LAKE_SCAN: a[n++] = "lake", a[n++] = "scan", a[n++] = "raw_trades"; break;
    case QW_SUB_LAKE_CLEAN: a[n++] = "lake", a[n++] = "clean-orphans"; break;
    case QW_SUB_LAKE_REGISTER: a[n++] = "lake", a[n++] = "register"; break;
    case QW_SUB_BACKTEST: a[n++] = "backtest"; break;
    case QW_SUB_LAKE_EXPIRE: a[n++] = "lake", a[n++] = "expire"; break;
    case QW_SUB_LAKE_COMPACT: a[n++] = "lake", a[n++] = "compact"; break;
    }
    a[n++] = (char *)flag;
    if (val)
        a[n++] = (char *)val;
    if (sub == QW_SUB_REPLAY && strcmp(flag, "--lake") != 0)
        a[n++] = "f.ndjson";
    if (sub == QW_SUB_BACKTEST && strcmp(flag, "--lake") != 0)
        a[n++] = "f.ndjson";
    if (sub == QW_SUB_BACKTEST && strcmp(flag, "--report-json") != 0)
        a[n++] = "--report-json", a[n++] = "r.json";
    if (sub == QW_SUB_SIM && strcmp(flag, "--synthetic") != 0)
        a[n++] = "--synthetic";
    if (sub == QW_SUB_SIM && strcmp(flag, "--tls-cert") == 0)
        a[n++] = "--tls-key", a[n++] = "k.pem";
    if (sub == QW_SUB_SIM && strcmp(flag, "--tls-key") == 0)
        a[n++] = "--tls-cert", a[n++] = "c.pem";
    if (strncmp(flag, "--maintain-", 11) == 0) /* only with --maintain */
        a[n++] = "--maintain", a[n++] = "60";
    a[n] = NULL;
    return n;
}

TEST(config_maintain_options_need_maintain)
{
    char *env[] = {NULL};
    qw_config c;
    char *a1[] = {"qw", "live", "--maintain-expire-age", "10m", NULL};
    ASSERT_EQ(QW_INVAL, load(&c, env, 4, a1));
    char *a2[] = {"qw", "replay", "--maintain-target-size", "1048576", "f.ndjson", NULL};
    ASSERT_EQ(QW_INVAL, load(&c, env, 5, a2));
    char *a3[] = {"qw",
                  "live",
                  "--maintain",
                  "1m",
                  "--maintain-expire-age",
                  "1h",
                  "--maintain-target-size",
                  "1048576",
                  NULL};
    ASSERT_EQ(QW_OK, load(&c, env, 8, a3));
    ASSERT_EQ(3600.0, c.maintain_expire_age_s);
    ASSERT_EQ(1048576, (long long)c.maintain_target_size);
}

TEST(config_older_than_durations)
{
    char *env[] = {NULL};
    static const struct {
        const char *v;
        double s;
        int ok;
    } cases[] = {{"90", 90, 1}, {"1.5m", 90, 1}, {"12h", 43200, 1}, {"5d", 432000, 1}, {"0", 0, 1},
                 {"10x", 0, 0}, {"-1", 0, 0},    {"", 0, 0},        {"5dd", 0, 0},     {"h", 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *a[] = {"qw", "lake", "expire", "--older-than", (char *)cases[i].v, NULL};
        qw_config c;
        qw_err e = load(&c, env, 5, a);
        ASSERT_EQ(e == QW_OK, cases[i].ok);
        if (cases[i].ok) {
            ASSERT_TRUE(c.older_than_set);
            ASSERT_TRUE(c.older_than_s == cases[i].s);
        }
    }
    char *a[] = {"qw", "lake", "clean-orphans", NULL};
    qw_config c;
    ASSERT_EQ(load(&c, env, 3, a), QW_OK);
    ASSERT_TRUE(!c.older_than_set && c.older_than_s == 600);
    char *both[] = {
        "qw", "lake", "expire", "--older-than", "1d", "--before", "2021-04-18T00:00:00Z", NULL};
    ASSERT_EQ(load(&c, env, 7, both), QW_INVAL);
}

TEST(config_every_flag_parses_where_accepted_only)
{
    size_t n;
    const qw_flag *t = qw_flags(&n);
    char *env[] = {NULL};
    ASSERT_TRUE(n >= 46);
    for (size_t i = 0; i < n; i++) {
        const qw_flag *f = &t[i];
        ASSERT_TRUE(f->help && f->subs);
        if (!f->name)
            continue;
        ASSERT_TRUE(qw_flag_find(f->name) == f); /* no duplicate names */
        ASSERT_TRUE((f->type == QW_FT_BOOL) == (f->example == NULL));
        for (unsigned b = 1; b < 1u << QW__SUB_COUNT; b <<= 1) {
            qw_config c;
            char *a[12];
            int argc = argv_for(b, f->name, f->example, a);
            qw_err e = load(&c, env, argc, a);
            if (f->subs & b) {
                if (e != QW_OK)
                    qwt_fail(__FILE__, __LINE__, "%s %s %s: %s", qw_sub_name(b), f->name,
                             f->example ? f->example : "", c.errbuf);
                ASSERT_EQ(c.sub, b);
            } else {
                ASSERT_ERR(QW_INVAL, e);
                if (!strstr(c.errbuf, f->name) || !strstr(c.errbuf, qw_sub_name(b)))
                    qwt_fail(__FILE__, __LINE__, "'%s' must name %s and %s", c.errbuf, f->name,
                             qw_sub_name(b));
            }
        }
    }
}

TEST(config_table_ranges)
{
    size_t n;
    const qw_flag *t = qw_flags(&n);
    char *env[] = {NULL};
    for (size_t i = 0; i < n; i++) {
        const qw_flag *f = &t[i];
        if (!f->name || (f->type != QW_FT_INT && f->type != QW_FT_DOUBLE))
            continue;
        unsigned b = f->subs & -f->subs; /* first subcommand that takes it */
        char lo[64], hi[64], below[64], above[64];
        qw_config c;
        char *a[12];
        snprintf(lo, sizeof lo, "%.17g", f->min);
        snprintf(hi, sizeof hi, "%.17g", f->max);
        snprintf(below, sizeof below, "%.17g", f->type == QW_FT_INT ? f->min - 1 : f->min - 0.5);
        snprintf(above, sizeof above, "%.17g", f->type == QW_FT_INT ? f->max + 1 : f->max * 2 + 1);
        ASSERT_OK(load(&c, env, argv_for(b, f->name, lo, a), a));
        ASSERT_OK(load(&c, env, argv_for(b, f->name, hi, a), a));
        ASSERT_ERR(QW_INVAL, load(&c, env, argv_for(b, f->name, below, a), a));
        ASSERT_TRUE(strstr(c.errbuf, f->name) != NULL);
        ASSERT_ERR(QW_INVAL, load(&c, env, argv_for(b, f->name, above, a), a));
        ASSERT_TRUE(strstr(c.errbuf, f->name) != NULL);
        ASSERT_ERR(QW_INVAL, load(&c, env, argv_for(b, f->name, "12abc", a), a));
    }
    qw_config c;
    char *a1[] = {"qw", "live", "--max-message=65536", "--watchdog", "2.5", NULL};
    ASSERT_OK(load(&c, env, 5, a1));
    ASSERT_EQ(c.max_message, 65536);
    ASSERT_DBL_NEAR(c.watchdog_s, 2.5, 0);
    char *a2[] = {"qw", "sim",    "--synthetic",          "--levels",
                  "7",  "--seed", "18446744073709551615", NULL};
    ASSERT_OK(load(&c, env, 7, a2));
    ASSERT_EQ(c.levels, 7);
    ASSERT_TRUE(c.seed == UINT64_MAX);
    char *a3[] = {"qw", "replay", "--compression", "gzip", "f", NULL};
    ASSERT_ERR(QW_INVAL, load(&c, env, 5, a3));
    ASSERT_TRUE(strstr(c.errbuf, "zstd|snappy|none") != NULL);
}

TEST(config_env_precedence_and_subcommands)
{
    qw_config c;
    char *env[] = {"ICEBERG_WAREHOUSE=file:///env", "ENABLE_PERSISTENCE=yes", "QW_LOG_LEVEL=warn",
                   NULL};
    char *a0[] = {"qw", "replay", "f", NULL};
    ASSERT_OK(load(&c, env, 3, a0));
    ASSERT_STREQ(c.warehouse, "file:///env");
    ASSERT_EQ(c.persist, 1);
    ASSERT_EQ(c.log_level, QW_LOG_WARN);
    char *a1[] = {
        "qw", "replay", "--warehouse", "file:///flag", "--log-level=error", "--persist=false",
        "f",  NULL};
    ASSERT_OK(load(&c, env, 7, a1));
    ASSERT_STREQ(c.warehouse, "file:///flag");
    ASSERT_EQ(c.log_level, QW_LOG_ERROR);
    ASSERT_EQ(c.persist, 0);
    char *a2[] = {"qw", "replay", "--progress", "--no-progress", "f", NULL};
    ASSERT_OK(load(&c, env, 5, a2));
    ASSERT_EQ(c.progress, 0);
    /* lake flags before the action are checked against the action */
    char *a3[] = {"qw", "lake", "--limit", "3", "tables", NULL};
    ASSERT_ERR(QW_INVAL, load(&c, env, 5, a3));
    ASSERT_TRUE(strstr(c.errbuf, "--limit") && strstr(c.errbuf, "lake tables"));
    char *a4[] = {"qw", "lake", "--limit", "3", "scan", "raw_trades", NULL};
    ASSERT_OK(load(&c, env, 6, a4));
    ASSERT_EQ(c.limit, 3);
    ASSERT_EQ(c.sub, QW_SUB_LAKE_SCAN);
    char *a5[] = {"qw", "lake", "frob", NULL};
    ASSERT_ERR(QW_INVAL, load(&c, env, 3, a5));
    ASSERT_TRUE(strstr(c.errbuf, "frob") != NULL);
    /* --help: per subcommand, exit before checking positional arguments */
    char *a6[] = {"qw", "replay", "--help", NULL};
    ASSERT_OK(load(&c, env, 3, a6));
    ASSERT_EQ(c.help, 1);
    ASSERT_EQ(c.sub, QW_SUB_REPLAY);
    char *a7[] = {"qw", "lake", "scan", "raw_trades", "--help", NULL};
    ASSERT_OK(load(&c, env, 5, a7));
    ASSERT_EQ(c.sub, QW_SUB_LAKE_SCAN);
    ASSERT_EQ(c.help, 1);
    char *a8[] = {"qw", "lake", "--help", NULL};
    ASSERT_OK(load(&c, env, 3, a8));
    ASSERT_EQ(c.sub, QW_SUB_LAKE);
    char *a9[] = {"qw", "--help", NULL};
    ASSERT_OK(load(&c, env, 2, a9));
    ASSERT_EQ(c.cmd, QW_CMD_HELP);
    ASSERT_EQ(c.help, 0);
    char *env2[] = {"ICEBERG_WAREHOUSE=", NULL}; /* empty: ignored */
    ASSERT_OK(load(&c, env2, 3, a0));
    ASSERT_STREQ(c.warehouse, "file://./warehouse");
}

/* --shard: the hash is a contract (values fixed here), N shards started with
 * the same --products cover every product exactly once, auto/N takes the
 * ordinal from HOSTNAME, bad specs are refused. */
TEST(config_shard_partitions_products)
{
    ASSERT_EQ(qw_shard_of("BTC-USD", 1), 0);
    ASSERT_EQ(qw_shard_of("", 7), 0xcbf29ce484222325ull % 7);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = "BTC-USD"; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    ASSERT_EQ(qw_shard_of("BTC-USD", 1000), h % 1000);
    static char prods[] = "--products=A-USD,B-USD,C-USD,D-USD,E-USD,F-USD,G-USD,H-USD,I-USD,J-USD";
    int owner[10];
    memset(owner, -1, sizeof owner);
    for (int i = 0; i < 3; i++) {
        qw_config c;
        char spec[32], host[32];
        snprintf(spec, sizeof spec, "--shard=%d/3", i);
        char *env[] = {NULL};
        char *a[] = {"qw", "live", prods, spec, NULL};
        qw_err e = load(&c, env, 4, a);
        if (e != QW_OK) /* a shard may be empty for this set: the error says so */
            ASSERT_TRUE(strstr(c.errbuf, "none of the 10 products") != NULL);
        for (size_t k = 0; e == QW_OK && k < c.nproducts; k++) {
            int idx = c.products[k][0] - 'A';
            ASSERT_EQ(owner[idx], -1);
            owner[idx] = i;
        }
        /* auto/3 with HOSTNAME quotewatch-<i> picks the same products */
        snprintf(host, sizeof host, "HOSTNAME=quotewatch-%d", i);
        char *env2[] = {host, "QW_SHARD=auto/3", NULL};
        char *a2[] = {"qw", "live", prods, NULL};
        qw_config c2;
        ASSERT_EQ(load(&c2, env2, 3, a2), e);
        ASSERT_EQ(c2.nproducts, e == QW_OK ? c.nproducts : c2.nproducts);
        if (e == QW_OK) {
            ASSERT_EQ(c2.shard_i, i);
            ASSERT_EQ(c2.nproducts_all, 10);
        }
    }
    for (int k = 0; k < 10; k++)
        ASSERT_TRUE(owner[k] >= 0);
    static const char *bad[] = {"--shard=3/3", "--shard=1/0",  "--shard=x/2",
                                "--shard=1",   "--shard=-1/2", "--shard=auto/2000"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        qw_config c;
        char *env[] = {NULL};
        char *a[] = {"qw", "live", (char *)bad[k], NULL};
        ASSERT_EQ(load(&c, env, 3, a), QW_INVAL);
    }
    qw_config c;
    char *env[] = {"HOSTNAME=nohyphen", "QW_SHARD=auto/2", NULL};
    char *a[] = {"qw", "live", NULL};
    ASSERT_EQ(load(&c, env, 2, a), QW_INVAL);
    ASSERT_TRUE(strstr(c.errbuf, "does not end in -<ordinal>") != NULL);
}

TEST(config_backtest_lake_and_save_model)
{
    char *env[] = {NULL};
    qw_config c;
    char *ok[] = {"qw",
                  "backtest",
                  "--lake",
                  "--since",
                  "2021-04-17T00:00:00Z",
                  "--until",
                  "2021-04-18T00:00:00Z",
                  "--report-json",
                  "r.json",
                  "--save-model",
                  "m.qwm",
                  "--save-config",
                  "3",
                  NULL};
    ASSERT_OK(load(&c, env, 13, ok));
    ASSERT_TRUE(c.lake && c.since_ns > 0 && c.until_ns > c.since_ns);
    ASSERT_STREQ(c.save_model, "m.qwm");
    ASSERT_EQ(c.bt_save_config, 3);
    char *both[] = {"qw", "backtest", "--lake", "f.ndjson", "--report-json", "r.json", NULL};
    ASSERT_ERR(QW_INVAL, load(&c, env, 6, both));
    ASSERT_TRUE(strstr(c.errbuf, "--lake") != NULL);
    char *none[] = {"qw", "backtest", "--report-json", "r.json", NULL};
    ASSERT_ERR(QW_INVAL, load(&c, env, 4, none));
    char *big[] = {"qw",     "backtest",      "f.ndjson", "--report-json",
                   "r.json", "--save-config", "64",       NULL};
    ASSERT_ERR(QW_INVAL, load(&c, env, 7, big));
}

/* N > 1 persisting shards need one object-store warehouse and one
 * PostgreSQL catalog (unless QW_ALLOW_LOCAL_CATALOG=1, for tests). */
TEST(config_shard_refuses_local_lake)
{
    static const struct {
        const char *wh, *cat, *allow;
        int ok;
    } cases[] = {
        {"ICEBERG_WAREHOUSE=file:///tmp/wh", "", "", 0},
        {"ICEBERG_WAREHOUSE=s3://b/wh", "ICEBERG_CATALOG_URI=/tmp/c.db", "", 0},
        {"ICEBERG_WAREHOUSE=s3://b/wh", "ICEBERG_CATALOG_URI=postgresql://h/db", "", 1},
        {"ICEBERG_WAREHOUSE=gs://b/wh", "ICEBERG_CATALOG_URI=postgres://h/db", "", 1},
        {"ICEBERG_WAREHOUSE=file:///tmp/wh", "", "QW_ALLOW_LOCAL_CATALOG=1", 1},
    };
    static char prods[] = "--products=A-USD,B-USD,C-USD,D-USD,E-USD,F-USD,G-USD,H-USD,I-USD,J-USD";
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        qw_config c;
        char *env[] = {(char *)cases[k].wh, (char *)cases[k].cat, (char *)cases[k].allow, NULL};
        char *a[] = {"qw", "live", prods, "--shard=0/2", "--persist", NULL};
        qw_err e = load(&c, env, 5, a);
        ASSERT_EQ(e == QW_OK, cases[k].ok);
        if (!cases[k].ok)
            ASSERT_TRUE(strstr(c.errbuf, "PostgreSQL catalog") != NULL);
        char *a1[] = {"qw", "live", prods, "--shard=0/1", "--persist", NULL};
        ASSERT_OK(load(&c, env, 5, a1)); /* one shard: one machine */
        char *a2[] = {"qw", "live", prods, "--shard=0/2", NULL};
        ASSERT_OK(load(&c, env, 4, a2)); /* no lake */
    }
}

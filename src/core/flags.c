/* flags.c: the flag table (core/flags.h) and the parsers of its few
 * special rows (lists, times, URLs, speeds, repeatable specs).
 *
 * One row per flag: adding a flag here makes the parser accept it for the
 * listed subcommands, puts it in that subcommand's --help and in
 * `quotewatch help-flags`, and makes tests/e2e/test_cli_help.sh demand a
 * line for it in docs/CLI.md. Keep the rows grouped as --help shows them.
 */
#include "core/flags.h"

#include "core/time.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static qw_err fail(qw_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static qw_err fail(qw_config *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errbuf, sizeof c->errbuf, fmt, ap);
    va_end(ap);
    return QW_INVAL;
}

static qw_err set_products(qw_config *c, const qw_flag *f, const char *s)
{
    (void)f;
    c->nproducts = 0;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n == 0 || n >= sizeof c->products[0])
            return fail(c, "--products: bad product id");
        for (size_t i = 0; i < n; i++) {
            char ch = s[i];
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
                return fail(c, "--products: bad product id '%.*s'", (int)n, s);
        }
        if (c->nproducts == QW_CONFIG_MAX_PRODUCTS)
            return fail(c, "--products: more than %d products", QW_CONFIG_MAX_PRODUCTS);
        memcpy(c->products[c->nproducts], s, n);
        c->products[c->nproducts][n] = '\0';
        c->nproducts++;
        s += n + (comma ? 1 : 0);
        if (comma && !*s)
            return fail(c, "--products: trailing comma");
    }
    if (c->nproducts == 0)
        return fail(c, "--products: empty list");
    c->products_set = 1;
    return QW_OK;
}

static qw_err set_speed(qw_config *c, const qw_flag *f, const char *s)
{
    (void)f;
    if (strcmp(s, "max") == 0) {
        c->speed = 0;
        return QW_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || (strcmp(end, "x") != 0 && *end) || !(v > 0 && v <= 1e6))
        return fail(c, "--speed: expected max, 1x or Nx (N > 0), got '%s'", s);
    c->speed = v;
    return QW_OK;
}

static qw_err set_url(qw_config *c, const qw_flag *f, const char *s)
{
    (void)f;
    size_t n = strlen(s);
    if (n >= sizeof c->url || (strncmp(s, "ws://", 5) != 0 && strncmp(s, "wss://", 6) != 0))
        return fail(c, "--url: expected ws://... or wss://...");
    memcpy(c->url, s, n + 1);
    return QW_OK;
}

static qw_err set_log_level(qw_config *c, const qw_flag *f, const char *s)
{
    if (qw_log_parse_level(s, &c->log_level) != 0)
        return fail(c, "%s: expected debug|info|warn|error|off", f->name ? f->name : f->env);
    return QW_OK;
}

static qw_err set_fault(qw_config *c, const qw_flag *f, const char *s)
{
    (void)f;
    size_t have = strlen(c->fault), n = strlen(s);
    if (have + n + 2 > sizeof c->fault)
        return fail(c, "--fault: specs too long");
    if (have)
        c->fault[have++] = ',';
    memcpy(c->fault + have, s, n + 1);
    return QW_OK;
}

static qw_err set_time(qw_config *c, const qw_flag *f, const char *s)
{
    int64_t t;
    if (qw_time_parse(s, strlen(s), &t) != QW_OK)
        return fail(c, "%s: expected an RFC 3339 UTC time, got '%s'", f->name, s);
    memcpy((char *)c + f->off, &t, sizeof t);
    return QW_OK;
}

static qw_err set_seed(qw_config *c, const qw_flag *f, const char *s)
{
    (void)f;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return fail(c, "--seed: expected an unsigned integer, got '%s'", s);
    c->seed = (uint64_t)v;
    return QW_OK;
}

/* "I/N" or "auto/N" (I from the trailing -<ordinal> of the host name, as a
 * Kubernetes StatefulSet names its pods; resolved by qw_config_load) */
static qw_err set_shard(qw_config *c, const qw_flag *f, const char *s)
{
    const char *name = f->name ? f->name : f->env;
    const char *slash = strchr(s, '/');
    char *end;
    long i = -1, n;
    if (!slash)
        return fail(c, "%s: expected I/N or auto/N, got '%s'", name, s);
    if (!(slash - s == 4 && strncmp(s, "auto", 4) == 0)) {
        errno = 0;
        i = strtol(s, &end, 10);
        if (errno || end != slash || s == slash || i < 0)
            return fail(c, "%s: expected I/N or auto/N, got '%s'", name, s);
    }
    errno = 0;
    n = strtol(slash + 1, &end, 10);
    if (errno || *end || end == slash + 1 || n < 1 || n > 1024)
        return fail(c, "%s: shard count must be 1..1024, got '%s'", name, s);
    if (i >= n)
        return fail(c, "%s: shard index %ld must be below the count %ld", name, i, n);
    c->shard_i = (int)i;
    c->shard_n = (int)n;
    return QW_OK;
}

/* Seconds per unit of a duration suffix ("ns" ... "d"; "" when bare numbers
 * are seconds), 0 if unknown. The one unit table of every duration flag. */
static double unit_s(const char *u, int bare_ok)
{
    static const struct {
        const char *u;
        double s;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1},
                 {"m", 60},    {"h", 3600},  {"d", 86400}};
    if (!*u)
        return bare_ok ? 1 : 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(u, units[i].u) == 0)
            return units[i].s;
    return 0;
}

/* "500ms", "1.5s", "2m", "250us", "100ns": a positive duration up to a day, to ns. */
static int parse_duration(const char *s, size_t n, int64_t *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    double ns = v * unit_s(end, 0) * 1e9;
    if (errno || end == tmp || !(v > 0) || !(ns >= 1 && ns <= 86400e9))
        return -1;
    *out = (int64_t)(ns + 0.5);
    return 0;
}

/* A comma list of feature-set specs ("seed,rich,imbalance+ofi"): kept as
 * text; the backtest command parses each (features.h). */
static qw_err set_featsets(qw_config *c, const qw_flag *f, const char *s)
{
    size_t k = 0;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (k == QW_CONFIG_MAX_GRID)
            return fail(c, "%s: at most %d values", f->name, QW_CONFIG_MAX_GRID);
        if (n == 0 || n >= sizeof c->bt_features[0])
            return fail(c, "%s: bad feature set '%.*s'", f->name, (int)n, s);
        memcpy(c->bt_features[k], s, n);
        c->bt_features[k][n] = '\0';
        k++;
        s += n + (comma ? 1 : 0);
        if (comma && !*s)
            return fail(c, "%s: trailing comma", f->name);
    }
    if (k == 0)
        return fail(c, "%s: empty list", f->name);
    c->bt_nfeatures = k;
    return QW_OK;
}

/* A comma list of durations or numbers into one of the backtest grids. */
static qw_err set_grid(qw_config *c, const qw_flag *f, const char *s)
{
    int is_h = strcmp(f->name, "--horizon") == 0;
    int is_tau = strcmp(f->name, "--threshold") == 0;
    size_t *count = is_h ? &c->bt_nhorizons : is_tau ? &c->bt_ntaus : &c->bt_nalphas;
    size_t k = 0;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (k == QW_CONFIG_MAX_GRID)
            return fail(c, "%s: at most %d values", f->name, QW_CONFIG_MAX_GRID);
        if (is_h) {
            if (parse_duration(s, n, &c->bt_horizon_ns[k]) != 0)
                return fail(c, "%s: expected durations like 500ms,1s, got '%.*s'", f->name, (int)n,
                            s);
        } else {
            char tmp[64], *end;
            if (n == 0 || n >= sizeof tmp)
                return fail(c, "%s: bad value '%.*s'", f->name, (int)n, s);
            memcpy(tmp, s, n);
            tmp[n] = '\0';
            errno = 0;
            double v = strtod(tmp, &end);
            double hi = is_tau ? 0.5 : 10;
            if (errno || *end || end == tmp || !(v > 0 && v <= hi))
                return fail(c, "%s: expected numbers in (0, %g], got '%s'", f->name, hi, tmp);
            (is_tau ? c->bt_tau : c->bt_alpha)[k] = v;
        }
        k++;
        s += n + (comma ? 1 : 0);
        if (comma && !*s)
            return fail(c, "%s: trailing comma", f->name);
    }
    if (k == 0)
        return fail(c, "%s: empty list", f->name);
    *count = k;
    return QW_OK;
}

static qw_err set_window(qw_config *c, const qw_flag *f, const char *s)
{
    if (parse_duration(s, strlen(s), &c->bt_window_ns) != 0 || c->bt_window_ns < QW_NS_PER_MS)
        return fail(c, "%s: expected a duration of at least 1ms (60s, 5m), got '%s'", f->name, s);
    return QW_OK;
}

/* A duration: seconds, or a number with s, m, h or d ("90", "10m", "5d"). */
static qw_err set_duration(qw_config *c, const qw_flag *f, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double mul = errno || end == s ? 0 : unit_s(end, 1);
    if (!mul || !(v >= f->min && v * mul <= f->max))
        return fail(c, "%s: expected seconds or a duration (90, 10m, 12h, 5d) up to %g s, got '%s'",
                    f->name, f->max, s);
    v *= mul;
    memcpy((char *)c + f->off, &v, sizeof v);
    c->older_than_set = 1;
    return QW_OK;
}

static const qw_flag_choice feed_choices[] = {{"advanced", 0}, {"exchange", 1}, {NULL, 0}};
static const qw_flag_choice comp_choices[] = {{"zstd", QW_COMP_ZSTD},
                                              {"snappy", QW_COMP_SNAPPY},
                                              {"none", QW_COMP_NONE},
                                              {"uncompressed", QW_COMP_NONE},
                                              {NULL, 0}};
static const qw_flag_choice enc_choices[] = {{"delta", 1}, {"plain", 0}, {NULL, 0}};

#define F(field) .off = offsetof(qw_config, field), .size = sizeof(((qw_config *)0)->field)
#define LIVE QW_SUB_LIVE
#define REPLAY QW_SUB_REPLAY
#define SIM QW_SUB_SIM
#define LAKE QW_SUB_LAKE
#define SCAN QW_SUB_LAKE_SCAN
#define CLEAN QW_SUB_LAKE_CLEAN
#define EXPIRE QW_SUB_LAKE_EXPIRE
#define COMPACT QW_SUB_LAKE_COMPACT
#define STORE (LIVE | REPLAY)
#define BT QW_SUB_BACKTEST

static const qw_flag table[] = {
    /* common */
    {"--log-level", "QW_LOG_LEVEL", QW_FT_CUSTOM, F(log_level), .set = set_log_level,
     .subs = QW_SUB_ALL, .metavar = "debug|info|warn|error|off", .def = "info", .example = "warn",
     .help = "JSON log lines on stderr at this level and above"},
    {"--products", NULL, QW_FT_CUSTOM, F(products), .set = set_products,
     .subs = LIVE | REPLAY | SIM | SCAN | BT | COMPACT, .metavar = "A,B",
     .def = "BTC-USD (filters: all)", .example = "BTC-USD,ETH-USD",
     .help =
         "product ids (live: subscribe; sim: synthetic market; replay/lake scan/backtest: filter)"},
    {"--shard", "QW_SHARD", QW_FT_CUSTOM, F(shard_n), .set = set_shard, .subs = LIVE,
     .metavar = "I/N|auto/N", .def = "none (all products)", .example = "0/1",
     .help = "keep only shard I of N of --products (stable hash; auto: I from the host "
             "name's trailing -ordinal, as in a StatefulSet)"},
    /* live: client */
    {"--feed", NULL, QW_FT_ENUM, F(feed_exchange), .choices = feed_choices, .subs = LIVE | SIM,
     .metavar = "advanced|exchange", .example = "exchange",
     .help = "Coinbase protocol (sim: of the synthetic market)"},
    {"--url", NULL, QW_FT_CUSTOM, F(url), .set = set_url, .subs = LIVE, .metavar = "URL",
     .def = "the feed's public endpoint", .example = "ws://127.0.0.1:9/",
     .help = "WebSocket endpoint, ws:// or wss://"},
    {"--ca-file", NULL, QW_FT_STRING, F(ca_file), .subs = LIVE, .metavar = "FILE",
     .example = "ca.pem", .help = "extra CA certificate to trust (e.g. the simulator's)"},
    {"--watchdog", NULL, QW_FT_DOUBLE, F(watchdog_s), .min = 0.1, .max = 3600, .subs = LIVE,
     .metavar = "S", .unit = "seconds", .example = "5",
     .help = "no message for this long: reconnect"},
    {"--backoff-max", NULL, QW_FT_DOUBLE, F(backoff_max_s), .min = 0.01, .max = 3600, .subs = LIVE,
     .metavar = "S", .unit = "seconds", .example = "2", .help = "cap of the reconnect backoff"},
    {"--connect-rate", NULL, QW_FT_DOUBLE, F(connect_rate), .min = 0.01, .max = 1000, .subs = LIVE,
     .metavar = "N", .unit = "attempts/s", .example = "10",
     .help = "most connection attempts per second"},
    {"--max-message", NULL, QW_FT_INT, F(max_message), .min = 4096, .max = 1 << 30, .subs = LIVE,
     .metavar = "BYTES", .unit = "bytes", .example = "65536",
     .help = "largest WebSocket message reassembled"},
    {"--no-deflate", NULL, QW_FT_BOOL, F(no_deflate), .ival = 1, .subs = LIVE | SIM, .def = "off",
     .help = "do not negotiate permessage-deflate"},
    {"--record", NULL, QW_FT_STRING, F(record_dir), .subs = LIVE, .metavar = "DIR",
     .example = "rec", .help = "record every message to hourly zstd NDJSON files in DIR"},
    {"--status-file", NULL, QW_FT_STRING, F(status_file), .subs = LIVE, .metavar = "FILE",
     .example = "st.json", .help = "rewrite the summary JSON (with `live`) every second"},
    {"--duration", NULL, QW_FT_DOUBLE, F(duration_s), .min = 0, .max = 1e7, .subs = LIVE | SIM,
     .metavar = "S", .unit = "seconds", .def = "0 (until a signal)", .example = "1.5",
     .help = "stop cleanly after S seconds"},
    /* dashboard */
    {"--port", "PORT", QW_FT_INT, F(port), .min = 0, .max = 65535, .subs = LIVE | REPLAY | SIM,
     .metavar = "N", .unit = "(0 = any free port)", .def = "8050", .example = "0",
     .help = "dashboard port (sim: WebSocket port); PORT also binds 0.0.0.0"},
    {"--bind", NULL, QW_FT_STRING, F(bind), .subs = LIVE | REPLAY | SIM, .metavar = "ADDR",
     .def = "127.0.0.1 (0.0.0.0 with PORT)", .example = "127.0.0.1", .help = "listen address"},
    {"--web-root", NULL, QW_FT_STRING, F(web_root), .subs = LIVE | REPLAY, .metavar = "DIR",
     .def = "web/dist", .example = "web", .help = "dashboard static files"},
    {"--dash-max-per-ip", NULL, QW_FT_INT, F(dash_max_per_ip), .min = 1, .max = 100000,
     .subs = LIVE | REPLAY, .metavar = "N", .def = "16", .example = "64",
     .help = "most open dashboard connections per client address (more are closed at accept)"},
    {"--dashboard", NULL, QW_FT_BOOL, F(dashboard), .ival = 1, .subs = REPLAY, .def = "off",
     .help = "serve the dashboard while replaying"},
    /* replay and outputs */
    {"--summary", NULL, QW_FT_STRING, F(summary), .subs = LIVE | REPLAY, .metavar = "FILE|-",
     .example = "-", .help = "write the summary JSON to FILE (atomically) or stdout at exit"},
    {"--samples", NULL, QW_FT_STRING, F(samples), .subs = REPLAY, .metavar = "FILE|-",
     .example = "s.csv", .help = "write every labeled sample as CSV"},
    {"--speed", NULL, QW_FT_CUSTOM, F(speed), .set = set_speed, .subs = REPLAY | SIM,
     .metavar = "max|1x|Nx", .def = "max", .example = "10x",
     .help = "max: as fast as possible; Nx: paced by feed time, N times real time"},
    {"--progress", NULL, QW_FT_BOOL, F(progress), .ival = 1, .subs = REPLAY | BT,
     .def = "only when stderr is a terminal", .help = "progress bar on stderr"},
    {"--no-progress", NULL, QW_FT_BOOL, F(progress), .ival = 0, .subs = REPLAY | BT,
     .def = "only when stderr is a terminal", .help = "no progress bar"},
    {"--max-line", NULL, QW_FT_INT, F(max_line), .min = 1024, .max = 1 << 30,
     .subs = REPLAY | SIM | BT, .metavar = "BYTES", .unit = "bytes", .example = "4096",
     .help = "longest accepted input line; longer lines count as too_large"},
    {"--save-model", NULL, QW_FT_STRING, F(save_model), .subs = LIVE | REPLAY | BT,
     .metavar = "FILE", .example = "m.qwm",
     .help = "at exit, save every product's model atomically (backtest: of --save-config)"},
    {"--save-config", NULL, QW_FT_INT, F(bt_save_config), .min = 0, .max = 63, .subs = BT,
     .metavar = "K", .def = "0 (the first)", .example = "2",
     .help = "backtest --save-model: save configuration K of the grid (report order)"},
    {"--load-model", NULL, QW_FT_STRING, F(load_model), .subs = LIVE | REPLAY, .metavar = "FILE",
     .example = "m.qwm", .help = "at start, load models saved by --save-model (live: hot reload)"},
    {"--lake", NULL, QW_FT_BOOL, F(lake), .ival = 1, .subs = REPLAY | BT, .def = "off",
     .help = "read the raw tables of the lake instead of files (replay, backtest)"},
    {"--since", NULL, QW_FT_CUSTOM, F(since_ns), .set = set_time, .subs = REPLAY | SCAN | BT,
     .metavar = "T", .def = "open", .example = "2021-04-17T00:00:00Z",
     .help = "lake rows at or after T (RFC 3339 UTC)"},
    {"--until", NULL, QW_FT_CUSTOM, F(until_ns), .set = set_time, .subs = REPLAY | SCAN | BT,
     .metavar = "T", .def = "open", .example = "2021-04-18T00:00:00Z",
     .help = "lake rows before T (RFC 3339 UTC)"},
    /* persistence */
    {"--persist", "ENABLE_PERSISTENCE", QW_FT_BOOL, F(persist), .ival = 1, .subs = STORE,
     .def = "off", .help = "write raw tables, features and labels to the Iceberg lake"},
    {"--warehouse", "ICEBERG_WAREHOUSE", QW_FT_STRING, F(warehouse), .subs = STORE | LAKE | BT,
     .metavar = "URI", .example = "file:///tmp/wh",
     .help = "lake data location: file://, a path, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX "
             "(docs/STORAGE.md: object stores need a PostgreSQL catalog)"},
    {"--s3-endpoint", "AWS_ENDPOINT_URL", QW_FT_STRING, F(s3_endpoint), .subs = STORE | LAKE | BT,
     .metavar = "URL", .def = "AWS for AWS_REGION (gs://: storage.googleapis.com)",
     .example = "https://minio.internal:9000",
     .help = "S3-compatible endpoint for s3:// warehouses (https; plain http on loopback only); "
             "an endpoint implies path-style addressing"},
    {"--s3-path-style", "AWS_S3_FORCE_PATH_STYLE", QW_FT_BOOL, F(s3_path_style), .ival = 1,
     .subs = STORE | LAKE | BT, .def = "off (virtual-hosted)",
     .help = "address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY"},
    {"--catalog-uri", "ICEBERG_CATALOG_URI", QW_FT_STRING, F(catalog_uri),
     .subs = STORE | LAKE | BT, .metavar = "URI", .def = "SQLite in the warehouse",
     .example = "sqlite:////tmp/c.db",
     .help = "Iceberg SQL catalog: postgresql://, postgresql+psycopg2:// (pyiceberg's form), "
             "sqlite:////ABS or sqlite:///REL (SQLAlchemy), or a file path; passwords redacted"},
    {"--flush-rows", NULL, QW_FT_INT, F(flush_rows), .min = 1, .max = 100000000, .subs = STORE,
     .metavar = "N", .example = "1000", .help = "flush a table after N buffered rows"},
    {"--flush-ms", NULL, QW_FT_INT, F(flush_ms), .min = 1, .max = 86400000, .subs = STORE,
     .metavar = "N", .unit = "ms", .example = "100", .help = "flush after N ms since the last"},
    {"--queue-records", NULL, QW_FT_INT, F(queue_records), .min = 1024, .max = 1 << 26,
     .subs = STORE, .metavar = "N", .unit = "records", .def = "live 262144 (52 MiB), replay 32768",
     .example = "65536",
     .help = "capacity of the ring between ingest and the writer thread (208 B a record); live "
             "drops and counts when it is full, replay waits"},
    {"--close-timeout", NULL, QW_FT_DOUBLE, F(close_timeout_s), .min = 0.1, .max = 3600,
     .subs = LIVE, .metavar = "S", .unit = "seconds", .def = "8", .example = "2",
     .help = "at exit (SIGTERM) the final flush and commit end within S seconds; rows not "
             "committed by then are given up, counted and logged (Cloud Run allows 10 s)"},
    {"--maintain", NULL, QW_FT_CUSTOM, F(maintain_s), .set = set_duration, .min = 1, .max = 1e7,
     .subs = STORE, .metavar = "DURATION", .unit = "seconds", .def = "off", .example = "1h",
     .help = "with --persist: every DURATION run lake expire (table properties) and lake "
             "compact on the tables on a background thread. Seconds, or with s|m|h|d"},
    {"--maintain-expire-age", NULL, QW_FT_CUSTOM, F(maintain_expire_age_s), .set = set_duration,
     .min = 1, .max = 1e9, .subs = STORE, .metavar = "DURATION", .unit = "seconds",
     .def = "the table's history.expire.max-snapshot-age-ms (6 h)", .example = "10m",
     .help = "with --maintain: expire the snapshots committed more than DURATION ago (wall "
             "clock) instead of the table property's age"},
    {"--maintain-target-size", NULL, QW_FT_INT, F(maintain_target_size), .min = 1024, .max = 1e12,
     .subs = STORE, .metavar = "BYTES", .unit = "bytes",
     .def = "the table's write.target-file-size-bytes (128 MiB)", .example = "16777216",
     .help = "with --maintain: compact into files of at most BYTES (a round holds about twice a "
             "bin's decoded rows in memory)"},
    {"--compression", NULL, QW_FT_ENUM, F(compression), .choices = comp_choices, .subs = STORE,
     .metavar = "zstd|snappy|none", .example = "snappy", .help = "Parquet page compression"},
    {"--zstd-level", NULL, QW_FT_INT, F(zstd_level), .min = 1, .max = 19, .subs = STORE,
     .metavar = "N", .example = "3", .help = "Parquet ZSTD level"},
    {"--int-encoding", NULL, QW_FT_ENUM, F(int_delta), .choices = enc_choices, .subs = STORE,
     .metavar = "delta|plain", .example = "plain",
     .help = "Parquet encoding of timestamp, long and decimal columns"},
    /* sim */
    {"--synthetic", NULL, QW_FT_BOOL, F(synthetic), .ival = 1, .subs = SIM, .def = "off",
     .help = "serve the synthetic market instead of FILE"},
    {"--loop", NULL, QW_FT_BOOL, F(loop), .ival = 1, .subs = SIM, .def = "off",
     .help = "restart the source at its end"},
    {"--fault", NULL, QW_FT_CUSTOM, F(fault), .set = set_fault, .subs = SIM, .metavar = "SPEC",
     .example = "drop=5", .help = "inject faults (docs/SIM.md); repeatable"},
    {"--tls-cert", NULL, QW_FT_STRING, F(tls_cert), .subs = SIM, .metavar = "FILE",
     .example = "c.pem", .help = "serve wss:// with this certificate (with --tls-key)"},
    {"--tls-key", NULL, QW_FT_STRING, F(tls_key), .subs = SIM, .metavar = "FILE",
     .example = "k.pem", .help = "private key of --tls-cert"},
    {"--seed", NULL, QW_FT_CUSTOM, F(seed), .set = set_seed, .subs = SIM, .metavar = "N",
     .def = "0", .example = "42", .help = "synthetic market seed"},
    {"--levels", NULL, QW_FT_INT, F(levels), .min = 1, .max = 1000000, .subs = SIM, .metavar = "N",
     .def = "the generator's", .example = "50", .help = "synthetic snapshot levels per side"},
    /* lake */
    {"--limit", NULL, QW_FT_INT, F(limit), .min = 0, .max = 1000000000, .subs = SCAN,
     .metavar = "N", .example = "5", .help = "rows to print (0 = all)"},
    {"--dry-run", NULL, QW_FT_BOOL, F(dry_run), .ival = 1, .subs = CLEAN | EXPIRE, .def = "off",
     .help = "report what would be deleted (expire: and expired), change nothing"},
    {"--older-than", NULL, QW_FT_CUSTOM, F(older_than_s), .set = set_duration, .min = 0,
     .max = 1e10, .subs = CLEAN | EXPIRE, .metavar = "DURATION", .unit = "seconds",
     .def = "600 (expire: the table's history.expire.max-snapshot-age-ms)", .example = "10m",
     .help = "clean-orphans: only files older than this (protects writers of older releases); "
             "expire: snapshots older than this. Seconds, or with s|m|h|d"},
    {"--before", NULL, QW_FT_CUSTOM, F(before_ns), .set = set_time, .subs = EXPIRE, .metavar = "T",
     .def = "none", .example = "2021-04-18T00:00:00Z",
     .help = "expire snapshots committed before T (RFC 3339 UTC; instead of --older-than)"},
    {"--retain-last", NULL, QW_FT_INT, F(retain_last), .min = 1, .max = 100000000, .subs = EXPIRE,
     .metavar = "N", .def = "the table's history.expire.min-snapshots-to-keep, 1", .example = "10",
     .help = "always keep the last N snapshots of each branch"},
    {"--table", NULL, QW_FT_STRING, F(table), .subs = EXPIRE | COMPACT, .metavar = "TABLE",
     .def = "all four", .example = "raw_trades", .help = "only this table"},
    {"--target-size", NULL, QW_FT_INT, F(target_size), .min = 1024, .max = 1e12, .subs = COMPACT,
     .metavar = "BYTES", .unit = "bytes",
     .def = "the table's write.target-file-size-bytes, 134217728 (128 MiB)", .example = "1048576",
     .help = "compact files smaller than this into files of at most this size"},
    /* backtest (docs/BACKTEST.md) */
    {"--report-json", NULL, QW_FT_STRING, F(report_json), .subs = BT, .metavar = "FILE",
     .def = "none (required)", .example = "r.json",
     .help = "write the metrics report JSON (atomically)"},
    {"--report-html", NULL, QW_FT_STRING, F(report_html), .subs = BT, .metavar = "FILE",
     .example = "r.html", .help = "also write a self-contained HTML report (inline SVG charts)"},
    {"--predictions-csv", NULL, QW_FT_STRING, F(predictions_csv), .subs = BT, .metavar = "FILE|-",
     .example = "p.csv", .help = "write every scored prediction as CSV: config,product,t_ns,p,y"},
    {"--horizon", NULL, QW_FT_CUSTOM, F(bt_horizon_ns), .set = set_grid, .subs = BT,
     .metavar = "D,D", .def = "500ms", .example = "500ms,1s",
     .help = "label horizons to evaluate (grid axis; units ns|us|ms|s|m)"},
    {"--threshold", NULL, QW_FT_CUSTOM, F(bt_tau), .set = set_grid, .subs = BT, .metavar = "T,T",
     .def = "0.0001", .example = "0.0001,0.0002",
     .help = "relative move thresholds tau to evaluate (grid axis)"},
    {"--alpha", NULL, QW_FT_CUSTOM, F(bt_alpha), .set = set_grid, .subs = BT, .metavar = "A,A",
     .def = "0.0001", .example = "1e-4,1e-3", .help = "SGD L2 strengths to evaluate (grid axis)"},
    {"--features", NULL, QW_FT_CUSTOM, F(bt_features), .set = set_featsets,
     .subs = BT | REPLAY | LIVE, .metavar = "SET,SET", .def = "seed", .example = "seed,book,rich",
     .help = "features the model sees: seed, book, rich, or names joined by + "
             "(docs/FEATURES.md); backtest: a list is a grid axis"},
    {"--window", NULL, QW_FT_CUSTOM, F(bt_window_ns), .set = set_window, .subs = BT, .metavar = "D",
     .def = "60s", .example = "30s",
     .help = "time windows of the drift table (feed time, aligned to the epoch)"},
    /* environment only */
    {NULL, "COINBASE_EXCHANGE_KEY", QW_FT_STRING, F(ex_key), .subs = LIVE, .secret = 1,
     .example = "k", .help = "Exchange feed API key (authenticated channels); never logged"},
    {NULL, "COINBASE_EXCHANGE_SECRET", QW_FT_STRING, F(ex_secret), .subs = LIVE, .secret = 1,
     .example = "c2VjcmV0", .help = "Exchange feed API secret (base64); never logged"},
    {NULL, "COINBASE_EXCHANGE_PASSPHRASE", QW_FT_STRING, F(ex_passphrase), .subs = LIVE,
     .secret = 1, .example = "p", .help = "Exchange feed API passphrase; never logged"},
};

const qw_flag *qw_flags(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const qw_flag *qw_flag_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].name && strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const char *qw_sub_name(unsigned sub)
{
    switch (sub) {
    case QW_SUB_LIVE: return "live";
    case QW_SUB_REPLAY: return "replay";
    case QW_SUB_SIM: return "sim";
    case QW_SUB_LAKE_TABLES: return "lake tables";
    case QW_SUB_LAKE_DESCRIBE: return "lake describe";
    case QW_SUB_LAKE_SCAN: return "lake scan";
    case QW_SUB_LAKE_CLEAN: return "lake clean-orphans";
    case QW_SUB_LAKE_REGISTER: return "lake register";
    case QW_SUB_LAKE_EXPIRE: return "lake expire";
    case QW_SUB_LAKE_COMPACT: return "lake compact";
    case QW_SUB_LAKE: return "lake";
    case QW_SUB_BACKTEST: return "backtest";
    default: return "?";
    }
}

void qw_flag_default(const qw_flag *f, char *buf, size_t cap)
{
    qw_config d;
    const char *p;
    if (f->def) {
        snprintf(buf, cap, "%s", f->def);
        return;
    }
    qw_config_defaults(&d);
    p = (const char *)&d + f->off;
    switch (f->type) {
    case QW_FT_INT: {
        long long v = 0;
        if (f->size == sizeof(int)) {
            int iv;
            memcpy(&iv, p, sizeof iv);
            v = iv;
        } else {
            int64_t lv;
            memcpy(&lv, p, sizeof lv);
            v = lv;
        }
        snprintf(buf, cap, "%lld", v);
        return;
    }
    case QW_FT_DOUBLE: {
        double v;
        memcpy(&v, p, sizeof v);
        snprintf(buf, cap, "%g", v);
        return;
    }
    case QW_FT_ENUM: {
        int v;
        memcpy(&v, p, sizeof v);
        for (const qw_flag_choice *ch = f->choices; ch->name; ch++)
            if (ch->value == v) {
                snprintf(buf, cap, "%s", ch->name);
                return;
            }
        break;
    }
    case QW_FT_STRING:
        if (*p && !f->secret) {
            snprintf(buf, cap, "%s", p);
            return;
        }
        break;
    case QW_FT_BOOL: snprintf(buf, cap, "off"); return;
    case QW_FT_CUSTOM: break;
    }
    snprintf(buf, cap, "none");
}

/* config.c: defaults, environment and flags into one qw_config.
 *
 * Flags are checked where they enter (curl's setopt discipline): numbers
 * are range-checked, strings length-checked, and anything unknown is an
 * error that names the flag. argv[1] may be a subcommand (live, replay,
 * sim); without one the command is live.
 */
#include "core/config.h"

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

static int copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return 0;
    memcpy(dst, src, n + 1);
    return 1;
}

void qw_config_defaults(qw_config *c)
{
    memset(c, 0, sizeof *c);
    c->cmd = QW_CMD_LIVE;
    c->log_level = QW_LOG_INFO;
    copy(c->products[0], sizeof c->products[0], "BTC-USD");
    c->nproducts = 1;
    c->port = 8050;
    c->progress = -1;
    c->max_line = 64u << 20;
    copy(c->warehouse, sizeof c->warehouse, "file://./warehouse");
    c->watchdog_s = 10;
    c->backoff_max_s = 30;
    c->connect_rate = 4;
    c->max_message = 32u << 20;
    c->flush_rows = 50000;
    c->flush_ms = 5000;
    c->compression = QW_COMP_ZSTD;
    c->zstd_level = 1;
    c->int_delta = 1;
    c->limit = 20;
    c->older_than_s = 600;
}

static int parse_seconds(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

static const char *env_get(char **envp, const char *k)
{
    size_t n = strlen(k);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, k, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static qw_err parse_products(qw_config *c, const char *s)
{
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

static qw_err parse_speed(qw_config *c, const char *s)
{
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

static int is_true(const char *v)
{
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "TRUE") == 0 ||
           strcmp(v, "True") == 0 || strcmp(v, "yes") == 0;
}

qw_err qw_config_load(qw_config *c, char **envp, int argc, char **argv)
{
    const char *v;
    long n;
    if ((v = env_get(envp, "PORT")) && *v) {
        if (!parse_int(v, 1, 65535, &n))
            return fail(c, "PORT: expected 1..65535, got '%s'", v);
        c->port = (int)n;
        copy(c->bind, sizeof c->bind, "0.0.0.0"); /* a platform-assigned port: listen on all */
    }
    if ((v = env_get(envp, "ENABLE_PERSISTENCE")))
        c->persist = is_true(v);
    if ((v = env_get(envp, "ICEBERG_WAREHOUSE")) && *v &&
        !copy(c->warehouse, sizeof c->warehouse, v))
        return fail(c, "ICEBERG_WAREHOUSE: too long");
    if ((v = env_get(envp, "ICEBERG_CATALOG_URI")) && *v &&
        !copy(c->catalog_uri, sizeof c->catalog_uri, v))
        return fail(c, "ICEBERG_CATALOG_URI: too long");
    if ((v = env_get(envp, "QW_LOG_LEVEL")) && qw_log_parse_level(v, &c->log_level) != 0)
        return fail(c, "QW_LOG_LEVEL: expected debug|info|warn|error|off");

    int i = 1;
    if (argc > 1 && argv[1][0] != '-') {
        if (strcmp(argv[1], "live") == 0)
            c->cmd = QW_CMD_LIVE;
        else if (strcmp(argv[1], "replay") == 0)
            c->cmd = QW_CMD_REPLAY;
        else if (strcmp(argv[1], "sim") == 0)
            c->cmd = QW_CMD_SIM;
        else if (strcmp(argv[1], "help") == 0)
            c->cmd = QW_CMD_HELP;
        else if (strcmp(argv[1], "version") == 0)
            c->cmd = QW_CMD_VERSION;
        else if (strcmp(argv[1], "lake") == 0)
            c->cmd = QW_CMD_LAKE;
        else
            return fail(c, "unknown command '%s' (try --help)", argv[1]);
        i = 2;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        char name[64];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (c->cmd != QW_CMD_REPLAY && c->cmd != QW_CMD_SIM && c->cmd != QW_CMD_LAKE)
                return fail(c, "unexpected argument '%s'", a);
            if (c->nfiles == QW_CONFIG_MAX_FILES)
                return fail(c, "too many input files");
            c->files[c->nfiles++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc && c->nfiles < QW_CONFIG_MAX_FILES; i++)
                c->files[c->nfiles++] = argv[i];
            break;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name)
            return fail(c, "unknown flag '%s'", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            c->cmd = QW_CMD_HELP;
            continue;
        }
        if (strcmp(name, "--version") == 0) {
            c->cmd = QW_CMD_VERSION;
            continue;
        }
        if (strcmp(name, "--persist") == 0) {
            c->persist = 1;
            continue;
        }
        if (strcmp(name, "--synthetic") == 0) {
            c->synthetic = 1;
            continue;
        }
        if (strcmp(name, "--no-deflate") == 0) {
            c->no_deflate = 1;
            continue;
        }
        if (strcmp(name, "--dry-run") == 0) {
            c->dry_run = 1;
            continue;
        }
        if (strcmp(name, "--loop") == 0) {
            c->loop = 1;
            continue;
        }
        if (strcmp(name, "--dashboard") == 0) {
            c->dashboard = 1;
            continue;
        }
        if (strcmp(name, "--lake") == 0) {
            c->lake = 1;
            continue;
        }
        if (strcmp(name, "--progress") == 0) {
            c->progress = 1;
            continue;
        }
        if (strcmp(name, "--no-progress") == 0) {
            c->progress = 0;
            continue;
        }
        /* flags with a value */
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return fail(c, "%s: missing value", name);
#define IS(f) (strcmp(name, f) == 0)
        if (IS("--products")) {
            qw_err e = parse_products(c, val);
            if (e != QW_OK)
                return e;
        } else if (IS("--feed")) {
            if (strcmp(val, "advanced") == 0)
                c->feed_exchange = 0;
            else if (strcmp(val, "exchange") == 0)
                c->feed_exchange = 1;
            else
                return fail(c, "--feed: expected advanced or exchange, got '%s'", val);
        } else if (IS("--url")) {
            if (!copy(c->url, sizeof c->url, val) ||
                (strncmp(val, "ws://", 5) != 0 && strncmp(val, "wss://", 6) != 0))
                return fail(c, "--url: expected ws://... or wss://...");
        } else if (IS("--port")) {
            if (!parse_int(val, 0, 65535, &n))
                return fail(c, "--port: expected 0..65535 (0 = any free port), got '%s'", val);
            c->port = (int)n;
        } else if (IS("--bind")) {
            if (!copy(c->bind, sizeof c->bind, val))
                return fail(c, "--bind: too long");
        } else if (IS("--record")) {
            if (!copy(c->record_dir, sizeof c->record_dir, val))
                return fail(c, "--record: path too long");
        } else if (IS("--summary")) {
            if (!copy(c->summary, sizeof c->summary, val))
                return fail(c, "--summary: path too long");
        } else if (IS("--samples")) {
            if (!copy(c->samples, sizeof c->samples, val))
                return fail(c, "--samples: path too long");
        } else if (IS("--save-model")) {
            if (!copy(c->save_model, sizeof c->save_model, val))
                return fail(c, "--save-model: path too long");
        } else if (IS("--load-model")) {
            if (!copy(c->load_model, sizeof c->load_model, val))
                return fail(c, "--load-model: path too long");
        } else if (IS("--speed")) {
            qw_err e = parse_speed(c, val);
            if (e != QW_OK)
                return e;
        } else if (IS("--max-line")) {
            if (!parse_int(val, 1024, 1L << 30, &n))
                return fail(c, "--max-line: expected 1024..1073741824 bytes");
            c->max_line = (size_t)n;
        } else if (IS("--log-level")) {
            if (qw_log_parse_level(val, &c->log_level) != 0)
                return fail(c, "--log-level: expected debug|info|warn|error|off");
        } else if (IS("--warehouse")) {
            if (!copy(c->warehouse, sizeof c->warehouse, val))
                return fail(c, "--warehouse: too long");
        } else if (IS("--catalog-uri")) {
            if (!copy(c->catalog_uri, sizeof c->catalog_uri, val))
                return fail(c, "--catalog-uri: too long");
        } else if (IS("--ca-file")) {
            if (!copy(c->ca_file, sizeof c->ca_file, val))
                return fail(c, "--ca-file: path too long");
        } else if (IS("--status-file")) {
            if (!copy(c->status_file, sizeof c->status_file, val))
                return fail(c, "--status-file: path too long");
        } else if (IS("--watchdog")) {
            if (!parse_seconds(val, 0.1, 3600, &c->watchdog_s))
                return fail(c, "--watchdog: expected 0.1..3600 seconds, got '%s'", val);
        } else if (IS("--duration")) {
            if (!parse_seconds(val, 0, 1e7, &c->duration_s))
                return fail(c, "--duration: expected seconds >= 0, got '%s'", val);
        } else if (IS("--backoff-max")) {
            if (!parse_seconds(val, 0.01, 3600, &c->backoff_max_s))
                return fail(c, "--backoff-max: expected 0.01..3600 seconds, got '%s'", val);
        } else if (IS("--connect-rate")) {
            if (!parse_seconds(val, 0.01, 1000, &c->connect_rate))
                return fail(c, "--connect-rate: expected 0.01..1000 attempts/s, got '%s'", val);
        } else if (IS("--max-message")) {
            if (!parse_int(val, 4096, 1L << 30, &n))
                return fail(c, "--max-message: expected 4096..1073741824 bytes");
            c->max_message = (size_t)n;
        } else if (IS("--fault")) {
            size_t have = strlen(c->fault);
            if (have + strlen(val) + 2 > sizeof c->fault)
                return fail(c, "--fault: specs too long");
            if (have)
                c->fault[have++] = ',';
            memcpy(c->fault + have, val, strlen(val) + 1);
        } else if (IS("--tls-cert")) {
            if (!copy(c->tls_cert, sizeof c->tls_cert, val))
                return fail(c, "--tls-cert: path too long");
        } else if (IS("--tls-key")) {
            if (!copy(c->tls_key, sizeof c->tls_key, val))
                return fail(c, "--tls-key: path too long");
        } else if (IS("--seed")) {
            char *end;
            errno = 0;
            unsigned long long sv = strtoull(val, &end, 10);
            if (errno || end == val || *end || val[0] == '-')
                return fail(c, "--seed: expected an unsigned integer, got '%s'", val);
            c->seed = (uint64_t)sv;
        } else if (IS("--levels")) {
            if (!parse_int(val, 1, 1000000, &n))
                return fail(c, "--levels: expected 1..1000000");
            c->levels = (size_t)n;
        } else if (IS("--web-root")) {
            if (!copy(c->web_root, sizeof c->web_root, val))
                return fail(c, "--web-root: path too long");
        } else if (IS("--since") || IS("--until")) {
            int64_t t;
            if (qw_time_parse(val, strlen(val), &t) != QW_OK)
                return fail(c, "%s: expected an RFC 3339 UTC time, got '%s'", name, val);
            *(IS("--since") ? &c->since_ns : &c->until_ns) = t;
        } else if (IS("--flush-rows")) {
            if (!parse_int(val, 1, 100000000, &c->flush_rows))
                return fail(c, "--flush-rows: expected 1..100000000");
        } else if (IS("--flush-ms")) {
            if (!parse_int(val, 1, 86400000, &c->flush_ms))
                return fail(c, "--flush-ms: expected 1..86400000");
        } else if (IS("--compression")) {
            if (strcmp(val, "zstd") == 0)
                c->compression = QW_COMP_ZSTD;
            else if (strcmp(val, "snappy") == 0)
                c->compression = QW_COMP_SNAPPY;
            else if (strcmp(val, "none") == 0 || strcmp(val, "uncompressed") == 0)
                c->compression = QW_COMP_NONE;
            else
                return fail(c, "--compression: expected zstd, snappy or none, got '%s'", val);
        } else if (IS("--zstd-level")) {
            long lv;
            if (!parse_int(val, 1, 19, &lv))
                return fail(c, "--zstd-level: expected 1..19");
            c->zstd_level = (int)lv;
        } else if (IS("--int-encoding")) {
            if (strcmp(val, "delta") == 0)
                c->int_delta = 1;
            else if (strcmp(val, "plain") == 0)
                c->int_delta = 0;
            else
                return fail(c, "--int-encoding: expected delta or plain, got '%s'", val);
        } else if (IS("--older-than")) {
            if (!parse_seconds(val, 0, 1e9, &c->older_than_s))
                return fail(c, "--older-than: expected seconds >= 0, got '%s'", val);
        } else if (IS("--limit")) {
            if (!parse_int(val, 0, 1000000000, &c->limit))
                return fail(c, "--limit: expected 0..1000000000");
        } else {
            return fail(c, "unknown flag '%s' (try --help)", name);
        }
#undef IS
    }
    if (!c->bind[0])
        copy(c->bind, sizeof c->bind, "127.0.0.1");
    if (c->cmd == QW_CMD_REPLAY && c->nfiles == 0 && !c->lake)
        return fail(c, "replay: no input files (use - for stdin, or --lake)");
    if (c->cmd == QW_CMD_REPLAY && c->nfiles > 0 && c->lake)
        return fail(c, "replay: --lake reads the lake; give no input files with it");
    if (c->cmd == QW_CMD_SIM && c->synthetic && c->nfiles > 0)
        return fail(c, "sim: give FILE or --synthetic, not both");
    if (c->cmd == QW_CMD_SIM && !c->synthetic && c->nfiles == 0)
        return fail(c, "sim: no input (FILE... or --synthetic)");
    if (c->cmd == QW_CMD_LAKE && c->nfiles == 0)
        return fail(c, "lake: expected tables|describe TABLE|scan TABLE|clean-orphans");
    if ((c->tls_cert[0] != 0) != (c->tls_key[0] != 0))
        return fail(c, "--tls-cert and --tls-key go together");
    return QW_OK;
}

void qw_config_describe(const qw_config *c, char *buf, size_t cap)
{
    static const char *cmds[] = {"live", "replay", "sim", "help", "version", "lake"};
    /* catalog URIs may hold passwords: only say whether one is set */
    snprintf(buf, cap,
             "cmd=%s feed=%s products=%zu(first=%s) port=%d bind=%s persist=%d warehouse=%s "
             "catalog=%s speed=%g",
             cmds[c->cmd], c->feed_exchange ? "exchange" : "advanced", c->nproducts, c->products[0],
             c->port, c->bind, c->persist, c->warehouse, c->catalog_uri[0] ? "(set)" : "sqlite",
             c->speed);
}

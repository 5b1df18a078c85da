/* config.c: defaults, environment and flags into one qw_config.
 *
 * Flags are checked where they enter (curl's setopt discipline): numbers
 * are range-checked, strings length-checked, and anything unknown is an
 * error that names the flag. argv[1] may be a subcommand (live, replay,
 * sim, lake ACTION); without one the command is live. The flags are rows
 * of one table (core/flags.c): a flag the subcommand does not list is a
 * usage error naming both. `lake` flags given before the action are
 * checked again once the action is known.
 */
#include "core/config.h"

#include "core/flags.h"
#include "core/time.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    c->dash_max_per_ip = 16;
    c->progress = -1;
    c->max_line = 64u << 20;
    copy(c->warehouse, sizeof c->warehouse, "file://./warehouse");
    c->watchdog_s = 10;
    c->backoff_max_s = 30;
    c->connect_rate = 4;
    c->max_message = 32u << 20;
    c->flush_rows = 50000;
    c->flush_ms = 5000;
    c->close_timeout_s = 8;
    c->compression = QW_COMP_ZSTD;
    c->zstd_level = 1;
    c->int_delta = 1;
    c->limit = 20;
    c->older_than_s = 600;
    c->bt_horizon_ns[0] = 500 * QW_NS_PER_MS;
    c->bt_nhorizons = 1;
    c->bt_tau[0] = 1e-4;
    c->bt_ntaus = 1;
    c->bt_alpha[0] = 1e-4;
    c->bt_nalphas = 1;
    snprintf(c->bt_features[0], sizeof c->bt_features[0], "seed");
    c->bt_nfeatures = 1;
    c->bt_window_ns = 60 * QW_NS_PER_SEC;
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

static int is_true(const char *v)
{
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "TRUE") == 0 ||
           strcmp(v, "True") == 0 || strcmp(v, "yes") == 0;
}

/* Store val into f's field. who names the source in errors (flag or env). */
static qw_err apply(qw_config *c, const qw_flag *f, const char *who, const char *val)
{
    char *dst = (char *)c + f->off;
    switch (f->type) {
    case QW_FT_BOOL: {
        int v = val ? (is_true(val) ? f->ival : !f->ival) : f->ival;
        memcpy(dst, &v, sizeof v);
        return QW_OK;
    }
    case QW_FT_INT: {
        long v;
        if (!parse_int(val, (long)f->min, (long)f->max, &v))
            return fail(c, "%s: expected %ld..%ld%s%s, got '%s'", who, (long)f->min, (long)f->max,
                        f->unit ? " " : "", f->unit ? f->unit : "", val);
        if (f->size == sizeof(int)) {
            int iv = (int)v;
            memcpy(dst, &iv, sizeof iv);
        } else {
            int64_t lv = v; /* long, size_t, int64_t: same width, v >= 0 where unsigned */
            memcpy(dst, &lv, sizeof lv);
        }
        return QW_OK;
    }
    case QW_FT_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(val, &end);
        if (errno || end == val || *end || !(v >= f->min && v <= f->max))
            return fail(c, "%s: expected %g..%g%s%s, got '%s'", who, f->min, f->max,
                        f->unit ? " " : "", f->unit ? f->unit : "", val);
        memcpy(dst, &v, sizeof v);
        return QW_OK;
    }
    case QW_FT_STRING:
        if (!copy(dst, f->size, val))
            return fail(c, "%s: too long (at most %zu bytes)", who, f->size - 1);
        return QW_OK;
    case QW_FT_ENUM: {
        char opts[128] = "";
        size_t k = 0;
        for (const qw_flag_choice *ch = f->choices; ch->name; ch++) {
            if (strcmp(ch->name, val) == 0) {
                memcpy(dst, &ch->value, sizeof ch->value);
                return QW_OK;
            }
            k += (size_t)snprintf(opts + k, k < sizeof opts ? sizeof opts - k : 0, "%s%s",
                                  k ? "|" : "", ch->name);
            if (k >= sizeof opts)
                k = sizeof opts - 1;
        }
        return fail(c, "%s: expected %s, got '%s'", who, opts, val);
    }
    case QW_FT_CUSTOM: return f->set(c, f, val);
    }
    return fail(c, "%s: bad table row", who);
}

/* Environment rows of the table, then PORT's side effect. Empty values
 * are ignored except for booleans (ENABLE_PERSISTENCE= turns it off). */
static qw_err load_env(qw_config *c, char **envp)
{
    size_t n;
    const qw_flag *t = qw_flags(&n);
    for (size_t i = 0; i < n; i++) {
        const char *v;
        if (!t[i].env || !(v = env_get(envp, t[i].env)) || (!*v && t[i].type != QW_FT_BOOL))
            continue;
        if (strcmp(t[i].env, "PORT") == 0) { /* a platform-assigned port: 1.., listen on all */
            long port;
            if (!parse_int(v, 1, 65535, &port))
                return fail(c, "PORT: expected 1..65535, got '%s'", v);
            c->port = (int)port;
            copy(c->bind, sizeof c->bind, "0.0.0.0");
            continue;
        }
        qw_err e = apply(c, &t[i], t[i].env, v);
        if (e != QW_OK)
            return e;
    }
    return QW_OK;
}

static unsigned lake_action(const char *a)
{
    if (strcmp(a, "tables") == 0)
        return QW_SUB_LAKE_TABLES;
    if (strcmp(a, "describe") == 0)
        return QW_SUB_LAKE_DESCRIBE;
    if (strcmp(a, "scan") == 0)
        return QW_SUB_LAKE_SCAN;
    if (strcmp(a, "clean-orphans") == 0)
        return QW_SUB_LAKE_CLEAN;
    if (strcmp(a, "register") == 0)
        return QW_SUB_LAKE_REGISTER;
    if (strcmp(a, "expire") == 0)
        return QW_SUB_LAKE_EXPIRE;
    if (strcmp(a, "compact") == 0)
        return QW_SUB_LAKE_COMPACT;
    return 0;
}

static qw_err not_accepted(qw_config *c, const qw_flag *f, unsigned sub)
{
    const char *s = qw_sub_name(sub);
    return fail(c, "%s: not accepted by 'quotewatch %s' (see quotewatch %s --help)", f->name, s, s);
}

unsigned qw_shard_of(const char *product, unsigned n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)product; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return n ? (unsigned)(h % n) : 0;
}

/* --shard: resolve "auto" from the host name, keep this shard's products */
static qw_err apply_shard(qw_config *c, char **envp)
{
    if (c->shard_i < 0) {
        char host[256] = "";
        const char *v = env_get(envp, "HOSTNAME");
        if (v && *v)
            copy(host, sizeof host, v);
        else if (gethostname(host, sizeof host - 1) != 0)
            host[0] = '\0';
        size_t n = strlen(host), k = n;
        while (k > 0 && host[k - 1] >= '0' && host[k - 1] <= '9')
            k--;
        if (k == n || k == 0 || host[k - 1] != '-' || n - k > 6)
            return fail(c, "--shard auto/%d: host name '%s' does not end in -<ordinal>", c->shard_n,
                        host);
        long i = strtol(host + k, NULL, 10);
        if (i >= c->shard_n)
            return fail(c, "--shard auto/%d: ordinal %ld of '%s' is not below the count",
                        c->shard_n, i, host);
        c->shard_i = (int)i;
    }
    c->nproducts_all = c->nproducts;
    size_t kept = 0;
    for (size_t k = 0; k < c->nproducts; k++)
        if (qw_shard_of(c->products[k], (unsigned)c->shard_n) == (unsigned)c->shard_i)
            memmove(c->products[kept++], c->products[k], sizeof c->products[0]);
    c->nproducts = kept;
    if (!kept)
        return fail(c, "--shard %d/%d: none of the %zu products falls in this shard", c->shard_i,
                    c->shard_n, c->nproducts_all);
    /* N > 1 persisting shards are N machines: they must share one bucket and
     * one PostgreSQL catalog (a local warehouse or SQLite file is per machine) */
    const char *allow = env_get(envp, "QW_ALLOW_LOCAL_CATALOG");
    if (c->shard_n > 1 && c->persist && !(allow && strcmp(allow, "1") == 0)) {
        int remote =
            strncmp(c->warehouse, "s3://", 5) == 0 || strncmp(c->warehouse, "gs://", 5) == 0;
        int pg = strncmp(c->catalog_uri, "postgresql://", 13) == 0 ||
                 strncmp(c->catalog_uri, "postgres://", 11) == 0 ||
                 strncmp(c->catalog_uri, "postgresql+", 11) == 0;
        if (!remote || !pg)
            return fail(c,
                        "--shard %d/%d with --persist: shards on several machines need one shared "
                        "object-store warehouse (s3:// or gs://) and one PostgreSQL catalog "
                        "(postgresql://...); %s is local to this machine",
                        c->shard_i, c->shard_n, !remote ? "the warehouse" : "a SQLite catalog");
    }
    return QW_OK;
}

qw_err qw_config_load(qw_config *c, char **envp, int argc, char **argv)
{
    const qw_flag *seen[64]; /* lake flags given before the action: rechecked after it */
    size_t nseen = 0;
    qw_err e = load_env(c, envp);
    if (e != QW_OK)
        return e;

    int i = 1;
    c->sub = QW_SUB_LIVE;
    if (argc > 1 && argv[1][0] != '-') {
        static const struct {
            const char *name;
            qw_cmd cmd;
            unsigned sub;
        } cmds[] = {
            {"live", QW_CMD_LIVE, QW_SUB_LIVE},   {"replay", QW_CMD_REPLAY, QW_SUB_REPLAY},
            {"sim", QW_CMD_SIM, QW_SUB_SIM},      {"help", QW_CMD_HELP, 0},
            {"version", QW_CMD_VERSION, 0},       {"lake", QW_CMD_LAKE, QW_SUB_LAKE},
            {"help-flags", QW_CMD_HELP_FLAGS, 0}, {"backtest", QW_CMD_BACKTEST, QW_SUB_BACKTEST}};
        size_t k = 0;
        while (k < sizeof cmds / sizeof cmds[0] && strcmp(argv[1], cmds[k].name) != 0)
            k++;
        if (k == sizeof cmds / sizeof cmds[0])
            return fail(c, "unknown command '%s' (try --help)", argv[1]);
        c->cmd = cmds[k].cmd;
        c->sub = cmds[k].sub;
        i = 2;
    }
    int named = i == 2;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (c->cmd != QW_CMD_REPLAY && c->cmd != QW_CMD_SIM && c->cmd != QW_CMD_LAKE &&
                c->cmd != QW_CMD_BACKTEST)
                return fail(c, "unexpected argument '%s'", a);
            if (c->nfiles == QW_CONFIG_MAX_FILES)
                return fail(c, "too many input files");
            if (c->cmd == QW_CMD_LAKE && c->nfiles == 0) {
                if (!(c->sub = lake_action(a)))
                    return fail(c,
                                "lake: unknown action '%s' (expected tables|describe "
                                "TABLE|scan TABLE|clean-orphans|register [TABLE]|expire)",
                                a);
                for (size_t k = 0; k < nseen; k++)
                    if (!(seen[k]->subs & c->sub))
                        return not_accepted(c, seen[k], c->sub);
            }
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
        char name[64];
        if (nlen >= sizeof name)
            return fail(c, "unknown flag '%s'", a);
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            /* `SUB [ACTION] --help` shows SUB's flags; the rest is not parsed */
            if (named && c->sub)
                c->help = 1;
            else
                c->cmd = QW_CMD_HELP;
            return QW_OK;
        }
        if (strcmp(name, "--version") == 0) {
            c->cmd = QW_CMD_VERSION;
            continue;
        }
        const qw_flag *f = qw_flag_find(name);
        if (!f)
            return fail(c, "unknown flag '%s' (try --help)", name);
        if (c->sub && !(f->subs & c->sub))
            return not_accepted(c, f, c->sub);
        if (c->sub == QW_SUB_LAKE && nseen < sizeof seen / sizeof seen[0])
            seen[nseen++] = f;
        const char *val = NULL;
        if (f->type == QW_FT_BOOL)
            val = eq ? eq + 1 : NULL; /* --persist=false */
        else if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return fail(c, "%s: missing value", name);
        if ((e = apply(c, f, name, val)) != QW_OK)
            return e;
    }
    if (!c->bind[0])
        copy(c->bind, sizeof c->bind, "127.0.0.1");
    if (c->shard_n && (e = apply_shard(c, envp)) != QW_OK)
        return e;
    if (c->cmd == QW_CMD_REPLAY && c->nfiles == 0 && !c->lake)
        return fail(c, "replay: no input files (use - for stdin, or --lake)");
    if (c->cmd == QW_CMD_REPLAY && c->nfiles > 0 && c->lake)
        return fail(c, "replay: --lake reads the lake; give no input files with it");
    if (c->cmd == QW_CMD_BACKTEST && c->nfiles == 0 && !c->lake)
        return fail(c, "backtest: no input files (use - for stdin, or --lake)");
    if (c->cmd == QW_CMD_BACKTEST && c->nfiles > 0 && c->lake)
        return fail(c, "backtest: --lake reads the lake; give no input files with it");
    if (c->maintain_expire_age_s > 0 && !(c->maintain_s > 0))
        return fail(c, "--maintain-expire-age: only with --maintain DURATION");
    if (c->maintain_target_size > 0 && !(c->maintain_s > 0))
        return fail(c, "--maintain-target-size: only with --maintain DURATION");
    if (c->cmd == QW_CMD_BACKTEST && !c->report_json[0])
        return fail(c, "backtest: --report-json FILE is required");
    if (c->cmd == QW_CMD_SIM && c->synthetic && c->nfiles > 0)
        return fail(c, "sim: give FILE or --synthetic, not both");
    if (c->cmd == QW_CMD_SIM && !c->synthetic && c->nfiles == 0)
        return fail(c, "sim: no input (FILE... or --synthetic)");
    if (c->cmd == QW_CMD_LAKE && c->nfiles == 0)
        return fail(
            c, "lake: expected tables|describe TABLE|scan TABLE|clean-orphans|register|expire");
    if (c->sub == QW_SUB_LAKE_EXPIRE && c->before_ns && c->older_than_set)
        return fail(c, "lake expire: give --older-than or --before, not both");
    if ((c->tls_cert[0] != 0) != (c->tls_key[0] != 0))
        return fail(c, "--tls-cert and --tls-key go together");
    return QW_OK;
}

void qw_config_redact_uri(const char *uri, char *buf, size_t cap)
{
    const char *scheme = strstr(uri, "://");
    const char *kw = strstr(uri, "password=");
    if (kw) { /* key=value form: password=... up to the next space */
        const char *end = strchr(kw, ' ');
        snprintf(buf, cap, "%.*spassword=***%s", (int)(kw - uri), uri, end ? end : "");
        return;
    }
    if (scheme) { /* scheme://user:password@host/... */
        const char *auth = scheme + 3;
        const char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
        const char *colon = strchr(auth, ':');
        if (at && (!slash || at < slash) && colon && colon < at) {
            snprintf(buf, cap, "%.*s:***%s", (int)(colon - uri), uri, at);
            return;
        }
    }
    snprintf(buf, cap, "%s", uri);
}

void qw_config_describe(const qw_config *c, char *buf, size_t cap)
{
    static const char *cmds[] = {"live", "replay", "sim", "help", "version", "lake", "help-flags"};
    char cat[600];
    qw_config_redact_uri(c->catalog_uri[0] ? c->catalog_uri : "sqlite", cat, sizeof cat);
    char shard[48] = "none";
    if (c->shard_n)
        snprintf(shard, sizeof shard, "%d/%d(of %zu products)", c->shard_i, c->shard_n,
                 c->nproducts_all);
    snprintf(buf, cap,
             "cmd=%s feed=%s products=%zu(first=%s) shard=%s port=%d bind=%s persist=%d "
             "warehouse=%s catalog=%s speed=%g exchange_auth=%s",
             cmds[c->cmd], c->feed_exchange ? "exchange" : "advanced", c->nproducts, c->products[0],
             shard, c->port, c->bind, c->persist, c->warehouse, cat, c->speed,
             c->ex_key[0] || c->ex_secret[0] || c->ex_passphrase[0] ? "(set)" : "none");
}

/* main.c: quotewatch entry point: load the config, dispatch, and print
 * --help from the flag table (core/flags.h), so help and parser agree. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "core/flags.h"
#include "core/log.h"
#include "features/features.h"

extern char **environ;

static const struct {
    unsigned sub;
    const char *usage, *about;
} subs[] = {
    {QW_SUB_LIVE, "quotewatch [live] [flags]",
     "Stream Coinbase order books live: books, features, model, dashboard (docs/LIVE.md)."},
    {QW_SUB_REPLAY, "quotewatch replay [flags] FILE...   (FILE: .ndjson, .zst, or - for stdin)",
     "Replay captured messages through the same pipeline; or --lake (docs/CLI.md)."},
    {QW_SUB_SIM, "quotewatch sim [flags] (FILE... | --synthetic)",
     "Serve a capture or a synthetic market in both Coinbase protocols (docs/SIM.md)."},
    {QW_SUB_BACKTEST,
     "quotewatch backtest [flags] FILE... --report-json F   (FILE: as replay reads)",
     "Prequential evaluation of the online model over a grid of configurations "
     "(docs/BACKTEST.md)."},
    {QW_SUB_LAKE,
     "quotewatch lake tables | describe TABLE | scan TABLE [flags] | clean-orphans [flags] | "
     "register [TABLE...] | expire [flags] | compact [flags]",
     "Inspect the Iceberg lake (docs/STORAGE.md); `quotewatch lake ACTION --help` per action."},
    {QW_SUB_LAKE_TABLES, "quotewatch lake tables [flags]",
     "List the tables with snapshot, record, file and size counts."},
    {QW_SUB_LAKE_DESCRIBE, "quotewatch lake describe TABLE [flags]",
     "Show a table's schema, partitioning and snapshots."},
    {QW_SUB_LAKE_SCAN, "quotewatch lake scan TABLE [flags]",
     "Print rows of raw_orderbook, raw_trades, features or labels."},
    {QW_SUB_LAKE_CLEAN, "quotewatch lake clean-orphans [flags]",
     "Delete data files no snapshot references."},
    {QW_SUB_LAKE_REGISTER, "quotewatch lake register [TABLE...] [flags]",
     "Register existing tables (their latest metadata.json) in an empty or lost catalog."},
    {QW_SUB_LAKE_EXPIRE, "quotewatch lake expire [flags]",
     "Expire old snapshots (Iceberg ExpireSnapshots), then delete the files only they "
     "referenced (docs/STORAGE.md \"Maintenance\")."},
    {QW_SUB_LAKE_COMPACT, "quotewatch lake compact [flags]",
     "Rewrite each partition's small data files into files near the target size (an Iceberg "
     "replace snapshot; docs/STORAGE.md \"Maintenance\")."},
};

void qw_usage(void)
{
    for (size_t i = 0; i < 5; i++) /* live, replay, sim, backtest, lake */
        printf("%s %s\n", i ? "      " : "usage:", subs[i].usage);
    fputs(
        "       quotewatch SUBCOMMAND --help   (its flags with defaults and environment)\n"
        "       quotewatch --help | --version\n"
        "subcommands:\n"
        "  live        stream Coinbase order books (the default)\n"
        "  replay      replay captured messages (or --lake) through the pipeline\n"
        "  sim         Coinbase-protocol WebSocket simulator\n"
        "  backtest    prequential evaluation of the model over captures (metrics, reports)\n"
        "  lake        inspect the Iceberg lake: tables, describe, scan, clean-orphans, register,\n"
        "              expire, compact\n"
        "environment: PORT, ENABLE_PERSISTENCE, ICEBERG_WAREHOUSE, ICEBERG_CATALOG_URI, "
        "QW_LOG_LEVEL,\n"
        "  COINBASE_EXCHANGE_KEY, COINBASE_EXCHANGE_SECRET, COINBASE_EXCHANGE_PASSPHRASE\n"
        "docs: README.md, docs/CLI.md\n",
        stdout);
}

/* Which lake actions take f, when listing all of lake: " (scan, clean-orphans)". */
static void lake_actions(const qw_flag *f, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = '\0';
    if ((f->subs & QW_SUB_LAKE) == QW_SUB_LAKE)
        return;
    for (unsigned b = QW_SUB_LAKE_TABLES; b <= QW_SUB_LAKE_COMPACT && k < cap; b <<= 1)
        if (f->subs & b)
            k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? ", " : " (", qw_sub_name(b) + 5);
    if (k && k + 2 < cap)
        memcpy(buf + k, ")", 2);
}

static void usage_sub(unsigned sub)
{
    size_t n;
    const qw_flag *t = qw_flags(&n);
    char def[128], left[64], acts[96];
    int env_only = 0;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (subs[i].sub == sub)
            printf("usage: %s\n%s\n", subs[i].usage, subs[i].about);
    fputs("flags (--flag V or --flag=V):\n", stdout);
    for (size_t i = 0; i < n; i++) {
        const qw_flag *f = &t[i];
        if (!(f->subs & sub))
            continue;
        if (!f->name) {
            env_only = 1;
            continue;
        }
        qw_flag_default(f, def, sizeof def);
        snprintf(left, sizeof left, "%s%s%s", f->name, f->metavar ? " " : "",
                 f->metavar ? f->metavar : "");
        acts[0] = '\0';
        if (sub == QW_SUB_LAKE)
            lake_actions(f, acts, sizeof acts);
        if (strlen(left) > 30)
            printf("  %s\n  %-30s", left, "");
        else
            printf("  %-30s", left);
        printf(" %s%s [default: %s%s%s]\n", f->help, acts, def, f->env ? "; env " : "",
               f->env ? f->env : "");
    }
    if (env_only) {
        fputs("environment:\n", stdout);
        for (size_t i = 0; i < n; i++)
            if (!t[i].name && (t[i].subs & sub))
                printf("  %-30s %s\n", t[i].env, t[i].help);
    }
    fputs("  --help                         this text\n", stdout);
}

/* `quotewatch help-flags`: one TSV row per table row (tests, docs check):
 * flag env subcommands(comma separated) metavar default help; "-" for none */
static void help_flags(void)
{
    size_t n;
    const qw_flag *t = qw_flags(&n);
    char def[128];
    for (size_t i = 0; i < n; i++) {
        const qw_flag *f = &t[i];
        qw_flag_default(f, def, sizeof def);
        printf("%s\t%s\t", f->name ? f->name : "-", f->env ? f->env : "-");
        int first = 1;
        for (unsigned b = 1; b < 1u << QW__SUB_COUNT; b <<= 1)
            if (f->subs & b) {
                printf("%s%s", first ? "" : ",", qw_sub_name(b));
                first = 0;
            }
        printf("\t%s\t%s\t%s\n", f->metavar ? f->metavar : "-", def, f->help);
    }
}

/* --features: every set must parse; replay and live take one. */
static int check_features(const qw_config *c)
{
    qw_featset f;
    for (size_t i = 0; i < c->bt_nfeatures; i++)
        if (qw_featset_parse(c->bt_features[i], &f) != QW_OK) {
            fprintf(stderr,
                    "quotewatch: --features: unknown feature set '%s' (seed, book, rich, or "
                    "names joined by +: docs/FEATURES.md)\n",
                    c->bt_features[i]);
            return -1;
        }
    if (c->bt_nfeatures > 1 && c->cmd != QW_CMD_BACKTEST) {
        fprintf(stderr, "quotewatch: --features: one set here (a list is a backtest grid)\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static qw_config cfg;
    qw_config_defaults(&cfg);
    if (qw_config_load(&cfg, environ, argc, argv) != QW_OK) {
        fprintf(stderr, "quotewatch: %s\n", cfg.errbuf);
        return 2;
    }
    qw_log_set_level(cfg.log_level);
    if (check_features(&cfg) != 0)
        return 2;
    if (cfg.help) {
        usage_sub(cfg.sub);
        return 0;
    }
    switch (cfg.cmd) {
    case QW_CMD_HELP: qw_usage(); return 0;
    case QW_CMD_HELP_FLAGS: help_flags(); return 0;
    case QW_CMD_VERSION: puts("quotewatch " QW_VERSION); return 0;
    case QW_CMD_REPLAY: return qw_cmd_replay(&cfg);
    case QW_CMD_SIM: return qw_cmd_sim(&cfg);
    case QW_CMD_LAKE: return qw_cmd_lake(&cfg);
    case QW_CMD_BACKTEST: return qw_cmd_backtest(&cfg);
    case QW_CMD_LIVE:
    default: return qw_cmd_live(&cfg);
    }
}

/* cmd_lake.c: `quotewatch lake tables | describe TABLE | scan TABLE
 * [--limit N] [--products ...] [--since T] [--until T] | clean-orphans
 * [--dry-run] [--older-than S] | register | expire [flags] | compact [flags]` -- inspection
 * and upkeep of the Iceberg lake
 * (docs/TABLES.md). Argument handling only: listing, describing, scanning
 * and the orphan search are storage/lake_admin.h. */
#define QW_MODULE "lake"
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "storage/lake_admin.h"
#include "storage/store.h"
#include "storage/tables.h"

static const char usage[] =
    "quotewatch lake: expected tables | describe TABLE | scan TABLE "
    "[--limit N] | clean-orphans [--dry-run] [--older-than S] | register [TABLE...] | expire "
    "[--older-than D|--before T] [--retain-last N] [--table T] "
    "[--dry-run] | compact [--table T] [--products P] [--target-size BYTES]\n";

static qw_err compact(qw_lake_admin *L, const qw_config *cfg, const qw_lake_sink *s)
{
    const char *prods[QW_CONFIG_MAX_PRODUCTS];
    for (size_t i = 0; i < cfg->nproducts; i++)
        prods[i] = cfg->products[i];
    qw_lake_compact_opts o = {.table = cfg->table,
                              .products = cfg->products_set ? prods : NULL,
                              .nproducts = cfg->products_set ? cfg->nproducts : 0,
                              .target_bytes = (uint64_t)cfg->target_size};
    return qw_lake_admin_compact(L, &o, s);
}

static qw_err scan(qw_lake_admin *L, const qw_config *cfg, const char *table, const qw_lake_sink *s)
{
    const char *prods[QW_CONFIG_MAX_PRODUCTS];
    for (size_t i = 0; i < cfg->nproducts; i++)
        prods[i] = cfg->products[i];
    qw_lake_scan_opts o = {
        .products = cfg->products_set ? prods : NULL,
        .nproducts = cfg->products_set ? cfg->nproducts : 0,
        .since_ns = cfg->since_ns,
        .until_ns = cfg->until_ns,
        .limit = cfg->limit,
    };
    return qw_lake_admin_scan(L, table, &o, s);
}

int qw_cmd_lake(const qw_config *cfg)
{
    const char *action = cfg->files[0];
    int is_scan = strcmp(action, "scan") == 0;
    if (is_scan && (cfg->nfiles < 2 || qw_tbl_find(cfg->files[1]) < 0)) {
        fprintf(stderr, "quotewatch lake scan: expected one of raw_orderbook, raw_trades, "
                        "features, labels\n");
        return 2;
    }
    qw_lake_sink s = {stdout, stderr, is_scan ? "quotewatch lake scan" : "quotewatch lake"};
    qw_lake_admin *L;
    char eb[512];
    qw_objstore_cfg os;
    qw_store_objstore_cfg(&os, cfg);
    if (qw_lake_admin_open(&L, cfg->warehouse, cfg->catalog_uri, &os, eb, sizeof eb) != QW_OK) {
        fprintf(stderr, "%s: %s\n", s.prefix, eb);
        return 1;
    }
    qw_err e;
    if (is_scan)
        e = scan(L, cfg, cfg->files[1], &s);
    else if (strcmp(action, "tables") == 0)
        e = qw_lake_admin_tables(L, &s);
    else if (strcmp(action, "describe") == 0 && cfg->nfiles >= 2)
        e = qw_lake_admin_describe(L, cfg->files[1], &s);
    else if (strcmp(action, "clean-orphans") == 0)
        e = qw_lake_admin_clean_orphans(L, !cfg->dry_run, cfg->older_than_s, &s);
    else if (strcmp(action, "expire") == 0) {
        qw_lake_expire_opts o = {.table = cfg->table,
                                 .before_ns = cfg->before_ns,
                                 .older_than_s = cfg->older_than_s,
                                 .older_than_set = cfg->older_than_set,
                                 .retain_last = cfg->retain_last,
                                 .dry_run = cfg->dry_run};
        e = qw_lake_admin_expire(L, &o, &s);
    } else if (strcmp(action, "compact") == 0)
        e = compact(L, cfg, &s);
    else if (strcmp(action, "register") == 0)
        e = qw_lake_admin_register(L, cfg->files + 1, cfg->nfiles - 1, &s);
    else {
        fputs(usage, stderr);
        qw_lake_admin_close(L);
        return 2;
    }
    qw_lake_admin_close(L);
    return e == QW_OK ? 0 : 1;
}

/* cmd_lake.c: `quotewatch lake tables|describe TABLE|scan TABLE|clean-orphans`
 * — minimal inspection of the Iceberg lake (docs/TABLES.md). Wiring only:
 * the catalog, metadata, scan planning and orphan search live in src/iceberg/. */
#define QW_MODULE "lake"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/fileio.h"
#include "core/log.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "storage/store.h"
#include "storage/tables.h"

typedef struct lake {
    char wh[4096 + 16], cat[4096 + 64];
    qw_catalog *c;
    qw_ice_catalog_ops ops;
    qw_fileio *io;
} lake;

static int lake_open(lake *L, const qw_config *cfg)
{
    char eb[512];
    memset(L, 0, sizeof *L);
    if (qw_store_resolve(cfg->warehouse, cfg->catalog_uri, L->wh, sizeof L->wh, L->cat,
                         sizeof L->cat, eb, sizeof eb) != QW_OK ||
        qw_catalog_open(&L->c, L->cat, "quotewatch", eb, sizeof eb) != QW_OK) {
        fprintf(stderr, "quotewatch lake: %s\n", eb);
        return -1;
    }
    qw_ice_catalog_sql(&L->ops, L->c);
    if (qw_fileio_create(&L->io, NULL, NULL) != QW_OK) {
        qw_catalog_close(L->c);
        return -1;
    }
    return 0;
}

static void lake_close(lake *L)
{
    qw_fileio_destroy(L->io);
    qw_catalog_close(L->c);
}

static const char *summary_str(const qw_ice_meta *m, int64_t snap, const char *k)
{
    const char *v = qw_ice_meta_summary(m, snap, k);
    return v ? v : "0";
}

typedef struct list_ctx {
    lake *L;
    int n;
} list_ctx;

static int print_table(void *ctx, const char *table, const char *loc)
{
    list_ctx *lc = ctx;
    qw_ice_meta *m = NULL;
    char eb[256];
    lc->n++;
    if (qw_ice_meta_read(lc->L->io, loc, &m, eb, sizeof eb) != QW_OK) {
        printf("%-14s  (unreadable metadata: %s)\n", table, eb);
        return 0;
    }
    int64_t cur = m->current_snapshot_id;
    printf("%-14s  snapshots %-5zu records %-12s files %-7s size %-12s  %s\n", table,
           qw_ice_meta_nsnapshots(m), summary_str(m, cur, "total-records"),
           summary_str(m, cur, "total-data-files"), summary_str(m, cur, "total-files-size"), loc);
    qw_ice_meta_free(m);
    return 0;
}

static int cmd_tables(lake *L)
{
    list_ctx lc = {L, 0};
    printf("warehouse %s\ncatalog   %s\n", L->wh,
           strncmp(L->cat, "postgres", 8) == 0 ? "postgresql" : L->cat);
    if (qw_catalog_list(L->c, QW_TBL_NS, print_table, &lc) != QW_OK) {
        fprintf(stderr, "quotewatch lake: %s\n", qw_catalog_errmsg(L->c));
        return 1;
    }
    if (!lc.n)
        printf("(no tables in namespace %s)\n", QW_TBL_NS);
    return 0;
}

static int load(lake *L, const char *table, qw_ice_meta **m, char *loc, size_t cap)
{
    if (qw_ice_load_table(&L->ops, L->io, QW_TBL_NS, table, m, loc, cap) != QW_OK) {
        fprintf(stderr, "quotewatch lake: no readable table %s.%s (%s)\n", QW_TBL_NS, table,
                qw_catalog_errmsg(L->c));
        return -1;
    }
    return 0;
}

static int cmd_describe(lake *L, const char *table)
{
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX], tb[64];
    if (load(L, table, &m, loc, sizeof loc) != 0)
        return 1;
    printf("table     %s.%s\nmetadata  %s\nlocation  %s\nuuid      %s\nformat    v%d\n", QW_TBL_NS,
           table, loc, m->location, m->uuid, m->format_version);
    printf("schema %d:\n", m->current_schema_id);
    for (int i = 0; i < m->schema.nfields; i++) {
        const qw_ice_field *f = &m->schema.fields[i];
        printf("  %3d  %-20s %-16s %s\n", f->id, f->name, qw_ice_type_str(f, tb, sizeof tb),
               f->required ? "required" : "optional");
    }
    printf("partition spec %d:\n", m->spec.spec_id);
    for (int i = 0; i < m->spec.nfields; i++) {
        const qw_ice_part_field *pf = &m->spec.fields[i];
        printf("  %4d  %-20s %s(source %d)\n", pf->field_id, pf->name,
               qw_ice_transform_str(pf, tb, sizeof tb), pf->source_id);
    }
    size_t nsnap = qw_ice_meta_nsnapshots(m);
    printf("snapshots (%zu):\n", nsnap);
    qw_ice_snapshot s;
    for (size_t i = 0; i < nsnap && qw_ice_meta_snapshot_at(m, i, &s) == QW_OK; i++)
        printf("  %-20lld seq %-5lld %s  +%s records, total %s%s\n", (long long)s.snapshot_id,
               (long long)s.sequence_number, s.operation[0] ? s.operation : "?",
               summary_str(m, s.snapshot_id, "added-records"),
               summary_str(m, s.snapshot_id, "total-records"),
               s.snapshot_id == m->current_snapshot_id ? "  (current)" : "");
    qw_ice_meta_free(m);
    return 0;
}

/* ---- clean-orphans: the iceberg module finds (and removes) the files no
 * snapshot or metadata version references, older than --older-than
 * (default 600 s); this only prints. ---- */

static void on_orphan(void *ctx, const char *uri, uint64_t size, qw_err removed)
{
    (void)size;
    int do_remove = *(const int *)ctx;
    char p[QW_ICE_LOC_MAX];
    if (qw_fileio_local_path(uri, p, sizeof p) != QW_OK)
        snprintf(p, sizeof p, "%s", uri);
    printf("%s %s\n", do_remove ? "removed" : "orphan", p);
    if (removed != QW_OK)
        fprintf(stderr, "quotewatch lake: cannot remove %s\n", p);
}

static int cmd_clean(lake *L, int do_remove, double older)
{
    size_t orph = 0;
    int rc = 0;
    qw_ice_orphan_opts o = {.older_than_ms = (int64_t)(older * 1000), .remove = do_remove};
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        const char *table = qw_tables[t].name;
        char loc[QW_ICE_LOC_MAX], eb[512];
        if (qw_catalog_load(L->c, QW_TBL_NS, table, loc, sizeof loc) != QW_OK)
            continue;
        qw_ice_orphan_result res;
        if (qw_ice_orphans(&L->ops, L->io, QW_TBL_NS, table, &o, on_orphan, &do_remove, &res, eb,
                           sizeof eb) != QW_OK) {
            fprintf(stderr, "quotewatch lake: %s: %s (nothing removed)\n", table, eb);
            rc = 1;
        }
        orph += res.orphans;
        if (res.young)
            printf("%s: %zu unreferenced file(s) younger than %.0f s left alone\n", table,
                   res.young, older);
    }
    printf("%zu orphan file(s)%s\n", orph, do_remove ? " removed" : " (dry run)");
    return rc;
}

int qw_cmd_lake(const qw_config *cfg)
{
    const char *action = cfg->files[0];
    lake L;
    int rc = 2;
    if (strcmp(action, "scan") == 0) {
        if (cfg->nfiles < 2 || qw_tbl_find(cfg->files[1]) < 0) {
            fprintf(stderr, "quotewatch lake scan: expected one of raw_orderbook, raw_trades, "
                            "features, labels\n");
            return 2;
        }
        return qw_lake_scan(cfg, cfg->files[1]);
    }
    if (lake_open(&L, cfg) != 0)
        return 1;
    if (strcmp(action, "tables") == 0)
        rc = cmd_tables(&L);
    else if (strcmp(action, "describe") == 0 && cfg->nfiles >= 2)
        rc = cmd_describe(&L, cfg->files[1]);
    else if (strcmp(action, "clean-orphans") == 0)
        rc = cmd_clean(&L, !cfg->dry_run, cfg->older_than_s);
    else
        fprintf(stderr,
                "quotewatch lake: expected tables | describe TABLE | scan TABLE [--limit N] | "
                "clean-orphans [--dry-run] [--older-than S]\n");
    lake_close(&L);
    return rc;
}

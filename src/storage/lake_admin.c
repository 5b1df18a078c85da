/* lake_admin.c: `quotewatch lake tables|describe|clean-orphans` as text
 * (see lake_admin.h); the rows of `lake scan` are in lake_scan.c. The
 * metadata is read through iceberg.h's accessors, the orphan search is
 * iceberg's; this file only formats. */
#define QW_MODULE "lake"
#include "storage/lake_admin.h"

#include <string.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "storage/lake_admin_int.h"
#include "storage/store.h"
#include "storage/tables.h"

qw_err qw_lake_admin_open(qw_lake_admin **out, const char *warehouse, const char *catalog_uri,
                          const qw_objstore_cfg *os, char *errbuf, size_t errlen)
{
    *out = NULL;
    qw_lake_admin *L = qw_calloc(1, sizeof(*L));
    if (!L) {
        snprintf(errbuf, errlen, "out of memory");
        return QW_NOMEM;
    }
    qw_err e = qw_store_resolve(warehouse, catalog_uri, L->wh, sizeof(L->wh), L->cat,
                                sizeof(L->cat), errbuf, errlen);
    if (e == QW_OK)
        e = qw_store_fileio(&L->io, L->wh, os, errbuf, errlen);
    if (e == QW_OK)
        e = qw_catalog_open(&L->c, L->cat, "quotewatch", errbuf, errlen);
    if (e == QW_OK)
        qw_ice_catalog_sql(&L->ops, L->c);
    if (e != QW_OK) {
        qw_lake_admin_close(L);
        return e;
    }
    *out = L;
    return QW_OK;
}

void qw_lake_admin_close(qw_lake_admin *L)
{
    if (!L)
        return;
    qw_fileio_destroy(L->io);
    qw_catalog_close(L->c);
    qw_free(L);
}

/* A summary property of snapshot id, "0" when absent (no snapshot yet). */
static const char *summary_str(const qw_ice_meta *m, int64_t snap, const char *k)
{
    const char *v = qw_ice_meta_summary(m, snap, k);
    return v ? v : "0";
}

typedef struct list_ctx {
    qw_lake_admin *L;
    const qw_lake_sink *s;
    int n, bad;
} list_ctx;

static int print_table(void *ctx, const char *table, const char *loc)
{
    list_ctx *lc = ctx;
    FILE *out = lc->s->out;
    qw_ice_meta *m = NULL;
    char eb[256];
    lc->n++;
    if (qw_ice_meta_read(lc->L->io, loc, &m, eb, sizeof(eb)) != QW_OK) {
        fprintf(out, "%-14s  (unreadable metadata: %s)\n", table, eb);
        fprintf(lc->s->err,
                "%s: table %s.%s is in the catalog but its metadata %s cannot be read: %s\n",
                lc->s->prefix, QW_TBL_NS, table, loc, eb);
        lc->bad++;
        return 0;
    }
    int64_t cur = m->current_snapshot_id;
    fprintf(out,
            "%-14s  snapshots %-5zu records %-12s files %-7s size %-12s columns %-3d schema %-3d "
            " %s\n",
            table, qw_ice_meta_nsnapshots(m), summary_str(m, cur, "total-records"),
            summary_str(m, cur, "total-data-files"), summary_str(m, cur, "total-files-size"),
            m->schema.nfields, m->current_schema_id, loc);
    qw_ice_meta_free(m);
    return 0;
}

qw_err qw_lake_admin_tables(qw_lake_admin *L, const qw_lake_sink *s)
{
    list_ctx lc = {L, s, 0, 0};
    fprintf(s->out, "warehouse %s\ncatalog   %s\n", L->wh,
            strncmp(L->cat, "postgres", 8) == 0 ? "postgresql" : L->cat);
    qw_err e = qw_catalog_list(L->c, QW_TBL_NS, print_table, &lc);
    if (e != QW_OK) {
        fprintf(s->err, "%s: %s\n", s->prefix, qw_catalog_errmsg(L->c));
        return e;
    }
    if (!lc.n)
        fprintf(s->out, "(no tables in namespace %s)\n", QW_TBL_NS);
    /* a QuoteWatch table folder with committed metadata that the catalog
     * does not name: a lost or emptied catalog (register brings it back) */
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        char tl[QW_ICE_LOC_MAX], loc[QW_ICE_LOC_MAX];
        int version = -1;
        snprintf(tl, sizeof tl, "%.900s/%s/%s", L->wh, QW_TBL_NS, qw_tables[t].name);
        if (qw_catalog_load(L->c, QW_TBL_NS, qw_tables[t].name, loc, sizeof loc) != QW_NOT_FOUND)
            continue;
        if (qw_ice_find_latest_metadata(L->io, tl, loc, sizeof loc, &version) == QW_OK &&
            version >= 1) {
            fprintf(s->err,
                    "%s: %s is not in the catalog, but %s holds its committed metadata (%s): "
                    "run `quotewatch lake register`\n",
                    s->prefix, qw_tables[t].name, tl, loc);
            lc.bad++;
        }
    }
    return lc.bad ? QW_CORRUPT : QW_OK;
}

qw_err qw__lake_admin_load(qw_lake_admin *L, const char *table, qw_ice_meta **m, char *loc,
                           size_t cap)
{
    return qw_ice_load_table(&L->ops, L->io, QW_TBL_NS, table, m, loc, cap);
}

qw_err qw_lake_admin_describe(qw_lake_admin *L, const char *table, const qw_lake_sink *s)
{
    qw_ice_meta *m;
    char loc[QW_ICE_LOC_MAX], tb[64];
    FILE *out = s->out;
    qw_err e = qw__lake_admin_load(L, table, &m, loc, sizeof(loc));
    if (e != QW_OK) {
        fprintf(s->err, "%s: no readable table %s.%s (%s)\n", s->prefix, QW_TBL_NS, table,
                qw_catalog_errmsg(L->c));
        return e;
    }
    fprintf(out, "table     %s.%s\nmetadata  %s\nlocation  %s\nuuid      %s\nformat    v%d\n",
            QW_TBL_NS, table, loc, m->location, m->uuid, m->format_version);
    fprintf(out, "schema %d:\n", m->current_schema_id);
    for (int i = 0; i < m->schema.nfields; i++) {
        const qw_ice_field *f = &m->schema.fields[i];
        fprintf(out, "  %3d  %-20s %-16s %s\n", f->id, f->name, qw_ice_type_str(f, tb, sizeof(tb)),
                f->required ? "required" : "optional");
    }
    fprintf(out, "partition spec %d:\n", m->spec.spec_id);
    for (int i = 0; i < m->spec.nfields; i++) {
        const qw_ice_part_field *pf = &m->spec.fields[i];
        fprintf(out, "  %4d  %-20s %s(source %d)\n", pf->field_id, pf->name,
                qw_ice_transform_str(pf, tb, sizeof(tb)), pf->source_id);
    }
    size_t nsnap = qw_ice_meta_nsnapshots(m);
    fprintf(out, "snapshots (%zu):\n", nsnap);
    qw_ice_snapshot sn;
    for (size_t i = 0; i < nsnap && qw_ice_meta_snapshot_at(m, i, &sn) == QW_OK; i++)
        fprintf(out, "  %-20lld seq %-5lld %s  +%s records, total %s%s\n",
                (long long)sn.snapshot_id, (long long)sn.sequence_number,
                sn.operation[0] ? sn.operation : "?",
                summary_str(m, sn.snapshot_id, "added-records"),
                summary_str(m, sn.snapshot_id, "total-records"),
                sn.snapshot_id == m->current_snapshot_id ? "  (current)" : "");
    qw_ice_meta_free(m);
    return QW_OK;
}

/* ---- clean-orphans: the iceberg module finds (and removes) the files no
 * snapshot or metadata version references; this prints. ---- */

typedef struct orphan_ctx {
    const qw_lake_sink *s;
    int remove;
} orphan_ctx;

static void on_orphan(void *ctx, const char *uri, uint64_t size, qw_err removed)
{
    (void)size;
    const orphan_ctx *oc = ctx;
    char p[QW_ICE_LOC_MAX];
    if (qw_fileio_local_path(uri, p, sizeof(p)) != QW_OK)
        snprintf(p, sizeof(p), "%s", uri);
    fprintf(oc->s->out, "%s %s\n", oc->remove ? "removed" : "orphan", p);
    if (removed != QW_OK)
        fprintf(oc->s->err, "%s: cannot remove %s\n", oc->s->prefix, p);
}

qw_err qw_lake_admin_clean_orphans(qw_lake_admin *L, int remove, double older_than_s,
                                   const qw_lake_sink *s)
{
    size_t orph = 0;
    qw_err first = QW_OK;
    orphan_ctx oc = {s, remove};
    qw_ice_orphan_opts o = {.older_than_ms = (int64_t)(older_than_s * 1000), .remove = remove};
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        const char *table = qw_tables[t].name;
        char loc[QW_ICE_LOC_MAX], eb[512];
        if (qw_catalog_load(L->c, QW_TBL_NS, table, loc, sizeof(loc)) != QW_OK)
            continue;
        qw_ice_orphan_result res;
        qw_err e = qw_ice_orphans(&L->ops, L->io, QW_TBL_NS, table, &o, on_orphan, &oc, &res, eb,
                                  sizeof(eb));
        if (e != QW_OK) {
            fprintf(s->err, "%s: %s: %s (nothing removed)\n", s->prefix, table, eb);
            if (first == QW_OK)
                first = e;
        }
        orph += res.orphans;
        if (res.leased)
            fprintf(s->out,
                    "%s: %zu unreferenced file(s) kept: a commit in progress may reference them "
                    "(%zu live lease(s), oldest by %s)\n",
                    table, res.leased, res.prot.live, res.prot.holder);
        if (res.prot.expired)
            fprintf(s->out, "%s: %zu expired lease(s) ignored (writers that stopped renewing)\n",
                    table, res.prot.expired);
        if (res.young) /* the last seconds are never removed: a writer may be starting */
            fprintf(s->out, "%s: %zu unreferenced file(s) younger than %.0f s left alone\n", table,
                    res.young,
                    older_than_s > QW_ICE_LEASE_SKEW_MS / 1000 ? older_than_s
                                                               : QW_ICE_LEASE_SKEW_MS / 1000);
    }
    fprintf(s->out, "%zu orphan file(s)%s\n", orph, remove ? " removed" : " (dry run)");
    return first;
}

qw_err qw_lake_admin_register(qw_lake_admin *L, const char *const *tables, size_t ntables,
                              const qw_lake_sink *s)
{
    qw_err worst = QW_OK;
    size_t n = ntables ? ntables : QW_TBL_COUNT;
    for (size_t i = 0; i < n; i++) {
        const char *name = ntables ? tables[i] : qw_tables[i].name;
        if (qw_tbl_find(name) < 0) {
            fprintf(s->err, "%s: %s is not a QuoteWatch table\n", s->prefix, name);
            worst = QW_INVAL;
            continue;
        }
        char tl[QW_ICE_LOC_MAX], loc[QW_ICE_LOC_MAX];
        snprintf(tl, sizeof tl, "%.900s/%s/%s", L->wh, QW_TBL_NS, name);
        qw_err e =
            qw_ice_register_table(&L->ops, L->io, QW_TBL_NS, name, tl, NULL, loc, sizeof loc);
        if (e == QW_OK)
            fprintf(s->out, "%-14s  registered  %s\n", name, loc);
        else if (e == QW_EXISTS)
            fprintf(s->out, "%-14s  already in the catalog  %s\n", name, loc);
        else if (e == QW_NOT_FOUND && !ntables)
            fprintf(s->out, "%-14s  no metadata under %s\n", name, tl);
        else {
            fprintf(s->err, "%s: register %s: %s (%s)\n", s->prefix, name, qw_strerror(e),
                    e == QW_NOT_FOUND ? "no metadata.json under the table folder" : tl);
            worst = e;
        }
    }
    return worst;
}

/* lake_expire.c: `quotewatch lake expire` as text (lake_admin.h): per
 * table, iceberg's snapshot expiry (ice_expire.c: commit first, then the
 * files only expired snapshots referenced, never a leased one), one line
 * per deleted file, a summary line per table and a total. */
#define QW_MODULE "lake"
#include <string.h>

#include "core/time.h"
#include "iceberg/iceberg.h"
#include "storage/lake_admin.h"
#include "storage/lake_admin_int.h"
#include "storage/tables.h"

typedef struct expire_ctx {
    const qw_lake_sink *s;
    int remove;
} expire_ctx;

static void on_file(void *ctx, const char *uri, uint64_t size, qw_err removed)
{
    (void)size;
    const expire_ctx *ec = ctx;
    char p[QW_ICE_LOC_MAX];
    if (qw_fileio_local_path(uri, p, sizeof(p)) != QW_OK)
        snprintf(p, sizeof(p), "%s", uri);
    fprintf(ec->s->out, "%s %s\n", ec->remove ? "deleted" : "deletable", p);
    if (removed != QW_OK)
        fprintf(ec->s->err, "%s: cannot delete %s: %s\n", ec->s->prefix, p, qw_strerror(removed));
}

qw_err qw_lake_admin_expire(qw_lake_admin *L, const qw_lake_expire_opts *o, const qw_lake_sink *s)
{
    if (o->table && *o->table && qw_tbl_find(o->table) < 0) {
        fprintf(s->err, "%s: %s is not a QuoteWatch table\n", s->prefix, o->table);
        return QW_INVAL;
    }
    int64_t now = qw_now_wall_ns() / 1000000;
    qw_ice_expire_opts io = {.retain_last = o->retain_last,
                             .remove = !o->dry_run,
                             .now_ms = now,
                             .turn = o->turn,
                             .turn_ctx = o->turn_ctx,
                             .turn_after = 2};
    if (o->before_ns)
        io.older_than_ms = o->before_ns / 1000000;
    else if (o->older_than_set)
        io.older_than_ms = now - (int64_t)(o->older_than_s * 1000);
    /* neither: 0, the table's history.expire.max-snapshot-age-ms */
    expire_ctx ec = {s, !o->dry_run};
    size_t snaps = 0, files = 0;
    uint64_t bytes = 0;
    qw_err first = QW_OK;
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        const char *table = qw_tables[t].name;
        char loc[QW_ICE_LOC_MAX], eb[512], when[40];
        if (o->table && *o->table && strcmp(o->table, table) != 0)
            continue;
        if (qw_catalog_load(L->c, QW_TBL_NS, table, loc, sizeof(loc)) != QW_OK) {
            if (o->table && *o->table) {
                fprintf(s->err, "%s: no table %s.%s\n", s->prefix, QW_TBL_NS, table);
                first = QW_NOT_FOUND;
            }
            continue;
        }
        qw_ice_expire_result r;
        qw_err e =
            qw_ice_expire(&L->ops, L->io, QW_TBL_NS, table, &io, on_file, &ec, &r, eb, sizeof(eb));
        if (e != QW_OK) {
            fprintf(s->err, "%s: %s: %s\n", s->prefix, table, eb);
            if (first == QW_OK)
                first = e;
        }
        when[qw_time_format(r.older_than_ms * 1000000, when)] = '\0';
        size_t nf = r.lists + r.manifests + r.data_files;
        fprintf(s->out,
                "%s: %s %zu snapshot(s), kept %zu (before %s, retain last %d); %s %zu file(s): "
                "%zu manifest list(s), %zu manifest(s), %zu data file(s), %llu bytes%s%s\n",
                table, o->dry_run ? "would expire" : "expired", r.snapshots_expired,
                r.snapshots_kept, when, r.retain_last, o->dry_run ? "would delete" : "deleted", nf,
                r.lists, r.manifests, r.data_files, (unsigned long long)r.bytes,
                r.attempts > 1 ? " (after a commit conflict)" : "",
                r.lease_limited ? " (cutoff moved back to the oldest live commit lease)" : "");
        if (r.leased)
            fprintf(s->out,
                    "%s: %zu file(s) kept: a commit in progress may reference them (%zu live "
                    "lease(s), oldest by %s)\n",
                    table, r.leased, r.prot.live, r.prot.holder[0] ? r.prot.holder : "-");
        if (r.remove_failed)
            fprintf(s->out, "%s: %zu file(s) could not be deleted (orphans: clean-orphans)\n",
                    table, r.remove_failed);
        snaps += r.snapshots_expired;
        files += nf;
        bytes += r.bytes;
    }
    if (o->totals && !o->dry_run)
        o->totals->snapshots_expired += snaps;
    fprintf(s->out, "total: %zu snapshot(s) %s, %zu file(s) %s, %llu bytes\n", snaps,
            o->dry_run ? "would expire" : "expired", files,
            o->dry_run ? "would be deleted (dry run)" : "deleted", (unsigned long long)bytes);
    return first;
}

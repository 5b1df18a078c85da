/* ice_lease.c: which files maintenance must leave alone because a commit
 * in progress may still reference them (see iceberg.h "commit leases").
 *
 * File age alone does not protect a commit: one held back by a locked or
 * slow catalog has files of any age (the issue: clean-orphans --older-than
 * 2 deleted the metadata.json a swap then pointed at). Writers therefore
 * hold a lease per table in the catalog; this file turns the leases into
 * one cutoff time. Orphan cleaning and snapshot expiry use it before
 * deleting anything; compaction (storage/lake_compact.c) deletes nothing
 * and holds a lease of its own while its new files are uncommitted.
 *
 * Liveness is judged here, not by the writer: a lease is live while its
 * heartbeat is younger than QW_ICE_LEASE_TTL_MS by the reader's clock, so
 * a crashed writer's files become deletable once its lease has expired. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "iceberg/ice_int.h"

typedef struct scan_ctx {
    qw_ice_protection *p;
    int64_t now_ms;
} scan_ctx;

static int on_lease(void *ctx, const char *holder, int64_t since_ms, int64_t heartbeat_ms)
{
    scan_ctx *s = ctx;
    if (s->now_ms - heartbeat_ms >= QW_ICE_LEASE_TTL_MS) {
        s->p->expired++;
        return 0;
    }
    if (!s->p->live || since_ms < s->p->oldest_ms) {
        s->p->oldest_ms = since_ms;
        snprintf(s->p->holder, sizeof s->p->holder, "%s", holder);
    }
    s->p->live++;
    return 0;
}

qw_err qw_ice_protected_since(const qw_ice_catalog_ops *cat, const char *ns, const char *table,
                              int64_t now_ms, qw_ice_protection *out)
{
    memset(out, 0, sizeof *out);
    scan_ctx s = {out, now_ms ? now_ms : qw_now_wall_ns() / 1000000};
    out->since_ms = INT64_MAX;
    if (!cat->leases)
        return QW_OK; /* a catalog without leases: only file age protects */
    qw_err e = cat->leases(cat->ctx, ns, table, on_lease, &s);
    if (e != QW_OK)
        return e;
    /* a writer that starts after this read holds a lease we did not see:
     * whatever is created from now on is protected too */
    out->since_ms =
        (out->live && out->oldest_ms < s.now_ms ? out->oldest_ms : s.now_ms) - QW_ICE_LEASE_SKEW_MS;
    return QW_OK;
}

int qw_ice_protected(const qw_ice_protection *p, int64_t mtime_ms)
{
    return mtime_ms <= 0 || mtime_ms >= p->since_ms; /* age unknown: maybe a writer's */
}

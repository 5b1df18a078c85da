/* store_lease.c: the lake writer's commit leases (docs/STORAGE.md "Commit
 * leases"; the contract is iceberg.h's "commit leases").
 *
 * Maintenance (clean-orphans now; expiry and compaction later) must never
 * delete a file a commit in progress will reference, whatever its age: a
 * commit can be held back for long by a locked or unreachable catalog. So
 * the store holds one lease per table in the catalog
 * (quotewatch_commit_leases), holder = this run:
 *
 *   open       qw__lease_take: since = now, before the first file exists
 *   writer     flush_table publishes writing_ms[t] (an atomic store, no I/O)
 *              before its first file and hands it to the job (since_ms)
 *   committer  qw__lease_renew, at most every QW_ICE_LEASE_HEARTBEAT_MS (with
 *              --maintain every min(that, the round interval)):
 *              since = min(now, writing_ms[t], since_ms of t's queued jobs),
 *              heartbeat = now; one UPDATE per table (4 per 30 s)
 *   close      qw__lease_release: DELETE, unless a commit was given up with
 *              an unknown outcome (its files may be referenced: the lease
 *              stays pinned and expires after QW_ICE_LEASE_TTL_MS) or the
 *              catalog is failing (it expires too)
 *
 * Why the order in renew is safe: now is read first, then writing_ms, then
 * the queue. A flush that starts after writing_ms was read creates its
 * files after now; one whose writing_ms was already cleared pushed its job
 * before clearing it, so the queue scan sees the job. A job leaves the
 * queue only once committed (or its files removed), so since only passes a
 * file after the commit that references it has landed. */
#define QW_MODULE "store"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/time.h"
#include "storage/store_int.h"

static int64_t wall_ms(void)
{
    return qw_now_wall_ns() / 1000000;
}

qw_err qw__lease_take(qw_store *s, char *errbuf, size_t errlen)
{
    char host[64] = "";
    (void)gethostname(host, sizeof host - 1);
    snprintf(s->holder, sizeof s->holder, "%.48s pid %ld on %.50s", s->run_id, (long)getpid(),
             host);
    int64_t now = wall_ms();
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        qw_err e = qw_catalog_lease_set(s->cat, QW_TBL_NS, qw_tables[t].name, s->holder, now, now);
        if (e != QW_OK) {
            snprintf(errbuf, errlen, "cannot take the commit lease on %s.%s: %s", QW_TBL_NS,
                     qw_tables[t].name, qw_catalog_errmsg(s->cat));
            return e;
        }
        s->lease_since[t] = now;
    }
    s->lease_renew_ns = qw_now_mono_ns();
    return QW_OK;
}

void qw__lease_renew(qw_store *s, int force)
{
    int64_t mono = qw_now_mono_ns();
    /* --maintain: its expiry never passes this lease's since, so a since
     * a heartbeat (30 s) old would keep every snapshot of the last 30 s
     * whatever --maintain-expire-age says; renew at least once a round */
    int64_t every_ms = QW_ICE_LEASE_HEARTBEAT_MS;
    if (s->o.maintain_ms > 0 && s->o.maintain_ms < every_ms)
        every_ms = s->o.maintain_ms;
    if (!s->holder[0] || (!force && mono - s->lease_renew_ns < every_ms * QW_NS_PER_MS))
        return;
    s->lease_renew_ns = mono;
    int64_t now = wall_ms(), since[QW_TBL_COUNT];
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        int64_t w = atomic_load(&s->writing_ms[t]);
        since[t] = w && w < now ? w : now;
    }
    pthread_mutex_lock(&s->cmu);
    for (size_t k = 0; k < s->jcount; k++) {
        const qw__job *j = &s->jobs[(s->jhead + k) % QW__JOBS];
        if (j->since_ms < since[j->t])
            since[j->t] = j->since_ms;
    }
    pthread_mutex_unlock(&s->cmu);
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        int64_t v = s->lease_pinned[t] ? s->lease_since[t] : since[t];
        qw_err e = qw_catalog_lease_set(s->cat, QW_TBL_NS, qw_tables[t].name, s->holder, v, now);
        if (e != QW_OK) { /* the old lease still protects (older since); it expires if this lasts */
            atomic_store(&s->cat_failing, 1);
            if (qw_log_ratelimit(&s->crl))
                QW_LOG(WARN, "%s: cannot renew the commit lease: %s", qw_tables[t].name,
                       qw_catalog_errmsg(s->cat));
            return;
        }
        s->lease_since[t] = v;
    }
}

void qw__lease_release(qw_store *s)
{
    if (!s->holder[0])
        return;
    int pinned = 0;
    for (int t = 0; t < QW_TBL_COUNT; t++)
        pinned |= s->lease_pinned[t];
    int64_t hard = atomic_load(&s->hard_deadline_ns);
    if (pinned || atomic_load(&s->cat_failing) || (hard && qw_now_mono_ns() >= hard)) {
        QW_LOG(WARN,
               "commit leases of %s left in the catalog: they protect this run's uncommitted "
               "files from clean-orphans until they expire (%d s)",
               s->holder, QW_ICE_LEASE_TTL_MS / 1000);
        return;
    }
    for (int t = 0; t < QW_TBL_COUNT; t++)
        if (qw_catalog_lease_release(s->cat, QW_TBL_NS, qw_tables[t].name, s->holder) != QW_OK) {
            QW_LOG(WARN, "%s: cannot release the commit lease (it expires in %d s): %s",
                   qw_tables[t].name, QW_ICE_LEASE_TTL_MS / 1000, qw_catalog_errmsg(s->cat));
            return;
        }
    s->holder[0] = '\0';
}

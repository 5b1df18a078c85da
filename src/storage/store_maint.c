/* store_maint.c: `--maintain DURATION` (docs/STORAGE.md "Maintenance"):
 * a background thread of the lake writer that, every DURATION, runs
 * `lake expire` (count from the table properties, cutoff from them or
 * --maintain-expire-age: wall-clock age of the snapshot) and `lake
 * compact` (target from the table property) on the tables this process
 * writes. Never on the ingest or writer threads: it opens its own catalog
 * connection and fileio (lake_admin.h), and its commits race the writer's
 * through the catalog CAS like any other process's (both retry). Counted
 * in the persistence stats (maint_*); each round logs one line. */
#define QW_MODULE "store"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/time.h"
#include "storage/lake_admin.h"
#include "storage/store_int.h"
#include "storage/tables.h"

static void log_lines(qw_log_level lv, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        if (n && strncmp(p, "deleted ", 8) != 0)
            qw_log_write(lv, QW_MODULE, "maintenance: %.*s", n, p);
        p = nl ? nl + 1 : NULL;
    }
}

static int stopping(qw_store *s)
{
    pthread_mutex_lock(&s->mmu);
    int v = s->mstop;
    pthread_mutex_unlock(&s->mmu);
    return v;
}

/* The commit turn (store_int.h tmu): a compaction whose replace lost the
 * race to this process's committer twice takes it for one attempt, so the
 * committer's next commit waits for that attempt (~one table load and
 * metadata write) instead of the round retrying for seconds while the
 * snapshots it should expire pile up. */
static void commit_turn(void *ctx, int take)
{
    qw_store *s = ctx;
    if (take)
        pthread_mutex_lock(&s->tmu);
    else
        pthread_mutex_unlock(&s->tmu);
}

static void round_once(qw_store *s)
{
    int64_t t0 = qw_now_mono_ns();
    char eb[512], *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    qw_lake_admin *L;
    qw_err e = qw_lake_admin_open(&L, s->o.warehouse, s->o.catalog_uri, &s->o.os, eb, sizeof eb);
    if (e != QW_OK) {
        atomic_fetch_add(&s->st->maint_errors, 1);
        QW_LOG(WARN, "maintenance: %s", eb);
        return;
    }
    FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
    qw_lake_totals tot = {0};
    qw_err e1 = QW_NOMEM, e2 = QW_NOMEM;
    if (out && err) {
        qw_lake_sink sink = {out, err, "maintenance"};
        e1 = e2 = QW_OK;
        /* one table at a time, so a stop (close: SIGTERM has ~10 s) waits
         * for one table's expire or compaction at most, not the round's */
        for (int t = 0; t < QW_TBL_COUNT && !stopping(s); t++) {
            qw_lake_expire_opts eo = {.table = qw_tables[t].name, .totals = &tot};
            if (s->o.maintain_expire_age_ms > 0) { /* --maintain-expire-age */
                eo.older_than_s = (double)s->o.maintain_expire_age_ms / 1000.0;
                eo.older_than_set = 1;
            }
            int64_t t1 = qw_now_mono_ns();
            qw_err et = qw_lake_admin_expire(L, &eo, &sink);
            e1 = e1 == QW_OK ? et : e1;
            QW_LOG(DEBUG, "maintenance: expire %s %.1f ms", qw_tables[t].name,
                   (double)(qw_now_mono_ns() - t1) / 1e6);
        }
        for (int t = 0; t < QW_TBL_COUNT && !stopping(s); t++) {
            qw_lake_compact_opts co = {.table = qw_tables[t].name,
                                       .target_bytes = (uint64_t)s->o.maintain_target_size,
                                       .totals = &tot,
                                       .tiered = 1,
                                       .turn = commit_turn,
                                       .turn_ctx = s};
            int64_t t1 = qw_now_mono_ns();
            qw_err et = qw_lake_admin_compact(L, &co, &sink);
            e2 = e2 == QW_OK ? et : e2;
            QW_LOG(DEBUG, "maintenance: compact %s %.1f ms", qw_tables[t].name,
                   (double)(qw_now_mono_ns() - t1) / 1e6);
        }
    }
    if (out)
        fclose(out);
    if (err)
        fclose(err);
    qw_lake_admin_close(L);
    atomic_fetch_add(&s->st->maint_runs, 1);
    atomic_fetch_add(&s->st->maint_snapshots_expired, tot.snapshots_expired);
    atomic_fetch_add(&s->st->maint_files_compacted, tot.files_compacted);
    if (e1 != QW_OK || e2 != QW_OK) {
        atomic_fetch_add(&s->st->maint_errors, 1);
        log_lines(QW_LOG_WARN, ebuf);
    }
    log_lines(QW_LOG_DEBUG, obuf);
    QW_LOG(INFO, "maintenance: expired %zu snapshot(s), compacted %zu file(s) into %zu in %.0f ms",
           tot.snapshots_expired, tot.files_compacted, tot.files_written,
           (double)(qw_now_mono_ns() - t0) / 1e6);
    free(obuf); /* open_memstream: malloc'd */
    free(ebuf);
}

static void *maint_main(void *arg)
{
    qw_store *s = arg;
    pthread_setname_np(pthread_self(), "qw-maint");
    pthread_mutex_lock(&s->mmu);
    while (!s->mstop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += s->o.maintain_ms / 1000;
        ts.tv_nsec += (s->o.maintain_ms % 1000) * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        while (!s->mstop && pthread_cond_timedwait(&s->mcv, &s->mmu, &ts) == 0) {
        }
        if (s->mstop)
            break;
        pthread_mutex_unlock(&s->mmu);
        round_once(s);
        pthread_mutex_lock(&s->mmu);
    }
    pthread_mutex_unlock(&s->mmu);
    return NULL;
}

qw_err qw__maint_start(qw_store *s)
{
    if (s->o.maintain_ms <= 0)
        return QW_OK;
    pthread_mutex_init(&s->mmu, NULL);
    pthread_cond_init(&s->mcv, NULL);
    if (pthread_create(&s->mth, NULL, maint_main, s) != 0) {
        pthread_mutex_destroy(&s->mmu);
        pthread_cond_destroy(&s->mcv);
        return QW_NOMEM;
    }
    s->mstarted = 1;
    if (s->o.maintain_expire_age_ms > 0)
        QW_LOG(INFO,
               "maintenance: lake expire (snapshots older than %.1f s) + compact every %.1f s",
               s->o.maintain_expire_age_ms / 1000.0, s->o.maintain_ms / 1000.0);
    else
        QW_LOG(INFO, "maintenance: lake expire (table property age) + compact every %.1f s",
               s->o.maintain_ms / 1000.0);
    return QW_OK;
}

void qw__maint_stop(qw_store *s)
{
    if (!s->mstarted)
        return;
    pthread_mutex_lock(&s->mmu);
    s->mstop = 1;
    pthread_cond_broadcast(&s->mcv);
    pthread_mutex_unlock(&s->mmu);
}

void qw__maint_join(qw_store *s)
{
    if (!s->mstarted)
        return;
    qw__maint_stop(s);
    pthread_join(s->mth, NULL);
    pthread_mutex_destroy(&s->tmu); /* after the committer's (store_commit.c) */
    pthread_mutex_destroy(&s->mmu);
    pthread_cond_destroy(&s->mcv);
    s->mstarted = 0;
}

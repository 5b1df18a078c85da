/* store_commit.c: the lake writer's committer thread. The writer thread
 * (store.c) encodes each flush into Parquet files and queues one job per
 * table; this thread makes the files durable (fsync) and commits them with
 * one Iceberg fast append, retrying with backoff while the catalog or the
 * disk fails. The writer never waits for I/O: encoding the next flush
 * overlaps the fsyncs and the commit of the previous one. Jobs commit in
 * queue order, so a table's snapshots keep the writer's file order. */
#define QW_MODULE "store"
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/time.h"
#include "storage/store_int.h"

#define CLOSE_GRACE_NS (5000 * QW_NS_PER_MS) /* at close, failing commits are retried this long */

void qw__remove_files(qw_fileio *io, const qw_ice_data_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)qw_fileio_remove(io, f[i].path);
}

/* The writer committed the data files with QW_FILEIO_DEFER_SYNC: make them
 * durable before the manifest refers to them. */
void qw__os_counters(qw_store *s)
{
    qw_s3_counters c;
    if (!qw_objstore_counters(s->io, &c))
        return;
    atomic_store(&s->st->os_requests, c.requests);
    atomic_store(&s->st->os_retries, c.retries);
    atomic_store(&s->st->os_failures, c.failures);
    atomic_store(&s->st->os_bytes_up, c.bytes_up);
    atomic_store(&s->st->os_bytes_down, c.bytes_down);
    atomic_store(&s->st->os_multipart_aborts, c.multipart_aborts);
    atomic_store(&s->st->os_token_fetches, c.token_fetches);
    atomic_store(&s->st->os_auth_refreshes, c.auth_refreshes);
    atomic_store(&s->st->os_connects, c.connects);
    atomic_store(&s->st->objstore, 1);
}

static qw_err sync_files(qw_fileio *io, const qw__job *j, char *why, size_t cap)
{
    for (size_t i = 0; i < j->nfiles; i++) {
        qw_err e = qw_fileio_sync(io, j->files[i].path);
        if (e != QW_OK) {
            snprintf(why, cap, "sync %s: %s", j->files[i].path, qw_strerror(e));
            return e;
        }
    }
    return QW_OK;
}

/* version-hint.text of each table, coalesced: a commit with more jobs
 * queued behind it leaves its table's hint to a later one; the hint is
 * written when the queue runs empty, when it has waited HINT_MAX_NS, and
 * before the thread exits. Back-to-back commits (replay, a backlog) then
 * rewrite it about once a second instead of once a commit, one request
 * and one round trip fewer per commit on an object store; an idle live
 * writer still rewrites it right after every commit. Only this thread
 * touches it. */
#define HINT_MAX_NS (1000 * QW_NS_PER_MS)
typedef struct {
    char loc[QW_TBL_COUNT][QW_ICE_LOC_MAX]; /* "" = nothing pending */
    int64_t since_ns[QW_TBL_COUNT];
} pending_hints;

static void write_hints(qw_store *s, pending_hints *h, int all)
{
    int64_t now = qw_now_mono_ns();
    for (int t = 0; t < QW_TBL_COUNT; t++) {
        if (!h->loc[t][0] || (!all && now - h->since_ns[t] < HINT_MAX_NS))
            continue;
        pthread_mutex_lock(&s->tmu); /* not between --maintain's commits and its own hints */
        (void)qw_ice_write_version_hint(s->io, h->loc[t]);
        pthread_mutex_unlock(&s->tmu);
        h->loc[t][0] = 0;
    }
}

static qw_err commit_job(qw_store *s, qw__job *j, pending_hints *h)
{
    int64_t w0 = qw_now_mono_ns();
    char why[QW_ICE_LOC_MAX + 128] = "";
    qw_err e = sync_files(s->io, j, why, sizeof why);
    qw_ice_commit_result res;
    memset(&res, 0, sizeof res);
    if (e == QW_OK) {
        char rows[32], run[64];
        snprintf(rows, sizeof rows, "%zu", j->rows);
        snprintf(run, sizeof run, "%s", s->run_id);
        qw_ice_kv kv[2] = {{"quotewatch.run-id", run}, {"quotewatch.rows", rows}};
        /* many writers may share a table: keep re-applying through conflicts */
        qw_ice_append_opts ao = {.summary = kv,
                                 .nsummary = 2,
                                 .max_attempts = 60,
                                 .backoff_ms = 10,
                                 .snapshot_id = j->snap_id,
                                 .defer_hint = h != NULL};
        pthread_mutex_lock(&s->tmu); /* --maintain's compaction may hold the turn (store_maint.c) */
        e = qw_ice_append(&s->ops, s->io, QW_TBL_NS, qw_tables[j->t].name, j->files, j->nfiles, &ao,
                          &res);
        pthread_mutex_unlock(&s->tmu);
        j->unknown = e != QW_OK && res.outcome_unknown;
        if (e != QW_OK)
            snprintf(why, sizeof why, "%s", res.err[0] ? res.err : qw_strerror(e));
        else if (res.landed_before)
            QW_LOG(INFO,
                   "%s: an earlier commit attempt had landed (snapshot %lld): not committed twice",
                   qw_tables[j->t].name, (long long)j->snap_id);
    }
    qw__os_counters(s);
    if (e != QW_OK) {
        atomic_fetch_add(&s->st->errors, 1);
        if (qw_log_ratelimit(&s->crl))
            QW_LOG(ERROR, "%s: commit failed, retrying with backoff: %s", qw_tables[j->t].name,
                   why);
        return e;
    }
    if (h && !h->loc[j->t][0])
        h->since_ns[j->t] = qw_now_mono_ns();
    if (h)
        snprintf(h->loc[j->t], sizeof h->loc[j->t], "%s", res.metadata_location);
    int64_t lat = qw_now_mono_ns() - j->t0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < j->nfiles; i++)
        bytes += (uint64_t)j->files[i].file_size_in_bytes;
    atomic_fetch_add(&s->st->rows_written[j->t], j->rows);
    atomic_fetch_add(&s->st->files_written, j->nfiles);
    atomic_fetch_add(&s->st->bytes_written, bytes);
    atomic_fetch_add(&s->st->commits, 1);
    atomic_fetch_add(&s->st->commit_conflicts, (uint64_t)(res.attempts > 1 ? res.attempts - 1 : 0));
    atomic_store(&s->st->last_commit_ns, qw_now_wall_ns());
    atomic_store(&s->st->last_commit_latency_ns, (uint64_t)lat);
    atomic_fetch_add(&s->st->commit_latency_sum_ns, (uint64_t)lat);
    uint64_t work = (uint64_t)(qw_now_mono_ns() - w0);
    atomic_fetch_add(&s->st->commit_work_sum_ns, work);
    atomic_fetch_add(&s->st->commit_latency_b[qw_hist_index((uint64_t)lat)], 1);
    atomic_fetch_add(&s->st->commit_work_b[qw_hist_index(work)], 1);
    QW_LOG(DEBUG, "%s: committed %zu rows in %zu files (snapshot %lld)", qw_tables[j->t].name,
           j->rows, j->nfiles, (long long)res.snapshot_id);
    return QW_OK;
}

static void commit_cpu(qw_store *s)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        atomic_store_explicit(&s->st->commit_cpu_ns,
                              (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                              memory_order_relaxed);
}

static void pop_head(qw_store *s)
{
    s->jflushes -= s->jobs[s->jhead].flushes;
    qw_free(s->jobs[s->jhead].files);
    memset(&s->jobs[s->jhead], 0, sizeof s->jobs[0]);
    s->jhead = (s->jhead + 1) % QW__JOBS;
    s->jcount--;
    pthread_cond_broadcast(&s->ccv);
}

/* Every 30 s, give the memory freed since back to the system. Each commit
 * parses and rewrites the table's metadata (it grows with the snapshots
 * until they expire), so the transient peaks grow and glibc keeps the freed
 * chunks in its arenas: in a 64-product live run RSS rose ~0.7 MiB/min while
 * the bytes in use stayed flat, and one malloc_trim gave back 26 MB
 * (docs/PERFORMANCE.md, "Memory"). A few ms, off the ingest thread. */
static void trim_heap(qw_store *s)
{
#ifdef __GLIBC__
    int64_t now = qw_now_mono_ns();
    if (now - s->last_trim_ns < 30 * QW_NS_PER_SEC)
        return;
    s->last_trim_ns = now;
    malloc_trim(0);
#else
    (void)s;
#endif
}

/* Group commit (under cmu): the head job absorbs the jobs of the same
 * table queued behind it, in queue order, so a backlog of one table
 * commits in one snapshot instead of one each (three object writes and a
 * catalog swap saved per absorbed job: with a remote store the committer
 * is what a replay waits for). Not when the head's last attempt had an
 * unknown outcome: that snapshot may have landed with its own files only,
 * and a retry must find it as it was (snap_id). The others keep their
 * order. An absorbed flush keeps its place in the writer's room (jflushes)
 * until the group lands: grouping makes commits fewer, not flushes more
 * frequent (with a time trigger that would mean more, smaller files). */
#define GROUP_MAX_FILES 256
static void absorb(qw_store *s)
{
    qw__job *h = &s->jobs[s->jhead];
    if (h->unknown)
        return;
    for (size_t q = 1; q < s->jcount;) {
        qw__job *o = &s->jobs[(s->jhead + q) % QW__JOBS];
        if (o->t != h->t || o->unknown || h->nfiles + o->nfiles > GROUP_MAX_FILES) {
            q++;
            continue;
        }
        qw_ice_data_file *f = qw_realloc(h->files, (h->nfiles + o->nfiles) * sizeof *f);
        if (!f)
            return; /* committed one by one, then */
        memcpy(f + h->nfiles, o->files, o->nfiles * sizeof *f);
        h->files = f;
        h->nfiles += o->nfiles;
        h->rows += o->rows;
        if (o->since_ms < h->since_ms)
            h->since_ms = o->since_ms;
        qw_free(o->files);
        for (size_t k = q; k + 1 < s->jcount; k++) /* close the gap, order kept */
            s->jobs[(s->jhead + k) % QW__JOBS] = s->jobs[(s->jhead + k + 1) % QW__JOBS];
        s->jcount--;
        memset(&s->jobs[(s->jhead + s->jcount) % QW__JOBS], 0, sizeof s->jobs[0]);
        h->flushes += o->flushes; /* still in flight: the writer's room is unchanged */
        atomic_fetch_add(&s->st->jobs_grouped, 1);
    }
}

static void *committer_main(void *arg)
{
    qw_store *s = arg;
    pthread_setname_np(pthread_self(), "qw-commit");
    int backoff_ms = 0, last_failed = 0;
    pending_hints *h = qw_calloc(1, sizeof *h);
    pthread_mutex_lock(&s->cmu);
    for (;;) {
        if (h) { /* all when nothing is queued, else those waiting too long */
            int idle = !s->jcount;
            pthread_mutex_unlock(&s->cmu);
            write_hints(s, h, idle);
            pthread_mutex_lock(&s->cmu);
        }
        while (!s->jcount && !s->writer_done) { /* idle: the commit lease is renewed still */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += QW_ICE_LEASE_HEARTBEAT_MS / 1000;
            if (pthread_cond_timedwait(&s->ccv, &s->cmu, &ts) != 0) {
                pthread_mutex_unlock(&s->cmu);
                qw__lease_renew(s, 0);
                pthread_mutex_lock(&s->cmu);
            }
        }
        if (!s->jcount)
            break; /* the writer has exited and everything is committed */
        absorb(s);
        qw__job j = s->jobs[s->jhead]; /* stays queued until committed or given up */
        /* closing, past the grace period, and the last attempt failed: the
         * rest is given up without more (possibly slow) attempts */
        int64_t hard = atomic_load(&s->hard_deadline_ns), now = qw_now_mono_ns();
        int give_up =
            s->closing && ((last_failed && now >= s->close_deadline_ns) || (hard && now >= hard));
        pthread_mutex_unlock(&s->cmu);
        qw__lease_renew(s, 0); /* when due: at most one UPDATE per table per heartbeat */
        qw_err e = give_up ? QW_IO : commit_job(s, &j, h);
        if (!give_up)
            atomic_store(&s->cat_failing, e != QW_OK);
        commit_cpu(s);
        trim_heap(s);
        pthread_mutex_lock(&s->cmu);
        s->jobs[s->jhead].unknown = j.unknown;
        last_failed = e != QW_OK;
        if (e == QW_OK) {
            pop_head(s);
            backoff_ms = 0;
            continue;
        }
        if (s->closing && (qw_now_mono_ns() >= s->close_deadline_ns || give_up)) {
            atomic_fetch_add(&s->st->rows_given_up, j.rows);
            if (j.unknown) {              /* it may have landed: its files may be referenced */
                s->lease_pinned[j.t] = 1; /* the lease keeps protecting them until it expires */
                QW_LOG(ERROR,
                       "%s: %zu rows may not have been committed (the catalog failed during "
                       "the swap); unreferenced files are left for `quotewatch lake clean-orphans` "
                       "once this run's commit lease has expired",
                       qw_tables[j.t].name, j.rows);
            } else {
                QW_LOG(ERROR, "%s: %zu rows could not be committed", qw_tables[j.t].name, j.rows);
                qw__remove_files(s->io, j.files, j.nfiles); /* certainly uncommitted: remove */
            }
            s->final_error = 1;
            pop_head(s);
            continue;
        }
        backoff_ms = s->closing   ? 250
                     : backoff_ms ? (backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2)
                                  : 250;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(backoff_ms % 1000) * 1000000L;
        ts.tv_sec += backoff_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->ccv, &s->cmu, &ts); /* close wakes it early */
    }
    pthread_mutex_unlock(&s->cmu);
    if (h)
        write_hints(s, h, 1);
    qw_free(h);
    return NULL;
}

qw_err qw__commit_start(qw_store *s)
{
    s->crl = (qw_ratelimit){.first = 5, .every = 100};
    pthread_mutex_init(&s->cmu, NULL);
    pthread_mutex_init(&s->tmu, NULL);
    pthread_cond_init(&s->ccv, NULL);
    if (pthread_create(&s->cth, NULL, committer_main, s) != 0)
        return QW_NOMEM;
    s->cstarted = 1;
    return QW_OK;
}

int qw__commit_room(qw_store *s)
{
    pthread_mutex_lock(&s->cmu);
    int room = s->jflushes < QW__JOBS;
    pthread_mutex_unlock(&s->cmu);
    return room;
}

void qw__commit_push(qw_store *s, const qw__job *j)
{
    pthread_mutex_lock(&s->cmu);
    while (s->jflushes >= QW__JOBS) /* callers check for room first: does not happen */
        pthread_cond_wait(&s->ccv, &s->cmu);
    s->jobs[(s->jhead + s->jcount) % QW__JOBS] = *j;
    s->jobs[(s->jhead + s->jcount) % QW__JOBS].flushes = 1;
    s->jcount++;
    s->jflushes++;
    pthread_cond_broadcast(&s->ccv);
    pthread_mutex_unlock(&s->cmu);
}

void qw__commit_closing(qw_store *s)
{
    pthread_mutex_lock(&s->cmu);
    if (!s->closing) {
        s->closing = 1;
        s->close_deadline_ns = qw_now_mono_ns() + CLOSE_GRACE_NS;
        int64_t hard = atomic_load(&s->hard_deadline_ns);
        if (hard && hard < s->close_deadline_ns)
            s->close_deadline_ns = hard;
    }
    pthread_cond_broadcast(&s->ccv);
    pthread_mutex_unlock(&s->cmu);
}

void qw__commit_writer_done(qw_store *s)
{
    pthread_mutex_lock(&s->cmu);
    s->writer_done = 1;
    pthread_cond_broadcast(&s->ccv);
    pthread_mutex_unlock(&s->cmu);
}

void qw__commit_wait_room(qw_store *s)
{
    pthread_mutex_lock(&s->cmu);
    while (s->jflushes >= QW__JOBS)
        pthread_cond_wait(&s->ccv, &s->cmu);
    pthread_mutex_unlock(&s->cmu);
}

void qw__commit_wait_room_ns(qw_store *s, int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(ns % QW_NS_PER_SEC);
    ts.tv_sec += (time_t)(ns / QW_NS_PER_SEC) + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&s->cmu);
    while (s->jflushes >= QW__JOBS)
        if (pthread_cond_timedwait(&s->ccv, &s->cmu, &ts) != 0)
            break;
    pthread_mutex_unlock(&s->cmu);
}

void qw__commit_finish(qw_store *s)
{
    if (!s->cstarted)
        return;
    qw__commit_closing(s);
    qw__commit_writer_done(s);
    pthread_join(s->cth, NULL);
    s->cstarted = 0;
    pthread_mutex_destroy(&s->cmu);
    if (!s->mstarted) /* else the --maintain thread may still take it: qw__maint_join */
        pthread_mutex_destroy(&s->tmu);
    pthread_cond_destroy(&s->ccv);
}

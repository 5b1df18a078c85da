/* stats_json.c: the one JSON form of the persistence counters (stats.h),
 * used by the live summary, the replay summary and the dashboard's
 * /api/state. Formatted with snprintf into the caller's buffer: no
 * allocation, callable on the event-loop thread while the writer runs. */
#include <stdarg.h>
#include <stdio.h>

#include "storage/stats.h"
#include "storage/tables.h"

#define LD(x) ((unsigned long long)atomic_load(&(x)))

/* snprintf at offset n of buf; returns the new offset (past cap if cut) */
static size_t outf(char *buf, size_t cap, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t outf(char *buf, size_t cap, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, fmt, ap);
    va_end(ap);
    return k > 0 ? n + (size_t)k : n;
}

size_t qw_store_stats_json(const qw_store_stats *s, char *buf, size_t cap)
{
    size_t n = 0;
#define OUT(...) n = outf(buf, cap, n, __VA_ARGS__)
    if (!s || !atomic_load(&s->enabled)) {
        OUT("{\"enabled\":false}");
        return n;
    }
    uint64_t commits = LD(s->commits);
    static _Thread_local qw_hist lat, work; /* 7.8 KB each: not on the stack */
    qw_store_stats_hist(s, 0, &lat);
    qw_store_stats_hist(s, 1, &work);
    OUT("{\"enabled\":true,\"queued\":%llu,\"capacity\":%llu,\"dropped\":%llu,\"rows_written\":{",
        LD(s->queued), LD(s->capacity), LD(s->dropped));
    for (int t = 0; t < QW_TBL_COUNT; t++)
        OUT("%s\"%s\":%llu", t ? "," : "", qw_tables[t].name, LD(s->rows_written[t]));
    OUT("},\"files\":%llu,\"bytes\":%llu,\"commits\":%llu,\"commit_conflicts\":%llu,\"jobs_"
        "grouped\":%llu,"
        "\"errors\":%llu,\"rows_given_up\":%llu,\"trades_deduplicated\":%llu,"
        "\"last_commit_ns\":%lld,\"last_commit_latency_ms\":%.3f,"
        "\"flush_commit_ms_avg\":%.3f,\"commit_ms_avg\":%.3f,\"flush_commit_ms_p50\":%.3f,"
        "\"flush_commit_ms_p99\":%.3f,\"commit_ms_p50\":%.3f,\"commit_ms_p99\":%.3f,"
        "\"writer_cpu_s\":%.3f,"
        "\"commit_cpu_s\":%.3f,\"maintenance_runs\":%llu,\"maintenance_errors\":%llu,"
        "\"maintenance_snapshots_expired\":%llu,\"maintenance_files_compacted\":%llu",
        LD(s->files_written), LD(s->bytes_written), (unsigned long long)commits,
        LD(s->commit_conflicts), LD(s->jobs_grouped), LD(s->errors), LD(s->rows_given_up),
        LD(s->trades_deduplicated), (long long)atomic_load(&s->last_commit_ns),
        (double)atomic_load(&s->last_commit_latency_ns) / 1e6,
        commits ? (double)atomic_load(&s->commit_latency_sum_ns) / (double)commits / 1e6 : 0.0,
        commits ? (double)atomic_load(&s->commit_work_sum_ns) / (double)commits / 1e6 : 0.0,
        (double)qw_hist_quantile(&lat, 0.5) / 1e6, (double)qw_hist_quantile(&lat, 0.99) / 1e6,
        (double)qw_hist_quantile(&work, 0.5) / 1e6, (double)qw_hist_quantile(&work, 0.99) / 1e6,
        (double)atomic_load(&s->writer_cpu_ns) / 1e9, (double)atomic_load(&s->commit_cpu_ns) / 1e9,
        LD(s->maint_runs), LD(s->maint_errors), LD(s->maint_snapshots_expired),
        LD(s->maint_files_compacted));
    if (atomic_load(&s->objstore)) {
        OUT(",\"objstore\":{\"requests\":%llu,\"retries\":%llu,\"failures\":%llu,"
            "\"bytes_up\":%llu,\"bytes_down\":%llu,\"multipart_aborts\":%llu,"
            "\"token_fetches\":%llu,\"auth_refreshes\":%llu,\"connects\":%llu}",
            LD(s->os_requests), LD(s->os_retries), LD(s->os_failures), LD(s->os_bytes_up),
            LD(s->os_bytes_down), LD(s->os_multipart_aborts), LD(s->os_token_fetches),
            LD(s->os_auth_refreshes), LD(s->os_connects));
    }
    OUT("}");
#undef OUT
    return n;
}

void qw_store_stats_hist(const qw_store_stats *s, int work, qw_hist *out)
{
    qw_hist_reset(out);
    const _Atomic uint64_t *b = work ? s->commit_work_b : s->commit_latency_b;
    uint64_t lo, hi;
    for (unsigned i = 0; i < QW_HIST_BUCKETS; i++) {
        uint64_t c = atomic_load_explicit(&b[i], memory_order_relaxed);
        if (!c)
            continue;
        qw_hist_bucket_range(i, &lo, &hi);
        if (!out->count)
            out->min = lo;
        out->max = hi;
        out->b[i] = c;
        out->count += c;
    }
    out->sum = atomic_load_explicit(work ? &s->commit_work_sum_ns : &s->commit_latency_sum_ns,
                                    memory_order_relaxed);
}

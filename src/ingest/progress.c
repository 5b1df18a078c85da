/* progress.c -- see progress.h. */
#include "ingest/progress.h"

#include <stdio.h>

#include "core/time.h"

void qw_progress_start(qw_progress *pg)
{
    pg->start_ns = qw_now_mono_ns();
    pg->last_ns = 0;
}

void qw_progress_draw(qw_progress *pg, double frac, uint64_t msgs, uint64_t bytes, int final)
{
    int64_t now = qw_now_mono_ns();
    if (!final && now - pg->last_ns < 100 * QW_NS_PER_MS)
        return;
    pg->last_ns = now;
    if (final || frac > 1)
        frac = 1;
    if (frac < 0)
        frac = 0;
    double secs = (double)(now - pg->start_ns) / 1e9;
    char bar[31], mb[32] = "";
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    if (bytes)
        snprintf(mb, sizeof mb, "  %.1f MB", (double)bytes / 1e6);
    fprintf(stderr, "\r[%s] %3d%%  %llu msgs%s  %.0f msg/s%s", bar, (int)(frac * 100),
            (unsigned long long)msgs, mb, secs > 0 ? (double)msgs / secs : 0.0, final ? "\n" : "");
}

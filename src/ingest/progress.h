/* progress.h -- the progress bar replay and backtest draw on stderr.
 *
 * One line, redrawn at most 10 times a second: bar, percent, messages,
 * megabytes read (when known) and the rate. The caller owns the state and
 * calls qw_progress_draw as often as it likes; the final call ends the line.
 */
#ifndef QW_INGEST_PROGRESS_H
#define QW_INGEST_PROGRESS_H

#include <stdint.h>

typedef struct qw_progress {
    int64_t start_ns, last_ns; /* monotonic */
} qw_progress;

void qw_progress_start(qw_progress *pg);

/* frac in [0, 1]; bytes 0 leaves the megabytes out. */
void qw_progress_draw(qw_progress *pg, double frac, uint64_t msgs, uint64_t bytes, int final);

#endif

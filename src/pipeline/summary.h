/* summary.h: the summary JSON of a run (replay; live on exit), the
 * public contract in docs/ARCHITECTURE.md section 5. */
#ifndef QW_PIPELINE_SUMMARY_H
#define QW_PIPELINE_SUMMARY_H

#include <stdint.h>

#include "core/err.h"
#include "pipeline/pipeline.h"

typedef struct qw_summary_extra {
    uint64_t bytes;        /* input bytes, newlines included */
    double seconds;        /* wall time of the run */
    uint64_t meta_lines;   /* capture lines that were not server messages */
    uint64_t connects;     /* connection markers seen */
    uint64_t input_errors; /* truncated/corrupt compressed input, read errors */
    const char *feed_errmsg_sample;
    const char *extra_key;  /* optional: one more top-level member ("live")... */
    const char *extra_json; /* ...whose value is this JSON text */
} qw_summary_extra;

/* Write the summary to path ("-" = stdout); files are replaced atomically. */
qw_err qw_summary_write(const qw_pipeline *p, const qw_summary_extra *x, const char *path);
/* Same, into a malloc'd string the caller frees with free(). */
char *qw_summary_dumps(const qw_pipeline *p, const qw_summary_extra *x);

#endif

/* samples.h: the `--samples` CSV, one row per labeled sample in learning
 * order (docs/CLI.md): product,t_ns,<the features of the set, in order: by
 * default spread_bps,imbalance,depth,volatility>,mid,mid_future,label,
 * n_learned,p (p empty before the model is ready).
 * Doubles are printed with %.17g so they round-trip exactly.
 */
#ifndef QW_PIPELINE_SAMPLES_H
#define QW_PIPELINE_SAMPLES_H

#include "core/err.h"
#include "features/features.h"

typedef struct qw_samples qw_samples;

/* Creates path ("-" = stdout) and writes the header line; features: a
 * feature-set spec (features.h; NULL = seed). QW_IO. */
qw_err qw_samples_open(qw_samples **out, const char *path, const char *features);
void qw_samples_write(qw_samples *s, const char *product, const qw_labeled *l);
/* Flushes and closes (stdout is only flushed); QW_IO when a write failed.
 * NULL is a no-op (QW_OK). */
qw_err qw_samples_close(qw_samples *s);

#endif

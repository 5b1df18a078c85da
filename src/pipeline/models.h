/* models.h: model files of a whole pipeline and their hot reload
 * (docs/MODEL.md "Model files", docs/LIVE.md "Hot reload").
 *
 * A model file holds one classifier checkpoint per product. Version 2
 * (written by this build) also records the configuration the models were
 * trained with (model/modelcfg.h) and ends with a CRC-32 of everything
 * before it; version 1 files (no configuration, per-product checksums
 * only) still load.
 *
 * Loading is split in two so that live never pauses on a file:
 *   qw_model_set_read   reads, checks and decodes a file into new
 *                       classifiers; it only reads the pipeline's options
 *                       (immutable), so any thread may call it;
 *   qw_model_set_apply  swaps those classifiers into the chains (pointer
 *                       exchanges, loop thread, between two messages).
 *
 * qw_model_watch: live's reloader. A thread of its own checks the file's
 * identity (device, inode, size, mtime) about once a second, and reads it
 * at once after qw_model_watch_hup (SIGHUP); a file that reads and checks
 * is handed to the loop thread, which applies it in qw_model_watch_poll
 * (its timer). A bad or mismatched file keeps the current models, is
 * logged (one line) and counted in the origin's reloads_error. */
#ifndef QW_PIPELINE_MODELS_H
#define QW_PIPELINE_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/modelcfg.h"
#include "pipeline/pipeline.h"

#define QW_MODELS_VERSION 2
#define QW_MODELS_MAX_BYTES (64u << 20) /* larger files are refused */

/* The configuration of p's models (defaults filled in). */
void qw_pipeline_modelcfg(const qw_pipeline *p, qw_modelcfg *out);

/* A decoded, checked model file. */
typedef struct qw_model_set qw_model_set;
/* QW_IO (open/read), QW_CORRUPT (not a model file, truncated, bad
 * checksum, bad state), QW_INVAL (configuration differs from p's: errbuf
 * names the field), QW_NOMEM. */
qw_err qw_model_set_read(const qw_pipeline *p, const char *path, qw_model_set **out, char *errbuf,
                         size_t errlen);
/* Installs every model of s into p (creating chains for new products) and
 * records the origin; s is consumed in every case. On QW_TOO_MANY_PRODUCTS
 * nothing is changed. */
qw_err qw_model_set_apply(qw_pipeline *p, qw_model_set *s, char *errbuf, size_t errlen);
void qw_model_set_free(qw_model_set *s); /* NULL is a no-op */

/* Samples the pipeline's models learned since the last load (0 if none). */
uint64_t qw_models_learned_since_load(const qw_pipeline *p);

typedef struct qw_model_watch qw_model_watch;
/* Starts the watcher thread for path (the file already loaded). */
qw_err qw_model_watch_start(qw_model_watch **out, qw_pipeline *p, const char *path, char *errbuf,
                            size_t errlen);
/* Async-signal-unsafe; call from the loop thread when SIGHUP was seen.
 * NULL w (no --load-model): logs that there is nothing to reload. */
void qw_model_watch_hup(qw_model_watch *w);
/* Loop thread, from its timer: applies a file the watcher has checked,
 * counts and logs the outcome. NULL w: no-op. */
void qw_model_watch_poll(qw_model_watch *w);
void qw_model_watch_stop(qw_model_watch *w); /* joins the thread; NULL: no-op */

#endif

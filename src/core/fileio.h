/* fileio.h: the small file-ops interface the lake writes through, so the
 * warehouse can move from local disk to an object store (s3://, gs://)
 * without touching Iceberg code. Operations are whole-file, as object stores
 * are: write complete then make durable, read whole (bounded), exists, list
 * recursively, remove, mkdir -p.
 *
 * URIs: "file:///abs/path" and plain paths (absolute or relative) go to the
 * local backend. Other schemes are QW_UNSUPPORTED until a backend exists.
 * Prefix maps rewrite a URI before it is resolved (first match wins), so a
 * table written elsewhere (s3a://bucket/t, or relative locations such as
 * pyiceberg's "data/persistent/...") can be read from a local copy.
 *
 * Local write: temp file in the same directory, fsync, rename, fsync dir
 * (core/file.h); parent directories are created. A reader therefore never
 * sees a partial file under the final name.
 *
 * One handle may be shared by threads for I/O once configured (maps are set
 * up before use and not changed afterwards).
 */
#ifndef QW_CORE_FILEIO_H
#define QW_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_FILEIO_PATH_MAX 1024

typedef struct qw_fileio qw_fileio;

/* Backend operations on a resolved location (after prefix maps). Tests may
 * wrap them to inject failures. */
typedef struct qw_fileio_ops {
    qw_err (*write)(void *ctx, const char *uri, const void *data, size_t len);
    qw_err (*read)(void *ctx, const char *uri, size_t max, uint8_t **out, size_t *len);
    qw_err (*exists)(void *ctx, const char *uri); /* QW_OK or QW_NOT_FOUND */
    qw_err (*list)(void *ctx, const char *uri,
                   int (*fn)(void *fctx, const char *uri, uint64_t size), void *fctx);
    qw_err (*remove)(void *ctx, const char *uri);
    qw_err (*mkdirs)(void *ctx, const char *uri);
} qw_fileio_ops;

/* The local-file backend (ops = NULL) or a custom one (ops/ctx borrowed). */
qw_err qw_fileio_create(qw_fileio **out, const qw_fileio_ops *ops, void *ctx);
void qw_fileio_destroy(qw_fileio *io); /* NULL is a no-op */
/* The built-in local operations (for wrappers). */
const qw_fileio_ops *qw_fileio_local_ops(void);

/* Rewrite URIs starting with `from` to start with `to` (up to 8 maps). */
qw_err qw_fileio_add_map(qw_fileio *io, const char *from, const char *to);
/* Apply the maps to uri into out (QW_TOO_LARGE if it does not fit). */
qw_err qw_fileio_resolve(const qw_fileio *io, const char *uri, char *out, size_t cap);

/* Write the whole file, durable before returning (see above). */
qw_err qw_fileio_write(qw_fileio *io, const char *uri, const void *data, size_t len);
/* Read the whole file (at most max bytes, else QW_TOO_LARGE) into *out
 * (free with qw_free; NUL-terminated for convenience, not counted in len).
 * QW_NOT_FOUND when missing. */
qw_err qw_fileio_read(qw_fileio *io, const char *uri, size_t max, uint8_t **out, size_t *len);
qw_err qw_fileio_exists(qw_fileio *io, const char *uri);
/* Every regular file under uri (recursively, sorted within a directory);
 * fn gets each file's URI in the form of uri after the prefix maps (i.e.
 * the resolved location); nonzero stops. */
qw_err qw_fileio_list(qw_fileio *io, const char *uri,
                      int (*fn)(void *fctx, const char *uri, uint64_t size), void *fctx);
/* QW_NOT_FOUND if missing. */
qw_err qw_fileio_remove(qw_fileio *io, const char *uri);
qw_err qw_fileio_mkdirs(qw_fileio *io, const char *uri);

/* Local path of a local URI ("file:///a" -> "/a", plain path as is);
 * QW_UNSUPPORTED for other schemes. */
qw_err qw_fileio_local_path(const char *uri, char *out, size_t cap);

#endif

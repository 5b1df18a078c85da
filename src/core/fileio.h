/* fileio.h: the file-ops interface every byte of the lake goes through
 * (Parquet data files, Avro manifests and lists, metadata JSON; written by
 * storage/ and iceberg/, read by the lake reader and `quotewatch lake`), so
 * the warehouse can move from local disk to an object store (s3://, gs://)
 * without touching Parquet, Iceberg or writer code. The catalog database is
 * not a file of the lake and does not go through here.
 *
 * Operations are the ones object stores have:
 *  - whole-object write, durable and atomic (qw_fileio_write);
 *  - a streaming writer: open a new object -> append chunks -> commit
 *    (visible under its final name at once, never partially) or abort
 *    (nothing visible). The front end buffers appends and hands the
 *    backend chunks of QW_FILEIO_CHUNK bytes (the last one may be
 *    shorter), so a backend can map each chunk to a multipart-upload part
 *    (S3 wants >= 5 MiB parts except the last: coalesce in the backend);
 *  - whole reads (bounded) and ranged reads (offset, length: a Parquet
 *    footer first, then the column chunks);
 *  - stat (size), recursive list with sizes, remove, mkdir -p.
 *
 * Durability and defer-sync. qw_fileio_writer_commit() of a writer opened
 * with QW_FILEIO_DEFER_SYNC makes the object visible but may leave it
 * volatile; whoever later makes something refer to it (the lake's committer
 * thread, before the manifest) calls qw_fileio_sync(uri). This keeps the
 * writer thread from waiting for the disk while the committer makes the
 * previous flush durable. Without the flag commit is durable on return.
 * Backends whose commit is durable anyway (object stores: complete
 * multipart upload) implement sync as a no-op, or (objstore/s3_async.c)
 * finish a deferred commit's upload in the background: commit returns
 * once the bytes are queued, reads through the same handle wait for them,
 * and sync returns the upload's outcome (retrying a failed one), so
 * nothing may refer to the object before sync succeeded.
 *
 * Local backend (URIs "file:///abs/path" and plain paths): the stream goes
 * to "<path>.tmp.XXXXXX" in the final directory (parents created); commit =
 * fsync (or, deferred, only start writeback) + rename + fsync dir (skipped
 * when deferred); sync = fsync file + fsync dir. qw_fileio_write is the same
 * in one call (core/file.h). A reader never sees a partial file under the
 * final name. Other schemes are QW_UNSUPPORTED here; s3:// and gs:// have
 * their backend in objstore/ (objstore.h), chosen by qw_objstore_fileio_open.
 *
 * Prefix maps rewrite a URI before it is resolved (first match wins), so a
 * table written elsewhere (s3a://bucket/t, or relative locations such as
 * pyiceberg's "data/persistent/...") can be read from a local copy.
 *
 * Threads: one handle may be shared by threads for I/O once configured
 * (maps are set up before use and not changed afterwards); the ops must be
 * thread-safe. A qw_fileio_writer is used by one thread at a time.
 */
#ifndef QW_CORE_FILEIO_H
#define QW_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_FILEIO_PATH_MAX 1024
#define QW_FILEIO_CHUNK ((size_t)1 << 20) /* streaming writes reach the backend in these */

typedef struct qw_fileio qw_fileio;

typedef struct qw_fileio_info {
    uint64_t size;
    int64_t mtime_ns; /* last modified (ns since the epoch; object stores: Last-Modified) */
} qw_fileio_info;

/* Backend operations on a resolved location (after prefix maps). Tests
 * wrap them (qw_fileio_local_ops) to record or inject failures. */
typedef struct qw_fileio_ops {
    /* whole object, durable and atomic */
    qw_err (*write)(void *ctx, const char *uri, const void *data, size_t len);
    /* whole object (at most max bytes, else QW_TOO_LARGE); *out from
     * qw_malloc, NUL-terminated (not counted in len) */
    qw_err (*read)(void *ctx, const char *uri, size_t max, uint8_t **out, size_t *len);
    /* up to len bytes at off into buf; *got < len only at the end */
    qw_err (*read_range)(void *ctx, const char *uri, uint64_t off, void *buf, size_t len,
                         size_t *got);
    qw_err (*stat)(void *ctx, const char *uri, qw_fileio_info *out); /* QW_NOT_FOUND if missing */
    qw_err (*list)(void *ctx, const char *uri,
                   int (*fn)(void *fctx, const char *uri, uint64_t size), void *fctx);
    qw_err (*remove)(void *ctx, const char *uri); /* QW_NOT_FOUND if missing */
    qw_err (*mkdirs)(void *ctx, const char *uri);
    /* streaming writer: *stream is the backend's state */
    qw_err (*stream_open)(void *ctx, const char *uri, void **stream);
    qw_err (*stream_append)(void *ctx, void *stream, const void *data, size_t len);
    /* make visible under the final name; durable unless `deferred`. Consumes
     * the stream whatever the result (on error nothing is visible). */
    qw_err (*stream_commit)(void *ctx, void *stream, int deferred);
    void (*stream_abort)(void *ctx, void *stream); /* consumes the stream */
    /* make a committed object durable (no-op where commit already is) */
    qw_err (*sync)(void *ctx, const char *uri);
    /* optional (NULL: none): a hint that [off, off + len) of uri will be
     * read soon (objstore/s3_prefetch.c GETs it in the background); it never
     * changes what a read returns */
    void (*prefetch)(void *ctx, const char *uri, uint64_t off, size_t len);
} qw_fileio_ops;

/* The local-file backend (ops = NULL) or a custom one (ops/ctx borrowed). */
qw_err qw_fileio_create(qw_fileio **out, const qw_fileio_ops *ops, void *ctx);
void qw_fileio_destroy(qw_fileio *io); /* NULL is a no-op */
/* Let io own ctx: qw_fileio_destroy calls fn(ctx) (object-store clients). */
void qw_fileio_set_ctx_free(qw_fileio *io, void (*fn)(void *ctx));
/* The backend a fileio was created with (for backend-specific queries). */
const qw_fileio_ops *qw_fileio_backend(const qw_fileio *io, void **ctx);
/* The built-in local operations (for wrappers). */
const qw_fileio_ops *qw_fileio_local_ops(void);

/* Rewrite URIs starting with `from` to start with `to` (up to 8 maps). */
qw_err qw_fileio_add_map(qw_fileio *io, const char *from, const char *to);
/* Apply the maps to uri into out (QW_TOO_LARGE if it does not fit). */
qw_err qw_fileio_resolve(const qw_fileio *io, const char *uri, char *out, size_t cap);

/* In every call below, io = NULL means the local backend without maps. */

/* Write the whole file, durable before returning (see above). */
qw_err qw_fileio_write(qw_fileio *io, const char *uri, const void *data, size_t len);
/* Read the whole file (at most max bytes, else QW_TOO_LARGE) into *out
 * (free with qw_free; NUL-terminated for convenience, not counted in len).
 * QW_NOT_FOUND when missing. */
qw_err qw_fileio_read(qw_fileio *io, const char *uri, size_t max, uint8_t **out, size_t *len);
/* Exactly len bytes at off into buf; QW_CORRUPT if the file ends first. */
qw_err qw_fileio_read_range(qw_fileio *io, const char *uri, uint64_t off, void *buf, size_t len);
/* A hint that [off, off + len) of uri will be read soon (a no-op where
 * the backend has no read-ahead, e.g. local files); QW_OK or a resolve
 * error. */
qw_err qw_fileio_prefetch(qw_fileio *io, const char *uri, uint64_t off, size_t len);
qw_err qw_fileio_stat(qw_fileio *io, const char *uri, qw_fileio_info *out);
qw_err qw_fileio_exists(qw_fileio *io, const char *uri); /* QW_OK or QW_NOT_FOUND */
/* Every regular file under uri (recursively, sorted within a directory);
 * fn gets each file's URI in the form of uri after the prefix maps (i.e.
 * the resolved location) and its size; nonzero stops. */
qw_err qw_fileio_list(qw_fileio *io, const char *uri,
                      int (*fn)(void *fctx, const char *uri, uint64_t size), void *fctx);
/* QW_NOT_FOUND if missing. */
qw_err qw_fileio_remove(qw_fileio *io, const char *uri);
qw_err qw_fileio_mkdirs(qw_fileio *io, const char *uri);
/* Make a file committed with QW_FILEIO_DEFER_SYNC durable. */
qw_err qw_fileio_sync(qw_fileio *io, const char *uri);

/* ---- streaming writer ---- */
typedef struct qw_fileio_writer qw_fileio_writer;
#define QW_FILEIO_DEFER_SYNC 1u /* commit: visible, not yet durable (see above) */

qw_err qw_fileio_writer_open(qw_fileio_writer **out, qw_fileio *io, const char *uri,
                             unsigned flags);
/* Buffered; errors are sticky (later appends and commit fail the same). */
qw_err qw_fileio_writer_append(qw_fileio_writer *w, const void *data, size_t len);
uint64_t qw_fileio_writer_offset(const qw_fileio_writer *w); /* bytes appended */
/* Flush, then visible under the final name (durable unless deferred).
 * Frees w whatever the result; on error nothing is left behind. */
qw_err qw_fileio_writer_commit(qw_fileio_writer *w);
void qw_fileio_writer_abort(qw_fileio_writer *w); /* discard; NULL is a no-op */

/* Local path of a local URI ("file:///a" -> "/a", plain path as is);
 * QW_UNSUPPORTED for other schemes. */
qw_err qw_fileio_local_path(const char *uri, char *out, size_t cap);

#endif

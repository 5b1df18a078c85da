/* fileio.c: whole-file operations behind a small ops table (fileio.h).
 * The local backend resolves file:// URIs and plain paths; writes are
 * temp + fsync + rename + dir fsync (core/file.h) after mkdir -p of the
 * parent. Prefix maps are applied before every operation. */
#include "core/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/file.h"

#define QW_MODULE "fileio"
#include "core/log.h"

#define MAX_MAPS 8

struct qw_fileio {
    const qw_fileio_ops *ops;
    void *ctx;
    void (*ctx_free)(void *ctx);
    int nmaps;
    char *from[MAX_MAPS], *to[MAX_MAPS];
};

const qw_fileio_ops *qw_fileio_backend(const qw_fileio *io, void **ctx)
{
    if (ctx)
        *ctx = io->ctx;
    return io->ops;
}

qw_err qw_fileio_local_path(const char *uri, char *out, size_t cap)
{
    const char *p = uri;
    if (strncmp(uri, "file://", 7) == 0) {
        p = uri + 7;
        if (p[0] != '/')
            return QW_UNSUPPORTED; /* file://host/... */
    } else if (strstr(uri, "://")) {
        return QW_UNSUPPORTED;
    }
    if (p[0] == 0)
        return QW_INVAL;
    if ((size_t)snprintf(out, cap, "%s", p) >= cap)
        return QW_TOO_LARGE;
    return QW_OK;
}

/* mkdir -p, deepest first: the directory of a new data file nearly always
 * exists already (one mkdir, EEXIST), where creating every component from
 * the root took one failing mkdir per level (8 per file in a warehouse
 * under /tmp: 1,670 system calls for one replay --persist). Only on
 * ENOENT are the parents made, then the directory again. */
static qw_err mkdirs_path(char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return QW_OK;
    if (errno != ENOENT)
        return QW_IO;
    char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return QW_IO;
    *slash = 0;
    qw_err e = mkdirs_path(path);
    *slash = '/';
    if (e != QW_OK)
        return e;
    return mkdir(path, 0755) == 0 || errno == EEXIST ? QW_OK : QW_IO;
}

static qw_err local_mkdirs(void *ctx, const char *uri)
{
    (void)ctx;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    return e != QW_OK ? e : mkdirs_path(p);
}

static qw_err local_write(void *ctx, const char *uri, const void *data, size_t len)
{
    (void)ctx;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    char *slash = strrchr(p, '/');
    if (slash && slash != p) {
        *slash = 0;
        e = mkdirs_path(p);
        *slash = '/';
        if (e != QW_OK)
            return e;
    }
    char err[256];
    e = qw_file_write_atomic(p, data, len, err, sizeof(err));
    if (e != QW_OK)
        QW_LOG(WARN, "write failed: %s", err);
    return e;
}

static qw_err local_read(void *ctx, const char *uri, size_t max, uint8_t **out, size_t *len)
{
    (void)ctx;
    *out = NULL;
    *len = 0;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? QW_NOT_FOUND : QW_IO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return QW_IO;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return QW_TOO_LARGE;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = qw_malloc(n + 1);
    if (!buf) {
        close(fd);
        return QW_NOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (got != n) {
        qw_free(buf);
        return QW_IO;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return QW_OK;
}

static qw_err local_stat(void *ctx, const char *uri, qw_fileio_info *out)
{
    (void)ctx;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    struct stat st;
    if (stat(p, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? QW_NOT_FOUND : QW_IO;
    out->size = (uint64_t)st.st_size;
    out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return QW_OK;
}

static qw_err local_read_range(void *ctx, const char *uri, uint64_t off, void *buf, size_t len,
                               size_t *got)
{
    (void)ctx;
    *got = 0;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? QW_NOT_FOUND : QW_IO;
    uint8_t *b = buf;
    while (*got < len) {
        ssize_t k = pread(fd, b + *got, len - *got, (off_t)(off + *got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            e = QW_IO;
            break;
        }
        if (k == 0)
            break;
        *got += (size_t)k;
    }
    close(fd);
    return e;
}

/* The parent directory of path: fsync it (a rename is durable once the
 * directory is). */
static int fsync_parent(const char *path)
{
    char d[QW_FILEIO_PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash)
        snprintf(d, sizeof d, ".");
    else if (slash == d)
        d[1] = 0;
    else
        *slash = 0;
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

typedef struct local_stream {
    int fd;
    char path[QW_FILEIO_PATH_MAX];
    char tmp[QW_FILEIO_PATH_MAX + 16];
} local_stream;

static qw_err local_stream_fail(local_stream *ls, const char *what)
{
    char eb[128];
    QW_LOG(WARN, "%s %s: %s", what, ls->tmp, qw_errno_str(errno, eb, sizeof eb));
    if (ls->fd >= 0)
        close(ls->fd);
    unlink(ls->tmp);
    qw_free(ls);
    return QW_IO;
}

static qw_err local_stream_open(void *ctx, const char *uri, void **stream)
{
    (void)ctx;
    local_stream *ls = qw_calloc(1, sizeof *ls);
    if (!ls)
        return QW_NOMEM;
    ls->fd = -1;
    qw_err e = qw_fileio_local_path(uri, ls->path, sizeof ls->path);
    if (e != QW_OK) {
        qw_free(ls);
        return e;
    }
    char *slash = strrchr(ls->path, '/');
    if (slash && slash != ls->path) {
        *slash = 0;
        e = mkdirs_path(ls->path);
        *slash = '/';
        if (e != QW_OK) {
            qw_free(ls);
            return e;
        }
    }
    snprintf(ls->tmp, sizeof ls->tmp, "%s.tmp.XXXXXX", ls->path);
    ls->fd = mkostemp(ls->tmp, O_CLOEXEC);
    if (ls->fd < 0) {
        char eb[128];
        QW_LOG(WARN, "create %s: %s", ls->tmp, qw_errno_str(errno, eb, sizeof eb));
        qw_free(ls);
        return QW_IO;
    }
    if (fchmod(ls->fd, 0644) != 0)
        return local_stream_fail(ls, "chmod");
    *stream = ls;
    return QW_OK;
}

static qw_err local_stream_append(void *ctx, void *stream, const void *data, size_t len)
{
    (void)ctx;
    local_stream *ls = stream;
    const uint8_t *b = data;
    while (len) {
        ssize_t k = write(ls->fd, b, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            char eb[128];
            QW_LOG(WARN, "write %s: %s", ls->tmp, qw_errno_str(errno, eb, sizeof eb));
            return QW_IO;
        }
        b += k;
        len -= (size_t)k;
    }
    return QW_OK;
}

static qw_err local_stream_commit(void *ctx, void *stream, int deferred)
{
    (void)ctx;
    local_stream *ls = stream;
    if (deferred)
        (void)sync_file_range(ls->fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* start writeback now */
    else if (fsync(ls->fd) != 0)
        return local_stream_fail(ls, "fsync");
    int rc = close(ls->fd);
    ls->fd = -1;
    if (rc != 0)
        return local_stream_fail(ls, "close");
    if (rename(ls->tmp, ls->path) != 0)
        return local_stream_fail(ls, "rename");
    if (!deferred && fsync_parent(ls->path) != 0) {
        char eb[128];
        QW_LOG(WARN, "fsync dir of %s: %s", ls->path, qw_errno_str(errno, eb, sizeof eb));
        unlink(ls->path);
        qw_free(ls);
        return QW_IO;
    }
    qw_free(ls);
    return QW_OK;
}

static void local_stream_abort(void *ctx, void *stream)
{
    (void)ctx;
    local_stream *ls = stream;
    if (!ls)
        return;
    if (ls->fd >= 0)
        close(ls->fd);
    unlink(ls->tmp);
    qw_free(ls);
}

static qw_err local_sync(void *ctx, const char *uri)
{
    (void)ctx;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0 || fsync_parent(p) != 0) {
        char eb[128];
        QW_LOG(WARN, "fsync %s: %s", p, qw_errno_str(errno, eb, sizeof eb));
        if (fd >= 0)
            close(fd);
        return errno == ENOENT ? QW_NOT_FOUND : QW_IO;
    }
    close(fd);
    return QW_OK;
}

static qw_err local_remove(void *ctx, const char *uri)
{
    (void)ctx;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    if (unlink(p) != 0)
        return errno == ENOENT ? QW_NOT_FOUND : QW_IO;
    return QW_OK;
}

/* dir: local path; base: the same directory in the caller's URI form. */
static qw_err list_dir(const char *dir, const char *base, int depth,
                       int (*fn)(void *, const char *, uint64_t), void *fctx, int *stop)
{
    if (depth > 32)
        return QW_TOO_DEEP;
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return errno == ENOENT ? QW_NOT_FOUND : QW_IO;
    qw_err e = QW_OK;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (e == QW_OK && !*stop && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            char p[QW_FILEIO_PATH_MAX], u[QW_FILEIO_PATH_MAX];
            struct stat st;
            if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p) ||
                (size_t)snprintf(u, sizeof(u), "%s/%s", base, name) >= sizeof(u))
                e = QW_TOO_LARGE;
            else if (lstat(p, &st) != 0)
                e = QW_IO;
            else if (S_ISDIR(st.st_mode))
                e = list_dir(p, u, depth + 1, fn, fctx, stop);
            else if (S_ISREG(st.st_mode) && fn(fctx, u, (uint64_t)st.st_size))
                *stop = 1;
        }
        free(ents[i]); /* allocated by scandir (libc) */
    }
    free(ents);
    return e;
}

static qw_err local_list(void *ctx, const char *uri, int (*fn)(void *, const char *, uint64_t),
                         void *fctx)
{
    (void)ctx;
    char p[QW_FILEIO_PATH_MAX], base[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    size_t n = strlen(p), bn = strlen(uri);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = 0;
    while (bn > 1 && uri[bn - 1] == '/')
        bn--;
    snprintf(base, sizeof(base), "%.*s", (int)bn, uri);
    int stop = 0;
    return list_dir(p, base, 0, fn, fctx, &stop);
}

static const qw_fileio_ops LOCAL = {
    .write = local_write,
    .read = local_read,
    .read_range = local_read_range,
    .stat = local_stat,
    .list = local_list,
    .remove = local_remove,
    .mkdirs = local_mkdirs,
    .stream_open = local_stream_open,
    .stream_append = local_stream_append,
    .stream_commit = local_stream_commit,
    .stream_abort = local_stream_abort,
    .sync = local_sync,
};

static qw_fileio LOCAL_IO = {.ops = &LOCAL}; /* io = NULL: local, no maps (never written) */

const qw_fileio_ops *qw_fileio_local_ops(void)
{
    return &LOCAL;
}

qw_err qw_fileio_create(qw_fileio **out, const qw_fileio_ops *ops, void *ctx)
{
    *out = qw_calloc(1, sizeof(**out));
    if (!*out)
        return QW_NOMEM;
    (*out)->ops = ops ? ops : &LOCAL;
    (*out)->ctx = ctx;
    return QW_OK;
}

void qw_fileio_destroy(qw_fileio *io)
{
    if (!io)
        return;
    for (int i = 0; i < io->nmaps; i++) {
        qw_free(io->from[i]);
        qw_free(io->to[i]);
    }
    if (io->ctx_free)
        io->ctx_free(io->ctx);
    qw_free(io);
}

void qw_fileio_set_ctx_free(qw_fileio *io, void (*fn)(void *ctx))
{
    io->ctx_free = fn;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = qw_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

qw_err qw_fileio_add_map(qw_fileio *io, const char *from, const char *to)
{
    if (!from || !to || !from[0])
        return QW_INVAL;
    if (io->nmaps >= MAX_MAPS)
        return QW_FULL;
    char *f = dup_str(from), *t = dup_str(to);
    if (!f || !t) {
        qw_free(f);
        qw_free(t);
        return QW_NOMEM;
    }
    io->from[io->nmaps] = f;
    io->to[io->nmaps] = t;
    io->nmaps++;
    return QW_OK;
}

qw_err qw_fileio_resolve(const qw_fileio *io, const char *uri, char *out, size_t cap)
{
    for (int i = 0; i < io->nmaps; i++) {
        size_t fl = strlen(io->from[i]);
        if (strncmp(uri, io->from[i], fl) == 0) {
            if ((size_t)snprintf(out, cap, "%s%s", io->to[i], uri + fl) >= cap)
                return QW_TOO_LARGE;
            return QW_OK;
        }
    }
    if ((size_t)snprintf(out, cap, "%s", uri) >= cap)
        return QW_TOO_LARGE;
    return QW_OK;
}

#define RESOLVE(uri)                                                                               \
    if (!io)                                                                                       \
        io = &LOCAL_IO;                                                                            \
    char r_[QW_FILEIO_PATH_MAX];                                                                   \
    qw_err re_ = qw_fileio_resolve(io, (uri), r_, sizeof(r_));                                     \
    if (re_ != QW_OK)                                                                              \
        return re_;

qw_err qw_fileio_write(qw_fileio *io, const char *uri, const void *data, size_t len)
{
    RESOLVE(uri);
    return io->ops->write(io->ctx, r_, data, len);
}

qw_err qw_fileio_read(qw_fileio *io, const char *uri, size_t max, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    RESOLVE(uri);
    return io->ops->read(io->ctx, r_, max, out, len);
}

qw_err qw_fileio_read_range(qw_fileio *io, const char *uri, uint64_t off, void *buf, size_t len)
{
    RESOLVE(uri);
    size_t got = 0;
    qw_err e = io->ops->read_range(io->ctx, r_, off, buf, len, &got);
    return e != QW_OK ? e : got == len ? QW_OK : QW_CORRUPT;
}

qw_err qw_fileio_prefetch(qw_fileio *io, const char *uri, uint64_t off, size_t len)
{
    RESOLVE(uri);
    if (io->ops->prefetch)
        io->ops->prefetch(io->ctx, r_, off, len);
    return QW_OK;
}

qw_err qw_fileio_stat(qw_fileio *io, const char *uri, qw_fileio_info *out)
{
    *out = (qw_fileio_info){0};
    RESOLVE(uri);
    return io->ops->stat(io->ctx, r_, out);
}

qw_err qw_fileio_exists(qw_fileio *io, const char *uri)
{
    qw_fileio_info fi;
    return qw_fileio_stat(io, uri, &fi);
}

qw_err qw_fileio_sync(qw_fileio *io, const char *uri)
{
    RESOLVE(uri);
    return io->ops->sync(io->ctx, r_);
}

/* ---- streaming writer: buffers appends into QW_FILEIO_CHUNK pieces ---- */

struct qw_fileio_writer {
    qw_fileio *io;
    void *st; /* the backend's stream */
    unsigned flags;
    qw_err err; /* sticky */
    uint64_t off;
    size_t n;
    uint8_t *buf; /* QW_FILEIO_CHUNK */
};

qw_err qw_fileio_writer_open(qw_fileio_writer **out, qw_fileio *io, const char *uri, unsigned flags)
{
    *out = NULL;
    RESOLVE(uri);
    qw_fileio_writer *w = qw_calloc(1, sizeof *w);
    if (!w)
        return QW_NOMEM;
    w->io = io;
    w->flags = flags;
    if (!(w->buf = qw_malloc(QW_FILEIO_CHUNK))) {
        qw_free(w);
        return QW_NOMEM;
    }
    qw_err e = io->ops->stream_open(io->ctx, r_, &w->st);
    if (e != QW_OK) {
        qw_free(w->buf);
        qw_free(w);
        return e;
    }
    *out = w;
    return QW_OK;
}

static qw_err wflush(qw_fileio_writer *w)
{
    if (w->n && w->err == QW_OK)
        w->err = w->io->ops->stream_append(w->io->ctx, w->st, w->buf, w->n);
    w->n = 0;
    return w->err;
}

qw_err qw_fileio_writer_append(qw_fileio_writer *w, const void *data, size_t len)
{
    const uint8_t *b = data;
    if (w->err != QW_OK)
        return w->err;
    w->off += len;
    while (len) {
        size_t k = QW_FILEIO_CHUNK - w->n;
        if (k > len)
            k = len;
        memcpy(w->buf + w->n, b, k);
        w->n += k;
        b += k;
        len -= k;
        if (w->n == QW_FILEIO_CHUNK && wflush(w) != QW_OK)
            return w->err;
    }
    return QW_OK;
}

uint64_t qw_fileio_writer_offset(const qw_fileio_writer *w)
{
    return w->off;
}

qw_err qw_fileio_writer_commit(qw_fileio_writer *w)
{
    qw_err e = wflush(w);
    if (e != QW_OK) {
        qw_fileio_writer_abort(w);
        return e;
    }
    e = w->io->ops->stream_commit(w->io->ctx, w->st, (w->flags & QW_FILEIO_DEFER_SYNC) != 0);
    qw_free(w->buf);
    qw_free(w);
    return e;
}

void qw_fileio_writer_abort(qw_fileio_writer *w)
{
    if (!w)
        return;
    w->io->ops->stream_abort(w->io->ctx, w->st);
    qw_free(w->buf);
    qw_free(w);
}

qw_err qw_fileio_list(qw_fileio *io, const char *uri,
                      int (*fn)(void *fctx, const char *uri, uint64_t size), void *fctx)
{
    RESOLVE(uri);
    return io->ops->list(io->ctx, r_, fn, fctx);
}

qw_err qw_fileio_remove(qw_fileio *io, const char *uri)
{
    RESOLVE(uri);
    return io->ops->remove(io->ctx, r_);
}

qw_err qw_fileio_mkdirs(qw_fileio *io, const char *uri)
{
    RESOLVE(uri);
    return io->ops->mkdirs(io->ctx, r_);
}

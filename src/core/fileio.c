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
#include "core/file.h"

#define QW_MODULE "fileio"
#include "core/log.h"

#define MAX_MAPS 8

struct qw_fileio {
    const qw_fileio_ops *ops;
    void *ctx;
    int nmaps;
    char *from[MAX_MAPS], *to[MAX_MAPS];
};

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

static qw_err mkdirs_path(char *path)
{
    size_t n = strlen(path);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0)
            continue;
        char c = path[i];
        path[i] = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            path[i] = c;
            return QW_IO;
        }
        path[i] = c;
    }
    return QW_OK;
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

static qw_err local_exists(void *ctx, const char *uri)
{
    (void)ctx;
    char p[QW_FILEIO_PATH_MAX];
    qw_err e = qw_fileio_local_path(uri, p, sizeof(p));
    if (e != QW_OK)
        return e;
    struct stat st;
    return stat(p, &st) == 0 ? QW_OK : QW_NOT_FOUND;
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

static const qw_fileio_ops LOCAL = {local_write, local_read,   local_exists,
                                    local_list,  local_remove, local_mkdirs};

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
    qw_free(io);
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

qw_err qw_fileio_exists(qw_fileio *io, const char *uri)
{
    RESOLVE(uri);
    return io->ops->exists(io->ctx, r_);
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

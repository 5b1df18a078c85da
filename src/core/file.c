/* file.c: durable whole-file writes. The data goes to a temporary file in
 * the target's directory, which is fsynced, renamed over the target, and
 * the directory fsynced: a crash leaves either the old file or the new one,
 * never a torn one. Used for checkpoints, model files and summaries. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

#define SETERR(...)                                                                                \
    do {                                                                                           \
        if (errbuf && errlen)                                                                      \
            snprintf(errbuf, errlen, __VA_ARGS__);                                                 \
    } while (0)

static qw_err io_fail(const char *what, const char *path, char *errbuf, size_t errlen)
{
    int e = errno;
    SETERR("%s %s: %s", what, path, strerror(e));
    return QW_IO;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* fsync the directory holding path so the rename itself is durable. */
static int fsync_dir(const char *path, char *dir, size_t dirlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, dirlen, ".");
    else if (slash == path)
        snprintf(dir, dirlen, "/");
    else
        snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

qw_err qw_file_write_atomic(const char *path, const void *data, size_t len, char *errbuf,
                            size_t errlen)
{
    const uint8_t *buf = data;
    qw_err e;
    size_t plen = strlen(path);
    char *tmp = qw_malloc(plen + 16);
    if (!tmp) {
        SETERR("out of memory");
        return QW_NOMEM;
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        e = io_fail("create", tmp, errbuf, errlen);
        qw_free(tmp);
        return e;
    }
    const char *what = NULL;
    if (fchmod(fd, 0644) != 0)
        what = "chmod";
    else if (write_all(fd, buf, len) != 0)
        what = "write";
    else if (fsync(fd) != 0)
        what = "fsync";
    if (what) {
        e = io_fail(what, tmp, errbuf, errlen);
        close(fd);
        unlink(tmp);
        qw_free(tmp);
        return e;
    }
    if (close(fd) != 0) {
        e = io_fail("close", tmp, errbuf, errlen);
        unlink(tmp);
        qw_free(tmp);
        return e;
    }
    if (rename(tmp, path) != 0) {
        e = io_fail("rename to", path, errbuf, errlen);
        unlink(tmp);
        qw_free(tmp);
        return e;
    }
    qw_free(tmp);
    char dir[4096];
    if (fsync_dir(path, dir, sizeof dir) != 0)
        return io_fail("fsync directory", dir, errbuf, errlen);
    return QW_OK;
}

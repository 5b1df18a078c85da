/* file.c: durable whole-file writes. The data goes to a temporary file in
 * the target's directory, which is fsynced, renamed over the target, and
 * the directory fsynced: a crash leaves either the old file or the new one,
 * never a torn one. Used for checkpoints, model files and summaries.
 *
 * Only regular files are replaced. The path is resolved first:
 *   - /dev/stdin|stdout|stderr, /dev/fd/N, /proc/self/fd/N (also when a
 *     symlink leads there): written to descriptor N as it is, at its
 *     current offset (so `--summary /dev/stdout >> log` appends);
 *   - symlinks are followed hop by hop (at most 40) to their target, which
 *     is replaced and the link kept (a dangling link creates its target);
 *   - a FIFO or character device is opened and written in place (renaming
 *     over /dev/null as root would replace the device with a file; a FIFO
 *     would turn into a file nobody reads); opening a FIFO waits for its
 *     reader, as a shell redirection does;
 *   - anything else that exists and is not a regular file (directory,
 *     socket, block device) is refused with QW_IO. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

static qw_err io_fail(const char *what, const char *path, char *errbuf, size_t errlen)
{
    int e = errno;
    char why[128]; /* thread-safe: writer and committer threads call this too */
    QW_SETERR(errbuf, errlen, "%s %s: %s", what, path, qw_errno_str(e, why, sizeof why));
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

static qw_err replace_atomic(const char *path, const void *data, size_t len, char *errbuf,
                             size_t errlen)
{
    const uint8_t *buf = data;
    qw_err e;
    size_t plen = strlen(path);
    char *tmp = qw_malloc(plen + 16);
    if (!tmp) {
        QW_SETERR(errbuf, errlen, "out of memory");
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

/* The descriptor a path names by itself (/dev/stdout, /dev/fd/3,
 * /proc/self/fd/3), or -1. */
static int path_fd(const char *p)
{
    static const char *const std[3] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
    for (int i = 0; i < 3; i++)
        if (strcmp(p, std[i]) == 0)
            return i;
    const char *d = NULL;
    if (strncmp(p, "/dev/fd/", 8) == 0)
        d = p + 8;
    else if (strncmp(p, "/proc/self/fd/", 14) == 0)
        d = p + 14;
    if (!d || !*d)
        return -1;
    int n = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || n > 100000000)
            return -1;
        n = n * 10 + (*d - '0');
    }
    return n;
}

/* Follow symlinks from path to the final name (written into out). Returns
 * the descriptor when the chain ends at a descriptor path (see path_fd),
 * -1 otherwise, -2 on error (errno set). */
static int resolve(const char *path, char *out, size_t outlen)
{
    if (strlen(path) >= outlen) {
        errno = ENAMETOOLONG;
        return -2;
    }
    snprintf(out, outlen, "%s", path);
    for (int hop = 0;; hop++) {
        int fd = path_fd(out);
        if (fd >= 0)
            return fd;
        struct stat st;
        if (lstat(out, &st) != 0)
            return errno == ENOENT ? -1 : -2;
        if (!S_ISLNK(st.st_mode))
            return -1;
        if (hop == 40) {
            errno = ELOOP;
            return -2;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(out, target, sizeof target - 1);
        if (n < 0)
            return -2;
        target[n] = '\0';
        const char *slash = strrchr(out, '/');
        size_t dlen = target[0] == '/' || !slash ? 0 : (size_t)(slash - out) + 1;
        if (dlen + (size_t)n >= outlen) {
            errno = ENAMETOOLONG;
            return -2;
        }
        memmove(out + dlen, target, (size_t)n + 1); /* keep "dir/" of a relative link */
    }
}

static qw_err write_fd(int fd, const char *path, const uint8_t *buf, size_t len, char *errbuf,
                       size_t errlen)
{
    if (write_all(fd, buf, len) != 0)
        return io_fail("write", path, errbuf, errlen);
    return QW_OK;
}

qw_err qw_file_write_atomic(const char *path, const void *data, size_t len, char *errbuf,
                            size_t errlen)
{
    char real[PATH_MAX];
    int fd = resolve(path, real, sizeof real);
    if (fd == -2)
        return io_fail("resolve", path, errbuf, errlen);
    if (fd >= 0)
        return write_fd(fd, path, data, len, errbuf, errlen);
    struct stat st;
    if (stat(real, &st) != 0) {
        if (errno != ENOENT)
            return io_fail("stat", real, errbuf, errlen);
        return replace_atomic(real, data, len, errbuf, errlen);
    }
    if (S_ISREG(st.st_mode))
        return replace_atomic(real, data, len, errbuf, errlen);
    if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
        QW_SETERR(errbuf, errlen, "%s: not a regular file, FIFO or character device", real);
        return QW_IO;
    }
    fd = open(real, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return io_fail("open", real, errbuf, errlen);
    qw_err e = write_fd(fd, real, data, len, errbuf, errlen);
    if (close(fd) != 0 && e == QW_OK)
        e = io_fail("close", real, errbuf, errlen);
    return e;
}

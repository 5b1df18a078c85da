/* linesrc.c: newline-delimited input from a file, a zstd file or stdin.
 *
 * One buffer holds the current line(s); it starts at 1 MiB and grows (by
 * doubling) only while a single line is longer than what fits, up to
 * max_line + 1. A line longer than max_line is skipped to its newline
 * and reported with QW_TOO_LARGE, never split. zstd input (detected by its
 * magic bytes, so the file name does not matter) streams through
 * ZSTD_decompressStream; a truncated frame at end of input is QW_CORRUPT.
 * NUL bytes are ordinary bytes here: the parser rejects them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/alloc.h"
#include "ingest/ingest.h"

#define CHUNK (1u << 20)

struct qw_linesrc {
    int fd, own_fd, eof, zstd, skipping;
    ZSTD_DCtx *dctx;
    size_t zframe_left; /* ZSTD_decompressStream's last hint: 0 = frame complete */
    unsigned char *zin;
    ZSTD_inBuffer zib;
    char *buf;
    size_t cap, start, end, max_line, skipped_len;
    uint64_t bytes;
    int64_t file_pos, file_size;
    char err[160];
};

qw_err qw_linesrc_open(qw_linesrc **out, const char *path, size_t max_line)
{
    qw_linesrc *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->max_line = max_line ? max_line : (64u << 20);
    s->file_size = -1;
    if (strcmp(path, "-") == 0) {
        s->fd = 0;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            qw_free(s);
            return QW_IO;
        }
        s->own_fd = 1;
        struct stat st;
        if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode))
            s->file_size = st.st_size;
    }
    s->cap = CHUNK;
    s->buf = qw_malloc(s->cap + 1);
    s->zin = qw_malloc(CHUNK);
    if (!s->buf || !s->zin) {
        qw_linesrc_close(s);
        return QW_NOMEM;
    }
    /* Sniff the zstd magic from the first read. */
    ssize_t n;
    do
        n = read(s->fd, s->zin, CHUNK);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        qw_linesrc_close(s);
        return QW_IO;
    }
    s->file_pos = n;
    static const unsigned char magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    if (n >= 4 && memcmp(s->zin, magic, 4) == 0) {
        s->zstd = 1;
        s->dctx = ZSTD_createDCtx();
        if (!s->dctx) {
            qw_linesrc_close(s);
            return QW_NOMEM;
        }
        s->zib = (ZSTD_inBuffer){s->zin, (size_t)n, 0};
    } else {
        memcpy(s->buf, s->zin, (size_t)n);
        s->end = (size_t)n;
        if (n == 0)
            s->eof = 1;
    }
    *out = s;
    return QW_OK;
}

void qw_linesrc_close(qw_linesrc *s)
{
    if (!s)
        return;
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    ZSTD_freeDCtx(s->dctx);
    qw_free(s->zin);
    qw_free(s->buf);
    qw_free(s);
}

const char *qw_linesrc_errmsg(const qw_linesrc *s)
{
    return s->err;
}

uint64_t qw_linesrc_bytes(const qw_linesrc *s)
{
    return s->bytes;
}

int64_t qw_linesrc_file_pos(const qw_linesrc *s)
{
    return s->file_pos;
}

int64_t qw_linesrc_file_size(const qw_linesrc *s)
{
    return s->file_size;
}

/* Append more input after s->end. Returns QW_OK (maybe 0 bytes at eof). */
static qw_err fill(qw_linesrc *s)
{
    if (s->start > 0) { /* compact */
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->end -= s->start;
        s->start = 0;
    }
    if (s->end == s->cap) {
        size_t ncap = s->cap * 2;
        if (ncap > s->max_line + 1)
            ncap = s->max_line + 1;
        if (ncap <= s->cap) { /* full of one over-long line: drop it, keep skipping */
            s->skipping = 1;
            s->skipped_len += s->end;
            s->end = 0;
        } else {
            char *nb = qw_realloc(s->buf, ncap + 1);
            if (!nb)
                return QW_NOMEM;
            s->buf = nb;
            s->cap = ncap;
        }
    }
    size_t room = s->cap - s->end;
    if (!s->zstd) {
        ssize_t n;
        do
            n = read(s->fd, s->buf + s->end, room);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            snprintf(s->err, sizeof s->err, "read: %s", strerror(errno));
            return QW_IO;
        }
        if (n == 0)
            s->eof = 1;
        s->end += (size_t)n;
        s->file_pos += n;
        return QW_OK;
    }
    for (;;) {
        if (s->zib.pos == s->zib.size) {
            ssize_t n;
            do
                n = read(s->fd, s->zin, CHUNK);
            while (n < 0 && errno == EINTR);
            if (n < 0) {
                snprintf(s->err, sizeof s->err, "read: %s", strerror(errno));
                return QW_IO;
            }
            if (n == 0) {
                s->eof = 1;
                if (s->zframe_left) {
                    snprintf(s->err, sizeof s->err, "truncated zstd stream");
                    return QW_CORRUPT;
                }
                return QW_OK;
            }
            s->file_pos += n;
            s->zib = (ZSTD_inBuffer){s->zin, (size_t)n, 0};
        }
        ZSTD_outBuffer ob = {s->buf + s->end, room, 0};
        size_t r = ZSTD_decompressStream(s->dctx, &ob, &s->zib);
        if (ZSTD_isError(r)) {
            snprintf(s->err, sizeof s->err, "zstd: %s", ZSTD_getErrorName(r));
            s->eof = 1;
            return QW_CORRUPT;
        }
        s->zframe_left = r;
        s->end += ob.pos;
        if (ob.pos > 0)
            return QW_OK;
    }
}

qw_err qw_linesrc_next(qw_linesrc *s, const char **line, size_t *len)
{
    size_t scan = s->start;
    for (;;) {
        char *nl = memchr(s->buf + scan, '\n', s->end - scan);
        if (nl) {
            size_t n = (size_t)(nl - (s->buf + s->start));
            char *l = s->buf + s->start;
            s->start += n + 1;
            s->bytes += n + 1;
            if (s->skipping) {
                s->skipping = 0;
                s->bytes += s->skipped_len;
                *len = s->skipped_len + n;
                s->skipped_len = 0;
                *line = NULL;
                return QW_TOO_LARGE;
            }
            if (n > s->max_line) {
                *len = n;
                *line = NULL;
                return QW_TOO_LARGE;
            }
            l[n] = '\0';
            *line = l;
            *len = n;
            return QW_OK;
        }
        if (s->eof) {
            size_t n = s->end - s->start;
            if (n == 0 && !s->skipping)
                return QW_NOT_FOUND;
            char *l = s->buf + s->start;
            s->start = s->end;
            s->bytes += n;
            if (s->skipping || n > s->max_line) {
                s->bytes += s->skipped_len;
                *len = s->skipped_len + n;
                s->skipping = 0;
                s->skipped_len = 0;
                *line = NULL;
                return QW_TOO_LARGE;
            }
            l[n] = '\0';
            *line = l;
            *len = n;
            return QW_OK;
        }
        size_t consumed_scan = s->end - s->start; /* rescan only new bytes */
        qw_err e = fill(s);
        if (e != QW_OK)
            return e;
        scan = s->start + (s->skipping ? 0 : consumed_scan);
        if (scan > s->end)
            scan = s->start;
    }
}

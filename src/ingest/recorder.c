/* recorder.c: hourly-rotated zstd NDJSON recording of received messages
 * (see recorder.h). */
#define QW_MODULE "record"
#include "ingest/recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"

struct qw_recorder {
    char dir[512];
    int level;
    int fd;       /* -1: none open */
    int failed;   /* errors on this hour's file: skip until rotation */
    int64_t hour; /* UTC hour (unix s / 3600) of the open file */
    ZSTD_CCtx *z;
    char *out; /* compressed output buffer */
    size_t outcap;
    int dirty; /* data given to zstd since the last flush */
    int64_t last_flush_ns;
    qw_ratelimit rl;
    qw_recorder_stats st;
};

static void fail(qw_recorder *r, const char *what)
{
    r->st.errors++;
    r->failed = 1;
    if (qw_log_ratelimit(&r->rl))
        QW_LOG(ERROR, "%s %s: %s (recording paused until the next hour)", what, r->st.path,
               strerror(errno));
}

static int write_all(qw_recorder *r, const char *b, size_t n)
{
    while (n) {
        ssize_t w = write(r->fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
        r->st.bytes_out += (uint64_t)w;
    }
    return 0;
}

/* Run zstd with the given directive until it reports done. */
static int pump(qw_recorder *r, ZSTD_inBuffer *in, ZSTD_EndDirective d)
{
    for (;;) {
        ZSTD_outBuffer ob = {r->out, r->outcap, 0};
        size_t left = ZSTD_compressStream2(r->z, &ob, in, d);
        if (ZSTD_isError(left)) {
            errno = EIO;
            return -1;
        }
        if (ob.pos && write_all(r, r->out, ob.pos) != 0)
            return -1;
        if (d == ZSTD_e_continue ? in->pos == in->size : left == 0)
            return 0;
    }
}

static void close_file(qw_recorder *r)
{
    if (r->fd < 0)
        return;
    if (!r->failed) {
        ZSTD_inBuffer in = {NULL, 0, 0};
        if (pump(r, &in, ZSTD_e_end) != 0)
            fail(r, "cannot finish");
        else if (fsync(r->fd) != 0)
            fail(r, "cannot fsync");
    }
    close(r->fd);
    r->fd = -1;
    r->dirty = 0;
    ZSTD_CCtx_reset(r->z, ZSTD_reset_session_only);
}

static int ensure_file(qw_recorder *r, int64_t recv_ns)
{
    int64_t hour = (recv_ns > 0 ? recv_ns : qw_now_wall_ns()) / QW_NS_PER_SEC / 3600;
    if (r->fd >= 0 && hour == r->hour)
        return r->failed ? -1 : 0;
    if (r->fd < 0 && r->failed && hour == r->hour)
        return -1;
    close_file(r);
    r->hour = hour;
    r->failed = 0;
    time_t t = (time_t)(hour * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(r->st.path, sizeof r->st.path, "%s/quotewatch-%04d%02d%02d-%02d.ndjson.zst", r->dir,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
    r->fd = open(r->st.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (r->fd < 0) {
        fail(r, "cannot open");
        return -1;
    }
    r->st.files++;
    QW_LOG(INFO, "recording to %s", r->st.path);
    return 0;
}

qw_err qw_recorder_open(qw_recorder **out, const char *dir, int level, char *errbuf, size_t errlen)
{
    if (strlen(dir) >= 512) {
        snprintf(errbuf, errlen, "--record: path too long");
        return QW_INVAL;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(errbuf, errlen, "--record: cannot create %s: %s", dir, strerror(errno));
        return QW_IO;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) != 0) {
        snprintf(errbuf, errlen, "--record: %s is not a writable directory", dir);
        return QW_IO;
    }
    qw_recorder *r = qw_calloc(1, sizeof *r);
    if (!r)
        return QW_NOMEM;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    r->fd = -1;
    r->hour = -1;
    r->level = level ? level : 3;
    r->outcap = ZSTD_CStreamOutSize();
    r->out = qw_malloc(r->outcap);
    r->z = ZSTD_createCCtx();
    r->rl = (qw_ratelimit){.first = 3, .every = 1000};
    if (!r->out || !r->z) {
        ZSTD_freeCCtx(r->z);
        qw_free(r->out);
        qw_free(r);
        return QW_NOMEM;
    }
    ZSTD_CCtx_setParameter(r->z, ZSTD_c_compressionLevel, r->level);
    r->last_flush_ns = qw_now_mono_ns();
    *out = r;
    return QW_OK;
}

static qw_err put(qw_recorder *r, int64_t recv_ns, const char *b, size_t n)
{
    if (ensure_file(r, recv_ns) != 0)
        return QW_IO;
    ZSTD_inBuffer in = {b, n, 0};
    if (pump(r, &in, ZSTD_e_continue) != 0) {
        fail(r, "cannot write");
        return QW_IO;
    }
    r->dirty = 1;
    r->st.bytes_in += n;
    return QW_OK;
}

qw_err qw_recorder_connect(qw_recorder *r, int64_t recv_ns, uint64_t conn, const char *url)
{
    char line[800];
    int k = snprintf(line, sizeof line,
                     "{\"recv_ns\":%lld,\"event\":\"connect\",\"conn\":%llu,\"url\":\"",
                     (long long)recv_ns, (unsigned long long)conn);
    for (const char *u = url; *u && k < (int)sizeof line - 8; u++)
        if (*u != '"' && *u != '\\' && (unsigned char)*u >= 0x20)
            line[k++] = *u;
    k += snprintf(line + k, sizeof line - (size_t)k, "\"}\n");
    r->st.lines++;
    return put(r, recv_ns, line, (size_t)k);
}

qw_err qw_recorder_msg(qw_recorder *r, int64_t recv_ns, const char *msg, size_t len)
{
    char head[64];
    r->st.messages++;
    r->st.lines++;
    if (!memchr(msg, '\n', len)) {
        int k = snprintf(head, sizeof head, "{\"recv_ns\":%lld,\"msg\":", (long long)recv_ns);
        qw_err e = put(r, recv_ns, head, (size_t)k);
        if (e == QW_OK)
            e = put(r, recv_ns, msg, len);
        if (e == QW_OK)
            e = put(r, recv_ns, "}\n", 2);
        return e;
    }
    int k = snprintf(head, sizeof head, "{\"recv_ns\":%lld,\"msg_hex\":\"", (long long)recv_ns);
    qw_err e = put(r, recv_ns, head, (size_t)k);
    static const char hx[] = "0123456789abcdef";
    char buf[512];
    size_t bn = 0;
    for (size_t i = 0; i < len && e == QW_OK; i++) {
        buf[bn++] = hx[(unsigned char)msg[i] >> 4];
        buf[bn++] = hx[(unsigned char)msg[i] & 15];
        if (bn == sizeof buf) {
            e = put(r, recv_ns, buf, bn);
            bn = 0;
        }
    }
    if (e == QW_OK && bn)
        e = put(r, recv_ns, buf, bn);
    if (e == QW_OK)
        e = put(r, recv_ns, "\"}\n", 3);
    return e;
}

void qw_recorder_tick(qw_recorder *r, int64_t mono_ns)
{
    if (!r || !r->dirty || r->fd < 0 || r->failed || mono_ns - r->last_flush_ns < QW_NS_PER_SEC)
        return;
    r->last_flush_ns = mono_ns;
    ZSTD_inBuffer in = {NULL, 0, 0};
    if (pump(r, &in, ZSTD_e_flush) != 0)
        fail(r, "cannot flush");
    r->dirty = 0;
}

qw_err qw_recorder_close(qw_recorder *r)
{
    if (!r)
        return QW_OK;
    close_file(r);
    qw_err e = r->st.errors ? QW_IO : QW_OK;
    ZSTD_freeCCtx(r->z);
    qw_free(r->out);
    qw_free(r);
    return e;
}

const qw_recorder_stats *qw_recorder_get_stats(const qw_recorder *r)
{
    return &r->st;
}

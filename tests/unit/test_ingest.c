/* test_ingest.c: line framing of capture formats, and the line source
 * (plain, zstd, over-long lines, missing final newline, truncated zstd). */
#include <unistd.h>
#include <zstd.h>

#include "harness.h"
#include "ingest/ingest.h"

TEST(frame_formats)
{
    qw_frame fr;
    const char *raw = "{\"type\":\"heartbeat\"}";
    qw_frame_line(raw, strlen(raw), &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_MSG);
    ASSERT_TRUE(fr.msg == raw && fr.len == strlen(raw));
    ASSERT_EQ(fr.recv_ns, 0);

    const char *rec = "{\"recv_ns\":1618677817020616000,\"msg\":{\"type\":\"x\"}}";
    qw_frame_line(rec, strlen(rec), &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_MSG);
    ASSERT_EQ(fr.recv_ns, 1618677817020616000);
    ASSERT_EQ(fr.len, 12);
    ASSERT_TRUE(memcmp(fr.msg, "{\"type\":\"x\"}", 12) == 0);

    const char *con = "{\"recv_ns\":5,\"event\":\"connect\",\"url\":\"ws://x\"}";
    qw_frame_line(con, strlen(con), &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_CONNECT);

    const char *cf = "1618677817.0208309: {\"type\":\"x\"}";
    qw_frame_line(cf, strlen(cf), &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_MSG);
    ASSERT_EQ(fr.recv_ns, 1618677817020830900);
    ASSERT_EQ(fr.len, 12);

    const char *cc = "wss://ws-feed.pro.coinbase.com <-> 1618677816.8434298";
    qw_frame_line(cc, strlen(cc), &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_CONNECT);
    const char *cs =
        "wss://ws-feed.pro.coinbase.com <- 1618677817.020616: {\"type\":\"subscribe\"}";
    qw_frame_line(cs, strlen(cs), &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_META);

    const char *junk = "12345 not a capture";
    qw_frame_line(junk, strlen(junk), &fr);
    ASSERT_EQ(fr.kind, QW_FRAME_MSG); /* left for the parser to reject */
    ASSERT_TRUE(fr.msg == junk);
}

static char *write_tmp(const void *data, size_t n)
{
    static char path[64];
    strcpy(path, "/tmp/qwtest_ingest_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n)
        abort();
    close(fd);
    return path;
}

static void read_all(const char *path, size_t max_line, int *nlines, int *ntoo, size_t *bytes,
                     qw_err *last)
{
    qw_linesrc *s;
    *nlines = *ntoo = 0;
    if (qw_linesrc_open(&s, path, max_line) != QW_OK)
        abort();
    const char *l;
    size_t n;
    qw_err e;
    while ((e = qw_linesrc_next(s, &l, &n)) == QW_OK || e == QW_TOO_LARGE) {
        if (e == QW_OK)
            (*nlines)++;
        else
            (*ntoo)++;
    }
    *last = e;
    *bytes = qw_linesrc_bytes(s);
    qw_linesrc_close(s);
}

TEST(linesrc_plain_and_long_lines)
{
    size_t big = 3u << 20; /* 3 MiB line: grows the buffer past 1 MiB */
    size_t total = big + 100;
    char *data = malloc(total);
    size_t o = 0;
    o += (size_t)sprintf(data + o, "a\n\nbb\n");
    memset(data + o, 'x', big);
    o += big;
    data[o++] = '\n';
    o += (size_t)sprintf(data + o, "last-without-newline");
    char *p = write_tmp(data, o);
    int nl, nt;
    size_t bytes;
    qw_err last;
    read_all(p, 0, &nl, &nt, &bytes, &last);
    ASSERT_EQ(nl, 5);
    ASSERT_EQ(nt, 0);
    ASSERT_EQ(bytes, o);
    ASSERT_ERR(QW_NOT_FOUND, last);
    read_all(p, 1024 * 1024, &nl, &nt, &bytes, &last); /* the big line is now too large */
    ASSERT_EQ(nl, 4);
    ASSERT_EQ(nt, 1);
    ASSERT_EQ(bytes, o);
    unlink(p);
    free(data);
}

TEST(linesrc_zstd_and_truncated)
{
    char plain[4096];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(plain + n, "{\"line\":%d}\n", i);
    size_t cap = ZSTD_compressBound(n);
    char *z = malloc(cap);
    size_t zn = ZSTD_compress(z, cap, plain, n, 3);
    ASSERT_TRUE(!ZSTD_isError(zn));
    char *p = write_tmp(z, zn);
    int nl, nt;
    size_t bytes;
    qw_err last;
    read_all(p, 0, &nl, &nt, &bytes, &last);
    ASSERT_EQ(nl, 100);
    ASSERT_EQ(bytes, n);
    ASSERT_ERR(QW_NOT_FOUND, last);
    unlink(p);
    p = write_tmp(z, zn - 7); /* truncated frame */
    read_all(p, 0, &nl, &nt, &bytes, &last);
    ASSERT_ERR(QW_CORRUPT, last);
    ASSERT_TRUE(nl < 100);
    unlink(p);
    free(z);
}

TEST(linesrc_missing_file)
{
    qw_linesrc *s;
    ASSERT_ERR(QW_IO, qw_linesrc_open(&s, "/nonexistent/qw", 0));
}

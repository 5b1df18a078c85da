/* test_objstore.c: the object-store module: the XML scanner and URI
 * splitting (always), and the S3 client and fileio backend against a real
 * S3-compatible server when QW_TEST_S3_ENDPOINT is set (tests/e2e/
 * test_objstore_client.sh starts one and runs the s3live_* tests; without
 * it they skip). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "harness.h"
#include "objstore/objstore.h"
#include "objstore/s3_int.h"

/* Last-Modified: the IMF-fixdate form only, 1970..2262; anything else is
 * an unknown age (0), and a huge year is not an int64 overflow (UBSan). */
TEST(s3_last_modified_parse)
{
    ASSERT_EQ(qw__s3_http_date_ns("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777LL * 1000000000);
    ASSERT_EQ(qw__s3_http_date_ns("Mon, 07 Dec 2026 12:36:44 GMT"), 1796647004LL * 1000000000);
    ASSERT_EQ(qw__s3_http_date_ns("Mon, 07 Dec 2026 12:36:44"), 1796647004LL * 1000000000);
    ASSERT_EQ(qw__s3_http_date_ns(NULL), 0);
    ASSERT_EQ(qw__s3_http_date_ns(""), 0);
    ASSERT_EQ(qw__s3_http_date_ns("yesterday"), 0);
    ASSERT_EQ(qw__s3_http_date_ns("Mon, 07 Dec 2026 12:36:44 PST"), 0); /* not GMT */
    ASSERT_EQ(qw__s3_http_date_ns("Mon, 07 Dec 2026 12:36:44 GMT trailing"), 0);
    ASSERT_EQ(qw__s3_http_date_ns("Thu, 01 Jan 1970 00:00:00 GMT"), 0); /* 1970: unknown */
    ASSERT_EQ(qw__s3_http_date_ns("Wed, 31 Dec 1969 23:59:59 GMT"), 0);
    ASSERT_EQ(qw__s3_http_date_ns("Sat, 01 Jan 2300 00:00:00 GMT"), 0); /* past int64 ns */
    ASSERT_EQ(qw__s3_http_date_ns("Sat, 01 Jan 99999999 00:00:00 GMT"), 0);
    ASSERT_EQ(qw__s3_http_date_ns("Mon, 32 Dec 2026 12:36:44 GMT"), 0);
}

TEST(s3_xml_text_and_entities)
{
    const char *x = "<?xml version=\"1.0\"?><R><Key>a&amp;b&lt;&#x41;&#66;&apos;</Key>"
                    "<Size>12</Size><Empty/><Bad>x&bogus;</Bad></R>";
    const char *p = x, *end = x + strlen(x);
    char out[64];
    ASSERT_EQ(qw_s3_xml_text(&p, end, "Key", out, sizeof out), 0);
    ASSERT_STREQ(out, "a&b<AB'");
    ASSERT_EQ(qw_s3_xml_text(&p, end, "Size", out, sizeof out), 0);
    ASSERT_STREQ(out, "12");
    ASSERT_EQ(qw_s3_xml_text(&p, end, "Empty", out, sizeof out), 0);
    ASSERT_STREQ(out, "");
    const char *q = x;
    ASSERT_EQ(qw_s3_xml_text(&q, end, "Bad", out, sizeof out), -1);     /* unknown entity */
    ASSERT_EQ(qw_s3_xml_text(&q, end, "Missing", out, sizeof out), -1); /* absent */
    q = x;
    ASSERT_EQ(qw_s3_xml_text(&q, end, "Key", out, 4), -1); /* does not fit */
    /* "Key" must not match "KeyCount"; a cut document never reads past end */
    const char *y = "<KeyCount>3</KeyCount><Key>k</Key>";
    q = y;
    ASSERT_EQ(qw_s3_xml_text(&q, y + strlen(y), "Key", out, sizeof out), 0);
    ASSERT_STREQ(out, "k");
    for (size_t n = 0; n < strlen(y); n++) {
        char *cut = qw_malloc(n + 1); /* exact-size block: ASan catches an overread */
        memcpy(cut, y, n);
        const char *c = cut;
        ASSERT_EQ(qw_s3_xml_text(&c, cut + n, "Key", out, sizeof out), -1);
        qw_free(cut);
    }
}

TEST(s3_xml_elements_in_order)
{
    const char *x =
        "<L><Contents><Key>a</Key><Size>1</Size></Contents>"
        "<Contents><Key>b</Key><Size>2</Size></Contents><IsTruncated>false</IsTruncated>"
        "</L>";
    const char *p = x, *end = x + strlen(x), *b, *e;
    int n = 0;
    char k[8];
    while (qw_s3_xml_elem(&p, end, "Contents", &b, &e) == 0) {
        const char *q = b;
        ASSERT_EQ(qw_s3_xml_text(&q, e, "Key", k, sizeof k), 0);
        ASSERT_EQ(k[0], n == 0 ? 'a' : 'b');
        n++;
    }
    ASSERT_EQ(n, 2);
}

TEST(s3_split_uri)
{
    char b[256], k[1100];
    ASSERT_OK(qw_s3_split_uri("s3://bkt/a/b=c/d.parquet", b, sizeof b, k, sizeof k));
    ASSERT_STREQ(b, "bkt");
    ASSERT_STREQ(k, "a/b=c/d.parquet");
    ASSERT_OK(qw_s3_split_uri("gs://g_b", b, sizeof b, k, sizeof k));
    ASSERT_STREQ(k, "");
    ASSERT_ERR(QW_UNSUPPORTED, qw_s3_split_uri("file:///x", b, sizeof b, k, sizeof k));
    ASSERT_ERR(QW_INVAL, qw_s3_split_uri("s3:///x", b, sizeof b, k, sizeof k));
    ASSERT_ERR(QW_INVAL, qw_s3_split_uri("s3://Bad/x", b, sizeof b, k, sizeof k));
    ASSERT_TRUE(qw_objstore_is_remote("s3://b") && !qw_objstore_is_remote("/tmp/x"));
}

/* ---- against a server ---- */

static qw_s3 *live_client(const char *secret, size_t part, int page)
{
    const char *ep = getenv("QW_TEST_S3_ENDPOINT");
    if (!ep || !*ep)
        qwt_skip("QW_TEST_S3_ENDPOINT not set (tests/e2e/test_objstore_client.sh sets it)");
    qw_s3_opts o = {.endpoint = ep,
                    .path_style = 1,
                    .access_key = "S3RVER",
                    .secret_key = secret,
                    .part_size = part,
                    .list_max_keys = page,
                    .max_retries = 2,
                    .backoff_ms = 10};
    qw_s3 *s = NULL;
    char eb[256];
    ASSERT_OK(qw_s3_create(&s, &o, eb, sizeof eb));
    return s;
}

static int count_fn(void *ctx, const char *key, uint64_t size)
{
    (void)key;
    (void)size;
    (*(int *)ctx)++;
    return 0;
}

TEST(s3live_objects_and_ranges)
{
    qw_s3 *s = live_client("S3RVER", 0, 0);
    const char *key = "t/odd key=1+%&ü.bin"; /* needs percent-encoding */
    ASSERT_OK(qw_s3_put(s, "b", key, "hello object", 12));
    uint8_t *d;
    size_t n;
    ASSERT_OK(qw_s3_get(s, "b", key, 100, &d, &n));
    ASSERT_EQ(n, 12);
    ASSERT_STREQ((char *)d, "hello object");
    qw_free(d);
    ASSERT_ERR(QW_TOO_LARGE, qw_s3_get(s, "b", key, 5, &d, &n));
    char buf[16];
    size_t got;
    ASSERT_OK(qw_s3_get_range(s, "b", key, 6, buf, 6, &got));
    ASSERT_EQ(got, 6);
    ASSERT_TRUE(memcmp(buf, "object", 6) == 0);
    ASSERT_OK(qw_s3_get_range(s, "b", key, 10, buf, 10, &got)); /* short at the end */
    ASSERT_EQ(got, 2);
    qw_fileio_info fi;
    ASSERT_OK(qw_s3_head(s, "b", key, &fi));
    ASSERT_EQ(fi.size, 12);
    ASSERT_TRUE(fi.mtime_ns > 0);
    int cnt = 0;
    ASSERT_OK(qw_s3_list(s, "b", "t/odd key", count_fn, &cnt));
    ASSERT_EQ(cnt, 1);
    ASSERT_OK(qw_s3_delete(s, "b", key));
    ASSERT_ERR(QW_NOT_FOUND, qw_s3_head(s, "b", key, &fi));
    ASSERT_ERR(QW_NOT_FOUND, qw_s3_get(s, "b", key, 100, &d, &n));
    qw_s3_counters c; /* one thread, warm connections: new ones are few */
    qw_s3_counters_get(s, &c);
    ASSERT_TRUE(c.connects >= 1 && c.connects < c.requests);
    qw_s3_destroy(s);
}

TEST(s3live_list_pages_past_1000)
{
    qw_s3 *s = live_client("S3RVER", 0, 0);
    char k[64];
    for (int i = 0; i < 1003; i++) {
        snprintf(k, sizeof k, "many/k%05d", i);
        ASSERT_OK(qw_s3_put(s, "b", k, "x", 1));
    }
    int cnt = 0;
    ASSERT_OK(qw_s3_list(s, "b", "many/", count_fn, &cnt));
    ASSERT_EQ(cnt, 1003);
    qw_s3_counters c;
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.requests, 1003 + 2); /* two pages */
    ASSERT_EQ(c.retries, 0);
    qw_s3_destroy(s);
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *d = qw_malloc(n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        d[i] = (uint8_t)(seed >> 16);
    }
    return d;
}

TEST(s3live_fileio_multipart_and_single_put)
{
    qw_s3 *s = live_client("S3RVER", QW_S3_MIN_PART, 0);
    qw_fileio *io;
    ASSERT_OK(qw_fileio_create(&io, qw_s3_fileio_ops(), s));
    size_t big = 12 * ((size_t)1 << 20) + 12345; /* 3 parts: 5 + 5 + 2 MiB */
    uint8_t *d = pattern(big, 7);
    qw_fileio_writer *w;
    ASSERT_OK(qw_fileio_writer_open(&w, io, "s3://b/mp/big.bin", 0));
    for (size_t off = 0; off < big; off += 300001)
        ASSERT_OK(qw_fileio_writer_append(w, d + off, big - off < 300001 ? big - off : 300001));
    ASSERT_ERR(QW_NOT_FOUND, qw_fileio_exists(io, "s3://b/mp/big.bin")); /* not before commit */
    ASSERT_OK(qw_fileio_writer_commit(w));
    uint8_t *back;
    size_t n;
    ASSERT_OK(qw_fileio_read(io, "s3://b/mp/big.bin", big + 1, &back, &n));
    ASSERT_EQ(n, big);
    ASSERT_TRUE(memcmp(back, d, big) == 0);
    qw_free(back);
    uint8_t tail[100];
    ASSERT_OK(qw_fileio_read_range(io, "s3://b/mp/big.bin", big - 100, tail, 100));
    ASSERT_TRUE(memcmp(tail, d + big - 100, 100) == 0);
    /* below the threshold: one PUT */
    ASSERT_OK(qw_fileio_writer_open(&w, io, "s3://b/mp/small.bin", QW_FILEIO_DEFER_SYNC));
    ASSERT_OK(qw_fileio_writer_append(w, d, 1000));
    ASSERT_OK(qw_fileio_writer_commit(w));
    ASSERT_OK(qw_fileio_sync(io, "s3://b/mp/small.bin"));
    qw_fileio_info fi;
    ASSERT_OK(qw_fileio_stat(io, "s3://b/mp/small.bin", &fi));
    ASSERT_EQ(fi.size, 1000);
    /* an aborted stream that had started an upload leaves nothing */
    ASSERT_OK(qw_fileio_writer_open(&w, io, "s3://b/mp/aborted.bin", 0));
    ASSERT_OK(qw_fileio_writer_append(w, d, 6 << 20));
    qw_fileio_writer_abort(w);
    ASSERT_ERR(QW_NOT_FOUND, qw_fileio_exists(io, "s3://b/mp/aborted.bin"));
    /* list is a prefix listing of the "directory", with URIs */
    int cnt = 0;
    ASSERT_OK(qw_fileio_list(io, "s3://b/mp", count_fn, &cnt));
    ASSERT_EQ(cnt, 2);
    ASSERT_OK(qw_fileio_remove(io, "s3://b/mp/small.bin"));
    ASSERT_ERR(QW_NOT_FOUND, qw_fileio_remove(io, "s3://b/mp/small.bin"));
    ASSERT_OK(qw_fileio_mkdirs(io, "s3://b/mp/x/y"));
    qw_s3_counters c;
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.multipart_aborts, 1);
    qw_free(d);
    qw_fileio_destroy(io);
    qw_s3_destroy(s);
}

/* A ranged read of a small object that was stat'ed is served from one
 * whole GET (HEAD + GET for any number of ranges); our own write drops the
 * copy; an object over QW_S3_WHOLE_MAX, or one never stat'ed, keeps its
 * ranged GETs (s3_cache.c). */
TEST(s3live_small_objects_read_whole)
{
    qw_s3 *s = live_client("S3RVER", 0, 0);
    qw_fileio *io;
    ASSERT_OK(qw_fileio_create(&io, qw_s3_fileio_ops(), s));
    size_t n = 100000;
    uint8_t *d = pattern(n, 3), *d2 = pattern(n, 4), buf[1000];
    const char *u = "s3://b/rc/small.bin";
    ASSERT_OK(qw_s3_put(s, "b", "rc/small.bin", d, n)); /* not through io: not cached as ours */
    qw_s3_counters c0, c1;
    qw_s3_counters_get(s, &c0);
    qw_fileio_info fi;
    ASSERT_OK(qw_fileio_stat(io, u, &fi));
    ASSERT_EQ(fi.size, n);
    ASSERT_OK(qw_fileio_read_range(io, u, 0, buf, 4));
    ASSERT_TRUE(memcmp(buf, d, 4) == 0);
    ASSERT_OK(qw_fileio_read_range(io, u, n - 1000, buf, 1000));
    ASSERT_TRUE(memcmp(buf, d + n - 1000, 1000) == 0);
    ASSERT_OK(qw_fileio_read_range(io, u, 5000, buf, 777));
    ASSERT_TRUE(memcmp(buf, d + 5000, 777) == 0);
    ASSERT_ERR(QW_CORRUPT, qw_fileio_read_range(io, u, n - 10, buf, 20)); /* past the end */
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests - c0.requests, 2); /* HEAD + one whole GET */
    ASSERT_EQ(c1.bytes_down - c0.bytes_down, n);
    /* rewritten by us (same size): the old copy is not served */
    ASSERT_OK(qw_fileio_write(io, u, d2, n));
    ASSERT_OK(qw_fileio_read_range(io, u, 5000, buf, 777)); /* not stat'ed since: a range */
    ASSERT_TRUE(memcmp(buf, d2 + 5000, 777) == 0);
    ASSERT_OK(qw_fileio_stat(io, u, &fi));
    ASSERT_OK(qw_fileio_read_range(io, u, 100, buf, 500));
    ASSERT_TRUE(memcmp(buf, d2 + 100, 500) == 0);
    /* over QW_S3_WHOLE_MAX: ranged GETs only */
    size_t big = QW_S3_WHOLE_MAX + 4096;
    uint8_t *db = pattern(big, 5);
    ASSERT_OK(qw_s3_put(s, "b", "rc/big.bin", db, big));
    ASSERT_OK(qw_fileio_stat(io, "s3://b/rc/big.bin", &fi));
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_read_range(io, "s3://b/rc/big.bin", big - 1000, buf, 1000));
    ASSERT_TRUE(memcmp(buf, db + big - 1000, 1000) == 0);
    ASSERT_OK(qw_fileio_read_range(io, "s3://b/rc/big.bin", 10, buf, 10));
    ASSERT_TRUE(memcmp(buf, db + 10, 10) == 0);
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests - c0.requests, 2);
    ASSERT_EQ(c1.bytes_down - c0.bytes_down, 1010);
    qw_free(db);
    qw_free(d);
    qw_free(d2);
    qw_fileio_destroy(io);
    qw_s3_destroy(s);
}

/* Read-ahead (s3_prefetch.c): a hinted range is GET in the background and
 * a read inside it takes those bytes once (no request of its own); what a
 * read returns never changes: a rewrite or a remove through the client
 * drops the hint, a hint for a missing object leaves the read to fail as
 * before, and a hint over the budget is ignored. */
static uint64_t wait_requests(qw_s3 *s, uint64_t want)
{
    qw_s3_counters c;
    for (int i = 0; i < 500; i++) { /* the background GET lands (at most 5 s) */
        qw_s3_counters_get(s, &c);
        if (c.requests >= want)
            break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return c.requests;
}

TEST(s3live_prefetch_reads_ahead)
{
    qw_s3 *s = live_client("S3RVER", 0, 0);
    qw_fileio *io;
    ASSERT_OK(qw_fileio_create(&io, qw_s3_fileio_ops(), s));
    size_t n = 200000;
    uint8_t *d = pattern(n, 7), *d2 = pattern(n, 8), *buf = qw_malloc(n);
    const char *u = "s3://b/pf/a.bin";
    ASSERT_OK(qw_s3_put(s, "b", "pf/a.bin", d, n)); /* not through io: not cached as ours */
    qw_s3_counters c0, c1;
    uint64_t served, wasted, served0;
    qw__s3_prefetch_counts(qw__s3_prefetch(s), &served0, &wasted);

    /* the whole object hinted, a part of it read: served, no request */
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_prefetch(io, u, 0, n));
    ASSERT_EQ(wait_requests(s, c0.requests + 1), c0.requests + 1);
    ASSERT_OK(qw_fileio_read_range(io, u, 1000, buf, 5000));
    ASSERT_TRUE(memcmp(buf, d + 1000, 5000) == 0);
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests, c0.requests + 1);
    qw__s3_prefetch_counts(qw__s3_prefetch(s), &served, &wasted);
    ASSERT_EQ(served, served0 + 1);
    /* taken once: the next read GETs */
    ASSERT_OK(qw_fileio_read_range(io, u, n - 100, buf, 100));
    ASSERT_TRUE(memcmp(buf, d + n - 100, 100) == 0);
    qw_s3_counters_get(s, &c0);
    ASSERT_EQ(c0.requests, c1.requests + 1);

    /* a whole read takes a hint at offset 0 that came back short (the
     * whole object: one byte more than its length was asked for) */
    uint8_t *w;
    size_t wl;
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_prefetch(io, u, 0, n + 1));
    wait_requests(s, c0.requests + 1);
    ASSERT_OK(qw_fileio_read(io, u, n, &w, &wl));
    ASSERT_EQ(wl, n);
    ASSERT_TRUE(memcmp(w, d, n) == 0 && w[n] == 0);
    qw_free(w);
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests, c0.requests + 1);
    /* a hint of exactly n bytes cannot tell the object ends there: GET */
    ASSERT_OK(qw_fileio_prefetch(io, u, 0, n));
    wait_requests(s, c1.requests + 1);
    ASSERT_OK(qw_fileio_read(io, u, n, &w, &wl));
    ASSERT_TRUE(wl == n && memcmp(w, d, n) == 0);
    qw_free(w);
    qw_s3_counters_get(s, &c0);
    ASSERT_EQ(c0.requests, c1.requests + 2);
    /* whole, but over the caller's max: as without the hint */
    ASSERT_OK(qw_fileio_prefetch(io, u, 0, n + 1));
    wait_requests(s, c0.requests + 1);
    ASSERT_ERR(QW_TOO_LARGE, qw_fileio_read(io, u, n - 1, &w, &wl));
    qw_s3_counters_get(s, &c0);

    /* hinted, then rewritten through the client: the new bytes */
    ASSERT_OK(qw_fileio_prefetch(io, u, 0, n));
    wait_requests(s, c0.requests + 1);
    ASSERT_OK(qw_fileio_write(io, u, d2, n));
    ASSERT_OK(qw_fileio_read_range(io, u, 0, buf, n));
    ASSERT_TRUE(memcmp(buf, d2, n) == 0);
    /* hinted, then removed: not found */
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_prefetch(io, u, 0, n));
    wait_requests(s, c0.requests + 1);
    ASSERT_OK(qw_fileio_remove(io, u));
    ASSERT_ERR(QW_NOT_FOUND, qw_fileio_read_range(io, u, 0, buf, 10));
    /* a hint for a missing object: the read fails as without it */
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_prefetch(io, "s3://b/pf/missing.bin", 0, 100));
    wait_requests(s, c0.requests + 1);
    ASSERT_ERR(QW_NOT_FOUND, qw_fileio_read_range(io, "s3://b/pf/missing.bin", 0, buf, 10));
    /* over the budget: ignored, no request */
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_prefetch(io, "s3://b/pf/huge.bin", 0, QW_S3_PREFETCH_BYTES + 1));
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests, c0.requests);
    /* local files: a hint is a no-op */
    ASSERT_OK(qw_fileio_prefetch(NULL, "/nonexistent/x", 0, 10));
    qw_free(buf);
    qw_free(d);
    qw_free(d2);
    qw_fileio_destroy(io);
    qw_s3_destroy(s);
}

/* A small object this client wrote whole is read back from its copy
 * (s3_cache.c "Written objects"): no request; rewriting or removing the
 * key through the client drops or replaces the copy; a stat that sees
 * another size (another writer) drops it; large objects are not kept. */
TEST(s3live_written_objects_read_back_locally)
{
    qw_s3 *s = live_client("S3RVER", 0, 0), *other = live_client("S3RVER", 0, 0);
    qw_fileio *io;
    ASSERT_OK(qw_fileio_create(&io, qw_s3_fileio_ops(), s));
    size_t n = 5000;
    uint8_t *d = pattern(n, 6), *d2 = pattern(n, 7), *d3 = pattern(n + 1, 8), *got;
    size_t len;
    const char *u = "s3://b/wc/meta.json";
    qw_s3_counters c0, c1;
    ASSERT_OK(qw_fileio_write(io, u, d, n));
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_read(io, u, 1 << 20, &got, &len));
    ASSERT_EQ(len, n);
    ASSERT_TRUE(memcmp(got, d, n) == 0);
    qw_free(got);
    ASSERT_ERR(QW_TOO_LARGE, qw_fileio_read(io, u, n - 1, &got, &len)); /* max still holds */
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests - c0.requests, 1);  /* only the too-large read asked the server */
    ASSERT_OK(qw_fileio_write(io, u, d2, n)); /* rewritten by us: the new bytes */
    ASSERT_OK(qw_fileio_read(io, u, 1 << 20, &got, &len));
    ASSERT_TRUE(len == n && memcmp(got, d2, n) == 0);
    qw_free(got);
    qw_fileio_info fi;
    ASSERT_OK(qw_fileio_stat(io, u, &fi)); /* same size: the copy stays, with the store's time */
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_read(io, u, 1 << 20, &got, &len));
    qw_free(got);
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests - c0.requests, 0);
    ASSERT_OK(qw_s3_put(other, "b", "wc/meta.json", d3, n + 1)); /* another writer */
    ASSERT_OK(qw_fileio_stat(io, u, &fi));
    ASSERT_OK(qw_fileio_read(io, u, 1 << 20, &got, &len));
    ASSERT_TRUE(len == n + 1 && memcmp(got, d3, n + 1) == 0);
    qw_free(got);
    ASSERT_OK(qw_fileio_remove(io, u)); /* removed by us: gone */
    ASSERT_ERR(QW_NOT_FOUND, qw_fileio_read(io, u, 1 << 20, &got, &len));
    size_t big = QW_S3_WRITTEN_MAX + 1; /* not kept */
    uint8_t *db = pattern(big, 9);
    ASSERT_OK(qw_fileio_write(io, "s3://b/wc/big.bin", db, big));
    qw_s3_counters_get(s, &c0);
    ASSERT_OK(qw_fileio_read(io, "s3://b/wc/big.bin", big, &got, &len));
    ASSERT_TRUE(len == big && memcmp(got, db, big) == 0);
    qw_free(got);
    qw_s3_counters_get(s, &c1);
    ASSERT_EQ(c1.requests - c0.requests, 1);
    qw_free(db);
    qw_free(d);
    qw_free(d2);
    qw_free(d3);
    qw_fileio_destroy(io);
    qw_s3_destroy(other);
    qw_s3_destroy(s);
}

/* A deferred-sync commit is uploaded in the background (s3_async.c): a
 * stat through the same client waits for it, sync returns its outcome, and
 * a failed upload keeps its bytes: sync PUTs it again (here: once the
 * missing bucket exists) rather than losing the object. */
TEST(s3live_deferred_commits_upload_in_background)
{
    qw_s3 *s = live_client("S3RVER", 0, 0);
    qw_fileio *io;
    ASSERT_OK(qw_fileio_create(&io, qw_s3_fileio_ops(), s));
    size_t n = 100000;
    uint8_t *d = pattern(n, 9);
    qw_fileio_writer *w;
    char uri[64];
    for (int i = 0; i < 6; i++) {
        snprintf(uri, sizeof uri, "s3://b/as/%d.bin", i);
        ASSERT_OK(qw_fileio_writer_open(&w, io, uri, QW_FILEIO_DEFER_SYNC));
        ASSERT_OK(qw_fileio_writer_append(w, d, n - (size_t)i));
        ASSERT_OK(qw_fileio_writer_commit(w));
    }
    qw_fileio_info fi;
    ASSERT_OK(qw_fileio_stat(io, "s3://b/as/5.bin", &fi)); /* waits for its upload */
    ASSERT_EQ(fi.size, n - 5);
    for (int i = 0; i < 6; i++) {
        snprintf(uri, sizeof uri, "s3://b/as/%d.bin", i);
        ASSERT_OK(qw_fileio_sync(io, uri));
        uint8_t *back;
        size_t got;
        ASSERT_OK(qw_fileio_read(io, uri, n, &back, &got));
        ASSERT_EQ(got, n - (size_t)i);
        ASSERT_TRUE(memcmp(back, d, got) == 0);
        qw_free(back);
    }
    /* a bucket that does not exist yet: commit returns, sync reports the failure */
    ASSERT_OK(qw_fileio_writer_open(&w, io, "s3://nob/as/x.bin", QW_FILEIO_DEFER_SYNC));
    ASSERT_OK(qw_fileio_writer_append(w, d, n));
    ASSERT_OK(qw_fileio_writer_commit(w));
    ASSERT_ERR(QW_NOT_FOUND, qw_fileio_sync(io, "s3://nob/as/x.bin"));
    ASSERT_TRUE(strstr(qw_s3_errmsg(), "bucket nob does not exist") != NULL);
    ASSERT_OK(qw_s3_put(s, "nob", "", NULL, 0));        /* CreateBucket */
    ASSERT_OK(qw_fileio_sync(io, "s3://nob/as/x.bin")); /* the kept bytes, PUT again */
    ASSERT_OK(qw_fileio_stat(io, "s3://nob/as/x.bin", &fi));
    ASSERT_EQ(fi.size, n);
    ASSERT_OK(qw_fileio_sync(io, "s3://nob/as/x.bin")); /* nothing pending: durable */
    qw_free(d);
    qw_fileio_destroy(io);
    qw_s3_destroy(s);
}

TEST(s3live_failed_complete_aborts)
{
    /* s3rver enforces neither the 5 MiB part minimum nor AbortMultipartUpload
     * (405): the failure here is a complete refused with 403 (a client whose
     * secret is wrong finishes the upload) */
    qw_s3 *s = live_client("S3RVER", 0, 0), *bad = live_client("wrong", 0, 0);
    uint8_t *d = pattern((size_t)1 << 20, 3);
    qw_s3_upload *u;
    ASSERT_OK(qw_s3_mpu_begin(s, "b", "mp/failed.bin", &u));
    ASSERT_OK(qw_s3_mpu_part(s, u, d, (size_t)1 << 20));
    ASSERT_ERR(QW_IO, qw_s3_mpu_complete(bad, u)); /* then aborted (and freed) */
    ASSERT_TRUE(strstr(qw_s3_errmsg(), "denied") != NULL);
    qw_s3_counters c;
    qw_s3_counters_get(bad, &c);
    ASSERT_EQ(c.multipart_aborts, 1);
    qw_fileio_info fi;
    ASSERT_ERR(QW_NOT_FOUND, qw_s3_head(s, "b", "mp/failed.bin", &fi));
    qw_free(d);
    qw_s3_destroy(bad);
    qw_s3_destroy(s);
}

TEST(s3live_wrong_secret_and_missing_bucket)
{
    qw_s3 *s = live_client("not-the-secret", 0, 0);
    char eb[512];
    ASSERT_ERR(QW_IO, qw_s3_check(s, "b", "wh", eb, sizeof eb));
    ASSERT_TRUE(strstr(eb, "access to bucket b denied") != NULL);
    ASSERT_TRUE(strstr(eb, "SignatureDoesNotMatch") != NULL);
    ASSERT_TRUE(strstr(eb, "not-the-secret") == NULL);
    qw_s3_counters c;
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.retries, 0); /* a 403 is final */
    qw_s3_destroy(s);
    s = live_client("S3RVER", 0, 0);
    ASSERT_ERR(QW_NOT_FOUND, qw_s3_check(s, "nobucket", "", eb, sizeof eb));
    ASSERT_TRUE(strstr(eb, "bucket nobucket does not exist") != NULL);
    qw_s3_destroy(s);
}

TEST(s3_retries_are_bounded)
{
    /* nothing listens on port 1: connection refused is retried, counted and bounded */
    qw_s3_opts o = {.endpoint = "http://127.0.0.1:1",
                    .path_style = 1,
                    .access_key = "k",
                    .secret_key = "s",
                    .max_retries = 3,
                    .backoff_ms = 5};
    qw_s3 *s;
    char eb[256];
    ASSERT_OK(qw_s3_create(&s, &o, eb, sizeof eb));
    ASSERT_ERR(QW_IO, qw_s3_put(s, "b", "k", "x", 1));
    ASSERT_TRUE(strstr(qw_s3_errmsg(), "retries exhausted") != NULL);
    qw_s3_counters c;
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.requests, 4);
    ASSERT_EQ(c.retries, 3);
    ASSERT_EQ(c.failures, 1);
    qw_s3_destroy(s);
}

/* ---- retries, against tests/e2e/s3_flaky.py (QW_TEST_S3_FLAKY) ---- */

static qw_s3 *flaky_client(int retries, long backoff, long budget)
{
    const char *ep = getenv("QW_TEST_S3_FLAKY");
    if (!ep || !*ep)
        qwt_skip("QW_TEST_S3_FLAKY not set (tests/e2e/test_objstore_client.sh sets it)");
    qw_s3_opts o = {.endpoint = ep,
                    .path_style = 1,
                    .access_key = "k",
                    .secret_key = "s",
                    .max_retries = retries,
                    .backoff_ms = backoff,
                    .retry_budget_ms = budget};
    qw_s3 *s = NULL;
    char eb[256];
    ASSERT_OK(qw_s3_create(&s, &o, eb, sizeof eb));
    return s;
}

TEST(s3flaky_transient_errors_are_retried)
{
    qw_s3 *s = flaky_client(6, 5, 0);
    qw_s3_counters c;
    ASSERT_OK(qw_s3_put(s, "b", "slow1", "x", 1)); /* 503 SlowDown twice */
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.retries, 2);
    ASSERT_OK(qw_s3_put(s, "b", "r429", "x", 1)); /* 429 once */
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.retries, 3);
    ASSERT_EQ(c.requests, 5);
    /* connections closed without an answer, twice: libcurl itself retries
     * once when the dead connection was a reused one, so we see 1 or 2 */
    ASSERT_OK(qw_s3_put(s, "b", "reset1", "x", 1));
    qw_s3_counters_get(s, &c);
    ASSERT_TRUE(c.retries == 4 || c.retries == 5);
    ASSERT_EQ(c.failures, 0);
    uint64_t before = c.retries;
    ASSERT_ERR(QW_IO, qw_s3_put(s, "b", "deny1", "x", 1)); /* 403: final */
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.retries, before);
    ASSERT_TRUE(strstr(qw_s3_errmsg(), "access to bucket b denied") != NULL);
    qw_s3_destroy(s);
}

TEST(s3flaky_retries_bounded_by_count_and_time)
{
    qw_s3 *s = flaky_client(3, 5, 0);
    qw_s3_counters c;
    ASSERT_ERR(QW_IO, qw_s3_put(s, "b", "fail500a", "x", 1));
    ASSERT_TRUE(strstr(qw_s3_errmsg(), "retries exhausted") != NULL);
    qw_s3_counters_get(s, &c);
    ASSERT_EQ(c.requests, 4);
    ASSERT_EQ(c.retries, 3);
    ASSERT_EQ(c.failures, 1);
    qw_s3_destroy(s);
    /* many retries allowed, but a 300 ms budget with 100 ms backoffs: stops early */
    s = flaky_client(50, 100, 300);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_ERR(QW_IO, qw_s3_put(s, "b", "fail500b", "x", 1));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    qw_s3_counters_get(s, &c);
    ASSERT_TRUE(c.retries < 10);
    ASSERT_TRUE((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
    qw_s3_destroy(s);
}

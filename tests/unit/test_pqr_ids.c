/* test_pqr_ids.c: the Parquet reader's dictionary-index mode
 * (qw_pqr_dict_indices): every string reads the same as the copying mode,
 * in files of our writer (dictionary and PLAIN chunks, nulls, several
 * pages and row groups, every codec), in a hand-made chunk that starts
 * dictionary-encoded and falls back to PLAIN, and under hostile bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fileio.h"
#include "harness.h"
#include "parquet/parquet.h"
#include "parquet/parquet_int.h"
#include "parquet/parquet_read.h"
#include "parquet/thrift.h"

static const qw_pq_column COLS[] = {
    {"product_id", 1, QW_PQ_STRING, 1, 0},
    {"side", 2, QW_PQ_STRING, 0, 0}, /* nullable, dictionary */
    {"uniq", 3, QW_PQ_STRING, 0, 0}, /* nullable, every value new: PLAIN */
    {"n", 4, QW_PQ_INT64, 1, 0},
};
#define NC (sizeof COLS / sizeof COLS[0])

static qw_err write_file(const char *path, long rows, qw_pq_codec comp, size_t rg_bytes)
{
    qw_pq_opts o = {
        .compression = comp, .row_group_bytes = rg_bytes, .page_bytes = 1024, .dictionary = 1};
    qw_pq_writer *w;
    char eb[256];
    qw_err e = qw_pq_writer_open(&w, path, COLS, NC, &o, eb, sizeof eb);
    if (e != QW_OK)
        return e;
    static const char *prods[] = {"BTC-USD", "ETH-USD", "SOL-USD", ""};
    static const char *sides[] = {"bid", "ask", "connect"};
    for (long r = 0; r < rows && e == QW_OK; r++) {
        char u[32];
        int n = snprintf(u, sizeof u, "u%ld", r * 31);
        e = qw_pq_put_str(w, 0, prods[(r / 50) % 4], strlen(prods[(r / 50) % 4]));
        if (!e)
            e = r % 7 == 3 ? qw_pq_put_null(w, 1)
                           : qw_pq_put_str(w, 1, sides[r % 3], 3 + (r % 3 == 2) * 4);
        if (!e)
            e = r % 5 == 1 ? qw_pq_put_null(w, 2) : qw_pq_put_str(w, 2, u, (size_t)n);
        if (!e)
            e = qw_pq_put_i64(w, 3, r);
        if (!e)
            e = qw_pq_end_row(w);
    }
    if (e) {
        qw_pq_writer_abort(w);
        return e;
    }
    return qw_pq_writer_close(w, NULL);
}

/* Reads every chunk of the file in both modes: 0 when they agree. */
static int compare_modes(const uint8_t *d, size_t len)
{
    qw_pqr *a, *b;
    char eb[256];
    if (qw_pqr_open_mem(&a, d, len, eb, sizeof eb) != QW_OK)
        return -1;
    if (qw_pqr_open_mem(&b, d, len, eb, sizeof eb) != QW_OK) {
        qw_pqr_close(a);
        return -1;
    }
    qw_pqr_dict_indices(b, 1);
    qw_pqr_typed_arrays(b, 1);
    qw_pqr_column x, y;
    qw_pqr_column_alloc(&x);
    qw_pqr_column_alloc(&y);
    int bad = 0;
    for (size_t g = 0; g < qw_pqr_row_groups(a) && !bad; g++)
        for (size_t i = 0; i < qw_pqr_ncols(a) && !bad; i++) {
            if (qw_pqr_read(a, g, i, &x) != QW_OK || qw_pqr_read(b, g, i, &y) != QW_OK ||
                x.n != y.n)
                bad = -2;
            int ph = qw_pqr_field_at(a, i)->phys, str = ph == QW_PQ_PHYS_BYTE_ARRAY;
            int dbl = ph == QW_PQ_PHYS_FLOAT || ph == QW_PQ_PHYS_DOUBLE, ints = !str && !dbl;
            if (!bad && (y.ids != str || x.ids))
                bad = -3;
            for (size_t k = 0; k < x.n && !bad; k++) {
                if (x.valid[k] != y.valid[k] || (ints && x.i64[k] != y.i64[k]) ||
                    (dbl && memcmp(&x.f64[k], &y.f64[k], sizeof x.f64[k]) != 0))
                    bad = -5;
                if (!str) /* typed arrays: y's soff is not this column's */
                    continue;
                size_t xl, yl;
                const char *xs = qw_pqr_str(&x, k, &xl), *ys = qw_pqr_str(&y, k, &yl);
                if (xl != yl || memcmp(xs, ys, xl) != 0)
                    bad = -4;
                if ((y.sid[k] >= y.nstr || y.toff[y.sid[k]] > y.toff[y.sid[k] + 1]))
                    bad = -6;
                /* equal indices, equal strings */
                if (k && y.sid[k] == y.sid[k - 1]) {
                    size_t pl;
                    const char *ps = qw_pqr_str(&y, k - 1, &pl);
                    if (pl != yl || memcmp(ps, ys, yl) != 0)
                        bad = -7;
                }
            }
        }
    qw_pqr_column_free(&x);
    qw_pqr_column_free(&y);
    qw_pqr_close(a);
    qw_pqr_close(b);
    return bad;
}

static uint8_t *slurp(const char *path, size_t *n) /* qw_malloc'ed, or NULL */
{
    uint8_t *d;
    return qw_fileio_read(NULL, path, (size_t)1 << 30, &d, n) == QW_OK ? d : NULL;
}

TEST(pqr_ids_match_copied_strings)
{
    char path[] = "/tmp/qwpqidsXXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    const qw_pq_codec comps[] = {QW_PQ_ZSTD, QW_PQ_SNAPPY, QW_PQ_UNCOMPRESSED};
    for (int k = 0; k < 3; k++) {
        ASSERT_OK(write_file(path, 5000, comps[k], k == 1 ? 20000 : 0));
        size_t n;
        uint8_t *d = slurp(path, &n);
        ASSERT_TRUE(d != NULL);
        ASSERT_EQ(compare_modes(d, n), 0);
        qw_free(d);
    }
    unlink(path);
}

/* ---- a hand-made chunk: dictionary page, RLE_DICTIONARY page, PLAIN page ---- */

static void page_header(qw_tbuf *o, int type, size_t body, int nvals, int enc)
{
    qw_tw w;
    qw_tw_init(&w, o);
    qw_tw_i32(&w, 1, type);
    qw_tw_i32(&w, 2, (int32_t)body);
    qw_tw_i32(&w, 3, (int32_t)body);
    qw_tw_struct_begin(&w, type == QW_PQ_PAGE_DICTIONARY ? 7 : 5);
    qw_tw_i32(&w, 1, nvals);
    qw_tw_i32(&w, 2, enc);
    if (type == QW_PQ_PAGE_DATA) {
        qw_tw_i32(&w, 3, QW_PQ_ENC_RLE);
        qw_tw_i32(&w, 4, QW_PQ_ENC_RLE);
    }
    qw_tw_struct_end(&w);
    qw_tw_stop(&w);
}

static void plain_str(qw_tbuf *o, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    uint8_t l[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    qw_tbuf_put(o, l, 4);
    qw_tbuf_put(o, s, n);
}

/* Definition levels of an optional column (4-byte length, RLE bw 1). */
static void levels(qw_tbuf *o, const uint32_t *lev, size_t n)
{
    qw_tbuf t = {0};
    qw__pq_rle_encode(&t, lev, n, 1);
    uint8_t l[4] = {(uint8_t)t.n, (uint8_t)(t.n >> 8), 0, 0};
    qw_tbuf_put(o, l, 4);
    qw_tbuf_put(o, t.b, t.n);
    qw_tbuf_free(&t);
}

/* One optional string column of 8 rows: a dictionary {"ask", "bid",
 * "ask"} (a duplicate), rows 0-3 dictionary-encoded (row 2 null), rows 4-7
 * PLAIN (row 5 null, row 7 repeats row 6). */
static size_t mixed_file(uint8_t *out, size_t cap)
{
    qw_tbuf f = {0}, body = {0};
    qw_tbuf_put(&f, "PAR1", 4);
    size_t start = f.n;
    plain_str(&body, "ask");
    plain_str(&body, "bid");
    plain_str(&body, "ask");
    page_header(&f, QW_PQ_PAGE_DICTIONARY, body.n, 3, QW_PQ_ENC_PLAIN);
    qw_tbuf_put(&f, body.b, body.n);
    size_t data = f.n;
    body.n = 0;
    static const uint32_t lev1[4] = {1, 1, 0, 1}, idx[3] = {1, 0, 2}, lev2[4] = {1, 0, 1, 1};
    levels(&body, lev1, 4);
    qw_tbuf_byte(&body, 2); /* bit width */
    qw__pq_rle_encode(&body, idx, 3, 2);
    page_header(&f, QW_PQ_PAGE_DATA, body.n, 4, QW_PQ_ENC_RLE_DICTIONARY);
    qw_tbuf_put(&f, body.b, body.n);
    body.n = 0;
    levels(&body, lev2, 4);
    plain_str(&body, "connect");
    plain_str(&body, "gap");
    plain_str(&body, "gap");
    page_header(&f, QW_PQ_PAGE_DATA, body.n, 4, QW_PQ_ENC_PLAIN);
    qw_tbuf_put(&f, body.b, body.n);
    size_t chunk = f.n - start, foot0 = f.n;
    qw_tw w;
    qw_tw_init(&w, &f);
    qw_tw_i32(&w, 1, 1);
    qw_tw_list_begin(&w, 2, QW_TT_STRUCT, 2);
    qw_tw_elem_struct_begin(&w);
    qw_tw_string(&w, 4, "schema");
    qw_tw_i32(&w, 5, 1);
    qw_tw_struct_end(&w);
    qw_tw_elem_struct_begin(&w);
    qw_tw_i32(&w, 1, QW_PQ_PHYS_BYTE_ARRAY);
    qw_tw_i32(&w, 3, 1); /* OPTIONAL */
    qw_tw_string(&w, 4, "side");
    qw_tw_struct_end(&w);
    qw_tw_i64(&w, 3, 8);
    qw_tw_list_begin(&w, 4, QW_TT_STRUCT, 1);
    qw_tw_elem_struct_begin(&w);
    qw_tw_list_begin(&w, 1, QW_TT_STRUCT, 1);
    qw_tw_elem_struct_begin(&w);
    qw_tw_i64(&w, 2, (int64_t)start);
    qw_tw_struct_begin(&w, 3);
    qw_tw_i32(&w, 1, QW_PQ_PHYS_BYTE_ARRAY);
    qw_tw_i32(&w, 4, QW_PQ_CODEC_UNCOMPRESSED);
    qw_tw_i64(&w, 5, 8);
    qw_tw_i64(&w, 6, (int64_t)chunk);
    qw_tw_i64(&w, 7, (int64_t)chunk);
    qw_tw_i64(&w, 9, (int64_t)data);
    qw_tw_i64(&w, 11, (int64_t)start);
    qw_tw_struct_end(&w);
    qw_tw_struct_end(&w);
    qw_tw_i64(&w, 3, 8);
    qw_tw_struct_end(&w);
    qw_tw_stop(&w);
    uint32_t fl = (uint32_t)(f.n - foot0);
    uint8_t l[4] = {(uint8_t)fl, (uint8_t)(fl >> 8), (uint8_t)(fl >> 16), (uint8_t)(fl >> 24)};
    qw_tbuf_put(&f, l, 4);
    qw_tbuf_put(&f, "PAR1", 4);
    size_t n = f.n <= cap ? f.n : 0;
    if (n)
        memcpy(out, f.b, n);
    qw_tbuf_free(&f);
    qw_tbuf_free(&body);
    return n;
}

TEST(pqr_ids_dictionary_then_plain)
{
    static uint8_t d[4096];
    size_t n = mixed_file(d, sizeof d);
    ASSERT_TRUE(n > 0);
    ASSERT_EQ(compare_modes(d, n), 0);
    qw_pqr *r;
    char eb[256];
    ASSERT_OK(qw_pqr_open_mem(&r, d, n, eb, sizeof eb));
    qw_pqr_dict_indices(r, 1);
    qw_pqr_column c;
    qw_pqr_column_alloc(&c);
    ASSERT_OK(qw_pqr_read(r, 0, 0, &c));
    static const char *want[8] = {"bid", "ask", "", "ask", "connect", "", "gap", "gap"};
    for (size_t k = 0; k < 8; k++) {
        size_t l;
        const char *s = qw_pqr_str(&c, k, &l);
        ASSERT_EQ(l, strlen(want[k]));
        ASSERT_TRUE(memcmp(s, want[k], l) == 0);
        ASSERT_EQ(c.valid[k], k != 2 && k != 5);
    }
    ASSERT_TRUE(c.ids);
    ASSERT_EQ(c.sid[2], c.sid[5]);     /* the null rows' one empty string */
    ASSERT_TRUE(c.sid[1] != c.sid[3]); /* the dictionary's duplicate: other index, same bytes */
    ASSERT_TRUE(c.sid[6] != c.sid[7]); /* PLAIN repeats are not merged */
    ASSERT_EQ(c.nstr, 1u + 3u + 3u);   /* empty, dictionary, PLAIN values */
    /* read again into the same column: the table starts afresh */
    ASSERT_OK(qw_pqr_read(r, 0, 0, &c));
    ASSERT_EQ(c.nstr, 7u);
    qw_pqr_column_free(&c);
    qw_pqr_close(r);
}

/* Hostile bytes in index mode: errors, never a crash (ASan build). */
TEST(pqr_ids_survive_flips_and_truncation)
{
    char path[] = "/tmp/qwpqidsXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ASSERT_OK(write_file(path, 400, QW_PQ_UNCOMPRESSED, 0));
    size_t n;
    uint8_t *buf = slurp(path, &n);
    unlink(path);
    ASSERT_TRUE(buf != NULL && n > 100);
    uint8_t *mut = malloc(n);
    ASSERT_TRUE(mut != NULL);
    static uint8_t mixed[4096];
    size_t mn = mixed_file(mixed, sizeof mixed);
    ASSERT_TRUE(mn > 0);
    uint64_t x = 11;
    volatile unsigned touched = 0;
    int read_ok = 0, read_err = 0;
    for (int it = 0; it < 4000; it++) {
        const uint8_t *src = it % 2 ? mixed : buf;
        size_t len = it % 2 ? mn : n;
        memcpy(mut, src, len);
        for (int k = 0; k < 1 + it % 3; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            mut[x % len] ^= (uint8_t)(1u << (x >> 40) % 8);
        }
        qw_pqr *r;
        char eb[128];
        if (qw_pqr_open_mem(&r, mut, len, eb, sizeof eb) != QW_OK)
            continue;
        qw_pqr_dict_indices(r, 1);
        qw_pqr_typed_arrays(r, it % 4 < 2);
        qw_pqr_column c;
        qw_pqr_column_alloc(&c);
        for (size_t g = 0; g < qw_pqr_row_groups(r); g++)
            for (size_t i = 0; i < qw_pqr_ncols(r); i++) {
                if (qw_pqr_read(r, g, i, &c) != QW_OK) {
                    read_err++;
                    continue;
                }
                read_ok++;
                if (qw_pqr_field_at(r, i)->phys != QW_PQ_PHYS_BYTE_ARRAY)
                    continue;
                for (size_t k = 0; k < c.n; k++) { /* every row's string is in bounds */
                    size_t l;
                    const char *s = qw_pqr_str(&c, k, &l);
                    ASSERT_TRUE(s != NULL);
                    if (l) /* read under ASan */
                        touched += (unsigned char)s[0] + (unsigned char)s[l - 1];
                }
            }
        qw_pqr_column_free(&c);
        qw_pqr_close(r);
    }
    ASSERT_TRUE(read_ok > 0);
    ASSERT_TRUE(read_err > 0);
    free(mut);
    qw_free(buf);
}

/* Files of other engines (Iceberg fixtures): both modes read the same. */
TEST(pqr_ids_other_engines_files)
{
    const char *shared = getenv("QW_SHARED");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "find %s/data/iceberg_fixtures -name '*.parquet' 2>/dev/null",
             shared ? shared : "/work/shared");
    FILE *p = popen(cmd, "r");
    ASSERT_TRUE(p != NULL);
    char line[1024];
    int files = 0, same = 0, differ = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        size_t n;
        uint8_t *d = slurp(line, &n);
        if (!d)
            continue;
        files++;
        int rc = compare_modes(d, n);
        if (rc == 0)
            same++;
        else if (rc != -1 && rc != -2) /* unreadable or unsupported: not ours to test */
            printf("    %s: %d\n", line, rc), differ++;
        qw_free(d);
    }
    pclose(p);
    printf("    %d fixture files, %d read alike in both modes\n", files, same);
    ASSERT_TRUE(files >= 5);
    ASSERT_TRUE(same > 0);
    ASSERT_EQ(differ, 0);
}

/* test_parquet.c: Parquet writer + reader: RLE hybrid bytes, every type
 * and compression round-trips, statistics, hostile input (every
 * truncation, byte flips), allocation failures, files written by other
 * engines (Iceberg fixtures). */
#include <dirent.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "parquet/parquet.h"
#include "parquet/parquet_int.h"
#include "parquet/parquet_read.h"

TEST(parquet_rle_hybrid_bytes)
{
    qw_tbuf b = {0};
    uint32_t zeros[10] = {0};
    qw__pq_rle_encode(&b, zeros, 10, 1);
    ASSERT_EQ(b.n, 2u);
    ASSERT_EQ(b.b[0], 0x14); /* run of 10: 10 << 1 */
    ASSERT_EQ(b.b[1], 0x00);
    b.n = 0;
    uint32_t alt[8] = {1, 0, 1, 0, 1, 0, 1, 0};
    qw__pq_rle_encode(&b, alt, 8, 1);
    ASSERT_EQ(b.n, 2u);
    ASSERT_EQ(b.b[0], 0x03); /* one bit-packed group */
    ASSERT_EQ(b.b[1], 0x55);
    b.n = 0;
    uint32_t three[3] = {1, 2, 3}; /* bw 2, padded group: 01 10 11 00... */
    qw__pq_rle_encode(&b, three, 3, 2);
    ASSERT_EQ(b.n, 3u);
    ASSERT_EQ(b.b[0], 0x03);
    ASSERT_EQ(b.b[1], 0x39); /* 1 | 2<<2 | 3<<4 = 0b00111001 */
    ASSERT_EQ(b.b[2], 0x00);
    /* random mixes of runs and noise round-trip at every width */
    static uint32_t v[5000], out[5000];
    uint64_t x = 42;
    for (int bw = 1; bw <= 20; bw++) {
        for (int i = 0; i < 5000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[i] = (i / 37) % 3 == 0 ? v[i > 0 ? i - 1 : 0] : (uint32_t)(x & ((1u << bw) - 1));
        }
        b.n = 0;
        qw__pq_rle_encode(&b, v, 5000, bw);
        ASSERT_EQ(qw__pq_rle_decode(b.b, b.n, bw, out, 5000), 0);
        ASSERT_TRUE(memcmp(v, out, sizeof v) == 0);
    }
    qw_tbuf_free(&b);
}

static const qw_pq_column COLS[] = {
    {"product_id", 1, QW_PQ_STRING, 1, 0},
    {"ts", 2, QW_PQ_TIMESTAMP_US, 0, 1},
    {"n", 3, QW_PQ_INT64, 0, 0},
    {"i", 4, QW_PQ_INT32, 1, 0},
    {"price", 5, QW_PQ_DECIMAL_18_8, 1, 1},
    {"flag", 6, QW_PQ_BOOL, 0, 0},
    {"x", 7, QW_PQ_DOUBLE, 0, 0},
    {"day", 8, QW_PQ_DATE, 1, 0},
    {"uniq", 9, QW_PQ_STRING, 0, 0},
};
#define NC (sizeof COLS / sizeof COLS[0])

static int is_null(int col, long r)
{
    return (col == 1 && r % 5 == 0) || (col == 2 && r % 7 == 0) || (col == 5 && r % 4 == 1) ||
           (col == 6 && r % 9 == 0) || (col == 8 && r % 3 == 2);
}

static qw_err write_file(const char *path, long rows, qw_pq_codec comp, size_t rg_bytes,
                         qw_pq_file_stats *st)
{
    qw_pq_opts o = {
        .compression = comp, .row_group_bytes = rg_bytes, .page_bytes = 2048, .dictionary = 1};
    qw_pq_writer *w;
    char eb[256];
    qw_err e = qw_pq_writer_open(&w, path, COLS, NC, &o, eb, sizeof eb);
    if (e != QW_OK)
        return e;
    static const char *prods[] = {"BTC-USD", "ETH-USD", "SOL-USD"};
    for (long r = 0; r < rows; r++) {
        char u[32];
        int n = snprintf(u, sizeof u, "u%ld", r * 31);
        e = qw_pq_put_str(w, 0, prods[r % 3], 7);
        if (!e)
            e = is_null(1, r) ? qw_pq_put_null(w, 1) : qw_pq_put_i64(w, 1, 1767225600000000LL + r);
        if (!e)
            e = is_null(2, r) ? qw_pq_put_null(w, 2)
                              : qw_pq_put_i64(w, 2, (r - rows / 2) * 1000003LL);
        if (!e)
            e = qw_pq_put_i32(w, 3, (int32_t)(r % 100) - 50);
        if (!e)
            e = qw_pq_put_i64(w, 4, 4312345000000LL - r * 17);
        if (!e)
            e = is_null(5, r) ? qw_pq_put_null(w, 5) : qw_pq_put_bool(w, 5, r % 3 == 0);
        if (!e)
            e = is_null(6, r) ? qw_pq_put_null(w, 6) : qw_pq_put_f64(w, 6, (double)r / 7.0 - 3.25);
        if (!e)
            e = qw_pq_put_i32(w, 7, 20454 + (int32_t)(r / 100));
        if (!e)
            e = is_null(8, r) ? qw_pq_put_null(w, 8) : qw_pq_put_str(w, 8, u, (size_t)n);
        if (!e)
            e = qw_pq_end_row(w);
        if (e) {
            qw_pq_writer_abort(w);
            return e;
        }
    }
    return qw_pq_writer_close(w, st);
}

/* s: a scratch the reader decodes in (NULL: its own). */
static int check_file_in(const char *path, long rows, qw_pqr_scratch *s)
{
    qw_pqr *r;
    char eb[256];
    if (qw_pqr_open(&r, path, 1u << 30, eb, sizeof eb) != QW_OK)
        return -1;
    qw_pqr_use_scratch(r, s);
    if (qw_pqr_ncols(r) != NC || qw_pqr_num_rows(r) != (uint64_t)rows)
        return -2;
    for (size_t i = 0; i < NC; i++)
        if (qw_pqr_field_at(r, i)->field_id != COLS[i].field_id ||
            qw_pqr_field_at(r, i)->required != COLS[i].required)
            return -3;
    qw_pqr_column c[NC];
    for (size_t i = 0; i < NC; i++)
        qw_pqr_column_alloc(&c[i]);
    long base = 0;
    int bad = 0;
    for (size_t g = 0; g < qw_pqr_row_groups(r); g++) {
        for (size_t i = 0; i < NC; i++)
            if (qw_pqr_read(r, g, i, &c[i]) != QW_OK)
                bad = -4;
        for (size_t k = 0; k < c[0].n && !bad; k++) {
            long rr = base + (long)k;
            for (int col = 0; col < (int)NC; col++)
                if (c[col].valid[k] != !is_null(col, rr))
                    bad = -5;
            size_t ln;
            const char *p = qw_pqr_str(&c[0], k, &ln);
            static const char *prods[] = {"BTC-USD", "ETH-USD", "SOL-USD"};
            bad |= ln != 7 || memcmp(p, prods[rr % 3], 7) != 0 ? -6 : 0;
            if (!is_null(1, rr))
                bad |= c[1].i64[k] != 1767225600000000LL + rr ? -7 : 0;
            if (!is_null(2, rr))
                bad |= c[2].i64[k] != (rr - rows / 2) * 1000003LL ? -8 : 0;
            bad |= c[3].i64[k] != (rr % 100) - 50 ? -9 : 0;
            bad |= c[4].i64[k] != 4312345000000LL - rr * 17 ? -10 : 0;
            if (!is_null(5, rr))
                bad |= c[5].i64[k] != (rr % 3 == 0) ? -11 : 0;
            if (!is_null(6, rr))
                bad |= c[6].f64[k] != (double)rr / 7.0 - 3.25 ? -12 : 0;
            bad |= c[7].i64[k] != 20454 + rr / 100 ? -13 : 0;
            if (!is_null(8, rr)) {
                char u[32];
                int n = snprintf(u, sizeof u, "u%ld", rr * 31);
                p = qw_pqr_str(&c[8], k, &ln);
                bad |= ln != (size_t)n || memcmp(p, u, ln) != 0 ? -14 : 0;
            }
        }
        base += (long)c[0].n;
    }
    for (size_t i = 0; i < NC; i++)
        qw_pqr_column_free(&c[i]);
    qw_pqr_close(r);
    return bad ? bad : base == rows ? 0 : -15;
}

static int check_file(const char *path, long rows)
{
    return check_file_in(path, rows, NULL);
}

/* Two readers of one file, open together, decode in one scratch column
 * by column in turn: each column equals the other reader's. */
static int check_shared(const char *path, qw_pqr_scratch *s)
{
    qw_pqr *a, *b;
    char eb[256];
    if (qw_pqr_open(&a, path, 1u << 30, eb, sizeof eb) != QW_OK)
        return -1;
    if (qw_pqr_open(&b, path, 1u << 30, eb, sizeof eb) != QW_OK) {
        qw_pqr_close(a);
        return -1;
    }
    qw_pqr_use_scratch(a, s);
    qw_pqr_use_scratch(b, s);
    qw_pqr_column x, y;
    qw_pqr_column_alloc(&x);
    qw_pqr_column_alloc(&y);
    int bad = 0;
    for (size_t g = 0; g < qw_pqr_row_groups(a) && !bad; g++)
        for (size_t i = 0; i < NC && !bad; i++) {
            if (qw_pqr_read(a, g, i, &x) != QW_OK || qw_pqr_read(b, g, i, &y) != QW_OK ||
                x.n != y.n)
                bad = -2;
            for (size_t k = 0; k < x.n && !bad; k++) {
                size_t xl, yl;
                const char *xs = qw_pqr_str(&x, k, &xl), *ys = qw_pqr_str(&y, k, &yl);
                if (x.valid[k] != y.valid[k] || x.i64[k] != y.i64[k] || xl != yl ||
                    memcmp(xs, ys, xl) != 0 || memcmp(&x.f64[k], &y.f64[k], sizeof x.f64[k]) != 0)
                    bad = -3;
            }
        }
    qw_pqr_column_free(&x);
    qw_pqr_column_free(&y);
    qw_pqr_close(a);
    qw_pqr_close(b);
    return bad;
}

TEST(parquet_roundtrip_every_type_and_codec)
{
    char path[] = "/tmp/qwpqXXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    const qw_pq_codec comps[] = {QW_PQ_ZSTD, QW_PQ_SNAPPY, QW_PQ_UNCOMPRESSED};
    qw_pqr_scratch *shared = qw_pqr_scratch_new();
    ASSERT_TRUE(shared != NULL);
    for (int k = 0; k < 3; k++) {
        qw_pq_file_stats st;
        ASSERT_OK(write_file(path, 20000, comps[k], k == 1 ? 100000 : 0, &st));
        ASSERT_EQ(st.rows, 20000u);
        if (k == 1)
            ASSERT_TRUE(st.row_groups > 2);
        ASSERT_EQ(check_file(path, 20000), 0);
        ASSERT_EQ(check_file_in(path, 20000, shared), 0); /* grown by the codecs before */
        ASSERT_EQ(check_shared(path, shared), 0);
        /* statistics */
        ASSERT_EQ(st.col[1].nulls, 4000u);
        ASSERT_EQ(st.col[1].values, 20000u);
        ASSERT_EQ(st.col[1].min_i, 1767225600000001LL);
        ASSERT_EQ(st.col[1].max_i, 1767225600019999LL);
        ASSERT_EQ(st.col[4].min_i, 4312345000000LL - 19999 * 17);
        ASSERT_EQ(st.col[0].min_len, 7u);
        ASSERT_TRUE(memcmp(st.col[0].min_s, "BTC-USD", 7) == 0);
        ASSERT_TRUE(memcmp(st.col[0].max_s, "SOL-USD", 7) == 0);
        ASSERT_DBL_NEAR(st.col[6].min_d, 1.0 / 7.0 - 3.25, 0); /* row 0 is null */
        ASSERT_EQ(st.col[5].min_i, 0);
        ASSERT_EQ(st.col[5].max_i, 1);
        ASSERT_TRUE(st.col[0].bytes > 0 && st.col[0].bytes < st.file_bytes);
    }
    ASSERT_EQ(check_file(path, 20000), 0);
    /* zero rows: a valid file with no row groups */
    qw_pq_file_stats st;
    ASSERT_OK(write_file(path, 0, QW_PQ_ZSTD, 0, &st));
    ASSERT_EQ(check_file(path, 0), 0);
    qw_pqr_scratch_free(shared);
    unlink(path);
}

TEST(parquet_delta_binary_packed)
{
    qw_tbuf b = {0};
    /* the two examples of the Parquet spec (Encodings.md) */
    int64_t ex1[] = {1, 2, 3, 4, 5};
    qw__pq_delta_encode(&b, ex1, 5);
    static const uint8_t want1[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
    ASSERT_EQ(b.n, sizeof want1);
    ASSERT_TRUE(memcmp(b.b, want1, sizeof want1) == 0);
    b.n = 0;
    int64_t ex2[] = {7, 5, 3, 1, 2, 3, 4, 5};
    qw__pq_delta_encode(&b, ex2, 8);
    static const uint8_t want2[] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 2, 0, 0,
                                    0,    0xc0, 0x3f, 0,    0,    0,    0, 0, 0};
    ASSERT_EQ(b.n, sizeof want2);
    ASSERT_TRUE(memcmp(b.b, want2, sizeof want2) == 0);
    /* round trips: every length around block and miniblock edges, extreme
     * values (wrapping deltas, 64-bit widths), runs, timestamps */
    static int64_t v[5000], out[5000];
    uint64_t x = 99;
    size_t lens[] = {0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 255, 256, 257, 1000, 5000};
    for (int kind = 0; kind < 4; kind++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                v[i] = kind == 0   ? (int64_t)x
                       : kind == 1 ? (i % 3 == 0   ? INT64_MIN
                                      : i % 3 == 1 ? INT64_MAX
                                                   : 0)
                       : kind == 2 ? 1767225600000000000LL + (int64_t)(i / 4) * 1234567
                                   : (int64_t)(x % 1000) - 500;
            }
            b.n = 0;
            qw__pq_delta_encode(&b, v, n);
            ASSERT_TRUE(!b.oom);
            ASSERT_EQ(qw__pq_delta_decode(b.b, b.n, out, n), (long)b.n);
            ASSERT_TRUE(n == 0 || memcmp(v, out, n * sizeof v[0]) == 0);
            /* truncations never read out of bounds (ASan run); they are
             * refused unless only the last miniblock's padding was cut */
            for (size_t cut = 0; n > 0 && cut < b.n; cut += 1 + b.n / 50) {
                long used = qw__pq_delta_decode(b.b, cut, out, n);
                ASSERT_TRUE(used < 0 ||
                            (used <= (long)cut && memcmp(v, out, n * sizeof v[0]) == 0));
            }
        }
    /* every miniblock bit width 1..64 */
    for (int bw = 1; bw <= 64; bw++) {
        uint64_t mask = bw == 64 ? ~0ull : (1ull << bw) - 1;
        v[0] = 5;
        for (size_t i = 1; i < 300; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t d = i % 32 == 1 ? mask : i % 32 == 2 ? 0 : x & mask; /* min 0, max all ones */
            v[i] = (int64_t)((uint64_t)v[i - 1] + d);
        }
        b.n = 0;
        qw__pq_delta_encode(&b, v, 300);
        /* header: 80 01 | 04 | ac 02 (300) | 0a (first 5) | 00 (min delta 0) | widths */
        if (bw < 64) { /* 64: the all-ones delta is -1 as int64, so the min delta is not 0 */
            ASSERT_EQ(b.b[6], 0);
            ASSERT_EQ(b.b[7], (uint8_t)bw);
        }
        ASSERT_EQ(qw__pq_delta_decode(b.b, b.n, out, 300), (long)b.n);
        ASSERT_TRUE(memcmp(v, out, 300 * sizeof v[0]) == 0);
    }
    /* timestamps shrink: 8 bytes plain vs about 1 here */
    for (size_t i = 0; i < 5000; i++)
        v[i] = 1767225600000000LL + (int64_t)i * 3;
    b.n = 0;
    qw__pq_delta_encode(&b, v, 5000);
    ASSERT_TRUE(b.n < 5000 / 4);
    qw_tbuf_free(&b);
}

/* qw_pq_write_rows: whole columns, nulls, caller dictionary, free strings,
 * delta and plain ints, several row groups and pages, read back exactly. */
TEST(parquet_write_rows_columns)
{
    char path[] = "/tmp/qwpqXXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    enum { N = 7000 };
    static int64_t ts[N], px[N], day[N], flag[N];
    static double xd[N];
    static uint8_t vts[N], vx[N], vs[N];
    static uint32_t code[N], soff[N + 1];
    static uint8_t sbytes[N * 16];
    static const char *const dict[] = {"bid", "ask", "connect", "gap"};
    static const uint32_t dlen[] = {3, 3, 7, 3};
    soff[0] = 0;
    for (int r = 0; r < N; r++) {
        ts[r] = 1767225600000000LL + r / 3;
        vts[r] = r % 5 != 0;
        px[r] = 4312345000000LL - r * 17 + (r % 7) * 100000000LL;
        day[r] = 20454 + r / 1000;
        flag[r] = r % 3 == 0;
        xd[r] = (double)r / 7.0 - 3.25;
        vx[r] = r % 9 != 0;
        code[r] = (uint32_t)(r % 11 == 0 ? 2 : r % 2);
        vs[r] = r % 4 != 3;
        int n = vs[r] ? snprintf((char *)sbytes + soff[r], 16, "t%d", r * 31) : 0;
        soff[r + 1] = soff[r] + (uint32_t)n;
    }
    const qw_pq_column cols[] = {
        {"ts", 1, QW_PQ_TIMESTAMP_US, 0, 1}, {"price", 2, QW_PQ_DECIMAL_18_8, 1, 1},
        {"p2", 3, QW_PQ_DECIMAL_18_8, 1, 0}, {"day", 4, QW_PQ_DATE, 1, 0},
        {"flag", 5, QW_PQ_BOOL, 1, 0},       {"x", 6, QW_PQ_DOUBLE, 0, 0},
        {"side", 7, QW_PQ_STRING, 1, 0},     {"id", 8, QW_PQ_STRING, 0, 0},
    };
    qw_pq_vec v[8];
    memset(v, 0, sizeof v);
    v[0].i64 = ts, v[0].valid = vts;
    v[1].i64 = px;
    v[2].i64 = px;
    v[3].i64 = day;
    v[4].i64 = flag;
    v[5].f64 = xd, v[5].valid = vx;
    v[6].code = code, v[6].dict = dict, v[6].dict_len = dlen, v[6].ndict = 4;
    v[7].soff = soff, v[7].sbytes = sbytes, v[7].valid = vs;
    qw_pq_ctx *ctx;
    ASSERT_OK(qw_pq_ctx_new(&ctx));
    qw_pq_opts o = {.compression = QW_PQ_ZSTD,
                    .row_group_bytes = 20000,
                    .page_bytes = 4096,
                    .dictionary = 1,
                    .ctx = ctx};
    qw_pq_writer *w;
    char eb[256];
    ASSERT_OK(qw_pq_writer_open(&w, path, cols, 8, &o, eb, sizeof eb));
    ASSERT_OK(qw_pq_write_rows(w, v, 3000));
    ASSERT_OK(qw_pq_put_i64(w, 0, 5)); /* single values mix in */
    ASSERT_OK(qw_pq_put_i64(w, 1, 6));
    ASSERT_OK(qw_pq_put_i64(w, 2, 7));
    ASSERT_OK(qw_pq_put_i32(w, 3, 8));
    ASSERT_OK(qw_pq_put_bool(w, 4, 1));
    ASSERT_OK(qw_pq_put_null(w, 5));
    ASSERT_OK(qw_pq_put_str(w, 6, "gap", 3));
    ASSERT_OK(qw_pq_put_null(w, 7));
    ASSERT_OK(qw_pq_end_row(w));
    qw_pq_vec sh[8];
    for (int i = 0; i < 8; i++) { /* rows 3000.. */
        sh[i] = v[i];
        sh[i].i64 = v[i].i64 ? v[i].i64 + 3000 : NULL;
        sh[i].f64 = v[i].f64 ? v[i].f64 + 3000 : NULL;
        sh[i].valid = v[i].valid ? v[i].valid + 3000 : NULL;
        sh[i].code = v[i].code ? v[i].code + 3000 : NULL;
        sh[i].soff = v[i].soff ? v[i].soff + 3000 : NULL;
    }
    ASSERT_OK(qw_pq_write_rows(w, sh, N - 3000));
    qw_pq_file_stats st;
    ASSERT_OK(qw_pq_writer_close(w, &st));
    ASSERT_EQ(st.rows, (uint64_t)N + 1);
    ASSERT_TRUE(st.row_groups >= 4);
    ASSERT_EQ(st.col[0].nulls, (uint64_t)(N / 5));
    ASSERT_EQ(st.col[0].min_i, 5);
    ASSERT_EQ(st.col[0].max_i, ts[N - 1]);
    ASSERT_EQ(st.col[6].min_len, 3u);
    ASSERT_TRUE(memcmp(st.col[6].min_s, "ask", 3) == 0);
    ASSERT_TRUE(memcmp(st.col[6].max_s, "gap", 3) == 0);
    ASSERT_EQ(st.col[7].nulls, (uint64_t)(N / 4) + 1);
    /* read back */
    qw_pqr *r;
    ASSERT_OK(qw_pqr_open(&r, path, 1u << 30, eb, sizeof eb));
    qw_pqr_column c[8];
    for (int i = 0; i < 8; i++)
        qw_pqr_column_alloc(&c[i]);
    long row = 0, bad = 0;
    for (size_t g = 0; g < qw_pqr_row_groups(r); g++) {
        for (int i = 0; i < 8; i++)
            ASSERT_OK(qw_pqr_read(r, g, (size_t)i, &c[i]));
        for (size_t k = 0; k < c[0].n; k++, row++) {
            if (row == 3000) { /* the single row */
                bad += c[0].i64[k] != 5 || c[3].i64[k] != 8 || c[5].valid[k] || c[7].valid[k];
                continue;
            }
            long s = row > 3000 ? row - 1 : row;
            bad += c[0].valid[k] != vts[s] || (vts[s] && c[0].i64[k] != ts[s]);
            bad += c[1].i64[k] != px[s] || c[2].i64[k] != px[s] || c[3].i64[k] != day[s];
            bad += c[4].i64[k] != flag[s];
            bad += c[5].valid[k] != vx[s] || (vx[s] && c[5].f64[k] != xd[s]);
            size_t ln;
            const char *p = qw_pqr_str(&c[6], k, &ln);
            bad += ln != dlen[code[s]] || memcmp(p, dict[code[s]], ln) != 0;
            p = qw_pqr_str(&c[7], k, &ln);
            bad += c[7].valid[k] != vs[s] ||
                   (vs[s] && (ln != soff[s + 1] - soff[s] || memcmp(p, sbytes + soff[s], ln) != 0));
        }
    }
    ASSERT_EQ(row, (long)N + 1);
    ASSERT_EQ(bad, 0);
    for (int i = 0; i < 8; i++)
        qw_pqr_column_free(&c[i]);
    qw_pqr_close(r);
    /* bad columns: the batch is refused and the writer fails */
    uint32_t badcode[4] = {0, 1, 4, 0};
    int64_t big[4] = {0, 1000000000000000000LL, 0, 0};
    uint8_t holes[4] = {1, 0, 1, 1};
    for (int k = 0; k < 3; k++) {
        qw_pq_vec bv[8];
        memcpy(bv, v, sizeof bv);
        if (k == 0)
            bv[6].code = badcode; /* code beyond the dictionary */
        else if (k == 1)
            bv[1].i64 = big; /* beyond decimal(18, 8) */
        else
            bv[1].valid = holes; /* a null in a required column */
        ASSERT_OK(qw_pq_writer_open(&w, path, cols, 8, &o, eb, sizeof eb));
        ASSERT_ERR(QW_INVAL, qw_pq_write_rows(w, bv, 4));
        ASSERT_ERR(QW_INVAL, qw_pq_write_rows(w, v, 4));
        qw_pq_writer_abort(w);
    }
    qw_pq_ctx_free(ctx);
    unlink(path);
}

TEST(parquet_writer_rejects_misuse)
{
    char path[] = "/tmp/qwpqXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path); /* a fresh name: the writer never shows a partial file under it */
    qw_pq_writer *w;
    char eb[128];
    ASSERT_OK(qw_pq_writer_open(&w, path, COLS, NC, NULL, eb, sizeof eb));
    ASSERT_TRUE(access(path, F_OK) != 0);
    ASSERT_ERR(QW_INVAL, qw_pq_put_null(w, 0));     /* required */
    ASSERT_ERR(QW_INVAL, qw_pq_put_f64(w, 0, 1.0)); /* wrong type */
    ASSERT_OK(qw_pq_put_str(w, 0, "A", 1));
    ASSERT_ERR(QW_INVAL, qw_pq_put_str(w, 0, "B", 1));                /* twice in a row */
    ASSERT_ERR(QW_INVAL, qw_pq_end_row(w));                           /* incomplete row */
    ASSERT_ERR(QW_INVAL, qw_pq_put_i64(w, 4, 1000000000000000000LL)); /* beyond decimal(18,8) */
    ASSERT_ERR(QW_INVAL, qw_pq_put_i32(w, 99, 1));
    qw_pq_writer_abort(w);
    ASSERT_TRUE(access(path, F_OK) != 0); /* abort leaves nothing behind, */
    char pat[64];
    snprintf(pat, sizeof pat, "%s.tmp.*", path);
    glob_t g;
    ASSERT_EQ(GLOB_NOMATCH, glob(pat, 0, NULL, &g)); /* not even the temp file */
    ASSERT_ERR(QW_IO, qw_pq_writer_open(&w, "/proc/nope/x.parquet", COLS, NC, NULL, eb, sizeof eb));
}

TEST(parquet_reader_survives_every_truncation_and_flips)
{
    char path[] = "/tmp/qwpqXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    qw_pq_file_stats st;
    ASSERT_OK(write_file(path, 300, QW_PQ_SNAPPY, 0, &st));
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 16], mut[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(path);
    ASSERT_TRUE(n > 100 && n < sizeof buf);
    int opened = 0;
    for (size_t len = 0; len < n; len++) {
        qw_pqr *r;
        char eb[128];
        if (qw_pqr_open_mem(&r, buf, len, eb, sizeof eb) == QW_OK) {
            opened++;
            qw_pqr_close(r);
        }
    }
    ASSERT_EQ(opened, 0); /* no strict prefix is a valid file */
    uint64_t x = 7;
    int read_ok = 0, read_err = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(mut, buf, n);
        for (int k = 0; k < 1 + it % 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            mut[x % n] ^= (uint8_t)(1u << (x >> 40) % 8);
        }
        qw_pqr *r;
        char eb[128];
        if (qw_pqr_open_mem(&r, mut, n, eb, sizeof eb) != QW_OK)
            continue;
        qw_pqr_column c;
        qw_pqr_column_alloc(&c);
        for (size_t g = 0; g < qw_pqr_row_groups(r); g++)
            for (size_t i = 0; i < qw_pqr_ncols(r); i++)
                qw_pqr_read(r, g, i, &c) == QW_OK ? read_ok++ : read_err++;
        qw_pqr_column_free(&c);
        qw_pqr_close(r);
    }
    ASSERT_TRUE(read_err > 0); /* CRCs catch flipped page bytes */
}

TEST(parquet_allocation_failure_every_point)
{
    char path[] = "/tmp/qwpqXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    int done = 0;
    for (long k = 0; k < 400 && !done; k++) {
        qw_alloc_fail_after(k);
        qw_pq_file_stats st;
        qw_err e = write_file(path, 3000, QW_PQ_ZSTD, 20000, &st);
        qw_alloc_fail_after(-1);
        if (e == QW_OK) {
            ASSERT_EQ(check_file(path, 3000), 0);
            done = 1;
        }
    }
    ASSERT_TRUE(done);
    unlink(path);
}

static int read_fixtures_in(const char *dir, int *files, int *cols_ok, int *cols_unsup)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t l = strlen(e->d_name);
        if (l > 8 && strcmp(e->d_name + l - 8, ".parquet") == 0) {
            qw_pqr *r;
            char eb[256];
            qw_err oe = qw_pqr_open(&r, p, 1u << 30, eb, sizeof eb);
            if (oe != QW_OK) {
                printf("    fixture %s: %s\n", p, eb);
                if (oe != QW_UNSUPPORTED)
                    return -1;
                continue;
            }
            (*files)++;
            qw_pqr_column c;
            qw_pqr_column_alloc(&c);
            uint64_t rows = 0;
            for (size_t g = 0; g < qw_pqr_row_groups(r); g++) {
                rows += qw_pqr_rg_rows(r, g);
                for (size_t i = 0; i < qw_pqr_ncols(r); i++) {
                    qw_err re = qw_pqr_read(r, g, i, &c);
                    if (re == QW_OK)
                        (*cols_ok)++;
                    else if (re == QW_UNSUPPORTED)
                        (*cols_unsup)++;
                    else {
                        printf("    fixture %s col %zu: %s\n", p, i, qw_pqr_errmsg(r));
                        return -1;
                    }
                }
            }
            qw_pqr_column_free(&c);
            if (rows != qw_pqr_num_rows(r))
                return -1;
            qw_pqr_close(r);
        } else if (e->d_type == DT_DIR) {
            if (read_fixtures_in(p, files, cols_ok, cols_unsup) < 0)
                return -1;
        }
    }
    closedir(d);
    return 0;
}

TEST(parquet_reads_other_engines_files)
{
    const char *shared = getenv("QW_SHARED");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data/iceberg_fixtures", shared ? shared : "/work/shared");
    int files = 0, ok = 0, unsup = 0;
    ASSERT_EQ(read_fixtures_in(dir, &files, &ok, &unsup), 0);
    printf("    %d fixture files, %d column chunks read, %d unsupported\n", files, ok, unsup);
    ASSERT_TRUE(files >= 5);
    ASSERT_TRUE(ok > unsup);
}

/* DECIMAL(38, 8) as FIXED_LEN_BYTE_ARRAY(16): every int64 e8 value, with
 * nulls, through the row and the vector API, round-trips; statistics are
 * the 16-byte big-endian bounds; the footer says precision 38. */
TEST(parquet_decimal38_every_int64)
{
    static const int64_t vals[] = {0,
                                   1,
                                   -1,
                                   999999999999999999LL,
                                   1000000000000000000LL, /* 1e10: beyond decimal(18, 8) */
                                   -1000000000000000001LL,
                                   INT64_MAX,
                                   INT64_MIN,
                                   255,
                                   -256,
                                   128,
                                   -129};
    enum { NV = sizeof vals / sizeof vals[0], N = 5000 };
    static int64_t col[N];
    static uint8_t valid[N];
    for (int r = 0; r < N; r++) {
        col[r] = vals[r % NV] - (r % NV == 6 ? r / NV : 0) + (r % NV == 7 ? r / NV : 0);
        valid[r] = r % 13 != 5;
    }
    char path[] = "/tmp/qwpqXXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    const qw_pq_column cols[] = {{"size", 3, QW_PQ_DECIMAL_38_8, 0, 0}};
    qw_pq_ctx *ctx;
    ASSERT_OK(qw_pq_ctx_new(&ctx));
    qw_pq_opts o = {.compression = QW_PQ_ZSTD, .page_bytes = 4096, .ctx = ctx};
    qw_pq_writer *w;
    char eb[256];
    ASSERT_OK(qw_pq_writer_open(&w, path, cols, 1, &o, eb, sizeof eb));
    qw_pq_vec v = {.i64 = col, .valid = valid};
    ASSERT_OK(qw_pq_write_rows(w, &v, N - 2));
    ASSERT_OK(qw_pq_put_i64(w, 0, col[N - 2])); /* the row API too */
    ASSERT_OK(qw_pq_end_row(w));
    ASSERT_OK(qw_pq_put_null(w, 0));
    ASSERT_OK(qw_pq_end_row(w));
    valid[N - 1] = 0;
    qw_pq_file_stats st;
    ASSERT_OK(qw_pq_writer_close(w, &st));
    qw_pq_ctx_free(ctx);
    ASSERT_EQ(st.rows, (uint64_t)N);
    ASSERT_EQ(st.col[0].min_i, INT64_MIN);
    ASSERT_EQ(st.col[0].max_i, INT64_MAX);
    qw_pqr *r;
    ASSERT_OK(qw_pqr_open(&r, path, 1u << 30, eb, sizeof eb));
    const qw_pqr_field *f = qw_pqr_field_at(r, 0);
    ASSERT_EQ(f->phys, QW_PQ_PHYS_FLBA);
    ASSERT_EQ(f->type_length, 16);
    ASSERT_EQ(f->precision, 38);
    ASSERT_EQ(f->scale, 8);
    ASSERT_EQ(f->logical, 5);
    qw_pqr_column c;
    qw_pqr_column_alloc(&c);
    size_t row = 0;
    for (size_t g = 0; g < qw_pqr_row_groups(r); g++) {
        ASSERT_OK(qw_pqr_read(r, g, 0, &c));
        for (size_t k = 0; k < c.n; k++, row++) {
            ASSERT_EQ(c.valid[k], valid[row]);
            if (valid[row])
                ASSERT_EQ(c.i64[k], col[row]);
        }
    }
    ASSERT_EQ(row, (size_t)N);
    qw_pqr_column_free(&c);
    qw_pqr_close(r);
    unlink(path);
    /* the byte-level helpers */
    uint8_t b[16];
    int64_t back;
    for (int i = 0; i < NV; i++) {
        qw__pq_dec38_be(vals[i], b);
        ASSERT_EQ(qw__pq_dec_be_to_i64(b, 16, &back), 0);
        ASSERT_EQ(back, vals[i]);
    }
    const uint8_t big[9] = {0x00, 0x80, 0, 0, 0, 0, 0, 0, 0}; /* 2^63: beyond int64 */
    ASSERT_EQ(qw__pq_dec_be_to_i64(big, 9, &back), -1);
    const uint8_t neg[9] = {0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; /* -2^63-1 */
    ASSERT_EQ(qw__pq_dec_be_to_i64(neg, 9, &back), -1);
    const uint8_t m1[3] = {0xff, 0xff, 0xfe};
    ASSERT_EQ(qw__pq_dec_be_to_i64(m1, 3, &back), 0);
    ASSERT_EQ(back, -2);
    ASSERT_EQ(qw__pq_dec_be_to_i64(m1, 0, &back), -1);
}

/* qw_pq_write_rows splitting one call into several row groups moves every
 * array to the group's first row, the 128-bit decimals too (they were
 * not: every group after the first repeated the first group's values,
 * which corrupted prices of compaction bins of more than one group). */
TEST(parquet_write_rows_i128_across_row_groups)
{
    enum { N = 20000 };
    static qw_sz w128[N];
    static int64_t id[N];
    for (int r = 0; r < N; r++)
        w128[r] = (qw_sz)r * 1000003 - 7, id[r] = r;
    char path[] = "/tmp/qwpqXXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    const qw_pq_column cols[] = {{"id", 1, QW_PQ_INT64, 1, 0},
                                 {"price", 2, QW_PQ_DECIMAL_38_8, 1, 0}};
    qw_pq_opts o = {.compression = QW_PQ_ZSTD, .row_group_bytes = 65536};
    qw_pq_writer *w;
    char eb[256];
    ASSERT_OK(qw_pq_writer_open(&w, path, cols, 2, &o, eb, sizeof eb));
    qw_pq_vec v[2] = {{.i64 = id}, {.i128 = w128}};
    ASSERT_OK(qw_pq_write_rows(w, v, N));
    qw_pq_file_stats st;
    ASSERT_OK(qw_pq_writer_close(w, &st));
    ASSERT_TRUE(st.row_groups >= 4);
    ASSERT_TRUE(st.col[1].max_w == w128[N - 1]);
    qw_pqr *r;
    ASSERT_OK(qw_pqr_open(&r, path, 1u << 30, eb, sizeof eb));
    qw_pqr_column c[2];
    qw_pqr_column_alloc(&c[0]), qw_pqr_column_alloc(&c[1]);
    size_t row = 0, bad = 0;
    for (size_t g = 0; g < qw_pqr_row_groups(r); g++) {
        ASSERT_OK(qw_pqr_read(r, g, 0, &c[0]));
        ASSERT_OK(qw_pqr_read(r, g, 1, &c[1]));
        for (size_t k = 0; k < c[0].n; k++, row++)
            bad += c[0].i64[k] != (int64_t)row || c[1].i128[k] != w128[row];
    }
    ASSERT_EQ(row, (size_t)N);
    ASSERT_EQ(bad, (size_t)0);
    qw_pqr_column_free(&c[0]), qw_pqr_column_free(&c[1]);
    qw_pqr_close(r);
    unlink(path);
}

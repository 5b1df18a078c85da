/* test_lake_stats.c: Parquet footer statistics (qw_pqr_stats_get) from our
 * writer, other engines' files and hand-built footers (absent, inexact,
 * unordered, oversized and nonsense bounds), and the lake reader's scan
 * decision from them (qw__lcur_settle, qw__lcur_verify): a file the
 * statistics settle is not decoded in the scan, one they cannot settle is,
 * and rows that contradict the statistics are caught when decoded. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "parquet/parquet.h"
#include "parquet/parquet_int.h"
#include "parquet/parquet_read.h"
#include "storage/lake_read_int.h"
#include "storage/records.h"
#include "storage/store.h"
#include "storage/tables.h"

static int tmp_path(char *p, size_t n)
{
    snprintf(p, n, "/tmp/qwlsXXXXXX");
    int fd = mkstemp(p);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* ---- statistics from our writer ---- */

TEST(parquet_stats_from_our_writer)
{
    static const qw_pq_column cols[] = {
        {"s", 1, QW_PQ_STRING, 1, 0},  {"i", 2, QW_PQ_INT64, 0, 0},
        {"j", 3, QW_PQ_INT32, 1, 0},   {"b", 4, QW_PQ_BOOL, 1, 0},
        {"d", 5, QW_PQ_DOUBLE, 1, 0},  {"long", 6, QW_PQ_STRING, 1, 0},
        {"none", 7, QW_PQ_INT64, 0, 0}};
    char path[64];
    ASSERT_EQ(tmp_path(path, sizeof path), 0);
    qw_pq_opts o = {.compression = QW_PQ_ZSTD, .dictionary = 1};
    qw_pq_writer *w;
    char eb[256], big[100];
    memset(big, 'x', sizeof big);
    ASSERT_OK(qw_pq_writer_open(&w, path, cols, 7, &o, eb, sizeof eb));
    for (int r = 0; r < 10; r++) {
        ASSERT_OK(qw_pq_put_str(w, 0, r % 2 ? "ETH-USD" : "BTC-USD", 7));
        ASSERT_OK(r == 3 ? qw_pq_put_null(w, 1) : qw_pq_put_i64(w, 1, -5 + r * 1000000000000LL));
        ASSERT_OK(qw_pq_put_i32(w, 2, -7 + r));
        ASSERT_OK(qw_pq_put_bool(w, 3, 0));
        ASSERT_OK(qw_pq_put_f64(w, 4, r * 0.5));
        big[0] = (char)('a' + r);
        ASSERT_OK(qw_pq_put_str(w, 5, big, sizeof big));
        ASSERT_OK(qw_pq_put_null(w, 6));
        ASSERT_OK(qw_pq_end_row(w));
    }
    ASSERT_OK(qw_pq_writer_close(w, NULL));
    qw_pqr *r;
    ASSERT_OK(qw_pqr_open(&r, path, 1u << 20, eb, sizeof eb));
    qw_pqr_stats s;
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 0, &s), 0);
    ASSERT_EQ(s.null_count, 0);
    ASSERT_TRUE(s.min && s.min_len == 7 && memcmp(s.min, "BTC-USD", 7) == 0);
    ASSERT_TRUE(s.max && s.max_len == 7 && memcmp(s.max, "ETH-USD", 7) == 0);
    ASSERT_EQ(s.has_imin, 0); /* strings are not integers */
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 1, &s), 0);
    ASSERT_EQ(s.null_count, 1);
    ASSERT_TRUE(s.has_imin && s.has_imax);
    ASSERT_EQ(s.imin, -5);
    ASSERT_EQ(s.imax, -5 + 9 * 1000000000000LL);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 2, &s), 0); /* INT32: sign-extended */
    ASSERT_EQ(s.imin, -7);
    ASSERT_EQ(s.imax, 2);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 3, &s), 0);
    ASSERT_TRUE(s.has_imin && s.has_imax && s.imin == 0 && s.imax == 0);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 4, &s), 0); /* DOUBLE: bytes only */
    ASSERT_TRUE(s.min && s.min_len == 8 && !s.has_imin);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 5, &s), 0); /* longer than QW_PQR_STAT_MAX: not kept */
    ASSERT_EQ(s.null_count, 0);
    ASSERT_TRUE(!s.min && !s.max);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 6, &s), 0); /* all null: a count, no bounds */
    ASSERT_EQ(s.null_count, 10);
    ASSERT_TRUE(!s.min && !s.max && !s.has_imin && !s.has_imax);
    ASSERT_EQ(qw_pqr_stats_get(r, 1, 0, &s), -1); /* out of range */
    ASSERT_EQ(s.null_count, -1);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 7, &s), -1);
    qw_pqr_close(r);
    unlink(path);
}

/* ---- other engines' files ---- */

TEST(parquet_stats_from_other_engines)
{
    const char *shared = getenv("QW_SHARED");
    char p[512];
    const char *fx = shared ? shared : "/work/shared";
    snprintf(p, sizeof p,
             "%s/data/iceberg_fixtures/icebird/java/bunnies/data/bunnies-initial.parquet", fx);
    qw_pqr *r;
    char eb[256];
    ASSERT_OK(qw_pqr_open(&r, p, 1u << 20, eb, sizeof eb)); /* parquet-mr (Java) */
    qw_pqr_stats s;
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 0, &s), 0); /* Breed Name */
    ASSERT_TRUE(s.min && s.min_len == 18 && memcmp(s.min, "American Fuzzy Lop", 18) == 0);
    ASSERT_TRUE(s.max && s.max_len == 8 && memcmp(s.max, "Thrianta", 8) == 0);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 3, &s), 0); /* Lifespan, INT64 */
    ASSERT_TRUE(s.has_imin && s.has_imax && s.imin == 5 && s.imax == 12 && s.null_count == 0);
    qw_pqr_close(r);
    snprintf(p, sizeof p,
             "%s/data/iceberg_fixtures/duckdb-iceberg/null_stats/default/test_nulls/data/"
             "00000-0-2aeec77d-bbe8-4b0a-8105-3093ce4ea02a.parquet",
             fx);
    ASSERT_OK(qw_pqr_open(&r, p, 1u << 20, eb, sizeof eb));
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 0, &s), 0); /* id, INT32 */
    ASSERT_TRUE(s.has_imin && s.imin == 7 && s.imax == 9);
    ASSERT_EQ(qw_pqr_stats_get(r, 0, 3, &s), 0); /* flag: every row null */
    ASSERT_TRUE(s.null_count == 3 && !s.min && !s.has_imax);
    qw_pqr_close(r);
}

/* ---- hand-built footers ---- */

typedef struct fspec {
    int stats;           /* write a Statistics struct */
    int64_t nulls;       /* -1: no null_count */
    const void *mn, *mx; /* NULL: absent */
    size_t mnl, mxl;
    int mn_exact;  /* -1: field absent, else is_min_value_exact */
    int orders;    /* 0 none, 1 TypeDefinedOrder, 2 an unknown union member */
    int converted; /* -1 none */
} fspec;

/* A file of one optional INT64 column "v", one row group of 3 rows (no
 * pages: opening reads only the footer). */
static size_t build(uint8_t *out, size_t cap, const fspec *f)
{
    qw_tbuf b = {0};
    qw_tw t;
    qw_tw_init(&t, &b);
    qw_tw_i32(&t, 1, 1);
    qw_tw_list_begin(&t, 2, QW_TT_STRUCT, 2);
    qw_tw_elem_struct_begin(&t);
    qw_tw_string(&t, 4, "schema");
    qw_tw_i32(&t, 5, 1);
    qw_tw_struct_end(&t);
    qw_tw_elem_struct_begin(&t);
    qw_tw_i32(&t, 1, QW_PQ_PHYS_INT64);
    qw_tw_i32(&t, 3, 1);
    qw_tw_string(&t, 4, "v");
    if (f->converted >= 0)
        qw_tw_i32(&t, 6, f->converted);
    qw_tw_struct_end(&t);
    qw_tw_i64(&t, 3, 3);
    qw_tw_list_begin(&t, 4, QW_TT_STRUCT, 1);
    qw_tw_elem_struct_begin(&t);
    qw_tw_list_begin(&t, 1, QW_TT_STRUCT, 1);
    qw_tw_elem_struct_begin(&t);
    qw_tw_i64(&t, 2, 4);
    qw_tw_struct_begin(&t, 3);
    qw_tw_i32(&t, 1, QW_PQ_PHYS_INT64);
    qw_tw_i32(&t, 4, 0);
    qw_tw_i64(&t, 5, 3);
    qw_tw_i64(&t, 7, 10);
    qw_tw_i64(&t, 9, 4);
    if (f->stats) {
        qw_tw_struct_begin(&t, 12);
        if (f->nulls >= 0)
            qw_tw_i64(&t, 3, f->nulls);
        if (f->mx)
            qw_tw_binary(&t, 5, f->mx, f->mxl);
        if (f->mn)
            qw_tw_binary(&t, 6, f->mn, f->mnl);
        if (f->mn_exact >= 0)
            qw_tw_bool(&t, 8, f->mn_exact);
        qw_tw_struct_end(&t);
    }
    qw_tw_struct_end(&t); /* ColumnMetaData */
    qw_tw_struct_end(&t); /* ColumnChunk */
    qw_tw_i64(&t, 2, 10);
    qw_tw_i64(&t, 3, 3);
    qw_tw_struct_end(&t); /* RowGroup */
    if (f->orders) {
        qw_tw_list_begin(&t, 7, QW_TT_STRUCT, 1);
        qw_tw_elem_struct_begin(&t);
        qw_tw_struct_begin(&t, f->orders == 1 ? 1 : 9);
        qw_tw_struct_end(&t);
        qw_tw_struct_end(&t);
    }
    qw_tw_stop(&t);
    size_t n = 0;
    if (!b.oom && b.n + 12 <= cap) {
        memcpy(out, "PAR1", 4);
        memcpy(out + 4, b.b, b.n);
        uint32_t fl = (uint32_t)b.n;
        memcpy(out + 4 + b.n, &fl, 4);
        memcpy(out + 8 + b.n, "PAR1", 4);
        n = b.n + 12;
    }
    qw_tbuf_free(&b);
    return n;
}

static int stats_of_spec(const fspec *f, qw_pqr_stats *s)
{
    static uint8_t buf[4096];
    size_t n = build(buf, sizeof buf, f);
    qw_pqr *r;
    char eb[256];
    if (!n || qw_pqr_open_mem(&r, buf, n, eb, sizeof eb) != QW_OK)
        return -1;
    int rc = qw_pqr_stats_get(r, 0, 0, s);
    static qw_pqr_stats keep; /* the bounds point into r: copy what the caller reads */
    keep = *s;
    keep.min = keep.max = NULL;
    qw_pqr_close(r);
    *s = keep;
    return rc;
}

TEST(parquet_stats_absent_inexact_or_nonsense)
{
    const uint8_t lo[8] = {5}, hi[8] = {9}, big[8] = {0, 0, 0, 0, 0, 0, 0, 0x80}, three[3] = {1};
    uint8_t huge[QW_PQR_STAT_MAX + 1] = {0};
    qw_pqr_stats s;
    fspec f = {.stats = 1,
               .nulls = 0,
               .mn = lo,
               .mnl = 8,
               .mx = hi,
               .mxl = 8,
               .mn_exact = -1,
               .orders = 1,
               .converted = -1};
    ASSERT_EQ(stats_of_spec(&f, &s), 0); /* the baseline: usable */
    ASSERT_TRUE(s.has_imin && s.imin == 5 && s.has_imax && s.imax == 9 && s.null_count == 0);
    f.stats = 0; /* no Statistics at all */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(s.null_count == -1 && !s.has_imin && !s.has_imax);
    f.stats = 1, f.nulls = -1, f.mn = NULL; /* only a max */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(s.null_count == -1 && !s.has_imin && s.has_imax);
    f.nulls = 2, f.mn = lo, f.orders = 0; /* no column_orders: bounds undefined */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(s.null_count == 2 && !s.has_imin && !s.has_imax);
    f.orders = 2; /* an order we do not know */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(!s.has_imin && !s.has_imax);
    f.orders = 1, f.mn_exact = 0; /* the writer says the min is not exact */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(!s.has_imin && s.has_imax);
    f.mn_exact = 1;
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(s.has_imin && s.imin == 5);
    f.mn = three, f.mnl = 3; /* wrong width for INT64 */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(!s.has_imin && s.has_imax);
    f.mn = huge, f.mnl = sizeof huge; /* longer than kept */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(!s.has_imin && s.has_imax);
    f.mn = hi, f.mnl = 8, f.mx = lo; /* min > max: nothing known */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(!s.has_imin && !s.has_imax);
    f.mn = big, f.mx = hi; /* INT64_MIN as bytes */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(s.has_imin && s.imin == INT64_MIN);
    f.converted = 14; /* UINT_64: another order */
    ASSERT_EQ(stats_of_spec(&f, &s), 0);
    ASSERT_TRUE(!s.has_imin && !s.has_imax);
    /* every truncation of the footer opens or fails cleanly */
    static uint8_t buf[4096];
    f.converted = -1, f.mn = lo;
    size_t n = build(buf, sizeof buf, &f);
    ASSERT_TRUE(n > 12);
    uint32_t fl = (uint32_t)(n - 12);
    for (uint32_t cut = 1; cut < fl; cut++) {
        static uint8_t b2[4096];
        memcpy(b2, "PAR1", 4);
        memcpy(b2 + 4, buf + 4, fl - cut);
        uint32_t l2 = fl - cut;
        memcpy(b2 + 4 + l2, &l2, 4);
        memcpy(b2 + 8 + l2, "PAR1", 4);
        qw_pqr *r;
        char eb[128];
        if (qw_pqr_open_mem(&r, b2, l2 + 12, eb, sizeof eb) == QW_OK) {
            qw_pqr_stats_get(r, 0, 0, &s);
            qw_pqr_close(r);
        }
    }
}

/* ---- the lake scan's decision ---- */

typedef struct obrow {
    const char *prod, *side, *run;
    int64_t exns, msg_id, msg_ns; /* 0: null (exns, msg_ns) */
} obrow;

/* A raw_orderbook file (the table's columns, our writer, one row group). */
static int write_ob(const char *path, const obrow *rows, size_t n)
{
    const qw_tbl_def *d = &qw_tables[QW_TBL_RAW_ORDERBOOK];
    qw_pq_column cols[QW_TBL_MAX_COLS];
    for (int k = 0; k < d->ncols; k++)
        cols[k] = (qw_pq_column){d->cols[k].name, d->cols[k].id, qw_tbl_pq_type(d->cols[k].kind),
                                 d->cols[k].required, 0};
    qw_pq_opts o = {.compression = QW_PQ_ZSTD, .dictionary = 1};
    qw_pq_writer *w;
    char eb[256];
    if (qw_pq_writer_open(&w, path, cols, (size_t)d->ncols, &o, eb, sizeof eb) != QW_OK)
        return -1;
    qw_err e = QW_OK;
    for (size_t i = 0; i < n && e == QW_OK; i++) {
        const obrow *r = &rows[i];
        for (int k = 0; k < d->ncols && e == QW_OK; k++) {
            const char *nm = d->cols[k].name;
            if (!strcmp(nm, "product_id"))
                e = qw_pq_put_str(w, (size_t)k, r->prod, strlen(r->prod));
            else if (!strcmp(nm, "side"))
                e = qw_pq_put_str(w, (size_t)k, r->side, strlen(r->side));
            else if (!strcmp(nm, "run_id"))
                e = qw_pq_put_str(w, (size_t)k, r->run, strlen(r->run));
            else if (!strcmp(nm, "exchange_ts"))
                e = r->exns ? qw_pq_put_i64(w, (size_t)k, r->exns / 1000)
                            : qw_pq_put_null(w, (size_t)k);
            else if (!strcmp(nm, "exchange_ns"))
                e = r->exns ? qw_pq_put_i64(w, (size_t)k, r->exns) : qw_pq_put_null(w, (size_t)k);
            else if (!strcmp(nm, "msg_ns"))
                e = r->msg_ns ? qw_pq_put_i64(w, (size_t)k, r->msg_ns)
                              : qw_pq_put_null(w, (size_t)k);
            else if (!strcmp(nm, "msg_id"))
                e = qw_pq_put_i64(w, (size_t)k, r->msg_id);
            else if (!strcmp(nm, "is_snapshot"))
                e = qw_pq_put_bool(w, (size_t)k, 0);
            else if (d->cols[k].required)
                e = qw_pq_put_i64(w, (size_t)k, 100000000); /* price, size */
            else
                e = qw_pq_put_null(w, (size_t)k);
        }
        if (e == QW_OK)
            e = qw_pq_end_row(w);
    }
    if (e != QW_OK) {
        qw_pq_writer_abort(w);
        return -1;
    }
    return qw_pq_writer_close(w, NULL) == QW_OK ? 0 : -1;
}

typedef struct scan_env {
    qw_lake_opts o;
    qw__lake_ctx x;
    qw__lcur c;
} scan_env;

/* Opens path for the scan and asks the statistics; returns settle's answer. */
static int settle(scan_env *v, char *path)
{
    memset(&v->c, 0, sizeof v->c);
    v->c.path = path;
    v->c.table = QW_TBL_RAW_ORDERBOOK;
    if (qw__lcur_open(&v->x, &v->c, 1) != QW_OK)
        return -2;
    int rc = qw__lcur_settle(&v->x, &v->c);
    qw__lcur_close(&v->x, &v->c);
    return rc;
}

TEST(lake_scan_settles_only_what_stats_can)
{
    scan_env v;
    memset(&v, 0, sizeof v);
    v.x.o = &v.o;
    char path[64];
    ASSERT_EQ(tmp_path(path, sizeof path), 0);
    const int64_t T = 1767312000000000000LL;
    obrow a[] = {{"P1-USD", "bid", "r1", T + 5, 5, T + 50},
                 {"P1-USD", "ask", "r1", T + 3, 5, T + 30},
                 {"P1-USD", "bid", "r1", T + 9, 6, T + 90}};
    /* a plain writer file: settled, no page decoded */
    ASSERT_EQ(write_ob(path, a, 3), 0);
    ASSERT_EQ(settle(&v, path), 1);
    ASSERT_EQ(v.c.nrows, 3u);
    ASSERT_EQ(v.c.msg_id, 5);
    ASSERT_EQ(v.c.tmin, T + 30);
    ASSERT_TRUE(v.c.settled && v.c.ordered && v.c.nseg == 1 && !v.c.ssnap);
    ASSERT_EQ(v.c.kp, (1u << 30) | v.c.sprod);
    ASSERT_TRUE(strcmp(v.x.runs.s[v.c.srun], "r1") == 0);
    ASSERT_TRUE(strcmp(v.x.prods.s[v.c.sprod], "P1-USD") == 0);
    /* its rows agree: ordered; produced with the statistics' ids */
    int ordered = -1;
    ASSERT_OK(qw__lcur_open(&v.x, &v.c, 0));
    ASSERT_OK(qw__lcur_verify(&v.x, &v.c, &ordered));
    ASSERT_EQ(ordered, 1);
    qw__lrow w;
    int n = 0;
    while (qw__lcur_row(&v.x, &v.c, &w) == 1) {
        ASSERT_TRUE(w.run == v.c.srun && w.prod == v.c.sprod && w.kind == 1);
        n++;
    }
    ASSERT_EQ(n, 3);
    qw__lcur_close(&v.x, &v.c);
    /* the file changed since the scan: caught on its decode */
    obrow a2[] = {a[0], a[1], a[2]};
    a2[0].msg_id = 4;
    ASSERT_EQ(write_ob(path, a2, 3), 0);
    ASSERT_OK(qw__lcur_open(&v.x, &v.c, 0));
    ASSERT_EQ(qw__lcur_verify(&v.x, &v.c, &ordered), QW_CORRUPT);
    ASSERT_TRUE(strstr(v.x.err, "footer statistics") != NULL);
    qw__lcur_close(&v.x, &v.c);
    a2[0].msg_id = 5, a2[0].run = "r2"; /* same key, another run in a row */
    ASSERT_EQ(write_ob(path, a2, 3), 0);
    ASSERT_OK(qw__lcur_open(&v.x, &v.c, 0));
    ASSERT_OK(qw__lcur_verify(&v.x, &v.c, &ordered));
    ASSERT_EQ(qw__lcur_row(&v.x, &v.c, &w), -1);
    qw__lcur_close(&v.x, &v.c);
    ASSERT_EQ(v.x.runs.n, 1u); /* nothing interned by the merge */
    /* rows out of msg_id order: settled (the key is the minimum), then sorted */
    obrow b[] = {a[2], a[0], a[1]};
    ASSERT_EQ(write_ob(path, b, 3), 0);
    ASSERT_EQ(settle(&v, path), 1);
    ASSERT_EQ(v.c.msg_id, 5);
    ASSERT_OK(qw__lcur_open(&v.x, &v.c, 0));
    ASSERT_OK(qw__lcur_verify(&v.x, &v.c, &ordered));
    ASSERT_EQ(ordered, 0);
    int64_t rf[4] = {T, T, T, T};
    ASSERT_OK(qw__lcur_sort(&v.x, &v.c, rf));
    ASSERT_EQ(qw__lcur_row(&v.x, &v.c, &w), 1);
    ASSERT_EQ(w.msg_id, 5);
    qw__lcur_close(&v.x, &v.c);
    /* what the statistics cannot settle is decoded in the scan */
    obrow c[] = {a[0], a[1], a[2]};
    c[2].run = "r2"; /* two runs */
    ASSERT_EQ(write_ob(path, c, 3), 0);
    ASSERT_EQ(settle(&v, path), 0);
    c[2].run = "r1", c[2].prod = "P2-USD"; /* two products */
    ASSERT_EQ(write_ob(path, c, 3), 0);
    ASSERT_EQ(settle(&v, path), 0);
    c[2].prod = "P1-USD", c[2].side = "connect"; /* a marker */
    ASSERT_EQ(write_ob(path, c, 3), 0);
    ASSERT_EQ(settle(&v, path), 0);
    c[2].side = "bid", c[2].msg_ns = 0; /* msg_ns null in some rows */
    ASSERT_EQ(write_ob(path, c, 3), 0);
    ASSERT_EQ(settle(&v, path), 0);
    ASSERT_EQ(write_ob(path, a, 3), 0);
    v.o.since_ns = T + 4; /* the window cuts the file */
    ASSERT_EQ(settle(&v, path), 0);
    v.o.since_ns = T + 3, v.o.until_ns = T + 10; /* the window holds it */
    ASSERT_EQ(settle(&v, path), 1);
    v.o.since_ns = v.o.until_ns = 0;
    /* a snapshot file without times: settled, contributes no time */
    obrow s[] = {{"P1-USD", "bid", "r1", 0, 2, 0}, {"P1-USD", "ask", "r1", 0, 2, 0}};
    ASSERT_EQ(write_ob(path, s, 2), 0);
    ASSERT_EQ(settle(&v, path), 1);
    ASSERT_EQ(v.c.tmin, INT64_MAX);
    /* a product not selected: settled as empty */
    const char *only[] = {"P9-USD"};
    v.o.products = only, v.o.nproducts = 1;
    ASSERT_EQ(settle(&v, path), 1);
    ASSERT_EQ(v.c.nrows, 0u);
    v.o.products = NULL, v.o.nproducts = 0;
    qw__lake_ctx_fini(&v.x);
    unlink(path);
}

/* ---- qw_pqr_typed_arrays: each column's own array as the default gives it ---- */

TEST(parquet_typed_arrays_match_the_default)
{
    static const qw_pq_column cols[] = {
        {"s", 1, QW_PQ_STRING, 0, 0}, {"i", 2, QW_PQ_INT64, 0, 0},
        {"j", 3, QW_PQ_INT32, 0, 0},  {"b", 4, QW_PQ_BOOL, 0, 0},
        {"d", 5, QW_PQ_DOUBLE, 0, 0}, {"x", 6, QW_PQ_DECIMAL_38_8, 0, 0},
        {"k", 7, QW_PQ_INT64, 1, 1}};
    enum { NCOL = 7, ROWS = 5000 };
    char path[64];
    ASSERT_EQ(tmp_path(path, sizeof path), 0);
    qw_pq_opts o = {.compression = QW_PQ_ZSTD, .dictionary = 1, .page_bytes = 4096};
    qw_pq_writer *w;
    char eb[256];
    ASSERT_OK(qw_pq_writer_open(&w, path, cols, NCOL, &o, eb, sizeof eb));
    for (int r = 0; r < ROWS; r++) {
        char u[16];
        int n = snprintf(u, sizeof u, "v%d", r % 7);
        int nul = r % 5 == 2;
        ASSERT_OK(nul ? qw_pq_put_null(w, 0) : qw_pq_put_str(w, 0, u, (size_t)n));
        ASSERT_OK(nul ? qw_pq_put_null(w, 1) : qw_pq_put_i64(w, 1, r * 3 - 77));
        ASSERT_OK(nul ? qw_pq_put_null(w, 2) : qw_pq_put_i32(w, 2, -r));
        ASSERT_OK(nul ? qw_pq_put_null(w, 3) : qw_pq_put_bool(w, 3, r % 3 == 0));
        ASSERT_OK(nul ? qw_pq_put_null(w, 4) : qw_pq_put_f64(w, 4, r * 0.25 - 9));
        ASSERT_OK(nul ? qw_pq_put_null(w, 5) : qw_pq_put_i64(w, 5, (int64_t)r * 100000000));
        ASSERT_OK(qw_pq_put_i64(w, 6, r % 11));
        ASSERT_OK(qw_pq_end_row(w));
    }
    ASSERT_OK(qw_pq_writer_close(w, NULL));
    qw_pqr *a, *b;
    ASSERT_OK(qw_pqr_open(&a, path, 1u << 24, eb, sizeof eb));
    ASSERT_OK(qw_pqr_open(&b, path, 1u << 24, eb, sizeof eb));
    qw_pqr_typed_arrays(b, 1);
    qw_pqr_column ca, cb;
    qw_pqr_column_alloc(&ca);
    qw_pqr_column_alloc(&cb);
    for (size_t k = 0; k < NCOL; k++) {
        ASSERT_OK(qw_pqr_read(a, 0, k, &ca));
        /* b's arrays hold another column's values first: typed reads must
         * still give every row of the column's own array, nulls 0 */
        ASSERT_OK(qw_pqr_read(b, 0, (k + 3) % NCOL, &cb));
        ASSERT_OK(qw_pqr_read(b, 0, k, &cb));
        ASSERT_EQ(ca.n, (size_t)ROWS);
        ASSERT_EQ(cb.n, (size_t)ROWS);
        int phys = qw_pqr_field_at(a, k)->phys;
        for (size_t r = 0; r < ROWS; r++) {
            ASSERT_EQ(ca.valid[r], cb.valid[r]);
            if (phys == QW_PQ_PHYS_BYTE_ARRAY) {
                size_t la, lb;
                const char *sa = qw_pqr_str(&ca, r, &la), *sb = qw_pqr_str(&cb, r, &lb);
                ASSERT_TRUE(la == lb && memcmp(sa, sb, la) == 0);
                ASSERT_EQ(ca.i64[r], 0); /* the default zeroes the others */
            } else if (phys == QW_PQ_PHYS_DOUBLE) {
                ASSERT_TRUE(memcmp(&ca.f64[r], &cb.f64[r], 8) == 0);
                ASSERT_EQ(ca.i64[r], 0);
            } else {
                ASSERT_EQ(ca.i64[r], cb.i64[r]);
                ASSERT_TRUE(ca.f64[r] == 0);
                if (phys == QW_PQ_PHYS_FLBA && ca.valid[r])
                    ASSERT_TRUE(ca.i128[r] == cb.i128[r]);
            }
        }
    }
    qw_pqr_column_free(&ca);
    qw_pqr_column_free(&cb);
    qw_pqr_close(a);
    qw_pqr_close(b);
    unlink(path);
}

/* ---- the merge: a file that changed between the scan and the merge ---- */

static char g_marker[512];
static int find_marker(const char *p, const struct stat *sb, int type, struct FTW *f)
{
    (void)sb, (void)f;
    if (type == FTW_F && strstr(p, "raw_orderbook") && strstr(p, "product_id=*/") &&
        strstr(p, ".parquet") && !g_marker[0])
        snprintf(g_marker, sizeof g_marker, "%s", p);
    return 0;
}

/* One writer run into wh: a connection marker (its own file, which the
 * statistics cannot settle: side "connect"), then one level row. */
static int one_run(const char *wh, int k)
{
    qw_store_opts o = {.warehouse = wh,
                       .catalog_uri = "",
                       .flush_rows = 100,
                       .flush_ms = 60000,
                       .blocking = 1,
                       .queue_records = 1024};
    qw_store_stats st;
    memset(&st, 0, sizeof st);
    qw_store *s;
    char eb[256];
    if (qw_store_open(&s, &o, &st, eb, sizeof eb) != QW_OK)
        return -1;
    const int64_t t = 1767312000000000000LL + (int64_t)k * 1000000000;
    qw_store_put_connect(s, t);
    qw_rec r;
    memset(&r, 0, sizeof r);
    r.kind = QW_REC_LEVEL;
    snprintf(r.product, sizeof r.product, "P1-USD");
    r.t_ns = r.recv_ns = t + 1000;
    r.msg_id = 2;
    r.u.level.price = 4200000000000;
    r.u.level.size = 100000000;
    r.u.level.grp_ns = r.t_ns;
    qw_err e = qw_store_put(s, &r);
    return qw_store_close(s) == QW_OK && e == QW_OK ? 0 : -1;
}

/* 16 runs (the run table's first size), then one marker file replaced by
 * another warehouse's between qw_lake_open (the scan) and qw_lake_next
 * (the merge): its row carries a 17th run. Before the fix the merge
 * interned it and read run_first past its end (ASan: heap overflow)
 * before noticing the rows differ; now it is a clean QW_CORRUPT. */
TEST(lake_file_changed_between_scan_and_merge)
{
    char wh[] = "/tmp/qwlsmXXXXXX", wh2[] = "/tmp/qwlsnXXXXXX";
    ASSERT_TRUE(mkdtemp(wh) && mkdtemp(wh2));
    for (int k = 0; k < 16; k++)
        ASSERT_EQ(one_run(wh, k), 0);
    ASSERT_EQ(one_run(wh2, 99), 0);
    g_marker[0] = '\0';
    ASSERT_EQ(nftw(wh2, find_marker, 16, FTW_PHYS), 0);
    char other[512];
    snprintf(other, sizeof other, "%s", g_marker);
    g_marker[0] = '\0';
    ASSERT_EQ(nftw(wh, find_marker, 16, FTW_PHYS), 0);
    ASSERT_TRUE(other[0] && g_marker[0]);

    qw_lake_opts lo = {.warehouse = wh, .catalog_uri = ""};
    qw_lake_reader *lr;
    char eb[256];
    ASSERT_OK(qw_lake_open(&lr, &lo, eb, sizeof eb));
    ASSERT_EQ(qw_lake_get_stats(lr)->runs, 16u);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", other, g_marker); /* after the scan */
    ASSERT_EQ(system(cmd), 0);
    qw_msg m;
    int64_t recv;
    int conn, msgs = 0;
    qw_err e;
    while ((e = qw_lake_next(lr, &m, &recv, &conn)) == QW_OK)
        msgs++;
    ASSERT_EQ(e, QW_CORRUPT);
    ASSERT_TRUE(msgs < 32);
    ASSERT_TRUE(qw_lake_error(lr) && strstr(qw_lake_error(lr), "rows differ from the first read"));
    qw_lake_close(lr);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", wh, wh2);
    ASSERT_EQ(system(cmd), 0);
}

/* pq_sample.c: writes a Parquet file exercising every column type, nulls,
 * dictionary and plain strings, several pages and row groups; used by
 * tests/e2e/test_parquet_readers.sh to check independent readers.
 * usage: pq_sample OUT.parquet ROWS zstd|snappy|none [ROW_GROUP_BYTES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/parquet.h"

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    long rows = strtol(argv[2], NULL, 10);
    qw_pq_opts o = {.dictionary = 1, .page_bytes = 4096};
    o.compression = !strcmp(argv[3], "snappy") ? QW_PQ_SNAPPY
                    : !strcmp(argv[3], "none") ? QW_PQ_UNCOMPRESSED
                                               : QW_PQ_ZSTD;
    if (argc > 4)
        o.row_group_bytes = (size_t)strtol(argv[4], NULL, 10);
    qw_pq_column cols[] = {
        {"product_id", 1, QW_PQ_STRING, 1},
        {"ts", 2, QW_PQ_TIMESTAMP_US, 0},
        {"ts_ns", 3, QW_PQ_TIMESTAMP_NS, 1},
        {"n", 4, QW_PQ_INT64, 0},
        {"i", 5, QW_PQ_INT32, 1},
        {"price", 6, QW_PQ_DECIMAL_18_8, 1},
        {"size", 7, QW_PQ_DECIMAL_18_8, 0},
        {"flag", 8, QW_PQ_BOOL, 1},
        {"x", 9, QW_PQ_DOUBLE, 0},
        {"day", 10, QW_PQ_DATE, 1},
        {"uniq", 11, QW_PQ_STRING, 0},
    };
    qw_pq_writer *w;
    char eb[256];
    if (qw_pq_writer_open(&w, argv[1], cols, 11, &o, eb, sizeof eb) != QW_OK) {
        fprintf(stderr, "%s\n", eb);
        return 1;
    }
    static const char *prods[] = {"BTC-USD", "ETH-USD", "SOL-USD"};
    for (long r = 0; r < rows; r++) {
        char u[64];
        int n = snprintf(u, sizeof u, "id-%ld-\xc3\xa9", r * 7919 % 100003);
        qw_err e = qw_pq_put_str(w, 0, prods[r % 3], strlen(prods[r % 3]));
        e |= r % 5 == 0 ? qw_pq_put_null(w, 1) : qw_pq_put_i64(w, 1, 1767225600000000LL + r * 1000);
        e |= qw_pq_put_i64(w, 2, 1767225600000000000LL + r * 1234567);
        e |= r % 7 == 0 ? qw_pq_put_null(w, 3) : qw_pq_put_i64(w, 3, (r - rows / 2) * 1000003LL);
        e |= qw_pq_put_i32(w, 4, (int32_t)(r % 1000) - 500);
        e |= qw_pq_put_i64(w, 5, 4312345000000LL + r * 1000000 - (r % 11) * 37);
        e |=
            r % 3 == 1 ? qw_pq_put_null(w, 6) : qw_pq_put_i64(w, 6, r % 4 == 0 ? 0 : 123456789 + r);
        e |= qw_pq_put_bool(w, 7, r % 3 == 0);
        e |= r % 9 == 0 ? qw_pq_put_null(w, 8) : qw_pq_put_f64(w, 8, (double)r / 7.0 - 3.25);
        e |= qw_pq_put_i32(w, 9, 20454 + (int32_t)(r / 1000));
        e |= r % 4 == 3 ? qw_pq_put_null(w, 10) : qw_pq_put_str(w, 10, u, (size_t)n);
        e |= qw_pq_end_row(w);
        if (e != QW_OK) {
            fprintf(stderr, "row %ld failed\n", r);
            qw_pq_writer_abort(w);
            return 1;
        }
    }
    qw_pq_file_stats st;
    if (qw_pq_writer_close(w, &st) != QW_OK) {
        fprintf(stderr, "close failed: %s\n", eb);
        return 1;
    }
    printf("{\"rows\":%llu,\"bytes\":%llu,\"row_groups\":%llu}\n", (unsigned long long)st.rows,
           (unsigned long long)st.file_bytes, (unsigned long long)st.row_groups);
    return 0;
}

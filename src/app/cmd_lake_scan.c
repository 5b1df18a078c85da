/* cmd_lake_scan.c: `quotewatch lake scan TABLE [--limit N] [--products ...]
 * [--since T] [--until T]` — rows of a table's current snapshot as NDJSON
 * (decimals exact, timestamps RFC 3339). Files are pruned by product
 * partition and by exchange_ns bounds. --limit 0 prints every row. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "core/dec.h"
#include "core/fileio.h"
#include "core/time.h"
#include "iceberg/catalog.h"
#include "iceberg/iceberg.h"
#include "parquet/parquet_read.h"
#include "storage/store.h"
#include "storage/tables.h"

static int wanted(const qw_config *cfg, const char *p)
{
    if (!cfg->products_set)
        return 1;
    for (size_t i = 0; i < cfg->nproducts; i++)
        if (strcmp(cfg->products[i], p) == 0)
            return 1;
    return 0;
}

static void print_value(const qw_pqr_field *f, const qw_pqr_column *c, size_t row)
{
    char b[64];
    if (!c->valid[row]) {
        fputs("null", stdout);
        return;
    }
    if (f->phys == 6) { /* BYTE_ARRAY */
        size_t n;
        const char *s = qw_pqr_str(c, row, &n);
        json_t *j = json_stringn_nocheck(s, n);
        char *t = json_dumps(j, JSON_ENCODE_ANY);
        fputs(t ? t : "null", stdout);
        free(t);
        json_decref(j);
    } else if (f->phys == 5 || f->phys == 4) {
        double d = c->f64[row];
        if (isfinite(d))
            printf("%.17g", d);
        else
            fputs("null", stdout);
    } else if (f->phys == 0) {
        fputs(c->i64[row] ? "true" : "false", stdout);
    } else if (f->logical == 5 && f->scale == 8) {
        b[qw_dec_format(c->i64[row], b)] = '\0';
        printf("\"%s\"", b);
    } else if (f->logical == 8 && f->ts_unit == 2) {
        b[qw_time_format(c->i64[row] * 1000, b)] = '\0';
        printf("\"%s\"", b);
    } else {
        printf("%lld", (long long)c->i64[row]);
    }
}

int qw_lake_scan(const qw_config *cfg, const char *table)
{
    char wh[4200], cat[4200], eb[512], loc[QW_ICE_LOC_MAX];
    qw_catalog *c = NULL;
    qw_fileio *io = NULL;
    qw_ice_meta *m = NULL;
    qw_ice_catalog_ops ops;
    int rc = 1;
    if (qw_store_resolve(cfg->warehouse, cfg->catalog_uri, wh, sizeof wh, cat, sizeof cat, eb,
                         sizeof eb) != QW_OK ||
        qw_catalog_open(&c, cat, "quotewatch", eb, sizeof eb) != QW_OK) {
        fprintf(stderr, "quotewatch lake scan: %s\n", eb);
        return 1;
    }
    qw_ice_catalog_sql(&ops, c);
    if (qw_fileio_create(&io, NULL, NULL) != QW_OK ||
        qw_ice_load_table(&ops, io, QW_TBL_NS, table, &m, loc, sizeof loc) != QW_OK) {
        fprintf(stderr, "quotewatch lake scan: cannot load %s.%s\n", QW_TBL_NS, table);
        goto out;
    }
    qw_ice_scan scan;
    if (qw_ice_scan_plan(io, m, -1, &scan, eb, sizeof eb) != QW_OK) {
        fprintf(stderr, "quotewatch lake scan: %s\n", eb);
        goto out;
    }
    long printed = 0;
    rc = 0;
    for (size_t i = 0; i < scan.nfiles && (cfg->limit == 0 || printed < cfg->limit); i++) {
        const qw_ice_data_file *f = &scan.files[i];
        if (f->content != QW_ICE_CONTENT_DATA)
            continue;
        if (f->npart >= 1 && !f->part[0].is_null && !wanted(cfg, f->part[0].s))
            continue;
        int timeless = f->npart >= 2 && f->part[1].is_null;
        if ((cfg->since_ns || cfg->until_ns) && !timeless &&
            !qw_ice_file_may_overlap_long(f, QW_TBL_F_EXCHANGE_NS, QW_ICE_LONG,
                                          cfg->since_ns ? cfg->since_ns : INT64_MIN,
                                          cfg->until_ns ? cfg->until_ns - 1 : INT64_MAX))
            continue;
        const char *path = f->path;
        qw_pqr *r;
        if (qw_pqr_open_io(&r, io, path, (size_t)4 << 30, eb, sizeof eb) != QW_OK) {
            fprintf(stderr, "quotewatch lake scan: %s\n", eb);
            rc = 1;
            break;
        }
        size_t nc = qw_pqr_ncols(r);
        qw_pqr_column cols[64];
        for (size_t k = 0; k < 64; k++)
            qw_pqr_column_alloc(&cols[k]);
        for (size_t g = 0; g < qw_pqr_row_groups(r) && nc <= 64 && rc == 0; g++) {
            for (size_t k = 0; k < nc; k++)
                if (qw_pqr_read(r, g, k, &cols[k]) != QW_OK) {
                    fprintf(stderr, "quotewatch lake scan: %s: %s\n", path, qw_pqr_errmsg(r));
                    rc = 1;
                }
            for (size_t row = 0;
                 rc == 0 && row < cols[0].n && (cfg->limit == 0 || printed < cfg->limit); row++) {
                int64_t t = 0;
                for (size_t k = 0; k < nc; k++)
                    if (qw_pqr_field_at(r, k)->field_id == QW_TBL_F_EXCHANGE_NS &&
                        cols[k].valid[row])
                        t = cols[k].i64[row];
                if (t &&
                    ((cfg->since_ns && t < cfg->since_ns) || (cfg->until_ns && t >= cfg->until_ns)))
                    continue;
                putchar('{');
                for (size_t k = 0; k < nc; k++) {
                    const qw_pqr_field *fd = qw_pqr_field_at(r, k);
                    printf("%s\"%s\":", k ? "," : "", fd->name);
                    print_value(fd, &cols[k], row);
                }
                puts("}");
                printed++;
            }
        }
        for (size_t k = 0; k < 64; k++)
            qw_pqr_column_free(&cols[k]);
        qw_pqr_close(r);
    }
    qw_ice_scan_free(&scan);
out:
    qw_ice_meta_free(m);
    qw_fileio_destroy(io);
    qw_catalog_close(c);
    return rc;
}

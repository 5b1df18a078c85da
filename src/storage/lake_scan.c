/* lake_scan.c: `quotewatch lake scan TABLE` -- rows of a table's current
 * snapshot as NDJSON (see lake_admin.h). Files are pruned as replay --lake
 * prunes them (product partition, exchange_ns bounds; files whose day
 * partition is null carry no time and are kept), then rows are filtered by
 * exchange_ns. Columns are the table's current schema, projected by field
 * id: a field a data file lacks (added to the schema after the file was
 * written, docs/ICEBERG.md "Schema evolution") reads as null, and a file's
 * column whose id the schema does not have is not shown. Strings are
 * escaped by jansson (the same bytes `replay` writes in its summaries). */
#define QW_MODULE "lake"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dec.h"
#include "core/time.h"
#include "parquet/parquet_read.h"
#include "storage/lake_admin_int.h"
#include "storage/tables.h"

#define MAX_COLS 64

static int wanted(const qw_lake_scan_opts *o, const char *p)
{
    if (!o->products)
        return 1;
    for (size_t i = 0; i < o->nproducts; i++)
        if (strcmp(o->products[i], p) == 0)
            return 1;
    return 0;
}

static void print_value(FILE *out, const qw_pqr_field *f, const qw_pqr_column *c, size_t row)
{
    char b[64];
    if (!c->valid[row]) {
        fputs("null", out);
        return;
    }
    if (f->phys == 6) { /* BYTE_ARRAY */
        size_t n;
        const char *s = qw_pqr_str(c, row, &n);
        json_t *j = json_stringn_nocheck(s, n);
        char *t = json_dumps(j, JSON_ENCODE_ANY);
        fputs(t ? t : "null", out);
        free(t); /* jansson's allocator */
        json_decref(j);
    } else if (f->phys == 5 || f->phys == 4) { /* DOUBLE, FLOAT */
        double d = c->f64[row];
        if (isfinite(d))
            fprintf(out, "%.17g", d);
        else
            fputs("null", out);
    } else if (f->phys == 0) { /* BOOLEAN */
        fputs(c->i64[row] ? "true" : "false", out);
    } else if (f->logical == 5 && f->scale == 8) { /* decimal(18, 8) or (38, 8) */
        b[c->i128 ? qw_sz_format(c->i128[row], b) : qw_dec_format(c->i64[row], b)] = '\0';
        fprintf(out, "\"%s\"", b);
    } else if (f->logical == 8 && f->ts_unit == 2) { /* timestamp(us) */
        b[qw_time_format(c->i64[row] * 1000, b)] = '\0';
        fprintf(out, "\"%s\"", b);
    } else {
        fprintf(out, "%lld", (long long)c->i64[row]);
    }
}

static int file_wanted(const qw_ice_data_file *f, const qw_lake_scan_opts *o)
{
    if (f->content != QW_ICE_CONTENT_DATA)
        return 0;
    if (f->npart >= 1 && !f->part[0].is_null && !wanted(o, f->part[0].s))
        return 0;
    int timeless = f->npart >= 2 && f->part[1].is_null;
    if ((o->since_ns || o->until_ns) && !timeless &&
        !qw_ice_file_may_overlap_long(f, QW_TBL_F_EXCHANGE_NS, QW_ICE_LONG,
                                      o->since_ns ? o->since_ns : INT64_MIN,
                                      o->until_ns ? o->until_ns - 1 : INT64_MAX))
        return 0;
    return 1;
}

/* Rows of one data file under schema sc; *printed counts up to o->limit. */
static qw_err scan_file(qw_lake_admin *L, const qw_ice_schema *sc, const char *path,
                        const qw_lake_scan_opts *o, const qw_lake_sink *s, long *printed)
{
    char eb[512];
    qw_pqr *r;
    if (qw_pqr_open_io(&r, L->io, path, (size_t)4 << 30, eb, sizeof(eb)) != QW_OK) {
        fprintf(s->err, "%s: %s\n", s->prefix, eb);
        return QW_IO;
    }
    qw_err rc = QW_OK;
    size_t nc = qw_pqr_ncols(r);
    int nf = sc->nfields < MAX_COLS ? sc->nfields : MAX_COLS;
    int map[MAX_COLS]; /* schema field -> file column (-1: the file lacks it) */
    for (int k = 0; k < nf; k++) {
        map[k] = -1;
        for (size_t j = 0; j < nc; j++)
            if (qw_pqr_field_at(r, j)->field_id == sc->fields[k].id)
                map[k] = (int)j;
        if (map[k] < 0 && sc->fields[k].required) {
            fprintf(s->err, "%s: %s: no column for required field %d (%s)\n", s->prefix, path,
                    sc->fields[k].id, sc->fields[k].name);
            rc = QW_CORRUPT;
        }
    }
    qw_pqr_column cols[MAX_COLS];
    for (size_t k = 0; k < MAX_COLS; k++)
        qw_pqr_column_alloc(&cols[k]);
    for (size_t g = 0; g < qw_pqr_row_groups(r) && rc == QW_OK; g++) {
        size_t nrows = (size_t)qw_pqr_rg_rows(r, g);
        for (int k = 0; k < nf && rc == QW_OK; k++)
            if (map[k] >= 0 && qw_pqr_read(r, g, (size_t)map[k], &cols[k]) != QW_OK) {
                fprintf(s->err, "%s: %s: %s\n", s->prefix, path, qw_pqr_errmsg(r));
                rc = QW_CORRUPT;
            } else if (map[k] >= 0 && cols[k].n != nrows) {
                fprintf(s->err, "%s: %s: column %s has %zu rows, not %zu\n", s->prefix, path,
                        sc->fields[k].name, cols[k].n, nrows);
                rc = QW_CORRUPT;
            }
        for (size_t row = 0; rc == QW_OK && row < nrows && (o->limit == 0 || *printed < o->limit);
             row++) {
            int64_t t = 0;
            for (int k = 0; k < nf; k++)
                if (map[k] >= 0 && sc->fields[k].id == QW_TBL_F_EXCHANGE_NS && cols[k].valid[row])
                    t = cols[k].i64[row];
            if (t && ((o->since_ns && t < o->since_ns) || (o->until_ns && t >= o->until_ns)))
                continue;
            fputc('{', s->out);
            for (int k = 0; k < nf; k++) {
                fprintf(s->out, "%s\"%s\":", k ? "," : "", sc->fields[k].name);
                if (map[k] < 0)
                    fputs("null", s->out); /* added after this file was written */
                else
                    print_value(s->out, qw_pqr_field_at(r, (size_t)map[k]), &cols[k], row);
            }
            fputs("}\n", s->out);
            (*printed)++;
        }
    }
    for (size_t k = 0; k < MAX_COLS; k++)
        qw_pqr_column_free(&cols[k]);
    qw_pqr_close(r);
    return rc;
}

qw_err qw_lake_admin_scan(qw_lake_admin *L, const char *table, const qw_lake_scan_opts *o,
                          const qw_lake_sink *s)
{
    char eb[512], loc[QW_ICE_LOC_MAX];
    qw_ice_meta *m = NULL;
    qw_err e = qw__lake_admin_load(L, table, &m, loc, sizeof(loc));
    if (e != QW_OK) {
        fprintf(s->err, "%s: cannot load %s.%s\n", s->prefix, QW_TBL_NS, table);
        return e;
    }
    qw_ice_scan scan;
    if ((e = qw_ice_scan_plan(L->io, m, -1, &scan, eb, sizeof(eb))) != QW_OK) {
        fprintf(s->err, "%s: %s\n", s->prefix, eb);
        qw_ice_meta_free(m);
        return e;
    }
    long printed = 0;
    for (size_t i = 0; i < scan.nfiles && e == QW_OK && (o->limit == 0 || printed < o->limit); i++)
        if (file_wanted(&scan.files[i], o))
            e = scan_file(L, &m->schema, scan.files[i].path, o, s, &printed);
    qw_ice_scan_free(&scan);
    qw_ice_meta_free(m);
    return e;
}

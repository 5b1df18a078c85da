/* parquet_meta.c: Parquet writer pieces that turn buffered column values
 * into metadata: PLAIN values, statistics (file-wide for Iceberg, per
 * chunk for the footer) and schema elements with logical types. */
#include <math.h>
#include <string.h>

#include "storage/parquet_int.h"

void qw__pq_put_le(qw_tbuf *b, uint64_t v, int n)
{
    uint8_t x[8];
    for (int i = 0; i < n; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    qw_tbuf_put(b, x, (size_t)n);
}

/* PLAIN value i (0-based among non-null values) into b. */
void qw__pq_plain_value(const qw__pq_col *c, size_t i, qw_tbuf *b)
{
    switch (c->phys) {
    case QW_PQ_PHYS_INT32: qw__pq_put_le(b, (uint64_t)(uint32_t)(int32_t)c->iv[i], 4); break;
    case QW_PQ_PHYS_INT64: qw__pq_put_le(b, (uint64_t)c->iv[i], 8); break;
    case QW_PQ_PHYS_DOUBLE: {
        uint64_t u;
        memcpy(&u, &c->dv[i], 8);
        qw__pq_put_le(b, u, 8);
        break;
    }
    case QW_PQ_PHYS_BYTE_ARRAY: {
        uint32_t a = c->soff[i], z = c->soff[i + 1];
        qw__pq_put_le(b, z - a, 4);
        qw_tbuf_put(b, c->sb.b + a, z - a);
        break;
    }
    default: break;
    }
}

void qw__pq_update_stats(qw__pq_col *c)
{
    qw_pq_col_stats *s = &c->st;
    for (size_t i = 0; i < c->nvals; i++) {
        if (c->phys == QW_PQ_PHYS_DOUBLE) {
            double v = c->dv[i];
            if (isnan(v))
                continue;
            if (!s->has_bounds || v < s->min_d)
                s->min_d = v == 0 ? -0.0 : v;
            if (!s->has_bounds || v > s->max_d)
                s->max_d = v == 0 ? 0.0 : v;
            s->has_bounds = 1;
        } else if (c->phys == QW_PQ_PHYS_BYTE_ARRAY) {
            const uint8_t *p = c->sb.b + c->soff[i];
            size_t n = c->soff[i + 1] - c->soff[i];
            size_t k = n < QW_PQ_BOUND_MAX ? n : QW_PQ_BOUND_MAX;
            if (!s->has_bounds || qw__pq_cmp_bytes(p, n, (const uint8_t *)s->min_s, s->min_len, s->min_trunc) < 0) {
                memcpy(s->min_s, p, k);
                s->min_len = k;
                s->min_trunc = n > k;
            }
            if (!s->has_bounds || qw__pq_cmp_bytes(p, n, (const uint8_t *)s->max_s, s->max_len, s->max_trunc) > 0) {
                memcpy(s->max_s, p, k);
                s->max_len = k;
                s->max_trunc = n > k;
            }
            s->has_bounds = 1;
        } else {
            int64_t v = c->iv[i];
            if (!s->has_bounds || v < s->min_i)
                s->min_i = v;
            if (!s->has_bounds || v > s->max_i)
                s->max_i = v;
            s->has_bounds = 1;
        }
    }
}

/* Chunk statistics of this row group, PLAIN-encoded (no length prefix). */
void qw__pq_chunk_stats(const qw__pq_col *c, size_t nnull, qw_tw *t)
{
    qw_tbuf mn = {0}, mx = {0};
    int have = 0;
    if (c->phys == QW_PQ_PHYS_BYTE_ARRAY) {
        size_t imin = 0, imax = 0;
        for (size_t i = 0; i < c->nvals; i++) {
            const uint8_t *p = c->sb.b + c->soff[i];
            size_t n = c->soff[i + 1] - c->soff[i];
            if (!have || qw__pq_cmp_bytes(p, n, c->sb.b + c->soff[imin], c->soff[imin + 1] - c->soff[imin], 0) < 0)
                imin = i;
            if (!have || qw__pq_cmp_bytes(p, n, c->sb.b + c->soff[imax], c->soff[imax + 1] - c->soff[imax], 0) > 0)
                imax = i;
            have = 1;
        }
        if (have) {
            qw_tbuf_put(&mn, c->sb.b + c->soff[imin], c->soff[imin + 1] - c->soff[imin]);
            qw_tbuf_put(&mx, c->sb.b + c->soff[imax], c->soff[imax + 1] - c->soff[imax]);
        }
    } else if (c->phys == QW_PQ_PHYS_DOUBLE) {
        double lo = 0, hi = 0;
        for (size_t i = 0; i < c->nvals; i++) {
            double v = c->dv[i];
            if (isnan(v))
                continue;
            if (!have || v < lo)
                lo = v;
            if (!have || v > hi)
                hi = v;
            have = 1;
        }
        if (have) {
            if (lo == 0)
                lo = -0.0; /* spec: a zero min is written as -0.0, a zero max as +0.0 */
            if (hi == 0)
                hi = 0.0;
            uint64_t u;
            memcpy(&u, &lo, 8);
            qw__pq_put_le(&mn, u, 8);
            memcpy(&u, &hi, 8);
            qw__pq_put_le(&mx, u, 8);
        }
    } else if (c->nvals) {
        int64_t lo = c->iv[0], hi = c->iv[0];
        for (size_t i = 1; i < c->nvals; i++) {
            lo = c->iv[i] < lo ? c->iv[i] : lo;
            hi = c->iv[i] > hi ? c->iv[i] : hi;
        }
        int n = c->phys == QW_PQ_PHYS_BOOLEAN ? 1 : c->phys == QW_PQ_PHYS_INT32 ? 4 : 8;
        qw__pq_put_le(&mn, (uint64_t)lo, n);
        qw__pq_put_le(&mx, (uint64_t)hi, n);
        have = 1;
    }
    qw_tw_struct_begin(t, 12);
    qw_tw_i64(t, 3, (int64_t)nnull);
    if (have && !mn.oom && !mx.oom) {
        qw_tw_binary(t, 5, mx.b, mx.n);
        qw_tw_binary(t, 6, mn.b, mn.n);
    }
    qw_tw_struct_end(t);
    qw_tbuf_free(&mn);
    qw_tbuf_free(&mx);
}

void qw__pq_schema_element(qw_tw *t, const qw__pq_col *c)
{
    qw_tw_elem_struct_begin(t);
    qw_tw_i32(t, 1, c->phys);
    qw_tw_i32(t, 3, c->def.required ? 0 : 1);
    qw_tw_string(t, 4, c->name);
    switch (c->def.type) {
    case QW_PQ_STRING: qw_tw_i32(t, 6, QW_PQ_CT_UTF8); break;
    case QW_PQ_DECIMAL_18_8:
        qw_tw_i32(t, 6, QW_PQ_CT_DECIMAL);
        qw_tw_i32(t, 7, 8);
        qw_tw_i32(t, 8, 18);
        break;
    case QW_PQ_DATE: qw_tw_i32(t, 6, QW_PQ_CT_DATE); break;
    case QW_PQ_TIMESTAMP_US: qw_tw_i32(t, 6, QW_PQ_CT_TIMESTAMP_MICROS); break;
    default: break;
    }
    if (c->def.field_id)
        qw_tw_i32(t, 9, c->def.field_id);
    switch (c->def.type) {
    case QW_PQ_STRING:
        qw_tw_struct_begin(t, 10);
        qw_tw_struct_begin(t, 1);
        qw_tw_struct_end(t);
        qw_tw_struct_end(t);
        break;
    case QW_PQ_DECIMAL_18_8:
        qw_tw_struct_begin(t, 10);
        qw_tw_struct_begin(t, 5);
        qw_tw_i32(t, 1, 8);
        qw_tw_i32(t, 2, 18);
        qw_tw_struct_end(t);
        qw_tw_struct_end(t);
        break;
    case QW_PQ_DATE:
        qw_tw_struct_begin(t, 10);
        qw_tw_struct_begin(t, 6);
        qw_tw_struct_end(t);
        qw_tw_struct_end(t);
        break;
    case QW_PQ_TIMESTAMP_US:
    case QW_PQ_TIMESTAMP_NS:
        qw_tw_struct_begin(t, 10);
        qw_tw_struct_begin(t, 8);
        qw_tw_bool(t, 1, 1);
        qw_tw_struct_begin(t, 2);
        qw_tw_struct_begin(t, c->def.type == QW_PQ_TIMESTAMP_US ? 2 : 3);
        qw_tw_struct_end(t);
        qw_tw_struct_end(t);
        qw_tw_struct_end(t);
        qw_tw_struct_end(t);
        break;
    default: break;
    }
    qw_tw_struct_end(t);
}


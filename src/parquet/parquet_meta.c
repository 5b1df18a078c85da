/* parquet_meta.c: Parquet writer pieces for the footer: little-endian
 * values and schema elements with logical types. */
#include <string.h>

#include "parquet/parquet_int.h"

void qw__pq_put_le(qw_tbuf *b, uint64_t v, int n)
{
    uint8_t x[8];
    for (int i = 0; i < n; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    qw_tbuf_put(b, x, (size_t)n);
}

void qw__pq_schema_element(qw_tw *t, const qw__pq_col *c)
{
    qw_tw_elem_struct_begin(t);
    qw_tw_i32(t, 1, c->phys);
    if (c->phys == QW_PQ_PHYS_FLBA)
        qw_tw_i32(t, 2, QW_PQ_DEC38_BYTES); /* type_length */
    qw_tw_i32(t, 3, c->def.required ? 0 : 1);
    qw_tw_string(t, 4, c->name);
    switch (c->def.type) {
    case QW_PQ_STRING: qw_tw_i32(t, 6, QW_PQ_CT_UTF8); break;
    case QW_PQ_DECIMAL_18_8:
    case QW_PQ_DECIMAL_38_8:
        qw_tw_i32(t, 6, QW_PQ_CT_DECIMAL);
        qw_tw_i32(t, 7, 8);
        qw_tw_i32(t, 8, c->def.type == QW_PQ_DECIMAL_18_8 ? 18 : 38);
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
    case QW_PQ_DECIMAL_38_8:
        qw_tw_struct_begin(t, 10);
        qw_tw_struct_begin(t, 5);
        qw_tw_i32(t, 1, 8);
        qw_tw_i32(t, 2, c->def.type == QW_PQ_DECIMAL_18_8 ? 18 : 38);
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

/* tables.c: table definitions (docs/TABLES.md is the human copy; field
 * ids never change once released). */
#include "storage/tables.h"

#include <stdio.h>
#include <string.h>

#define S QW_COL_STRING
#define TS QW_COL_TSTZ
#define L QW_COL_LONG
#define I QW_COL_INT
#define B QW_COL_BOOL
#define DEC QW_COL_DEC
#define D QW_COL_DOUBLE

const qw_tbl_def qw_tables[QW_TBL_COUNT] = {
    [QW_TBL_RAW_ORDERBOOK] = {"raw_orderbook",
                              13,
                              {{"product_id", 1, S, 1},
                               {"exchange_ts", 2, TS, 0},
                               {"exchange_ns", 3, L, 0},
                               {"recv_ts", 4, TS, 0},
                               {"recv_ns", 5, L, 0},
                               {"side", 6, S, 1},
                               {"price", 7, DEC, 1},
                               {"size", 8, DEC, 1},
                               {"is_snapshot", 9, B, 1},
                               {"sequence", 10, L, 0},
                               {"msg_id", 11, L, 1},
                               {"run_id", 12, S, 1},
                               {"msg_ns", 13, L, 0}}},
    [QW_TBL_RAW_TRADES] = {"raw_trades",
                           12,
                           {{"product_id", 1, S, 1},
                            {"exchange_ts", 2, TS, 0},
                            {"exchange_ns", 3, L, 0},
                            {"trade_id", 4, S, 1},
                            {"price", 5, DEC, 1},
                            {"size", 6, DEC, 1},
                            {"aggressor_side", 7, S, 1},
                            {"recv_ts", 8, TS, 0},
                            {"recv_ns", 9, L, 0},
                            {"is_snapshot", 10, B, 1},
                            {"msg_id", 11, L, 1},
                            {"run_id", 12, S, 1}}},
    [QW_TBL_FEATURES] = {"features",
                         22,
                         {{"product_id", 1, S, 1},
                          {"exchange_ts", 2, TS, 1},
                          {"exchange_ns", 3, L, 1},
                          {"spread_bps", 4, D, 1},
                          {"imbalance", 5, D, 1},
                          {"depth", 6, D, 1},
                          {"volatility", 7, D, 1},
                          {"best_bid", 8, DEC, 1},
                          {"best_ask", 9, DEC, 1},
                          {"mid", 10, D, 1},
                          {"p", 11, D, 0},
                          {"stability", 12, D, 1},
                          {"n_learned", 13, L, 1},
                          {"run_id", 14, S, 1},
                          /* opt-in features, null unless in the run's --features set */
                          {"microprice_bps", 15, D, 0},
                          {"ofi", 16, D, 0},
                          {"depth_imb_1", 17, D, 0},
                          {"depth_imb_5", 18, D, 0},
                          {"trade_imb", 19, D, 0},
                          {"ret_1s_bps", 20, D, 0},
                          {"since_trade_s", 21, D, 0},
                          {"spread_ticks", 22, D, 0}}},
    [QW_TBL_LABELS] = {"labels",
                       14,
                       {{"product_id", 1, S, 1},
                        {"exchange_ts", 2, TS, 1},
                        {"exchange_ns", 3, L, 1},
                        {"spread_bps", 4, D, 1},
                        {"imbalance", 5, D, 1},
                        {"depth", 6, D, 1},
                        {"volatility", 7, D, 1},
                        {"mid", 8, D, 1},
                        {"mid_future", 9, D, 1},
                        {"label", 10, I, 1},
                        {"p", 11, D, 0},
                        {"model_ready", 12, B, 1},
                        {"n_learned", 13, L, 1},
                        {"run_id", 14, S, 1}}},
};

void qw_tbl_schema(const qw_tbl_def *t, qw_ice_schema *out)
{
    memset(out, 0, sizeof *out);
    out->schema_id = 0;
    out->nfields = t->ncols;
    for (int i = 0; i < t->ncols; i++) {
        const qw_tbl_col *c = &t->cols[i];
        qw_ice_field *f = &out->fields[i];
        f->id = c->id;
        snprintf(f->name, sizeof f->name, "%s", c->name);
        f->required = c->required;
        switch (c->kind) {
        case QW_COL_STRING: f->type = QW_ICE_STRING; break;
        case QW_COL_TSTZ: f->type = QW_ICE_TIMESTAMPTZ; break;
        case QW_COL_LONG: f->type = QW_ICE_LONG; break;
        case QW_COL_INT: f->type = QW_ICE_INT; break;
        case QW_COL_BOOL: f->type = QW_ICE_BOOLEAN; break;
        case QW_COL_DOUBLE: f->type = QW_ICE_DOUBLE; break;
        case QW_COL_DEC:
            f->type = QW_ICE_DECIMAL;
            f->precision = 38; /* tables written before 2026-12 have 18: evolved at open */
            f->scale = 8;
            break;
        }
    }
}

void qw_tbl_spec(qw_ice_spec *out)
{
    memset(out, 0, sizeof *out);
    out->spec_id = 0;
    out->nfields = 2;
    out->fields[0] = (qw_ice_part_field){
        .source_id = QW_TBL_F_PRODUCT, .field_id = 1000, .transform = QW_ICE_T_IDENTITY};
    snprintf(out->fields[0].name, sizeof out->fields[0].name, "product_id");
    out->fields[1] = (qw_ice_part_field){
        .source_id = QW_TBL_F_EXCHANGE_TS, .field_id = 1001, .transform = QW_ICE_T_DAY};
    snprintf(out->fields[1].name, sizeof out->fields[1].name, "exchange_ts_day");
}

int qw_tbl_find(const char *name)
{
    for (int i = 0; i < QW_TBL_COUNT; i++)
        if (strcmp(qw_tables[i].name, name) == 0)
            return i;
    return -1;
}

_Static_assert(QW_TBL_MAX_COLS <= QW_ICE_MAX_STATS, "a data file keeps stats for every column");

void qw_tbl_ice_stats(const qw_tbl_def *d, const qw_pq_file_stats *ps, qw_ice_data_file *df)
{
    df->ncols = 0;
    for (size_t i = 0; i < ps->ncols && i < (size_t)d->ncols; i++) {
        const qw_pq_col_stats *c = &ps->col[i];
        qw_ice_col_stats *o = &df->cols[df->ncols++];
        memset(o, 0, sizeof *o);
        o->field_id = c->field_id;
        o->column_size = (int64_t)c->bytes;
        o->value_count = (int64_t)c->values;
        o->null_count = (int64_t)c->nulls;
        o->nan_count = -1;
        if (!c->has_bounds)
            continue;
        switch (d->cols[i].kind) {
        case QW_COL_STRING:
            qw_ice_bound_string_lower(&o->lower, c->min_s, c->min_len);
            qw_ice_bound_string_upper(&o->upper, c->max_s, c->max_len);
            break;
        case QW_COL_TSTZ:
        case QW_COL_LONG:
            qw_ice_bound_long(&o->lower, c->min_i);
            qw_ice_bound_long(&o->upper, c->max_i);
            break;
        case QW_COL_INT:
            qw_ice_bound_int(&o->lower, (int32_t)c->min_i);
            qw_ice_bound_int(&o->upper, (int32_t)c->max_i);
            break;
        case QW_COL_BOOL:
            qw_ice_bound_bool(&o->lower, (int)c->min_i);
            qw_ice_bound_bool(&o->upper, (int)c->max_i);
            break;
        case QW_COL_DEC: /* DECIMAL(38, 8): the full-width bounds */
            qw_ice_bound_decimal128(&o->lower, c->min_w);
            qw_ice_bound_decimal128(&o->upper, c->max_w);
            break;
        case QW_COL_DOUBLE:
            qw_ice_bound_double(&o->lower, c->min_d);
            qw_ice_bound_double(&o->upper, c->max_d);
            break;
        }
    }
}

qw_pq_type qw_tbl_pq_type(qw_col_kind k)
{
    switch (k) {
    case QW_COL_STRING: return QW_PQ_STRING;
    case QW_COL_TSTZ: return QW_PQ_TIMESTAMP_US;
    case QW_COL_LONG: return QW_PQ_INT64;
    case QW_COL_INT: return QW_PQ_INT32;
    case QW_COL_BOOL: return QW_PQ_BOOL;
    case QW_COL_DEC: return QW_PQ_DECIMAL_38_8;
    case QW_COL_DOUBLE: return QW_PQ_DOUBLE;
    }
    return QW_PQ_INT64;
}

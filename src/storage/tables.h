/* tables.h: the four QuoteWatch Iceberg tables (docs/TABLES.md): column
 * definitions with field ids, Iceberg schema and partition spec. One
 * definition drives the Parquet writer, the manifests and the reader. */
#ifndef QW_STORAGE_TABLES_H
#define QW_STORAGE_TABLES_H

#include "iceberg/iceberg.h"
#include "parquet/parquet.h"
#include "storage/stats.h"

#define QW_TBL_NS "quotewatch"
#define QW_TBL_MAX_COLS 24

typedef enum {
    QW_COL_STRING, /* Iceberg string */
    QW_COL_TSTZ,   /* Iceberg timestamptz (us); written from ns */
    QW_COL_LONG,
    QW_COL_INT,
    QW_COL_BOOL,
    QW_COL_DEC, /* decimal(18,8) from e8 int64 */
    QW_COL_DOUBLE,
} qw_col_kind;

typedef struct qw_tbl_col {
    const char *name;
    int id;
    qw_col_kind kind;
    int required;
} qw_tbl_col;

typedef struct qw_tbl_def {
    const char *name;
    int ncols;
    qw_tbl_col cols[QW_TBL_MAX_COLS];
} qw_tbl_def;

/* Indexed by QW_TBL_RAW_ORDERBOOK .. QW_TBL_LABELS (storage/stats.h). */
extern const qw_tbl_def qw_tables[QW_TBL_COUNT];

/* Field ids shared by every table. */
#define QW_TBL_F_PRODUCT 1
#define QW_TBL_F_EXCHANGE_TS 2
#define QW_TBL_F_EXCHANGE_NS 3

/* features: the opt-in features (features.h x[QW_NFEATURES..]) are the
 * optional columns from this index on, in qw_feature_names order, field ids
 * 15..22 (added 2026-12: older tables are evolved at open); a run fills
 * those of its --features set and leaves the others null. */
#define QW_TBL_FEAT_EXT_COL 14
#define QW_TBL_FEAT_EXT_N 8

void qw_tbl_schema(const qw_tbl_def *t, qw_ice_schema *out);
void qw_tbl_spec(qw_ice_spec *out); /* identity(product_id), day(exchange_ts) */
int qw_tbl_find(const char *name);  /* index or -1 */
/* Parquet type of a column kind. */
qw_pq_type qw_tbl_pq_type(qw_col_kind k);
/* Iceberg column statistics of a written file (ps) into df->cols. */
void qw_tbl_ice_stats(const qw_tbl_def *d, const qw_pq_file_stats *ps, qw_ice_data_file *df);

#endif

/* store_buf.c: the lake writer's buffers: records become columns of
 * their (table, product, day) partition as they arrive, and a flush hands
 * those columns to the Parquet writer as they are (see store.c). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "storage/store_int.h"

/* Equal NUL-terminated product ids; both live in 32-byte arrays. */
static inline int same_product(const char *a, const char *b)
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y)
        return 0;
    return memchr(a, 0, 8) ? 1 : strcmp(a + 8, b + 8) == 0;
}

static int64_t day_of(const qw_rec *r)
{
    return r->t_ns ? qw_ice_day_from_us(r->t_ns / 1000) : INT32_MIN;
}

enum { ST_INT, ST_DOUBLE, ST_CODE, ST_CONST, ST_STRING, ST_WIDE };

/* How column c of table t is buffered: constant per file (product_id,
 * run_id: dictionary of one value, no array), dictionary codes (sides),
 * free strings (trade_id), doubles, or int64 (everything else). */
static int col_store(int t, int c)
{
    const qw_tbl_col *k = &qw_tables[t].cols[c];
    if (k->kind == QW_COL_DOUBLE)
        return ST_DOUBLE;
    if (k->kind == QW_COL_DEC && !strcmp(k->name, "size"))
        return ST_WIDE; /* sizes are 128-bit; prices int64 */
    if (k->kind != QW_COL_STRING)
        return ST_INT;
    if (!strcmp(k->name, "product_id") || !strcmp(k->name, "run_id"))
        return ST_CONST;
    if (t == QW_TBL_RAW_TRADES && !strcmp(k->name, "trade_id"))
        return ST_STRING;
    return ST_CODE;
}

static const char *const SIDE_DICT[] = {"bid", "ask", "connect", "gap"};
static const uint32_t SIDE_LEN[] = {3, 3, 7, 3};
static const char *const AGGR_DICT[] = {"buy", "sell"};
static const uint32_t AGGR_LEN[] = {3, 4};

void qw__store_part_free(pbuf *p, int t)
{
    for (int c = 0; c < qw_tables[t].ncols; c++) {
        qw_free(p->i[c]);
        qw_free(p->w[c]);
        qw_free(p->d[c]);
        qw_free(p->v[c]);
        qw_free(p->code[c]);
    }
    qw_free(p->soff);
    qw_tbuf_free(&p->sb);
}

#define GROW(ptr, n)                                                                               \
    do {                                                                                           \
        void *q_ = qw_realloc((ptr), (n) * sizeof *(ptr));                                         \
        if (!q_)                                                                                   \
            return -1;                                                                             \
        (ptr) = q_;                                                                                \
    } while (0)

/* Room for more rows: 1024 at first, then a flush's worth at once, then
 * doubling. A partition that outgrows its first 1024 rows is likely to fill
 * to the row trigger, and each doubling on the way there copied the
 * columns into fresh pages (a page fault per 4 KiB: 1.5 % of a replay's
 * CPU). Untouched capacity costs address space only. */
static int part_grow(pbuf *p, int t, size_t flush_rows)
{
    size_t nc = !p->cap ? 1024 : p->cap * 2 > flush_rows ? p->cap * 2 : flush_rows;
    const qw_tbl_def *d = &qw_tables[t];
    for (int c = 0; c < d->ncols; c++) {
        switch (col_store(t, c)) {
        case ST_INT: GROW(p->i[c], nc); break;
        case ST_WIDE: GROW(p->w[c], nc); break;
        case ST_DOUBLE: GROW(p->d[c], nc); break;
        case ST_CODE: GROW(p->code[c], nc); break;
        case ST_STRING:
            GROW(p->soff, nc + 1);
            p->soff[0] = 0;
            break;
        default: break;
        }
        if (!d->cols[c].required)
            GROW(p->v[c], nc);
    }
    p->cap = nc;
    return 0;
}

/* The partition of r in table t with room for one more row; NULL when out
 * of memory. */
static pbuf *part_for(qw_store *s, int t, const qw_rec *r)
{
    tbuf *b = &s->buf[t];
    pbuf *p = b->last < b->np ? &b->p[b->last] : NULL;
    /* fast path: the previous row's partition (same product, same day) */
    if (p && p->n && r->t_ns >= p->lo_ns && r->t_ns < p->hi_ns && r->kind != QW_REC_MARK &&
        same_product(p->product, r->product)) {
        if (p->n == p->cap && part_grow(p, t, (size_t)s->o.flush_rows) != 0)
            return NULL;
        return p;
    }
    int64_t day = r->kind == QW_REC_MARK ? INT32_MIN : day_of(r);
    if (!p || !p->n || p->day != day || strcmp(p->product, r->product) != 0) {
        p = NULL;
        size_t k, spare = b->np;
        for (k = 0; k < b->np; k++) {
            pbuf *q = &b->p[k];
            if (!q->n) {
                spare = spare < b->np ? spare : k;
                continue;
            }
            if (q->day == day && strcmp(q->product, r->product) == 0)
                break;
        }
        if (k == b->np) { /* a new partition: a free slot, else a new one */
            if (spare == b->np) {
                if (b->np == b->cap) {
                    size_t nc = b->cap ? b->cap * 2 : 8;
                    pbuf *np = qw_realloc(b->p, nc * sizeof *np);
                    if (!np)
                        return NULL;
                    memset(np + b->cap, 0, (nc - b->cap) * sizeof *np);
                    b->p = np;
                    b->cap = nc;
                }
                spare = b->np++;
            }
            k = spare;
            p = &b->p[k];
            memset(p->product, 0, sizeof p->product);
            snprintf(p->product, sizeof p->product, "%s", r->product);
            p->day = day;
            /* exchange times of this day, for the fast path: days from
             * 1970 only (0 = unknown time = the null day; before 1970
             * day_of's rounding applies), none for the null day */
            p->lo_ns = day < 0 ? 1 : day == 0 ? 1 : day * 86400 * 1000000000LL;
            p->hi_ns = day < 0 ? 0 : (day + 1) * 86400 * 1000000000LL;
            p->order = b->seq;
            p->sb.n = 0;
        }
        b->last = k;
        p = &b->p[k];
    }
    if (p->n == p->cap && part_grow(p, t, (size_t)s->o.flush_rows) != 0)
        return NULL;
    return p;
}

static inline void put_i(pbuf *p, int c, size_t k, int64_t v)
{
    p->i[c][k] = v;
}
static inline void put_opt(pbuf *p, int c, size_t k, int has, int64_t v)
{
    p->i[c][k] = has ? v : 0;
    p->v[c][k] = (uint8_t)(has != 0);
}

/* Append r to its table's buffers; 0 or -1 (out of memory: dropped). */
int qw__store_buffer_row(qw_store *s, int t, const qw_rec *r)
{
    pbuf *p = part_for(s, t, r);
    if (!p)
        return -1;
    size_t k = p->n;
    int has_t = r->t_ns != 0;
    switch (t) {
    case QW_TBL_RAW_ORDERBOOK:
        put_opt(p, 1, k, has_t, r->t_ns / 1000);
        put_opt(p, 2, k, has_t, r->t_ns);
        put_opt(p, 3, k, r->recv_ns != 0, r->recv_ns / 1000);
        put_opt(p, 4, k, r->recv_ns != 0, r->recv_ns);
        p->code[5][k] = r->kind == QW_REC_MARK ? (r->side == 2 ? 2u : 3u) : r->side ? 1u : 0u;
        put_i(p, 6, k, r->u.level.price);
        p->w[7][k] = r->u.level.size;
        put_i(p, 8, k, r->is_snapshot != 0);
        put_opt(p, 9, k, r->has_seq, r->u.level.seq);
        put_i(p, 10, k, r->msg_id);
        put_opt(p, 12, k, r->u.level.grp_ns != 0, r->u.level.grp_ns);
        break;
    case QW_TBL_RAW_TRADES: {
        size_t n = strnlen(r->u.trade.id, sizeof r->u.trade.id);
        qw_tbuf_put(&p->sb, r->u.trade.id, n);
        if (p->sb.oom || p->sb.n > UINT32_MAX - 64) {
            p->sb.oom = 0;
            p->sb.n = p->soff[k];
            return -1;
        }
        p->soff[k + 1] = (uint32_t)p->sb.n;
        put_opt(p, 1, k, has_t, r->t_ns / 1000);
        put_opt(p, 2, k, has_t, r->t_ns);
        put_i(p, 4, k, r->u.trade.price);
        p->w[5][k] = r->u.trade.size;
        p->code[6][k] = r->side ? 1u : 0u;
        put_opt(p, 7, k, r->recv_ns != 0, r->recv_ns / 1000);
        put_opt(p, 8, k, r->recv_ns != 0, r->recv_ns);
        put_i(p, 9, k, r->is_snapshot != 0);
        put_i(p, 10, k, r->msg_id);
        break;
    }
    case QW_TBL_FEATURES:
        put_i(p, 1, k, r->t_ns / 1000);
        put_i(p, 2, k, r->t_ns);
        for (int i = 0; i < 4; i++)
            p->d[3 + i][k] = r->u.feat.x[i];
        for (int i = 0; i < QW_TBL_FEAT_EXT_N; i++) { /* null unless configured */
            int on = (s->feat_cols >> i) & 1u;
            p->d[QW_TBL_FEAT_EXT_COL + i][k] = on ? r->u.feat.x[QW_NFEATURES + i] : 0;
            p->v[QW_TBL_FEAT_EXT_COL + i][k] = (uint8_t)on;
        }
        put_i(p, 7, k, r->u.feat.best_bid);
        put_i(p, 8, k, r->u.feat.best_ask);
        p->d[9][k] = r->u.feat.mid;
        p->d[10][k] = r->has_p ? r->u.feat.p : 0;
        p->v[10][k] = r->has_p != 0;
        p->d[11][k] = r->u.feat.stability;
        put_i(p, 12, k, r->u.feat.n_learned);
        break;
    case QW_TBL_LABELS:
        put_i(p, 1, k, r->t_ns / 1000);
        put_i(p, 2, k, r->t_ns);
        for (int i = 0; i < 4; i++)
            p->d[3 + i][k] = r->u.lab.x[i];
        p->d[7][k] = r->u.lab.mid;
        p->d[8][k] = r->u.lab.mid_future;
        put_i(p, 9, k, r->label);
        p->d[10][k] = r->has_p ? r->u.lab.p : 0;
        p->v[10][k] = r->has_p != 0;
        put_i(p, 11, k, r->ready != 0);
        put_i(p, 12, k, r->u.lab.n_learned);
        break;
    }
    p->n++;
    s->buf[t].n++;
    s->buf[t].seq++;
    return 0;
}

/* Column definitions and vectors of partition p of table t, for
 * qw_pq_write_rows; d holds the one-value dictionaries they point at. */
int qw__store_columns(qw_store *s, int t, const pbuf *p, qw__store_dicts *dd, qw_pq_column *cols,
                      qw_pq_vec *vec)
{
    const qw_tbl_def *d = &qw_tables[t];
    if (s->nzeros < p->n) {
        uint32_t *z = qw_realloc(s->zeros, p->n * sizeof *z);
        if (!z)
            return -1;
        memset(z, 0, p->n * sizeof *z);
        s->zeros = z;
        s->nzeros = p->n;
    }
    dd->prod = p->product;
    dd->run = s->run_id;
    dd->prod_len = (uint32_t)strlen(p->product);
    dd->run_len = (uint32_t)strlen(s->run_id);
    memset(vec, 0, (size_t)d->ncols * sizeof *vec);
    for (int i = 0; i < d->ncols; i++) {
        cols[i] = (qw_pq_column){
            d->cols[i].name, d->cols[i].id, qw_tbl_pq_type(d->cols[i].kind), d->cols[i].required,
            s->o.delta && col_store(t, i) == ST_INT && d->cols[i].kind != QW_COL_INT &&
                d->cols[i].kind != QW_COL_BOOL};
        qw_pq_vec *v = &vec[i];
        v->valid = d->cols[i].required ? NULL : p->v[i];
        switch (col_store(t, i)) {
        case ST_INT: v->i64 = p->i[i]; break;
        case ST_WIDE: v->i128 = p->w[i]; break;
        case ST_DOUBLE: v->f64 = p->d[i]; break;
        case ST_STRING:
            v->soff = p->soff;
            v->sbytes = p->sb.b;
            break;
        case ST_CONST:
            v->code = s->zeros;
            v->ndict = 1;
            if (!strcmp(d->cols[i].name, "product_id")) {
                v->dict = &dd->prod;
                v->dict_len = &dd->prod_len;
            } else {
                v->dict = &dd->run;
                v->dict_len = &dd->run_len;
            }
            break;
        case ST_CODE:
            v->code = p->code[i];
            if (t == QW_TBL_RAW_TRADES) {
                v->dict = AGGR_DICT, v->dict_len = AGGR_LEN, v->ndict = 2;
            } else {
                v->dict = SIDE_DICT, v->dict_len = SIDE_LEN, v->ndict = 4;
            }
            break;
        }
    }
    return 0;
}

/* records.h: the fixed-size records the loop thread hands to the storage
 * writer thread through the SPSC queue (shared ARCHITECTURE.md section 3).
 *
 * 208 bytes each (FEATURES carries all twelve features), no pointers: a record is copied into the
 * ring and the producer never waits for the writer (live) or waits only for space (replay). Product
 * ids travel inline (Coinbase ids are short; longer ones are refused at the feed). Prices and sizes
 * are exact int64 e8; times are ns since the epoch (0 = unknown).
 */
#ifndef QW_STORAGE_RECORDS_H
#define QW_STORAGE_RECORDS_H

#include <stdint.h>

#include "core/dec.h"

typedef enum {
    QW_REC_LEVEL = 1, /* raw_orderbook: one level of a snapshot or one change */
    QW_REC_TRADE,     /* raw_trades */
    QW_REC_FEATURES,  /* features: one row per book update with a prediction step */
    QW_REC_LABEL,     /* labels: one labeled sample */
    QW_REC_FLUSH,     /* control: flush and commit now (shutdown, tests) */
    QW_REC_MARK,      /* raw_orderbook marker row: side 2 = new connection, 3 = sequence gap */
} qw_rec_kind;

#define QW_REC_PRODUCT_MAX 32
#define QW_REC_TRADE_ID_MAX 40

typedef struct qw_rec {
    uint8_t kind;
    uint8_t side;        /* LEVEL: 0 bid, 1 ask; TRADE: aggressor 0 buy, 1 sell */
    uint8_t is_snapshot; /* LEVEL/TRADE */
    int8_t label;        /* LABEL: 0/1 */
    uint8_t has_p;       /* FEATURES/LABEL: p is meaningful */
    uint8_t ready;       /* LABEL: the model was ready when p was made */
    uint8_t has_seq;     /* LEVEL: seq holds the feed sequence number */
    uint8_t _pad;
    char product[QW_REC_PRODUCT_MAX]; /* NUL-terminated */
    int64_t t_ns;    /* exchange (feed) time (LEVEL: the change's; grp_ns: its group's) */
    int64_t recv_ns; /* local receive time (LEVEL/TRADE) */
    int64_t msg_id;  /* ingest message number in this run (LEVEL/TRADE): regroups rows */
    union {
        struct {
            int64_t price, seq, grp_ns;
            qw_sz size;
        } level; /* t_ns: the change's own time */
        struct {
            int64_t price;
            qw_sz size;
            char id[QW_REC_TRADE_ID_MAX];
        } trade;
        struct {
            double x[12]; /* features.h x[]: the seed four, then the opt-in ones */
            int64_t best_bid, best_ask;
            double mid, p, stability;
            int64_t n_learned;
        } feat;
        struct {
            double x[4];
            double mid, mid_future, p;
            int64_t n_learned;
        } lab;
    } u;
} qw_rec;

_Static_assert(sizeof(qw_rec) <= 208, "qw_rec must stay small");

#endif

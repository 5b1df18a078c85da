/* lake_read_int.h: internals shared by lake_read.c (planning, the merge,
 * messages) and lake_cursor.c (one data file's rows, one row group at a
 * time). Never included outside src/storage/. */
#ifndef QW_STORAGE_LAKE_READ_INT_H
#define QW_STORAGE_LAKE_READ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/fileio.h"
#include "parquet/parquet_read.h"
#include "storage/lake_read.h"

#define QW__LAKE_NCOLS 13 /* raw_orderbook has 13 columns, raw_trades 12 */
#define QW__LAKE_SEGS 8   /* runs one file may hold before it is sorted in memory */
#define QW__LAKE_WHOLE ((uint64_t)4 << 20) /* files up to this size are read whole */

/* One row. tid: the trade id, valid until the cursor that produced the row
 * moves to its next row group (qw__lake_take copies it). */
typedef struct qw__lrow {
    int64_t t_ns, msg_ns, recv_ns, px, msg_id, seq;
    qw_sz sz;
    uint32_t run, prod;
    const char *tid;
    uint32_t tidlen, tidoff; /* tidoff: in a sorted cursor's arena */
    uint8_t kind;            /* sort rank: 0 marker (connect/gap), 1 level, 2 trade */
    uint8_t mark;            /* 2 connect, 3 gap */
    uint8_t side, snap;
} qw__lrow;

typedef struct qw__strtab {
    char **s;
    size_t *len;
    size_t n, cap;
} qw__strtab;

/* What every cursor shares: options, the interned products and runs (ids
 * in the order the old whole-window loader gave them: files in plan order,
 * rows in file order), a pool of column buffer sets, the error text. */
typedef struct qw__lake_ctx {
    const qw_lake_opts *o;
    qw_fileio *io;
    qw__strtab prods, runs;
    qw_pqr_column **pool; /* free column sets (QW__LAKE_NCOLS each) */
    size_t npool, poolcap;
    qw_pqr_scratch *scratch; /* every cursor's reader decodes in it (one thread) */
    /* set after the scan: every run and product the rows hold is interned
     * and has its slots (run_first); a row with a new one means its file
     * changed since, and qw__lcur_row fails ("rows differ") */
    int frozen;
    char err[256];
} qw__lake_ctx;

/* A cursor over one data file's selected rows (product and since/until
 * filters applied), in file order -- or, for a file whose rows are not in
 * merge order (a compacted file holding several runs in another order),
 * loaded whole and sorted. */
typedef struct qw__lcur {
    char *path;
    uint64_t size;        /* the manifest's file_size_in_bytes (0: unknown, stat it) */
    int footer;           /* open: only the footer was read (a scan that may settle) */
    int table;            /* QW_TBL_RAW_ORDERBOOK or QW_TBL_RAW_TRADES */
    uint32_t file, pos;   /* file name order; position in the plan */
    uint64_t nrows, seen; /* selected rows (the scan), rows produced so far */
    /* the scan's findings */
    uint32_t seg[QW__LAKE_SEGS]; /* runs in file order */
    uint8_t nseg, ordered;
    /* settled from footer statistics (qw__lcur_settle): not yet checked
     * against its rows (qw__lcur_verify); its run and product ids, its
     * trades' snapshot flag, its rows' minimum time (INT64_MAX: none) */
    uint8_t settled, ssnap;
    uint32_t srun, sprod;
    int64_t tmin;
    /* merge key of the head row: (first, run, msg_id, kp) */
    int64_t first, msg_id;
    uint32_t run, kp;
    int have; /* head holds the head row's values (else only its key, from the scan) */
    qw__lrow head;
    /* open file */
    qw_pqr *f;
    uint8_t *fbuf; /* the whole file, when small (f reads from it) */
    size_t fcap;
    qw_pqr_column *cols;
    int map[QW__LAKE_NCOLS];
    size_t rg, i, rgrows;
    /* the previous row's product and run in this row group (NULL: none) */
    const char *pp, *rp;
    size_t ppl, rpl;
    uint32_t pid, rid;
    /* their string table indices, and the previous side string's index
     * and what it gave (UINT32_MAX: none; qw_pqr_dict_indices) */
    uint32_t ppx, rpx, sx;
    uint8_t sside, smark;
    /* the row group's arrays the rows read (base, element size), for
     * software prefetch: a cursor's rows are taken between other
     * cursors', too many streams for the hardware prefetcher */
    const uint8_t *pfb[3 * QW__LAKE_NCOLS];
    uint8_t pfs[3 * QW__LAKE_NCOLS], npf;
    /* sorted (unordered file) */
    qw__lrow *rows;
    size_t nr, ri;
    char *arena;
    size_t alen, acap;
} qw__lcur;

int qw__lake_product_wanted(const qw_lake_opts *o, const char *p);
int qw__lake_intern(qw__strtab *t, const char *s, size_t n, uint32_t *out);
/* Opens c's file. scan: only the columns the plan needs (no prices, sizes,
 * receive times, sequence numbers or trade ids); QW__LCUR_FOOTER: a scan
 * that reads the footer alone when the size is known (c->footer set; one
 * ranged read instead of the whole file: if qw__lcur_settle cannot settle
 * it, close and open it again with scan = 1). */
#define QW__LCUR_FOOTER 2
qw_err qw__lcur_open(qw__lake_ctx *x, qw__lcur *c, int scan);
/* The scan of an open file from its footer statistics alone, when they
 * settle it (lake_read.c DESIGN step 2): one row group, one run, one
 * product, no markers, trades all snapshots or none, not cut by the
 * window, the times it contributes known. Then c->nrows, the first key
 * (run, min msg_id, kp), one segment, ordered (to be verified), settled,
 * tmin and ssnap are set and the run and product interned (1); 0: decode
 * the file; -1: out of memory (x->err). */
int qw__lcur_settle(qw__lake_ctx *x, qw__lcur *c);
/* For a settled file just opened for the merge: decodes its row group and
 * checks what the statistics claimed (row count, msg_id minimum, tmin;
 * rows are checked for run, product, kind and snapshot flag as they are
 * produced); *ordered: msg_id never decreases (else the caller sorts).
 * QW_CORRUPT (x->err) when the rows contradict the statistics. */
qw_err qw__lcur_verify(qw__lake_ctx *x, qw__lcur *c, int *ordered);
/* The next selected row: 1, 0 at the end, -1 on error (x->err). */
int qw__lcur_row(qw__lake_ctx *x, qw__lcur *c, qw__lrow *out);
/* Loads the whole (open) file and sorts it by (run_first[run], run,
 * msg_id, kind, product, row). */
qw_err qw__lcur_sort(qw__lake_ctx *x, qw__lcur *c, const int64_t *run_first);
/* Closes the file and returns its column buffers to the pool. */
void qw__lcur_close(qw__lake_ctx *x, qw__lcur *c);
void qw__lake_ctx_fini(qw__lake_ctx *x);

#endif

/* ptstore.h: the growing array of one configuration's stored predictions
 * (backtest.c on_labeled), and huge-page advice for large blocks.
 *
 * The array grows by doubling (the caller's policy: 4096 points, then x2
 * up to max_predictions; qw_backtest_memory reports the capacity). Where
 * the system allows it, the first growth reserves address space for the
 * largest capacity (max points, PROT_NONE, not committed) and each growth
 * commits the next part of it in place (mprotect): the points are never
 * copied and the pages of earlier, smaller blocks are never touched and
 * thrown away (the doubling's copies and their first-touch faults were
 * ~3 % of a backtest). When the reservation cannot be made (an address
 * space limit, strict overcommit), blocks come from qw_malloc and the
 * doubling copies, as before. Single thread.
 */
#ifndef QW_RESEARCH_PTSTORE_H
#define QW_RESEARCH_PTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "research/metrics.h"

typedef struct qw_bt_store {
    qw_bt_pt *pts;   /* cap points, the first n the caller's */
    uint64_t cap;    /* points usable now */
    void *map;       /* the reservation (NULL: heap blocks) */
    size_t map_len;  /* its length in bytes */
    int map_refused; /* the reservation failed once: heap blocks from now on */
} qw_bt_store;

/* Room for ncap points (> cap, <= max), the first n kept: 0, or -1 (out
 * of memory; the store is unchanged). max must be the same on every call. */
int qw_bt_store_grow(qw_bt_store *s, uint64_t n, uint64_t ncap, uint64_t max);
void qw_bt_store_free(qw_bt_store *s); /* back to all zero */

/* Transparent huge pages for the 2 MiB-aligned interior of [p, p + n):
 * its first touch takes a fault per 2 MiB instead of per 4 KiB. Advice
 * only; errors ignored. */
void qw_bt_huge_pages(void *p, size_t n);

#endif

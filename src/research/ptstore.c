/* ptstore.c: stored predictions that grow in place (ptstore.h). */
#include "research/ptstore.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/alloc.h"

#define HUGE_SZ ((uintptr_t)2 << 20)

void qw_bt_huge_pages(void *p, size_t n)
{
    uintptr_t a = ((uintptr_t)p + HUGE_SZ - 1) & ~(HUGE_SZ - 1),
              e = ((uintptr_t)p + n) & ~(HUGE_SZ - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
}

/* The reservation for max points, its start aligned to 2 MiB (huge pages
 * from the first byte); 0 or -1. */
static int reserve(qw_bt_store *s, uint64_t max)
{
    if (max > (SIZE_MAX - 2 * HUGE_SZ) / sizeof(qw_bt_pt))
        return -1;
    size_t len = (((size_t)max * sizeof(qw_bt_pt) + HUGE_SZ - 1) & ~(HUGE_SZ - 1)) + HUGE_SZ;
    void *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    s->map = m;
    s->map_len = len;
    s->pts = (qw_bt_pt *)(((uintptr_t)m + HUGE_SZ - 1) & ~(HUGE_SZ - 1));
    qw_bt_huge_pages(s->pts, len - HUGE_SZ);
    return 0;
}

int qw_bt_store_grow(qw_bt_store *s, uint64_t n, uint64_t ncap, uint64_t max)
{
    if (ncap <= s->cap || ncap > max || n > s->cap)
        return -1;
    if (!s->map && !s->cap && !s->map_refused && reserve(s, max) != 0)
        s->map_refused = 1;
    if (s->map) { /* commit [0, ncap) of the reservation; nothing moves */
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t len = ((size_t)ncap * sizeof(qw_bt_pt) + page - 1) & ~(page - 1);
        if (mprotect(s->pts, len, PROT_READ | PROT_WRITE) != 0)
            return -1;
        s->cap = ncap;
        return 0;
    }
    /* a fresh block advised before the copy touches it (realloc would
     * copy into 4 KiB pages: one fault each) */
    qw_bt_pt *np = qw_malloc((size_t)ncap * sizeof *np);
    if (!np)
        return -1;
    qw_bt_huge_pages(np, (size_t)ncap * sizeof *np);
    if (n)
        memcpy(np, s->pts, (size_t)n * sizeof *np);
    qw_free(s->pts);
    s->pts = np;
    s->cap = ncap;
    return 0;
}

void qw_bt_store_free(qw_bt_store *s)
{
    if (s->map)
        munmap(s->map, s->map_len);
    else
        qw_free(s->pts);
    memset(s, 0, sizeof *s);
}

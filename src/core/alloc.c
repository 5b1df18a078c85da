/* alloc.c: the allocation choke point and its fault-injection hook. */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

static _Atomic long fail_after = -1; /* -1: never fail */
static _Atomic uint64_t n_allocs;

static int should_fail(void)
{
    long f = atomic_load_explicit(&fail_after, memory_order_relaxed);
    if (f < 0)
        return 0;
    if (f == 0)
        return 1;
    atomic_store_explicit(&fail_after, f - 1, memory_order_relaxed);
    return 0;
}

void *qw_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = malloc(n ? n : 1);
    if (p)
        atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return p;
}

void *qw_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p)
        atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return p;
}

void *qw_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    void *q = realloc(p, n ? n : 1);
    if (q)
        atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return q;
}

void qw_free(void *p)
{
    free(p);
}

void qw_alloc_fail_after(long n)
{
    atomic_store(&fail_after, n < 0 ? -1 : n);
}

uint64_t qw_alloc_count(void)
{
    return atomic_load(&n_allocs);
}

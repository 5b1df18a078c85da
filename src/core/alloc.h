/* alloc.h: every heap allocation in QuoteWatch goes through here.
 *
 * One choke point lets tests fail the Nth allocation (SQLite's faultsim,
 * curl's torture mode) and lets the hot path be audited: after warm-up the
 * per-message path must not call these at all.
 */
#ifndef QW_CORE_ALLOC_H
#define QW_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *qw_malloc(size_t n);
void *qw_calloc(size_t count, size_t size);
/* Like realloc, but on failure returns NULL and leaves p valid. */
void *qw_realloc(void *p, size_t n);
void qw_free(void *p);

/* Test hook: the next `n` allocations succeed, every later one fails until
 * reset with n < 0. Not thread-safe; tests only. */
void qw_alloc_fail_after(long n);
/* Allocations performed since process start (successful). */
uint64_t qw_alloc_count(void);

#endif

/* spsc.h: bounded single-producer / single-consumer ring of fixed-size
 * records (the loop thread -> storage writer queue).
 *
 * Lock-free on the fast path: C11 atomics with acquire/release on head and
 * tail, each on its own cache line, and a cached copy of the other side's
 * index so a push or pop touches the shared line only when the cached view
 * says full/empty (rigtorp/ck_ring style). Capacity is a power of two.
 *
 * Blocking is optional and cheap: a producer that must not drop (replay)
 * calls qw_spsc_push_wait, a consumer waiting for work calls
 * qw_spsc_pop_wait with a timeout; both sleep on one mutex/condvar pair
 * only after spinning briefly, and the other side signals only when a
 * sleeper is registered. qw_spsc_close wakes everyone (shutdown).
 */
#ifndef QW_CORE_SPSC_H
#define QW_CORE_SPSC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct qw_spsc qw_spsc;

/* cap is rounded up to a power of two (>= 2); rec_size > 0. */
qw_err qw_spsc_create(qw_spsc **out, size_t cap, size_t rec_size);
void qw_spsc_destroy(qw_spsc *q);

/* Producer. QW_FULL when no room (nothing written). */
qw_err qw_spsc_push(qw_spsc *q, const void *rec);
/* Producer: wait for room (replay back-pressure). QW_AGAIN if closed. */
qw_err qw_spsc_push_wait(qw_spsc *q, const void *rec);

/* Producer, zero copy: the next free slot to fill in place (NULL when
 * full or closed), then qw_spsc_publish makes it visible. claim_wait waits
 * for room (NULL only when closed). One claim per publish. */
void *qw_spsc_claim(qw_spsc *q);
void *qw_spsc_claim_wait(qw_spsc *q);
void qw_spsc_publish(qw_spsc *q);

/* Consumer: up to max records into out; returns how many (0 = empty). */
size_t qw_spsc_pop(qw_spsc *q, void *out, size_t max);
/* Consumer: like pop, but waits up to timeout_ns for at least one record.
 * Returns 0 on timeout or when closed and drained. */
size_t qw_spsc_pop_wait(qw_spsc *q, void *out, size_t max, int64_t timeout_ns);

/* Consumer, zero copy: up to max records readable in place (contiguous:
 * a run stops at the ring's wrap), *first pointing at the oldest. They stay
 * valid until qw_spsc_release(q, n) with n <= the count returned. */
size_t qw_spsc_peek(qw_spsc *q, void **first, size_t max);
size_t qw_spsc_peek_wait(qw_spsc *q, void **first, size_t max, int64_t timeout_ns);
void qw_spsc_release(qw_spsc *q, size_t n);

/* Either side: no more pushes will be accepted; waiters wake. Records
 * already queued can still be popped. */
void qw_spsc_close(qw_spsc *q);
int qw_spsc_closed(const qw_spsc *q);

size_t qw_spsc_size(const qw_spsc *q); /* approximate from any thread */
size_t qw_spsc_capacity(const qw_spsc *q);

#endif

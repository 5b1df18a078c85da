/* spsc.c: bounded SPSC ring with optional blocking (see spsc.h). */
#include "core/spsc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/alloc.h"
#include "core/time.h"

#define LINE 64
#define SPINS 200

struct qw_spsc {
    size_t mask, rec;
    unsigned char *buf;
    void *mem;                          /* the allocation buf lies in */
    _Alignas(LINE) _Atomic size_t head; /* next slot to write (producer) */
    size_t tail_cache;                  /* producer's view of tail */
    _Alignas(LINE) _Atomic size_t tail; /* next slot to read (consumer) */
    size_t head_cache;                  /* consumer's view of head */
    _Alignas(LINE) _Atomic int closed;
    _Atomic int sleepers; /* threads waiting on cv */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

qw_err qw_spsc_create(qw_spsc **out, size_t cap, size_t rec_size)
{
    if (rec_size == 0 || cap == 0 || cap > ((size_t)1 << 40))
        return QW_INVAL;
    size_t n = 2;
    while (n < cap)
        n <<= 1;
    qw_spsc *q = qw_calloc(1, sizeof *q);
    if (!q)
        return QW_NOMEM;
    /* a ring of 2 MiB or more starts on a 2 MiB boundary and is advised
     * for transparent huge pages: its first pass takes a fault per 2 MiB
     * instead of one per 4 KiB (advice only; errors ignored) */
    const size_t huge = (size_t)2 << 20, bytes = n * rec_size;
    size_t pad = bytes >= huge ? huge : 0;
    q->mem = qw_malloc(bytes + pad);
    if (!q->mem) {
        qw_free(q);
        return QW_NOMEM;
    }
    q->buf = q->mem;
    if (pad) {
        q->buf = (unsigned char *)(((uintptr_t)q->mem + huge - 1) & ~(uintptr_t)(huge - 1));
        (void)madvise(q->buf, bytes & ~(size_t)4095, MADV_HUGEPAGE);
    }
    q->mask = n - 1;
    q->rec = rec_size;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    *out = q;
    return QW_OK;
}

void qw_spsc_destroy(qw_spsc *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    qw_free(q->mem);
    qw_free(q);
}

static void wake(qw_spsc *q)
{
    if (atomic_load_explicit(&q->sleepers, memory_order_seq_cst)) {
        pthread_mutex_lock(&q->mu);
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
}

qw_err qw_spsc_push(qw_spsc *q, const void *rec)
{
    if (atomic_load_explicit(&q->closed, memory_order_relaxed))
        return QW_AGAIN;
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (h - q->tail_cache > q->mask) {
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (h - q->tail_cache > q->mask)
            return QW_FULL;
    }
    memcpy(q->buf + (h & q->mask) * q->rec, rec, q->rec);
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    wake(q);
    return QW_OK;
}

void *qw_spsc_claim(qw_spsc *q)
{
    if (atomic_load_explicit(&q->closed, memory_order_relaxed))
        return NULL;
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (h - q->tail_cache > q->mask) {
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (h - q->tail_cache > q->mask)
            return NULL;
    }
    return q->buf + (h & q->mask) * q->rec;
}

void qw_spsc_publish(qw_spsc *q)
{
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    wake(q);
}

/* Sleep until pred() or closed or deadline (0 = none). */
static void wait_until(qw_spsc *q, int (*pred)(qw_spsc *), int64_t deadline)
{
    pthread_mutex_lock(&q->mu);
    atomic_fetch_add(&q->sleepers, 1);
    while (!pred(q) && !atomic_load(&q->closed)) {
        if (deadline) {
            int64_t now = qw_now_mono_ns();
            if (now >= deadline)
                break;
            /* condvar clock: realtime; a short bounded sleep is fine here */
            int64_t d = deadline - now;
            if (d > 50 * QW_NS_PER_MS)
                d = 50 * QW_NS_PER_MS;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)d;
            while (ts.tv_nsec >= 1000000000L) {
                ts.tv_nsec -= 1000000000L;
                ts.tv_sec++;
            }
            pthread_cond_timedwait(&q->cv, &q->mu, &ts);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50000000L; /* re-check periodically: no lost wakeups */
            while (ts.tv_nsec >= 1000000000L) {
                ts.tv_nsec -= 1000000000L;
                ts.tv_sec++;
            }
            pthread_cond_timedwait(&q->cv, &q->mu, &ts);
        }
    }
    atomic_fetch_sub(&q->sleepers, 1);
    pthread_mutex_unlock(&q->mu);
}

static int has_room(qw_spsc *q)
{
    return atomic_load_explicit(&q->head, memory_order_relaxed) -
               atomic_load_explicit(&q->tail, memory_order_acquire) <=
           q->mask;
}

static int has_data(qw_spsc *q)
{
    return atomic_load_explicit(&q->head, memory_order_acquire) !=
           atomic_load_explicit(&q->tail, memory_order_relaxed);
}

void *qw_spsc_claim_wait(qw_spsc *q)
{
    for (int spin = 0;; spin++) {
        void *p = qw_spsc_claim(q);
        if (p || atomic_load(&q->closed))
            return p;
        if (spin > SPINS)
            wait_until(q, has_room, 0);
    }
}

qw_err qw_spsc_push_wait(qw_spsc *q, const void *rec)
{
    for (int spin = 0;; spin++) {
        qw_err e = qw_spsc_push(q, rec);
        if (e != QW_FULL)
            return e;
        if (spin > SPINS)
            wait_until(q, has_room, 0);
    }
}

size_t qw_spsc_peek(qw_spsc *q, void **first, size_t max)
{
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t avail = q->head_cache - t;
    if (avail < max) {
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        avail = q->head_cache - t;
        if (avail == 0)
            return 0;
    }
    size_t slot = t & q->mask, run = q->mask + 1 - slot; /* contiguous until the wrap */
    size_t n = avail < max ? avail : max;
    *first = q->buf + slot * q->rec;
    return n < run ? n : run;
}

size_t qw_spsc_peek_wait(qw_spsc *q, void **first, size_t max, int64_t timeout_ns)
{
    int64_t deadline = qw_now_mono_ns() + (timeout_ns > 0 ? timeout_ns : 1);
    for (int spin = 0;; spin++) {
        size_t n = qw_spsc_peek(q, first, max);
        if (n)
            return n;
        if (atomic_load(&q->closed) || qw_now_mono_ns() >= deadline)
            return qw_spsc_peek(q, first, max);
        if (spin > SPINS)
            wait_until(q, has_data, deadline);
    }
}

void qw_spsc_release(qw_spsc *q, size_t n)
{
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    atomic_store_explicit(&q->tail, t + n, memory_order_release);
    wake(q);
}

/* Copy up to max records out (both sides of the wrap), releasing them. */
static size_t take(qw_spsc *q, void *out, size_t max, size_t got)
{
    void *p;
    size_t n;
    while (got < max && (n = qw_spsc_peek(q, &p, max - got)) > 0) {
        memcpy((unsigned char *)out + got * q->rec, p, n * q->rec);
        qw_spsc_release(q, n);
        got += n;
    }
    return got;
}

size_t qw_spsc_pop(qw_spsc *q, void *out, size_t max)
{
    return take(q, out, max, 0);
}

size_t qw_spsc_pop_wait(qw_spsc *q, void *out, size_t max, int64_t timeout_ns)
{
    void *p;
    size_t n = qw_spsc_peek_wait(q, &p, max, timeout_ns);
    if (!n)
        return 0;
    memcpy(out, p, n * q->rec);
    qw_spsc_release(q, n);
    return take(q, out, max, n); /* the part past the wrap, if any */
}

void qw_spsc_close(qw_spsc *q)
{
    atomic_store(&q->closed, 1);
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int qw_spsc_closed(const qw_spsc *q)
{
    return atomic_load(&((qw_spsc *)q)->closed);
}

size_t qw_spsc_size(const qw_spsc *q)
{
    qw_spsc *m = (qw_spsc *)q;
    return atomic_load_explicit(&m->head, memory_order_acquire) -
           atomic_load_explicit(&m->tail, memory_order_acquire);
}

size_t qw_spsc_capacity(const qw_spsc *q)
{
    return q->mask + 1;
}

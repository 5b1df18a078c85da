/* test_spsc.c: SPSC ring: edges, wraparound, two threads with sequence
 * checks, blocking push/pop, close. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/spsc.h"
#include "core/time.h"
#include "harness.h"

TEST(spsc_edges_and_wraparound)
{
    qw_spsc *q;
    ASSERT_ERR(QW_INVAL, qw_spsc_create(&q, 4, 0));
    ASSERT_OK(qw_spsc_create(&q, 3, sizeof(uint64_t)));
    ASSERT_EQ(qw_spsc_capacity(q), 4u);
    uint64_t v, out[8];
    ASSERT_EQ(qw_spsc_pop(q, out, 8), 0u);
    for (uint64_t round = 0; round < 10; round++) {
        for (v = 0; v < 4; v++)
            ASSERT_OK(qw_spsc_push(q, &(uint64_t){round * 10 + v}));
        ASSERT_ERR(QW_FULL, qw_spsc_push(q, &v));
        ASSERT_EQ(qw_spsc_size(q), 4u);
        ASSERT_EQ(qw_spsc_pop(q, out, 3), 3u);
        ASSERT_OK(qw_spsc_push(q, &(uint64_t){round * 10 + 4}));
        ASSERT_EQ(qw_spsc_pop(q, out + 3, 8), 2u);
        for (v = 0; v < 5; v++)
            ASSERT_EQ(out[v], round * 10 + v);
    }
    ASSERT_EQ(qw_spsc_pop_wait(q, out, 1, 20 * QW_NS_PER_MS), 0u); /* timeout */
    qw_spsc_close(q);
    ASSERT_ERR(QW_AGAIN, qw_spsc_push(q, &v));
    ASSERT_TRUE(qw_spsc_closed(q));
    qw_spsc_destroy(q);
}

typedef struct {
    qw_spsc *q;
    uint64_t n;
    int blocking;
} prod_arg;

static void *producer(void *a)
{
    prod_arg *p = a;
    for (uint64_t i = 0; i < p->n; i++) {
        uint64_t rec[2] = {i, ~i};
        if (p->blocking) {
            if (qw_spsc_push_wait(p->q, rec) != QW_OK)
                break;
        } else {
            while (qw_spsc_push(p->q, rec) == QW_FULL)
                ;
        }
    }
    return NULL;
}

static int run_pair(uint64_t n, int blocking, size_t cap)
{
    qw_spsc *q;
    if (qw_spsc_create(&q, cap, 16) != QW_OK)
        return -1;
    prod_arg a = {q, n, blocking};
    pthread_t th;
    pthread_create(&th, NULL, producer, &a);
    uint64_t expect = 0, buf[2 * 64];
    int bad = 0;
    while (expect < n) {
        size_t got =
            blocking ? qw_spsc_pop_wait(q, buf, 64, QW_NS_PER_SEC) : qw_spsc_pop(q, buf, 64);
        for (size_t i = 0; i < got; i++, expect++)
            bad += buf[2 * i] != expect || buf[2 * i + 1] != ~expect;
        if (blocking && got == 0)
            return -2;
    }
    pthread_join(th, NULL);
    qw_spsc_destroy(q);
    return bad;
}

TEST(spsc_two_threads_sequence)
{
    ASSERT_EQ(run_pair(2000000, 0, 1024), 0);
    ASSERT_EQ(run_pair(300000, 1, 8), 0); /* tiny ring: constant blocking */
}

static void *closer(void *a)
{
    struct timespec ts = {0, 30 * 1000000L};
    nanosleep(&ts, NULL);
    qw_spsc_close(a);
    return NULL;
}

TEST(spsc_close_wakes_a_blocked_producer)
{
    qw_spsc *q;
    ASSERT_OK(qw_spsc_create(&q, 2, 8));
    uint64_t v = 1;
    ASSERT_OK(qw_spsc_push(q, &v));
    ASSERT_OK(qw_spsc_push(q, &v));
    pthread_t th;
    pthread_create(&th, NULL, closer, q);
    int64_t t0 = qw_now_mono_ns();
    ASSERT_ERR(QW_AGAIN, qw_spsc_push_wait(q, &v));
    ASSERT_TRUE(qw_now_mono_ns() - t0 < 2 * QW_NS_PER_SEC);
    pthread_join(th, NULL);
    uint64_t out[4];
    ASSERT_EQ(qw_spsc_pop(q, out, 4), 2u); /* queued records survive close */
    qw_spsc_destroy(q);
}

/* zero copy on both sides: claim/publish and peek/release */
typedef struct {
    qw_spsc *q;
    uint64_t n;
} claim_arg;

static void *claimer(void *a)
{
    claim_arg *p = a;
    for (uint64_t i = 0; i < p->n; i++) {
        uint64_t *rec = qw_spsc_claim_wait(p->q);
        if (!rec)
            break;
        rec[0] = i;
        rec[1] = ~i;
        qw_spsc_publish(p->q);
    }
    return NULL;
}

TEST(spsc_zero_copy_claim_and_peek)
{
    qw_spsc *q;
    ASSERT_OK(qw_spsc_create(&q, 4, 16));
    /* single thread: a claim is invisible until published; peek stops at the wrap */
    uint64_t *r = qw_spsc_claim(q);
    ASSERT_TRUE(r != NULL);
    r[0] = 7;
    void *head;
    ASSERT_EQ(qw_spsc_peek(q, &head, 8), 0u);
    qw_spsc_publish(q);
    ASSERT_EQ(qw_spsc_peek(q, &head, 8), 1u);
    ASSERT_EQ(((uint64_t *)head)[0], 7u);
    qw_spsc_release(q, 1);
    for (uint64_t i = 0; i < 4; i++) {
        r = qw_spsc_claim(q);
        ASSERT_TRUE(r != NULL);
        r[0] = 100 + i;
        qw_spsc_publish(q);
    }
    ASSERT_TRUE(qw_spsc_claim(q) == NULL);    /* full */
    ASSERT_EQ(qw_spsc_peek(q, &head, 8), 3u); /* slots 1..3, then the wrap */
    ASSERT_EQ(((uint64_t *)head)[0], 100u);
    qw_spsc_release(q, 3);
    ASSERT_EQ(qw_spsc_peek(q, &head, 8), 1u);
    ASSERT_EQ(((uint64_t *)head)[0], 103u);
    qw_spsc_release(q, 1);
    ASSERT_EQ(qw_spsc_size(q), 0u);
    qw_spsc_destroy(q);
    /* two threads, tiny ring: every record in order, none torn */
    ASSERT_OK(qw_spsc_create(&q, 8, 16));
    claim_arg a = {q, 500000};
    pthread_t th;
    pthread_create(&th, NULL, claimer, &a);
    uint64_t expect = 0;
    int bad = 0;
    while (expect < a.n) {
        size_t got = qw_spsc_peek_wait(q, &head, 64, QW_NS_PER_SEC);
        ASSERT_TRUE(got > 0);
        const uint64_t *b = head;
        for (size_t i = 0; i < got; i++, expect++)
            bad += b[2 * i] != expect || b[2 * i + 1] != ~expect;
        qw_spsc_release(q, got);
    }
    pthread_join(th, NULL);
    ASSERT_EQ(bad, 0);
    qw_spsc_close(q);
    ASSERT_TRUE(qw_spsc_claim_wait(q) == NULL); /* closed */
    qw_spsc_destroy(q);
}

TEST(spsc_large_ring_is_aligned_for_huge_pages)
{
    /* 16 Ki records of 208 B (3.25 MiB): the ring starts on a 2 MiB
     * boundary inside a padded block; every slot, the last included, is
     * usable and two passes wrap around it in order */
    qw_spsc *q;
    ASSERT_OK(qw_spsc_create(&q, (size_t)1 << 14, 208));
    ASSERT_EQ(qw_spsc_capacity(q), (size_t)1 << 14);
    uint64_t expect = 0, next = 0;
    void *first_slot = NULL;
    int bad = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < ((size_t)1 << 14); i++) {
            unsigned char *r = qw_spsc_claim(q);
            ASSERT_TRUE(r != NULL);
            if (!first_slot)
                first_slot = r;
            memset(r, (int)(next & 0xff), 208);
            memcpy(r, &next, sizeof next);
            next++;
            qw_spsc_publish(q);
        }
        ASSERT_TRUE(qw_spsc_claim(q) == NULL); /* full */
        void *head;
        size_t got;
        while ((got = qw_spsc_peek(q, &head, 4096)) > 0) {
            const unsigned char *b = head;
            for (size_t i = 0; i < got; i++, expect++) {
                uint64_t v;
                memcpy(&v, b + i * 208, sizeof v);
                bad += v != expect || b[i * 208 + 207] != (unsigned char)(expect & 0xff);
            }
            qw_spsc_release(q, got);
        }
    }
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(expect, next);
    ASSERT_EQ((uintptr_t)first_slot % ((uintptr_t)2 << 20), 0u);
    qw_spsc_destroy(q);
}

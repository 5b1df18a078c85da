/* test_trades.c: unit tests of the bounded recent-trades ring
 * (book/trades.c): ordering (get(0) = most recent), overwrite of the
 * oldest, count/total, clear, capacity 1, wrap-around at every phase
 * against a reference, allocation failure, and no allocation per push.
 */
#include "book/book.h"
#include "core/alloc.h"
#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#define NO_LEAKS() ASSERT_EQ(0, __lsan_do_recoverable_leak_check())
#else
#define NO_LEAKS() ASSERT_TRUE(1)
#endif

static qw_trade_rec trade(int64_t i)
{
    qw_trade_rec r = {
        .t_ns = 1000 * i, .px = 100 + i, .sz = 1 + i % 3, .aggressor = i % 2 ? QW_ASK : QW_BID};
    snprintf(r.trade_id, sizeof r.trade_id, "id-%lld", (long long)i);
    return r;
}

/* Asserts that rec is exactly trade(i). */
static void expect_trade(const qw_trade_rec *rec, int64_t i)
{
    ASSERT_TRUE(rec != NULL);
    qw_trade_rec w = trade(i);
    ASSERT_EQ(rec->t_ns, w.t_ns);
    ASSERT_EQ(rec->px, w.px);
    ASSERT_EQ(rec->sz, w.sz);
    ASSERT_EQ(rec->aggressor, w.aggressor);
    ASSERT_STREQ(rec->trade_id, w.trade_id);
}

TEST(trades_create_rejects_bad_args)
{
    qw_trades *t = (qw_trades *)&t;
    ASSERT_ERR(QW_INVAL, qw_trades_create(&t, 0));
    ASSERT_TRUE(t == NULL);
    ASSERT_ERR(QW_INVAL, qw_trades_create(&t, SIZE_MAX)); /* bytes would overflow */
    ASSERT_ERR(QW_INVAL, qw_trades_create(NULL, 4));
    qw_trades_destroy(NULL); /* no-op */
}

TEST(trades_ring_order_and_overwrite)
{
    qw_trades *t;
    ASSERT_OK(qw_trades_create(&t, 3));
    ASSERT_EQ(qw_trades_count(t), 0);
    ASSERT_EQ(qw_trades_total(t), 0);
    ASSERT_TRUE(qw_trades_get(t, 0) == NULL);
    qw_trade_rec r = trade(0);
    qw_trades_push(t, &r);
    ASSERT_EQ(qw_trades_count(t), 1);
    expect_trade(qw_trades_get(t, 0), 0);
    ASSERT_TRUE(qw_trades_get(t, 1) == NULL);
    for (int i = 1; i < 5; i++) {
        r = trade(i);
        qw_trades_push(t, &r);
    }
    ASSERT_EQ(qw_trades_count(t), 3);
    ASSERT_EQ(qw_trades_total(t), 5);
    expect_trade(qw_trades_get(t, 0), 4); /* most recent first */
    expect_trade(qw_trades_get(t, 1), 3);
    expect_trade(qw_trades_get(t, 2), 2); /* 0 and 1 overwritten */
    ASSERT_TRUE(qw_trades_get(t, 3) == NULL);
    ASSERT_TRUE(qw_trades_get(t, SIZE_MAX) == NULL);
    qw_trades_destroy(t);
}

TEST(trades_push_copies_the_record)
{
    qw_trades *t;
    ASSERT_OK(qw_trades_create(&t, 2));
    qw_trade_rec r = trade(7);
    qw_trades_push(t, &r);
    r.px = -1; /* the caller's record is borrowed, not kept */
    snprintf(r.trade_id, sizeof r.trade_id, "changed");
    expect_trade(qw_trades_get(t, 0), 7);
    qw_trade_rec longest = trade(1);
    memset(longest.trade_id, 'x', QW_TRADE_ID_MAX - 1);
    longest.trade_id[QW_TRADE_ID_MAX - 1] = '\0';
    qw_trades_push(t, &longest);
    ASSERT_EQ(strlen(qw_trades_get(t, 0)->trade_id), QW_TRADE_ID_MAX - 1);
    qw_trades_destroy(t);
}

TEST(trades_capacity_one)
{
    qw_trades *t;
    ASSERT_OK(qw_trades_create(&t, 1));
    for (int i = 0; i < 10; i++) {
        qw_trade_rec r = trade(i);
        qw_trades_push(t, &r);
        ASSERT_EQ(qw_trades_count(t), 1);
        expect_trade(qw_trades_get(t, 0), i);
        ASSERT_TRUE(qw_trades_get(t, 1) == NULL);
    }
    ASSERT_EQ(qw_trades_total(t), 10);
    qw_trades_destroy(t);
}

TEST(trades_clear_keeps_total)
{
    qw_trades *t;
    ASSERT_OK(qw_trades_create(&t, 4));
    for (int i = 0; i < 6; i++) {
        qw_trade_rec r = trade(i);
        qw_trades_push(t, &r);
    }
    qw_trades_clear(t);
    ASSERT_EQ(qw_trades_count(t), 0);
    ASSERT_EQ(qw_trades_total(t), 6); /* "ever pushed" */
    ASSERT_TRUE(qw_trades_get(t, 0) == NULL);
    qw_trade_rec r = trade(42);
    qw_trades_push(t, &r);
    ASSERT_EQ(qw_trades_count(t), 1);
    expect_trade(qw_trades_get(t, 0), 42);
    ASSERT_TRUE(qw_trades_get(t, 1) == NULL); /* stale records not visible */
    qw_trades_destroy(t);
}

TEST(trades_wraparound_against_reference)
{
    /* every capacity 1..17, pushed well past several wraps, with every
     * index checked after every push (including across a clear) */
    for (size_t cap = 1; cap <= 17; cap++) {
        qw_trades *t;
        ASSERT_OK(qw_trades_create(&t, cap));
        int64_t pushed = 0, base = 0; /* trades base..pushed-1 since clear */
        for (int step = 0; step < 5 * (int)cap + 7; step++) {
            if (step == 2 * (int)cap + 1) {
                qw_trades_clear(t);
                base = pushed;
            }
            qw_trade_rec r = trade(pushed++);
            qw_trades_push(t, &r);
            size_t want = (size_t)(pushed - base) < cap ? (size_t)(pushed - base) : cap;
            ASSERT_EQ(qw_trades_count(t), want);
            ASSERT_EQ(qw_trades_total(t), pushed);
            for (size_t i = 0; i < want; i++)
                expect_trade(qw_trades_get(t, i), pushed - 1 - (int64_t)i);
            ASSERT_TRUE(qw_trades_get(t, want) == NULL);
        }
        qw_trades_destroy(t);
    }
}

TEST(trades_create_fails_cleanly_at_every_allocation)
{
    int failures = 0;
    for (long k = 0; k < 10; k++) {
        qw_trades *t = (qw_trades *)&failures;
        qw_alloc_fail_after(k);
        qw_err e = qw_trades_create(&t, 1000);
        qw_alloc_fail_after(-1);
        if (e == QW_OK) {
            qw_trades_destroy(t);
            break;
        }
        ASSERT_ERR(QW_NOMEM, e);
        ASSERT_TRUE(t == NULL);
        failures++;
    }
    ASSERT_EQ(failures, 2); /* the ring, then its slots */
    NO_LEAKS();
}

TEST(trades_push_never_allocates)
{
    qw_trades *t;
    ASSERT_OK(qw_trades_create(&t, 64));
    uint64_t before = qw_alloc_count();
    qw_alloc_fail_after(0);
    for (int i = 0; i < 100000; i++) {
        qw_trade_rec r = trade(i);
        qw_trades_push(t, &r);
    }
    qw_alloc_fail_after(-1);
    ASSERT_EQ(qw_alloc_count(), before);
    ASSERT_EQ(qw_trades_total(t), 100000);
    expect_trade(qw_trades_get(t, 63), 100000 - 64);
    qw_trades_destroy(t);
}

/* test_book.c: the order book against a trivially correct reference, plus
 * every edge: zero deletes, absent removes, snapshot replace/sort/reject,
 * limits, reservation, allocation failure, zero allocations when warm. */
#include "book/book.h"
#include "core/alloc.h"
#include "harness.h"

TEST(book_basic_set_remove_best_top)
{
    qw_book *b;
    ASSERT_OK(qw_book_create(&b, NULL));
    qw_level l;
    ASSERT_TRUE(!qw_book_best(b, QW_BID, &l));
    ASSERT_OK(qw_book_set(b, QW_BID, 100, 5));
    ASSERT_OK(qw_book_set(b, QW_BID, 102, 6));
    ASSERT_OK(qw_book_set(b, QW_BID, 101, 7));
    ASSERT_OK(qw_book_set(b, QW_ASK, 105, 1));
    ASSERT_OK(qw_book_set(b, QW_ASK, 103, 2));
    ASSERT_TRUE(qw_book_best(b, QW_BID, &l));
    ASSERT_EQ(l.px, 102);
    ASSERT_TRUE(qw_book_best(b, QW_ASK, &l));
    ASSERT_EQ(l.px, 103);
    qw_level top[5];
    ASSERT_EQ(qw_book_top(b, QW_BID, top, 5), 3);
    ASSERT_EQ(top[0].px, 102);
    ASSERT_EQ(top[1].px, 101);
    ASSERT_EQ(top[2].px, 100);
    ASSERT_EQ(qw_book_top(b, QW_ASK, top, 1), 1);
    ASSERT_EQ(top[0].px, 103);
    ASSERT_OK(qw_book_set(b, QW_BID, 101, 9)); /* replace size */
    ASSERT_EQ(qw_book_get(b, QW_BID, 101), 9);
    ASSERT_OK(qw_book_set(b, QW_BID, 102, 0)); /* zero removes */
    ASSERT_EQ(qw_book_depth(b, QW_BID), 2);
    ASSERT_OK(qw_book_set(b, QW_BID, 999, 0)); /* absent remove is a counted no-op */
    ASSERT_EQ(qw_book_get_stats(b)->absent_removes, 1);
    ASSERT_EQ(qw_book_get_stats(b)->removes, 1);
    ASSERT_TRUE(!qw_book_crossed(b));
    ASSERT_OK(qw_book_set(b, QW_BID, 103, 1)); /* locked */
    ASSERT_TRUE(qw_book_crossed(b));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_BID, 0, 1));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_ASK, 5, -1));
    qw_book_destroy(b);
}

TEST(book_snapshot_replace_sort_and_reject)
{
    qw_book *b;
    ASSERT_OK(qw_book_create(&b, NULL));
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 1));
    qw_level bids[] = {{10, 1}, {9, 0}, {8, 2}};        /* best first, zero skipped */
    qw_level asks[] = {{13, 1}, {11, 3}, {12, 2}};      /* unordered: sorted */
    ASSERT_OK(qw_book_snapshot(b, bids, 3, asks, 3));
    ASSERT_EQ(qw_book_depth(b, QW_BID), 2);
    ASSERT_EQ(qw_book_get(b, QW_BID, 1), 0); /* replaced, not merged */
    qw_level top[3];
    ASSERT_EQ(qw_book_top(b, QW_ASK, top, 3), 3);
    ASSERT_EQ(top[0].px, 11);
    ASSERT_EQ(top[2].px, 13);
    qw_level dup[] = {{10, 1}, {10, 2}};
    ASSERT_ERR(QW_BAD_BOOK, qw_book_snapshot(b, dup, 2, asks, 3));
    qw_level neg[] = {{-1, 1}};
    ASSERT_ERR(QW_BAD_BOOK, qw_book_snapshot(b, neg, 1, asks, 3));
    ASSERT_EQ(qw_book_depth(b, QW_BID), 2); /* unchanged after refusals */
    ASSERT_EQ(qw_book_depth(b, QW_ASK), 3);
    ASSERT_EQ(qw_book_get(b, QW_BID, 8), 2);
    qw_book_destroy(b);
}

TEST(book_limits_and_reserve)
{
    qw_book *b;
    qw_book_opts o = {.max_levels = 4, .initial_levels = 2};
    ASSERT_OK(qw_book_create(&b, &o));
    for (int i = 1; i <= 4; i++)
        ASSERT_OK(qw_book_set(b, QW_BID, i, 1));
    ASSERT_ERR(QW_BOOK_FULL, qw_book_set(b, QW_BID, 9, 1));
    ASSERT_OK(qw_book_set(b, QW_BID, 2, 5)); /* updating an existing level still works */
    ASSERT_ERR(QW_BOOK_FULL, qw_book_reserve(b, QW_BID, 1));
    ASSERT_OK(qw_book_reserve(b, QW_ASK, 4));
    ASSERT_ERR(QW_BOOK_FULL, qw_book_reserve(b, QW_ASK, 5));
    qw_level big[5] = {{1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}};
    ASSERT_ERR(QW_BOOK_FULL, qw_book_snapshot(b, big, 5, NULL, 0));
    ASSERT_EQ(qw_book_depth(b, QW_BID), 4);
    ASSERT_EQ(qw_book_get(b, QW_BID, 2), 5);
    qw_book_destroy(b);
}

TEST(book_alloc_failure_is_clean)
{
    for (long k = 0; k < 3; k++) {
        qw_book *b = NULL;
        qw_alloc_fail_after(k);
        qw_err e = qw_book_create(&b, NULL);
        qw_alloc_fail_after(-1);
        if (e == QW_OK)
            qw_book_destroy(b);
        else
            ASSERT_ERR(QW_NOMEM, e);
    }
    qw_book *b;
    qw_book_opts o = {.initial_levels = 4};
    ASSERT_OK(qw_book_create(&b, &o));
    for (int i = 1; i <= 4; i++)
        ASSERT_OK(qw_book_set(b, QW_ASK, i, 1));
    qw_alloc_fail_after(0);
    ASSERT_ERR(QW_NOMEM, qw_book_set(b, QW_ASK, 50, 1)); /* growth fails */
    qw_alloc_fail_after(-1);
    ASSERT_EQ(qw_book_depth(b, QW_ASK), 4);
    ASSERT_EQ(qw_book_get(b, QW_ASK, 50), 0);
    ASSERT_OK(qw_book_set(b, QW_ASK, 50, 1));
    qw_book_destroy(b);
}

/* Reference: unsorted array, linear search. */
typedef struct ref {
    qw_level *a;
    size_t n;
} ref;

static void ref_set(ref *r, int64_t px, int64_t sz)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->a[i].px == px) {
            if (sz == 0)
                r->a[i] = r->a[--r->n];
            else
                r->a[i].sz = sz;
            return;
        }
    if (sz)
        r->a[r->n++] = (qw_level){px, sz};
}

static void check_side(qw_book *b, qw_side side, ref *r, qw_level *buf)
{
    ASSERT_EQ(qw_book_depth(b, side), r->n);
    size_t n = qw_book_top(b, side, buf, r->n);
    ASSERT_EQ(n, r->n);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ASSERT_TRUE(side == QW_BID ? buf[i].px < buf[i - 1].px : buf[i].px > buf[i - 1].px);
        ASSERT_EQ(qw_book_get(b, side, buf[i].px), buf[i].sz);
    }
    for (size_t i = 0; i < r->n; i++)
        ASSERT_EQ(qw_book_get(b, side, r->a[i].px), r->a[i].sz);
}

TEST(book_random_differential_100k_levels)
{
    enum { MAXL = 120000 };
    qw_book *b;
    ASSERT_OK(qw_book_create(&b, NULL));
    ref r[2] = {{malloc(MAXL * sizeof(qw_level)), 0}, {malloc(MAXL * sizeof(qw_level)), 0}};
    qw_level *buf = malloc(MAXL * sizeof(qw_level));
    /* seed a deep book via snapshot: bids 1..100000, asks 100001..200000 */
    qw_level *sb = malloc(100000 * sizeof(qw_level)), *sa = malloc(100000 * sizeof(qw_level));
    for (int i = 0; i < 100000; i++) {
        sb[i] = (qw_level){100000 - i, 1 + i % 7};
        sa[i] = (qw_level){100001 + i, 1 + i % 5};
        r[0].a[i] = sb[i];
        r[1].a[i] = sa[i];
    }
    r[0].n = r[1].n = 100000;
    ASSERT_OK(qw_book_snapshot(b, sb, 100000, sa, 100000));
    uint64_t x = 42;
    for (int op = 0; op < 200000; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        qw_side side = (qw_side)(x & 1);
        int64_t dist = (x >> 8) % 16 == 0 ? (int64_t)((x >> 12) % 100000) : (int64_t)((x >> 12) % 30);
        int64_t px = side == QW_BID ? 100000 - dist : 100001 + dist;
        int64_t sz = (x >> 40) % 4 == 0 ? 0 : (int64_t)((x >> 44) % 1000) + 1;
        ASSERT_OK(qw_book_set(b, side, px, sz));
        ref_set(&r[side], px, sz);
        if (op % 50000 == 0) {
            check_side(b, QW_BID, &r[0], buf);
            check_side(b, QW_ASK, &r[1], buf);
        }
    }
    check_side(b, QW_BID, &r[0], buf);
    check_side(b, QW_ASK, &r[1], buf);
    free(sb);
    free(sa);
    free(buf);
    free(r[0].a);
    free(r[1].a);
    qw_book_destroy(b);
}

TEST(book_no_allocation_when_warm)
{
    qw_book *b;
    ASSERT_OK(qw_book_create(&b, NULL));
    for (int i = 1; i <= 5000; i++) {
        ASSERT_OK(qw_book_set(b, QW_BID, i, 1));
        ASSERT_OK(qw_book_set(b, QW_ASK, 10000 + i, 1));
    }
    uint64_t before = qw_alloc_count();
    for (int i = 0; i < 100000; i++) {
        int64_t px = 5000 - i % 40;
        ASSERT_OK(qw_book_set(b, QW_BID, px, i % 3));
    }
    ASSERT_EQ(qw_alloc_count(), before);
    qw_book_destroy(b);
}

TEST(trades_ring)
{
    qw_trades *t;
    ASSERT_ERR(QW_INVAL, qw_trades_create(&t, 0));
    ASSERT_OK(qw_trades_create(&t, 3));
    ASSERT_TRUE(qw_trades_get(t, 0) == NULL);
    for (int i = 0; i < 5; i++) {
        qw_trade_rec r = {.t_ns = i, .px = 100 + i, .sz = 1, .aggressor = QW_BID};
        qw_trades_push(t, &r);
    }
    ASSERT_EQ(qw_trades_count(t), 3);
    ASSERT_EQ(qw_trades_total(t), 5);
    ASSERT_EQ(qw_trades_get(t, 0)->px, 104);
    ASSERT_EQ(qw_trades_get(t, 2)->px, 102);
    ASSERT_TRUE(qw_trades_get(t, 3) == NULL);
    qw_trades_clear(t);
    ASSERT_EQ(qw_trades_count(t), 0);
    qw_trades_destroy(t);
}

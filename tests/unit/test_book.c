/* test_book.c: unit tests of the full-depth order book (book/book.c).
 *
 * Edges first (zero-size deletes, absent removes, bad input, snapshot
 * replace / sort / reject, BOOK_FULL, reservation, queries), then
 * allocation failure at every allocation point (via qw_alloc_fail_after),
 * then a randomized differential test against a price-indexed reference
 * over 250,000 operations with up to 100,000 levels per side, and finally
 * the "no allocation once warm" guarantee (via qw_alloc_count).
 *
 * Under ASan, NO_LEAKS() runs LeakSanitizer inside the forked test, since
 * the harness leaves through _exit() and the exit-time check never runs.
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

#define L(p, s) ((qw_level){.px = (p), .sz = (s)})

static qw_book *new_book(size_t max_levels, size_t initial_levels)
{
    qw_book *b = NULL;
    qw_book_opts o = {.max_levels = max_levels, .initial_levels = initial_levels};
    ASSERT_OK(qw_book_create(&b, &o));
    ASSERT_TRUE(b != NULL);
    return b;
}

/* splitmix64: small, fast, good enough for test data. */
static uint64_t rnd(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t *x, uint64_t n)
{
    return rnd(x) % n;
}

static void swap(qw_level *x, qw_level *y)
{
    qw_level t = *x;
    *x = *y;
    *y = t;
}

static void shuffle(qw_level *a, size_t n, uint64_t *seed) /* Fisher-Yates */
{
    for (size_t i = n; i > 1; i--)
        swap(&a[i - 1], &a[rnd_below(seed, i)]);
}

static void reverse(qw_level *a, size_t n)
{
    for (size_t i = 0; i + 1 < n - i; i++)
        swap(&a[i], &a[n - 1 - i]);
}

/* Asserts that `side` holds exactly want[0..n) best-first. */
static void expect_side(const qw_book *b, qw_side side, const qw_level *want, size_t n)
{
    ASSERT_EQ(qw_book_depth(b, side), n);
    qw_level got[64];
    ASSERT_TRUE(n <= 64);
    ASSERT_EQ(qw_book_top(b, side, got, 64), n);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(got[i].px, want[i].px);
        ASSERT_EQ(got[i].sz, want[i].sz);
        ASSERT_EQ(qw_book_get(b, side, want[i].px), want[i].sz);
    }
}

static int same_stats(const qw_book_stats *x, const qw_book_stats *y)
{
    return memcmp(x, y, sizeof *x) == 0;
}

/* ---- create / destroy ---- */

TEST(book_create_defaults_and_options)
{
    qw_book *b = NULL;
    ASSERT_OK(qw_book_create(&b, NULL));
    ASSERT_EQ(qw_book_depth(b, QW_BID), 0);
    ASSERT_EQ(qw_book_depth(b, QW_ASK), 0);
    ASSERT_TRUE(qw_book_mem(b) >= 2 * 1024 * sizeof(qw_level)); /* default initial */
    qw_level l;
    ASSERT_EQ(qw_book_best(b, QW_BID, &l), 0);
    ASSERT_EQ(qw_book_best(b, QW_ASK, &l), 0);
    ASSERT_EQ(qw_book_crossed(b), 0);
    qw_book_destroy(b);
    qw_book_destroy(NULL); /* no-op */

    ASSERT_ERR(QW_INVAL, qw_book_create(NULL, NULL));
    b = (qw_book *)&l;
    qw_book_opts huge = {.max_levels = SIZE_MAX};
    ASSERT_ERR(QW_INVAL, qw_book_create(&b, &huge));
    ASSERT_TRUE(b == NULL); /* *out cleared on failure */

    b = new_book(3, 100); /* initial clamped to max */
    ASSERT_TRUE(qw_book_mem(b) < 2 * 100 * sizeof(qw_level));
    for (int i = 1; i <= 3; i++)
        ASSERT_OK(qw_book_set(b, QW_BID, i, 1));
    ASSERT_ERR(QW_BOOK_FULL, qw_book_set(b, QW_BID, 4, 1));
    qw_book_destroy(b);
}

/* ---- set / best / top / get ---- */

TEST(book_set_insert_update_best_top)
{
    qw_book *b = new_book(0, 2); /* tiny initial: exercises growth */
    ASSERT_OK(qw_book_set(b, QW_BID, 100, 5));
    ASSERT_OK(qw_book_set(b, QW_BID, 102, 6));
    ASSERT_OK(qw_book_set(b, QW_BID, 101, 7));
    ASSERT_OK(qw_book_set(b, QW_BID, 99, 8));
    ASSERT_OK(qw_book_set(b, QW_ASK, 105, 1));
    ASSERT_OK(qw_book_set(b, QW_ASK, 103, 2));
    ASSERT_OK(qw_book_set(b, QW_ASK, 110, 3));
    ASSERT_OK(qw_book_set(b, QW_ASK, 104, 4));
    expect_side(b, QW_BID, (qw_level[]){L(102, 6), L(101, 7), L(100, 5), L(99, 8)}, 4);
    expect_side(b, QW_ASK, (qw_level[]){L(103, 2), L(104, 4), L(105, 1), L(110, 3)}, 4);
    qw_level l;
    ASSERT_EQ(qw_book_best(b, QW_BID, &l), 1);
    ASSERT_EQ(l.px, 102);
    ASSERT_EQ(l.sz, 6);
    ASSERT_EQ(qw_book_best(b, QW_ASK, &l), 1);
    ASSERT_EQ(l.px, 103);

    ASSERT_OK(qw_book_set(b, QW_BID, 101, 9)); /* update keeps depth */
    ASSERT_EQ(qw_book_get(b, QW_BID, 101), 9);
    ASSERT_EQ(qw_book_depth(b, QW_BID), 4);

    qw_level top[8] = {L(-1, -1)};
    ASSERT_EQ(qw_book_top(b, QW_BID, top, 0), 0);
    ASSERT_EQ(top[0].px, -1); /* n = 0 writes nothing */
    ASSERT_EQ(qw_book_top(b, QW_ASK, top, 2), 2);
    ASSERT_EQ(top[0].px, 103);
    ASSERT_EQ(top[1].px, 104);
    ASSERT_EQ(qw_book_top(b, QW_ASK, top, 8), 4); /* more than depth */
    ASSERT_EQ(top[3].px, 110);
    qw_book_destroy(b);
}

TEST(book_zero_size_deletes_level)
{
    qw_book *b = new_book(0, 0);
    for (int p = 1; p <= 5; p++) {
        ASSERT_OK(qw_book_set(b, QW_BID, p * 10, p));
        ASSERT_OK(qw_book_set(b, QW_ASK, 100 + p * 10, p));
    }
    ASSERT_OK(qw_book_set(b, QW_BID, 50, 0)); /* best */
    ASSERT_OK(qw_book_set(b, QW_BID, 30, 0)); /* middle */
    ASSERT_OK(qw_book_set(b, QW_BID, 10, 0)); /* worst */
    expect_side(b, QW_BID, (qw_level[]){L(40, 4), L(20, 2)}, 2);
    ASSERT_OK(qw_book_set(b, QW_ASK, 110, 0)); /* best ask */
    ASSERT_OK(qw_book_set(b, QW_ASK, 150, 0)); /* worst ask */
    expect_side(b, QW_ASK, (qw_level[]){L(120, 2), L(130, 3), L(140, 4)}, 3);
    ASSERT_OK(qw_book_set(b, QW_BID, 40, 0));
    ASSERT_OK(qw_book_set(b, QW_BID, 20, 0));
    ASSERT_EQ(qw_book_depth(b, QW_BID), 0);
    qw_level l;
    ASSERT_EQ(qw_book_best(b, QW_BID, &l), 0);
    ASSERT_OK(qw_book_set(b, QW_BID, 20, 7)); /* the side is usable again */
    expect_side(b, QW_BID, (qw_level[]){L(20, 7)}, 1);
    ASSERT_EQ(qw_book_get_stats(b)->removes, 7);
    qw_book_destroy(b);
}

TEST(book_absent_remove_is_counted_noop)
{
    qw_book *b = new_book(0, 0);
    ASSERT_OK(qw_book_set(b, QW_ASK, 7, 0)); /* empty side */
    ASSERT_OK(qw_book_set(b, QW_BID, 100, 1));
    ASSERT_OK(qw_book_set(b, QW_BID, 90, 1));
    ASSERT_OK(qw_book_set(b, QW_BID, 95, 0));  /* between levels */
    ASSERT_OK(qw_book_set(b, QW_BID, 200, 0)); /* better than best */
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 0));   /* below worst */
    ASSERT_OK(qw_book_set(b, QW_ASK, 100, 0)); /* present on the other side only */
    const qw_book_stats *st = qw_book_get_stats(b);
    ASSERT_EQ(st->absent_removes, 5);
    ASSERT_EQ(st->removes, 0);
    ASSERT_EQ(st->sets, 2);
    expect_side(b, QW_BID, (qw_level[]){L(100, 1), L(90, 1)}, 2);
    ASSERT_EQ(qw_book_depth(b, QW_ASK), 0);
    qw_book_destroy(b);
}

TEST(book_set_rejects_bad_input_unchanged)
{
    qw_book *b = new_book(0, 0);
    ASSERT_OK(qw_book_set(b, QW_BID, 10, 1));
    ASSERT_OK(qw_book_set(b, QW_ASK, 11, 1));
    qw_book_stats before = *qw_book_get_stats(b);
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_BID, 0, 1));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_BID, -5, 1));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_ASK, INT64_MIN, 1));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_ASK, 11, -1));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_BID, 10, INT64_MIN));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_set(b, QW_ASK, 0, 0)); /* px checked before sz */
    ASSERT_ERR(QW_INVAL, qw_book_set(b, (qw_side)2, 10, 1));
    ASSERT_ERR(QW_INVAL, qw_book_set(b, (qw_side)-1, 10, 1));
    ASSERT_TRUE(same_stats(&before, qw_book_get_stats(b)));
    expect_side(b, QW_BID, (qw_level[]){L(10, 1)}, 1);
    expect_side(b, QW_ASK, (qw_level[]){L(11, 1)}, 1);
    qw_book_destroy(b);
}

TEST(book_get_and_extreme_prices)
{
    qw_book *b = new_book(0, 0);
    ASSERT_OK(qw_book_set(b, QW_BID, INT64_MAX, 3));
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 4));
    ASSERT_OK(qw_book_set(b, QW_ASK, 1, 5));
    ASSERT_OK(qw_book_set(b, QW_ASK, INT64_MAX, 6));
    expect_side(b, QW_BID, (qw_level[]){L(INT64_MAX, 3), L(1, 4)}, 2);
    expect_side(b, QW_ASK, (qw_level[]){L(1, 5), L(INT64_MAX, 6)}, 2);
    ASSERT_EQ(qw_book_get(b, QW_ASK, INT64_MIN), 0); /* no negation overflow */
    ASSERT_EQ(qw_book_get(b, QW_BID, INT64_MIN), 0);
    ASSERT_EQ(qw_book_get(b, QW_ASK, 0), 0);
    ASSERT_EQ(qw_book_get(b, QW_BID, -1), 0);
    ASSERT_EQ(qw_book_get(b, QW_BID, 2), 0);
    ASSERT_EQ(qw_book_get(b, QW_ASK, INT64_MAX - 1), 0);
    ASSERT_EQ(qw_book_get(b, (qw_side)7, 1), 0);
    ASSERT_EQ(qw_book_depth(b, (qw_side)7), 0);
    qw_level l;
    ASSERT_EQ(qw_book_best(b, (qw_side)7, &l), 0);
    ASSERT_EQ(qw_book_top(b, (qw_side)7, &l, 1), 0);
    ASSERT_OK(qw_book_set(b, QW_BID, INT64_MAX, INT64_MAX)); /* max size */
    ASSERT_EQ(qw_book_get(b, QW_BID, INT64_MAX), INT64_MAX);
    qw_book_destroy(b);
}

TEST(book_crossed_and_locked)
{
    qw_book *b = new_book(0, 0);
    ASSERT_EQ(qw_book_crossed(b), 0); /* both empty */
    ASSERT_OK(qw_book_set(b, QW_BID, 100, 1));
    ASSERT_EQ(qw_book_crossed(b), 0); /* asks empty */
    ASSERT_OK(qw_book_set(b, QW_ASK, 101, 1));
    ASSERT_EQ(qw_book_crossed(b), 0); /* normal spread */
    ASSERT_OK(qw_book_set(b, QW_BID, 101, 1));
    ASSERT_EQ(qw_book_crossed(b), 1); /* locked: bid == ask */
    ASSERT_OK(qw_book_set(b, QW_BID, 102, 1));
    ASSERT_EQ(qw_book_crossed(b), 1); /* crossed */
    ASSERT_OK(qw_book_set(b, QW_BID, 102, 0));
    ASSERT_OK(qw_book_set(b, QW_BID, 101, 0));
    ASSERT_EQ(qw_book_crossed(b), 0); /* repaired */
    ASSERT_OK(qw_book_set(b, QW_BID, 100, 0));
    ASSERT_EQ(qw_book_crossed(b), 0); /* bids empty */
    qw_book_destroy(b);
}

TEST(book_stats_counters)
{
    qw_book *b = new_book(2, 0);
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 1)); /* insert */
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 2)); /* update */
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 2)); /* same size: still a set */
    ASSERT_OK(qw_book_set(b, QW_BID, 2, 1)); /* insert */
    ASSERT_ERR(QW_BOOK_FULL, qw_book_set(b, QW_BID, 3, 1));
    ASSERT_OK(qw_book_set(b, QW_BID, 2, 0)); /* remove */
    ASSERT_OK(qw_book_set(b, QW_BID, 2, 0)); /* absent */
    ASSERT_OK(qw_book_snapshot(b, (qw_level[]){L(5, 1)}, 1, NULL, 0));
    ASSERT_ERR(QW_BAD_BOOK, qw_book_snapshot(b, (qw_level[]){L(0, 1)}, 1, NULL, 0));
    const qw_book_stats *st = qw_book_get_stats(b);
    ASSERT_EQ(st->sets, 5); /* 2 inserts, 2 updates, 1 remove */
    ASSERT_EQ(st->inserts, 2);
    ASSERT_EQ(st->removes, 1);
    ASSERT_EQ(st->absent_removes, 1);
    ASSERT_EQ(st->snapshots, 1);
    qw_book_clear(b); /* stats survive clear */
    ASSERT_EQ(qw_book_get_stats(b)->sets, 5);
    qw_book_destroy(b);
}

TEST(book_clear_keeps_capacity)
{
    qw_book *b = new_book(0, 4);
    for (int i = 1; i <= 100; i++) {
        ASSERT_OK(qw_book_set(b, QW_BID, i, i));
        ASSERT_OK(qw_book_set(b, QW_ASK, 1000 + i, i));
    }
    size_t mem = qw_book_mem(b);
    qw_book_clear(b);
    ASSERT_EQ(qw_book_depth(b, QW_BID), 0);
    ASSERT_EQ(qw_book_depth(b, QW_ASK), 0);
    ASSERT_EQ(qw_book_get(b, QW_BID, 50), 0);
    ASSERT_EQ(qw_book_mem(b), mem);
    uint64_t allocs = qw_alloc_count();
    for (int i = 1; i <= 100; i++)
        ASSERT_OK(qw_book_set(b, QW_BID, i, 1));
    ASSERT_EQ(qw_alloc_count(), allocs); /* refilled without allocating */
    qw_book_destroy(b);
}

/* ---- snapshots ---- */

TEST(book_snapshot_replaces_not_merges)
{
    qw_book *b = new_book(0, 0);
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 1));
    ASSERT_OK(qw_book_set(b, QW_BID, 9, 9));
    ASSERT_OK(qw_book_set(b, QW_ASK, 50, 1));
    qw_level bids[] = {L(10, 1), L(9, 0), L(8, 2)}; /* best-first, a zero skipped */
    qw_level asks[] = {L(11, 3), L(12, 2), L(13, 1)};
    ASSERT_OK(qw_book_snapshot(b, bids, 3, asks, 3));
    expect_side(b, QW_BID, (qw_level[]){L(10, 1), L(8, 2)}, 2);
    expect_side(b, QW_ASK, (qw_level[]){L(11, 3), L(12, 2), L(13, 1)}, 3);
    ASSERT_EQ(qw_book_get(b, QW_BID, 1), 0);
    ASSERT_EQ(qw_book_get(b, QW_BID, 9), 0);
    ASSERT_EQ(qw_book_get(b, QW_ASK, 50), 0);
    ASSERT_OK(qw_book_snapshot(b, NULL, 0, asks, 1)); /* empty side allowed */
    ASSERT_EQ(qw_book_depth(b, QW_BID), 0);
    expect_side(b, QW_ASK, (qw_level[]){L(11, 3)}, 1);
    ASSERT_OK(qw_book_set(b, QW_BID, 3, 3)); /* swapped-in arrays work */
    ASSERT_OK(qw_book_snapshot(b, NULL, 0, NULL, 0));
    ASSERT_EQ(qw_book_depth(b, QW_BID) + qw_book_depth(b, QW_ASK), 0);
    ASSERT_ERR(QW_INVAL, qw_book_snapshot(b, NULL, 1, NULL, 0));
    qw_book_destroy(b);
}

TEST(book_snapshot_any_order_is_sorted)
{
    enum { N = 5000 };
    qw_level *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
    ASSERT_TRUE(in && out);
    uint64_t seed = 7;
    qw_book *b = new_book(0, 0);
    for (int order = 0; order < 3; order++) { /* best-first, worst-first, shuffled */
        for (int i = 0; i < N; i++) {
            int k = order == 1 ? N - 1 - i : i;
            in[i] = L(1000 + 3 * (N - k), 1 + k); /* bids best-first for k = i */
        }
        if (order == 2)
            shuffle(in, N, &seed);
        ASSERT_OK(qw_book_snapshot(b, in, N, in, N)); /* same prices on both sides */
        ASSERT_EQ(qw_book_top(b, QW_BID, out, N), N);
        for (int k = 0; k < N; k++) {
            ASSERT_EQ(out[k].px, 1000 + 3 * (N - k));
            ASSERT_EQ(out[k].sz, 1 + k);
        }
        ASSERT_EQ(qw_book_top(b, QW_ASK, out, N), N);
        for (int k = 0; k < N; k++) {
            ASSERT_EQ(out[k].px, 1000 + 3 * (k + 1));
            ASSERT_EQ(out[k].sz, N - k);
        }
        ASSERT_EQ(qw_book_crossed(b), 1);
    }
    /* small unsorted case, with a zero in the middle and a zero that
     * repeats a live price (zero entries are skipped before the check) */
    qw_level asks[] = {L(13, 1), L(11, 3), L(20, 0), L(12, 2), L(11, 0)};
    ASSERT_OK(qw_book_snapshot(b, NULL, 0, asks, 5));
    expect_side(b, QW_ASK, (qw_level[]){L(11, 3), L(12, 2), L(13, 1)}, 3);
    qw_level zeros[] = {L(1, 0), L(2, 0)};
    ASSERT_OK(qw_book_snapshot(b, zeros, 2, zeros, 2)); /* all skipped */
    ASSERT_EQ(qw_book_depth(b, QW_BID) + qw_book_depth(b, QW_ASK), 0);
    qw_book_destroy(b);
    free(in);
    free(out);
}

/* A refused snapshot, on either side, leaves levels and stats alone. */
static void expect_refused(qw_book *b, qw_err want, const qw_level *bids, size_t nb,
                           const qw_level *asks, size_t na)
{
    qw_level wb[64], wa[64];
    size_t db = qw_book_top(b, QW_BID, wb, 64), da = qw_book_top(b, QW_ASK, wa, 64);
    ASSERT_TRUE(db < 64 && da < 64);
    qw_book_stats st = *qw_book_get_stats(b);
    ASSERT_ERR(want, qw_book_snapshot(b, bids, nb, asks, na));
    expect_side(b, QW_BID, wb, db);
    expect_side(b, QW_ASK, wa, da);
    ASSERT_TRUE(same_stats(&st, qw_book_get_stats(b)));
}

TEST(book_snapshot_rejects_leave_book_unchanged)
{
    qw_book *b = new_book(0, 0);
    qw_level good[] = {L(10, 1), L(9, 2), L(8, 3)};
    ASSERT_OK(qw_book_snapshot(b, good, 3, (qw_level[]){L(11, 1), L(12, 2)}, 2));
    /* repeated prices: adjacent in order, in an unordered input, on asks only */
    expect_refused(b, QW_BAD_BOOK, (qw_level[]){L(7, 1), L(7, 2)}, 2, NULL, 0);
    expect_refused(b, QW_BAD_BOOK, (qw_level[]){L(5, 1), L(7, 1), L(6, 1), L(7, 2)}, 4, NULL, 0);
    expect_refused(b, QW_BAD_BOOK, (qw_level[]){L(9, 1), L(8, 1), L(9, 1)}, 3, NULL, 0);
    expect_refused(b, QW_BAD_BOOK, good, 3, (qw_level[]){L(20, 1), L(21, 1), L(20, 1)}, 3);
    /* bad values, wherever they sit */
    expect_refused(b, QW_BAD_BOOK, (qw_level[]){L(0, 1)}, 1, NULL, 0);
    expect_refused(b, QW_BAD_BOOK, (qw_level[]){L(5, 1), L(-4, 1)}, 2, NULL, 0);
    expect_refused(b, QW_BAD_BOOK, good, 3, (qw_level[]){L(20, 1), L(21, -1)}, 2);
    expect_refused(b, QW_BAD_BOOK, good, 3, (qw_level[]){L(-20, 0)}, 1); /* even at sz 0 */
    expect_refused(b, QW_INVAL, good, 3, NULL, 2);
    qw_book_destroy(b);
}

TEST(book_snapshot_full_leaves_book_unchanged)
{
    qw_book *b = new_book(4, 0);
    ASSERT_OK(qw_book_snapshot(b, (qw_level[]){L(3, 1)}, 1, (qw_level[]){L(5, 1)}, 1));
    qw_level five[] = {L(10, 1), L(9, 1), L(8, 1), L(7, 1), L(6, 1)};
    expect_refused(b, QW_BOOK_FULL, five, 5, NULL, 0);
    expect_refused(b, QW_BOOK_FULL, NULL, 0, five, 5);
    five[2].sz = 0; /* zero sizes do not count toward the limit */
    ASSERT_OK(qw_book_snapshot(b, five, 5, five, 4));
    ASSERT_EQ(qw_book_depth(b, QW_BID), 4);
    ASSERT_EQ(qw_book_depth(b, QW_ASK), 3);
    ASSERT_ERR(QW_BOOK_FULL, qw_book_set(b, QW_BID, 100, 1));
    ASSERT_OK(qw_book_set(b, QW_BID, 10, 0)); /* room again */
    ASSERT_OK(qw_book_set(b, QW_BID, 100, 1));
    qw_book_destroy(b);
}

/* ---- reservation ---- */

TEST(book_reserve_semantics)
{
    qw_book *b = new_book(1000, 4);
    for (int i = 1; i <= 4; i++)
        ASSERT_OK(qw_book_set(b, QW_BID, i, 1));
    ASSERT_OK(qw_book_reserve(b, QW_BID, 0));
    ASSERT_OK(qw_book_reserve(b, QW_BID, 300));
    /* the next 300 inserts cannot fail, not even when allocation would */
    qw_alloc_fail_after(0);
    for (int i = 0; i < 300; i++)
        ASSERT_OK(qw_book_set(b, QW_BID, 1000 - i, 1)); /* new best each time */
    qw_alloc_fail_after(-1);
    ASSERT_EQ(qw_book_depth(b, QW_BID), 304);

    /* limits: depth + n > max is refused, without overflow for huge n */
    ASSERT_OK(qw_book_reserve(b, QW_BID, 1000 - 304));
    ASSERT_ERR(QW_BOOK_FULL, qw_book_reserve(b, QW_BID, 1000 - 304 + 1));
    ASSERT_ERR(QW_BOOK_FULL, qw_book_reserve(b, QW_BID, SIZE_MAX));
    ASSERT_EQ(qw_book_depth(b, QW_BID), 304); /* a refused batch changed nothing */
    ASSERT_ERR(QW_BOOK_FULL, qw_book_reserve(b, QW_ASK, 1001));
    ASSERT_OK(qw_book_reserve(b, QW_ASK, 1000));
    ASSERT_ERR(QW_INVAL, qw_book_reserve(b, (qw_side)5, 1));

    /* a reservation that needs memory fails cleanly */
    size_t mem = qw_book_mem(b);
    qw_book *c = new_book(0, 8);
    size_t cmem = qw_book_mem(c);
    ASSERT_OK(qw_book_set(c, QW_ASK, 5, 5));
    qw_alloc_fail_after(0);
    ASSERT_ERR(QW_NOMEM, qw_book_reserve(c, QW_ASK, 100));
    ASSERT_OK(qw_book_reserve(c, QW_ASK, 7)); /* fits: no allocation */
    qw_alloc_fail_after(-1);
    ASSERT_EQ(qw_book_mem(c), cmem);
    expect_side(c, QW_ASK, (qw_level[]){L(5, 5)}, 1);
    ASSERT_EQ(qw_book_mem(b), mem);
    qw_book_destroy(c);
    qw_book_destroy(b);
}

/* ---- allocation failure ---- */

TEST(book_create_fails_cleanly_at_every_allocation)
{
    int failures = 0;
    for (long k = 0; k < 100; k++) {
        qw_book *b = (qw_book *)&failures; /* must be overwritten */
        qw_alloc_fail_after(k);
        qw_err e = qw_book_create(&b, NULL);
        qw_alloc_fail_after(-1);
        if (e == QW_OK) {
            ASSERT_TRUE(b != NULL);
            ASSERT_OK(qw_book_set(b, QW_BID, 1, 1));
            qw_book_destroy(b);
            break;
        }
        ASSERT_ERR(QW_NOMEM, e);
        ASSERT_TRUE(b == NULL);
        failures++;
    }
    ASSERT_EQ(failures, 3); /* the book, then each side's array */
    NO_LEAKS();
}

TEST(book_growth_failure_leaves_book_unchanged)
{
    qw_book *b = new_book(0, 4);
    for (int i = 1; i <= 4; i++)
        ASSERT_OK(qw_book_set(b, QW_ASK, 10 * i, i));
    size_t mem = qw_book_mem(b);
    qw_book_stats st = *qw_book_get_stats(b);
    qw_alloc_fail_after(0);
    ASSERT_ERR(QW_NOMEM, qw_book_set(b, QW_ASK, 5, 1));  /* new best: side full */
    ASSERT_ERR(QW_NOMEM, qw_book_set(b, QW_ASK, 25, 1)); /* middle */
    ASSERT_OK(qw_book_set(b, QW_ASK, 20, 7));            /* updates need no memory */
    ASSERT_OK(qw_book_set(b, QW_ASK, 99, 0));            /* nor absent removes */
    ASSERT_OK(qw_book_set(b, QW_BID, 1, 1));             /* the other side has room */
    qw_alloc_fail_after(-1);
    ASSERT_EQ(qw_book_mem(b), mem);
    ASSERT_EQ(qw_book_get_stats(b)->inserts, st.inserts + 1);
    expect_side(b, QW_ASK, (qw_level[]){L(10, 1), L(20, 7), L(30, 3), L(40, 4)}, 4);
    ASSERT_OK(qw_book_set(b, QW_ASK, 5, 1)); /* and it recovers */
    expect_side(b, QW_ASK, (qw_level[]){L(5, 1), L(10, 1), L(20, 7), L(30, 3), L(40, 4)}, 5);
    qw_book_destroy(b);
    NO_LEAKS();
}

TEST(book_snapshot_fails_cleanly_at_every_allocation)
{
    enum { N = 3000 };
    qw_level *bids = malloc(N * sizeof *bids), *asks = malloc(N * sizeof *asks);
    ASSERT_TRUE(bids && asks);
    for (int i = 0; i < N; i++) {
        bids[i] = L(5000 - i, 1 + i);
        asks[i] = L(5001 + i, 2 + i);
    }
    int failures = 0;
    for (long k = 0; k < 100; k++) {
        qw_book *b = new_book(0, 16);
        ASSERT_OK(qw_book_set(b, QW_BID, 1, 1));
        ASSERT_OK(qw_book_set(b, QW_ASK, 9999, 1));
        qw_alloc_fail_after(k);
        qw_err e = qw_book_snapshot(b, bids, N, asks, N);
        qw_alloc_fail_after(-1);
        if (e == QW_OK) {
            ASSERT_EQ(qw_book_depth(b, QW_BID), N);
            ASSERT_EQ(qw_book_get(b, QW_ASK, 5001 + N - 1), 2 + N - 1);
            qw_book_destroy(b);
            break;
        }
        ASSERT_ERR(QW_NOMEM, e);
        failures++;
        expect_side(b, QW_BID, (qw_level[]){L(1, 1)}, 1);
        expect_side(b, QW_ASK, (qw_level[]){L(9999, 1)}, 1);
        ASSERT_EQ(qw_book_get_stats(b)->snapshots, 0);
        ASSERT_OK(qw_book_snapshot(b, bids, 10, asks, 10)); /* still usable */
        qw_book_destroy(b);
    }
    ASSERT_EQ(failures, 2); /* the bid spare, then the ask spare */
    free(bids);
    free(asks);
    NO_LEAKS();
}

TEST(book_mem_accounts_for_growth_and_spares)
{
    qw_book *b = new_book(0, 16);
    size_t m0 = qw_book_mem(b);
    for (int i = 1; i <= 17; i++)
        ASSERT_OK(qw_book_set(b, QW_BID, i, 1));
    size_t m1 = qw_book_mem(b);
    ASSERT_EQ(m1 - m0, 16 * sizeof(qw_level)); /* bids doubled 16 -> 32 */
    ASSERT_OK(qw_book_snapshot(b, (qw_level[]){L(1, 1)}, 1, NULL, 0));
    ASSERT_EQ(qw_book_mem(b) - m1, 2 * 16 * sizeof(qw_level)); /* two spares */
    qw_book_destroy(b);
}

/* ---- randomized differential test ----
 *
 * Reference: a dense array of sizes indexed by price (0 = absent), which
 * is trivially correct and O(1) per operation; a linear-search list would
 * make 250k operations at 100k levels cost ~10^10 steps. Full contents are
 * compared by walking the price domain.
 */
enum { DOM = 300000, MAXL = 100000, NOPS = 250000, SNAPMAX = MAXL + 16 };

typedef struct diff_ctx {
    qw_book *b;
    int64_t *ref[2]; /* ref[side][px], px in 1..DOM */
    size_t cnt[2];
    qw_level *want, *got, *snap[2];
    uint64_t seed;
} diff_ctx;

static void full_compare(diff_ctx *c)
{
    for (int side = 0; side < 2; side++) {
        size_t n = 0;
        for (int64_t i = 1; i <= DOM; i++) {
            int64_t px = side == QW_BID ? DOM + 1 - i : i; /* best-first */
            if (c->ref[side][px])
                c->want[n++] = L(px, c->ref[side][px]);
        }
        ASSERT_EQ(n, c->cnt[side]);
        ASSERT_EQ(qw_book_depth(c->b, (qw_side)side), n);
        ASSERT_EQ(qw_book_top(c->b, (qw_side)side, c->got, SNAPMAX), n);
        ASSERT_TRUE(memcmp(c->want, c->got, n * sizeof *c->got) == 0);
        qw_level best;
        ASSERT_EQ(qw_book_best(c->b, (qw_side)side, &best), n > 0);
        if (n)
            ASSERT_EQ(best.px, c->want[0].px);
    }
}

/* A random snapshot, sometimes faulty; checks the outcome against the
 * reference and applies it there when accepted. */
static void random_snapshot(diff_ctx *c)
{
    size_t n[2];
    int fault_side = (int)rnd_below(&c->seed, 2), fault = (int)rnd_below(&c->seed, 10);
    qw_err want = QW_OK;
    for (int side = 0; side < 2; side++) {
        qw_level *s = c->snap[side];
        uint64_t r = rnd_below(&c->seed, 8);
        size_t target = r == 0   ? 0
                        : r == 1 ? rnd_below(&c->seed, 50)
                        : r == 2 ? MAXL
                                 : rnd_below(&c->seed, MAXL);
        if (side == fault_side && fault == 0) {
            target = MAXL + 1 + rnd_below(&c->seed, 8);
            want = QW_BOOK_FULL;
        } else if (side == fault_side && fault < 3 && target == MAXL) {
            target--; /* room for the repeated price: one fault at a time */
        }
        /* distinct prices, increasing, worst-first for asks */
        int64_t px = 1 + (int64_t)rnd_below(&c->seed, DOM / 8);
        size_t k = 0;
        while (k < target && px <= DOM) {
            s[k++] = L(px, 1 + (int64_t)rnd_below(&c->seed, 1000000000));
            px += 1 + (int64_t)rnd_below(&c->seed, target > 90000 ? 3 : 4);
        }
        if (want == QW_BOOK_FULL && side == fault_side)
            ASSERT_TRUE(k == target);
        if (k && rnd_below(&c->seed, 2)) /* a zero-size entry is skipped */
            s[k] = L(s[rnd_below(&c->seed, k)].px, 0), k++;
        if (side == fault_side && k && fault == 1) {
            s[k] = L(s[rnd_below(&c->seed, k)].px, 5), k++; /* repeated price */
            want = QW_BAD_BOOK;
        }
        if (side == fault_side && k && fault == 2) {
            s[rnd_below(&c->seed, k)].px = -(int64_t)rnd_below(&c->seed, 3); /* px <= 0 */
            want = QW_BAD_BOOK;
        }
        int order = (int)rnd_below(&c->seed, 3); /* 0 best-first, 1 worst-first, 2 any */
        if (order == 0 ? side == QW_BID : order == 1 ? side == QW_ASK : 0)
            reverse(s, k);
        if (order == 2)
            shuffle(s, k, &c->seed);
        n[side] = k;
    }
    qw_book_stats st = *qw_book_get_stats(c->b);
    ASSERT_ERR(want, qw_book_snapshot(c->b, c->snap[0], n[0], c->snap[1], n[1]));
    if (want != QW_OK) {
        ASSERT_TRUE(same_stats(&st, qw_book_get_stats(c->b)));
        return;
    }
    for (int side = 0; side < 2; side++) {
        memset(c->ref[side], 0, (DOM + 1) * sizeof(int64_t));
        c->cnt[side] = 0;
        for (size_t i = 0; i < n[side]; i++) {
            qw_level l = c->snap[side][i];
            if (l.sz) {
                c->ref[side][l.px] = l.sz;
                c->cnt[side]++;
            }
        }
    }
}

static void random_set(diff_ctx *c)
{
    qw_side side = (qw_side)rnd_below(&c->seed, 2);
    int64_t *ref = c->ref[side];
    qw_level best;
    int64_t px;
    if (!qw_book_best(c->b, side, &best) || rnd_below(&c->seed, 100) < 3) {
        px = 1 + (int64_t)rnd_below(&c->seed, DOM); /* anywhere */
    } else {
        /* near the top: geometric distance in ticks, sometimes improving */
        int64_t d = (int64_t)__builtin_ctzll(rnd(&c->seed) | (1ULL << 20)) * 2 +
                    (int64_t)rnd_below(&c->seed, 3);
        if (rnd_below(&c->seed, 10) == 0)
            d = -d - 1;
        px = side == QW_BID ? best.px - d : best.px + d;
        px = px < 1 ? 1 : px > DOM ? DOM : px;
    }
    int64_t sz = rnd_below(&c->seed, 5) < 2 ? 0 : 1 + (int64_t)rnd_below(&c->seed, 1000000);
    qw_err want = QW_OK;
    if (sz && !ref[px] && c->cnt[side] == MAXL)
        want = QW_BOOK_FULL;
    ASSERT_ERR(want, qw_book_set(c->b, side, px, sz));
    if (want == QW_OK) {
        c->cnt[side] += (sz != 0) - (ref[px] != 0);
        ref[px] = sz;
    }
    ASSERT_EQ(qw_book_get(c->b, side, px), ref[px]);
    ASSERT_EQ(qw_book_depth(c->b, side), c->cnt[side]);
    int64_t other = 1 + (int64_t)rnd_below(&c->seed, DOM);
    ASSERT_EQ(qw_book_get(c->b, side, other), ref[other]);
}

TEST(book_random_differential_vs_reference)
{
    diff_ctx c = {.seed = 0x5eed};
    c.b = new_book(MAXL, 16);
    for (int s = 0; s < 2; s++) {
        c.ref[s] = calloc(DOM + 1, sizeof(int64_t));
        c.snap[s] = malloc(SNAPMAX * sizeof(qw_level));
        ASSERT_TRUE(c.ref[s] && c.snap[s]);
    }
    c.want = malloc(SNAPMAX * sizeof(qw_level));
    c.got = malloc(SNAPMAX * sizeof(qw_level));
    ASSERT_TRUE(c.want && c.got);
    size_t max_depth = 0, snapshots = 0;
    for (int op = 0; op < NOPS; op++) {
        uint64_t r = rnd_below(&c.seed, 10000);
        if (r < 8 || op == 20000) {
            random_snapshot(&c);
            snapshots++;
            full_compare(&c);
        } else if (r < 20) {
            qw_side side = (qw_side)rnd_below(&c.seed, 2);
            size_t k = rnd_below(&c.seed, 4) ? rnd_below(&c.seed, 3000) : SIZE_MAX - 2;
            qw_err want = k > MAXL - c.cnt[side] ? QW_BOOK_FULL : QW_OK;
            ASSERT_ERR(want, qw_book_reserve(c.b, side, k));
        } else if (r == 20) {
            qw_book_clear(c.b);
            memset(c.ref[0], 0, (DOM + 1) * sizeof(int64_t));
            memset(c.ref[1], 0, (DOM + 1) * sizeof(int64_t));
            c.cnt[0] = c.cnt[1] = 0;
        } else {
            random_set(&c);
        }
        for (int s = 0; s < 2; s++)
            max_depth = c.cnt[s] > max_depth ? c.cnt[s] : max_depth;
        if (op % 10000 == 9999)
            full_compare(&c);
    }
    full_compare(&c);
    ASSERT_EQ(max_depth, MAXL); /* the run did reach the limit */
    ASSERT_TRUE(snapshots > 50);
    const qw_book_stats *st = qw_book_get_stats(c.b);
    ASSERT_TRUE(st->inserts > 10000 && st->removes > 10000 && st->absent_removes > 1000);
    qw_book_destroy(c.b);
    for (int s = 0; s < 2; s++) {
        free(c.ref[s]);
        free(c.snap[s]);
    }
    free(c.want);
    free(c.got);
    NO_LEAKS();
}

/* ---- no allocation once warm ---- */

TEST(book_no_allocation_when_warm)
{
    enum { DEPTH = 20000 };
    qw_level *bids = malloc(DEPTH * sizeof *bids), *asks = malloc(DEPTH * sizeof *asks);
    ASSERT_TRUE(bids && asks);
    for (int i = 0; i < DEPTH; i++) {
        bids[i] = L(100000 - 2 * i, 1 + i % 9);
        asks[i] = L(100001 + 2 * i, 1 + i % 7);
    }
    qw_book *b;
    ASSERT_OK(qw_book_create(&b, NULL));
    /* warm-up: two snapshots size the live arrays and both spares */
    ASSERT_OK(qw_book_snapshot(b, bids, DEPTH, asks, DEPTH));
    ASSERT_OK(qw_book_snapshot(b, bids, DEPTH, asks, DEPTH));
    ASSERT_OK(qw_book_reserve(b, QW_BID, 2000));
    ASSERT_OK(qw_book_reserve(b, QW_ASK, 2000));
    uint64_t before = qw_alloc_count();
    uint64_t seed = 99;
    for (int i = 0; i < 500000; i++) {
        qw_side side = (qw_side)(i & 1);
        int64_t d =
            (int64_t)__builtin_ctzll(rnd(&seed) | (1ULL << 16)) * 3 + (int64_t)rnd_below(&seed, 4);
        if (rnd_below(&seed, 50) == 0)
            d = (int64_t)rnd_below(&seed, 2 * DEPTH); /* the occasional deep one */
        int64_t px = side == QW_BID ? 100004 - d : 99997 + d;
        int64_t sz = rnd_below(&seed, 2) ? 0 : 1 + (int64_t)rnd_below(&seed, 100);
        ASSERT_OK(qw_book_set(b, side, px, sz));
        if (i % 100000 == 0) /* snapshots once warm don't allocate either */
            ASSERT_OK(qw_book_snapshot(b, bids, DEPTH, asks, DEPTH));
    }
    ASSERT_EQ(qw_alloc_count(), before);
    ASSERT_TRUE(qw_book_get_stats(b)->inserts > 10000);
    qw_book_destroy(b);
    free(bids);
    free(asks);
}

/* harness.h: a tiny unit-test harness (after libuv's task.h).
 *
 * TEST(name) { ... } registers a test at load time. Each test runs in a
 * forked child under a timeout; a test that makes no assertion fails.
 * ASSERT_* print file:line and both values, then abort the test.
 * qwt_skip(reason) ends a test that cannot run here as skipped.
 */
#ifndef QW_TEST_HARNESS_H
#define QW_TEST_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*qwt_fn)(void);
void qwt_register(const char *name, const char *file, qwt_fn fn);
void qwt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
extern unsigned long qwt_assertions;
/* The test cannot run here (a missing fixture, a missing tool): reported as
 * "skip NAME: reason" and counted as skipped, never as passed. */
void qwt_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define QWT_SKIP_EXIT 77

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void reg_##name(void)                                      \
    {                                                                                              \
        qwt_register(#name, __FILE__, test_##name);                                                \
    }                                                                                              \
    static void test_##name(void)

#define ASSERT_TRUE(c)                                                                             \
    do {                                                                                           \
        qwt_assertions++;                                                                          \
        if (!(c))                                                                                  \
            qwt_fail(__FILE__, __LINE__, "ASSERT_TRUE(%s)", #c);                                   \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        qwt_assertions++;                                                                          \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                              \
        if (a_ != b_)                                                                              \
            qwt_fail(__FILE__, __LINE__, "ASSERT_EQ(%s, %s): %" PRId64 " != %" PRId64, #a, #b, a_, \
                     b_);                                                                          \
    } while (0)

#define ASSERT_NE(a, b)                                                                            \
    do {                                                                                           \
        qwt_assertions++;                                                                          \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                              \
        if (a_ == b_)                                                                              \
            qwt_fail(__FILE__, __LINE__, "ASSERT_NE(%s, %s): both %" PRId64, #a, #b, a_);          \
    } while (0)

#define ASSERT_DBL_NEAR(a, b, rel)                                                                 \
    do {                                                                                           \
        qwt_assertions++;                                                                          \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        double d_ = a_ - b_, m_ = (a_ < 0 ? -a_ : a_) > (b_ < 0 ? -b_ : b_) ? (a_ < 0 ? -a_ : a_)  \
                                                                            : (b_ < 0 ? -b_ : b_); \
        if (d_ < 0)                                                                                \
            d_ = -d_;                                                                              \
        if (!(d_ <= (rel)*m_ || d_ <= 1e-300))                                                     \
            qwt_fail(__FILE__, __LINE__, "ASSERT_DBL_NEAR(%s, %s): %.17g vs %.17g", #a, #b, a_,    \
                     b_);                                                                          \
    } while (0)

#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        qwt_assertions++;                                                                          \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            qwt_fail(__FILE__, __LINE__, "ASSERT_STREQ(%s, %s): \"%s\" != \"%s\"", #a, #b,         \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                      \
    } while (0)

#define ASSERT_OK(e) ASSERT_ERR(QW_OK, e)
#define ASSERT_ERR(want, e)                                                                        \
    do {                                                                                           \
        qwt_assertions++;                                                                          \
        int w_ = (int)(want), g_ = (int)(e);                                                       \
        if (w_ != g_)                                                                              \
            qwt_fail(__FILE__, __LINE__, "%s: want %s, got %s", #e, qw_err_name((qw_err)w_),       \
                     qw_err_name((qw_err)g_));                                                     \
    } while (0)

#endif

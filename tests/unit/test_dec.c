/* test_dec.c: table tests for the exact decimal parser and formatter. */
#include "core/dec.h"
#include "harness.h"

static const struct {
    const char *s;
    qw_err want;
    int64_t v;
} cases[] = {
    {"0", QW_OK, 0},
    {"0.0", QW_OK, 0},
    {"0.00", QW_OK, 0},
    {"0.000", QW_OK, 0},
    {"0.000000", QW_OK, 0},
    {"0.00000000", QW_OK, 0},
    {"000", QW_OK, 0},
    {"0.0000000000", QW_OK, 0}, /* trailing zeros beyond 8 decimals are exact */
    {"1", QW_OK, 100000000},
    {"1.5", QW_OK, 150000000},
    {"14.8024", QW_OK, 1480240000},
    {"0.00000001", QW_OK, 1},
    {"123.10", QW_OK, 12310000000},
    {"43123.45", QW_OK, 4312345000000},
    {"92233720368.54775807", QW_OK, INT64_MAX},
    {"1.000000000", QW_OK, 100000000},
    {"92233720368.54775808", QW_BAD_NUMBER, 0},
    {"92233720369", QW_BAD_NUMBER, 0},
    {"99999999999999999999", QW_BAD_NUMBER, 0},
    {"0.000000001", QW_BAD_NUMBER, 0},
    {"1.123456789", QW_BAD_NUMBER, 0},
    {"", QW_BAD_NUMBER, 0},
    {".5", QW_BAD_NUMBER, 0},
    {"5.", QW_BAD_NUMBER, 0},
    {"-1", QW_BAD_NUMBER, 0},
    {"+1", QW_BAD_NUMBER, 0},
    {"1e5", QW_BAD_NUMBER, 0},
    {"1E5", QW_BAD_NUMBER, 0},
    {"NaN", QW_BAD_NUMBER, 0},
    {"nan", QW_BAD_NUMBER, 0},
    {"Infinity", QW_BAD_NUMBER, 0},
    {"0.-10000", QW_BAD_NUMBER, 0},
    {" 1", QW_BAD_NUMBER, 0},
    {"1 ", QW_BAD_NUMBER, 0},
    {"1.2.3", QW_BAD_NUMBER, 0},
    {"0x10", QW_BAD_NUMBER, 0},
    {"1,5", QW_BAD_NUMBER, 0},
    {"00000000000000000000000000000000000000001", QW_BAD_NUMBER, 0}, /* > 40 chars */
};

TEST(dec_parse_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -7;
        qw_err e = qw_dec_parse(cases[i].s, strlen(cases[i].s), &v);
        if (e != cases[i].want)
            qwt_fail(__FILE__, __LINE__, "\"%s\": want %s got %s", cases[i].s,
                     qw_err_name(cases[i].want), qw_err_name(e));
        ASSERT_EQ(e, cases[i].want);
        ASSERT_EQ(v, e == QW_OK ? cases[i].v : -7); /* untouched on error */
    }
}

TEST(dec_parse_respects_length)
{
    int64_t v;
    ASSERT_OK(qw_dec_parse("12.5xyz", 4, &v));
    ASSERT_EQ(v, 1250000000);
    ASSERT_ERR(QW_BAD_NUMBER, qw_dec_parse("12.5xyz", 5, &v));
}

TEST(dec_format_shortest_exact)
{
    char b[QW_DEC_STR_MAX];
    ASSERT_EQ(qw_dec_format(0, b), 1);
    ASSERT_STREQ(b, "0");
    qw_dec_format(150000000, b);
    ASSERT_STREQ(b, "1.5");
    qw_dec_format(12310000000, b);
    ASSERT_STREQ(b, "123.1");
    qw_dec_format(1, b);
    ASSERT_STREQ(b, "0.00000001");
    qw_dec_format(INT64_MAX, b);
    ASSERT_STREQ(b, "92233720368.54775807");
    qw_dec_format(-150000000, b);
    ASSERT_STREQ(b, "-1.5");
    qw_dec_format(INT64_MIN, b);
    ASSERT_STREQ(b, "-92233720368.54775808");
    qw_dec_format(10000000000, b);
    ASSERT_STREQ(b, "100");
}

TEST(dec_roundtrip_random)
{
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t v = (int64_t)(x >> 1) >> (x % 40);
        char b[QW_DEC_STR_MAX];
        size_t n = qw_dec_format(v, b);
        int64_t back;
        ASSERT_OK(qw_dec_parse(b, n, &back));
        ASSERT_EQ(back, v);
    }
}

/* Sizes are 128-bit: every spelling qw_dec_parse takes gives the same
 * value, and beyond INT64_MAX e8 up to QW_SZ_MAX (10^30 - 1 e8, 22 integer
 * digits) is exact; formatting round-trips. */
TEST(dec_sizes_beyond_int64)
{
    static const char *same[] = {"0", "1", "0.5", "92233720368.54775807", "000123.45000000"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        int64_t a;
        qw_sz b;
        ASSERT_OK(qw_dec_parse(same[i], strlen(same[i]), &a));
        ASSERT_OK(qw_dec_parse_sz(same[i], strlen(same[i]), &b));
        ASSERT_TRUE(b == a);
    }
    static const struct {
        const char *in, *out;
    } big[] = {
        {"92233720368.54775808", "92233720368.54775808"}, /* INT64_MAX e8 + 1 */
        {"1000000000000", "1000000000000"},               /* 1e12 */
        {"123456789012345678.12345678", "123456789012345678.12345678"},
        {"9999999999999999999999.99999999", "9999999999999999999999.99999999"}, /* QW_SZ_MAX */
        {"99999999999999999999999", ""}, /* 23 integer digits */
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        qw_sz v;
        char buf[QW_SZ_STR_MAX];
        qw_err e = qw_dec_parse_sz(big[i].in, strlen(big[i].in), &v);
        if (i == 4) { /* beyond QW_SZ_MAX */
            ASSERT_ERR(QW_BAD_NUMBER, e);
            continue;
        }
        ASSERT_OK(e);
        ASSERT_TRUE(!qw_sz_fits64(v));
        qw_sz_format(v, buf);
        ASSERT_STREQ(buf, big[i].out);
    }
    qw_sz v;
    ASSERT_OK(qw_dec_parse_sz("9999999999999999999999.99999999", 31, &v));
    ASSERT_TRUE(v == QW_SZ_MAX);
    ASSERT_OK(qw_dec_parse_sz("0009999999999999999999999", 25, &v)); /* leading zeros */
    ASSERT_TRUE(v == (QW_SZ_MAX / QW_DEC_SCALE) * QW_DEC_SCALE);
    static const char *bad[] = {"10000000000000000000000",
                                "-1",
                                "1e12",
                                "1.123456789",
                                "",
                                "1.",
                                ".5",
                                "12345678901234567890123456789012345678901"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_ERR(QW_BAD_NUMBER, qw_dec_parse_sz(bad[i], strlen(bad[i]), &v));
    char buf[QW_SZ_STR_MAX];
    qw_sz_format(-QW_SZ_MAX, buf);
    ASSERT_STREQ(buf, "-9999999999999999999999.99999999");
    qw_sz_format((qw_sz)INT64_MIN - 1, buf);
    ASSERT_STREQ(buf, "-92233720368.54775809");
}

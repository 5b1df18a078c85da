/* test_time.c: table tests for RFC 3339 parsing and formatting. */
#include "core/time.h"
#include "harness.h"

static const struct {
    const char *s;
    qw_err want;
    int64_t ns;
} cases[] = {
    {"1970-01-01T00:00:00Z", QW_OK, 0},
    {"2021-04-17T16:43:37.123456Z", QW_OK, 1618677817123456000},
    {"2021-04-17T16:43:37Z", QW_OK, 1618677817000000000},
    {"2021-04-17T16:43:37.1Z", QW_OK, 1618677817100000000},
    {"2021-04-17T16:43:37.123456789Z", QW_OK, 1618677817123456789},
    {"2019-08-01T00:00:03.818Z", QW_OK, 1564617603818000000},
    {"2021-04-17t16:43:37.5z", QW_OK, 1618677817500000000},
    {"2021-04-17 16:43:37.5Z", QW_OK, 1618677817500000000},
    {"2021-04-17T18:43:37.5+02:00", QW_OK, 1618677817500000000},
    {"2021-04-17T14:43:37.5-02:00", QW_OK, 1618677817500000000},
    {"2024-02-29T00:00:00Z", QW_OK, 1709164800000000000},
    {"2262-04-11T23:47:16.854775807Z", QW_OK, 9223372036854775807},
    {"0001-01-01T00:00:00.000000Z", QW_TIME_RANGE, 0},
    {"1969-12-31T23:59:59Z", QW_TIME_RANGE, 0},
    {"2262-04-11T23:47:17Z", QW_TIME_RANGE, 0},
    {"9999-12-31T23:59:59Z", QW_TIME_RANGE, 0},
    {"2021-04-17T16:43:37.1234567890Z", QW_BAD_TIME, 0}, /* 10 digits */
    {"2021-04-17T16:43:37.Z", QW_BAD_TIME, 0},
    {"2021-04-17T16:43:37", QW_BAD_TIME, 0},
    {"2021-04-17T16:43:60Z", QW_BAD_TIME, 0},
    {"2021-04-17T24:00:00Z", QW_BAD_TIME, 0},
    {"2021-13-01T00:00:00Z", QW_BAD_TIME, 0},
    {"2021-02-29T00:00:00Z", QW_BAD_TIME, 0},
    {"2021-04-31T00:00:00Z", QW_BAD_TIME, 0},
    {"2021-00-10T00:00:00Z", QW_BAD_TIME, 0},
    {"2021-04-17T16:43:37.5+2:00", QW_BAD_TIME, 0},
    {"2021-04-17T16:43:37.5ZZ", QW_BAD_TIME, 0},
    {"2026-08-09 21:05:48.854840045 +0000 UTC m=+41691.260485341", QW_BAD_TIME, 0},
    {"garbage", QW_BAD_TIME, 0},
    {"", QW_BAD_TIME, 0},
    {"2021-04-17T16:43:37.5\0Z", QW_BAD_TIME, 0},
};

TEST(time_parse_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = -1;
        size_t n = strlen(cases[i].s);
        if (i == sizeof cases / sizeof cases[0] - 1)
            n = 23; /* include the NUL */
        qw_err e = qw_time_parse(cases[i].s, n, &t);
        if (e != cases[i].want)
            qwt_fail(__FILE__, __LINE__, "\"%s\": want %s got %s", cases[i].s,
                     qw_err_name(cases[i].want), qw_err_name(e));
        ASSERT_EQ(e, cases[i].want);
        ASSERT_EQ(t, e == QW_OK ? cases[i].ns : -1);
    }
}

TEST(time_plausible_window)
{
    ASSERT_TRUE(!qw_time_plausible(0));
    ASSERT_TRUE(qw_time_plausible(1618677817123456000));
    ASSERT_TRUE(!qw_time_plausible(9223372036854775807));
}

TEST(time_format_roundtrip)
{
    char b[QW_TIME_STR_MAX];
    qw_time_format(1618677817123456789, b);
    ASSERT_STREQ(b, "2021-04-17T16:43:37.123456789Z");
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t t = (int64_t)(x >> 2);
        size_t n = qw_time_format(t, b);
        int64_t back;
        ASSERT_OK(qw_time_parse(b, n, &back));
        ASSERT_EQ(back, t);
    }
}

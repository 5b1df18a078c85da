/* test_sim_fastenc.c: the simulator's inline number/time writers produce
 * exactly what core/dec.h and core/time.h print (random and edge values). */
#include "core/dec.h"
#include "core/time.h"
#include "harness.h"
#include "sim/encode.h"

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

TEST(sim_fastenc_dec_matches_core)
{
    static const int64_t edge[] = {0,
                                   1,
                                   -1,
                                   10,
                                   100000000,
                                   -100000000,
                                   123456789,
                                   99999999,
                                   100000001,
                                   1000000000000,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MIN + 1,
                                   5000000,
                                   50,
                                   12345678900000000};
    qw_sbuf b = {0};
    uint64_t s = 88172645463325252ull;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        int64_t v;
        if (i < (int)(sizeof edge / sizeof edge[0]))
            v = edge[i];
        else {
            uint64_t r = xs(&s);
            /* mix of magnitudes, many trailing zeros */
            v = (int64_t)(r >> (r & 63));
            if (r & 1)
                v = -v;
            static const int64_t p10[] = {1, 10, 1000, 100000, 10000000};
            v -= v % p10[(r >> 8) % 5];
        }
        char ref[QW_DEC_STR_MAX];
        size_t n = qw_dec_format(v, ref);
        qw_sbuf_reset(&b);
        qw_sbuf_dec(&b, v);
        if (b.len != n || memcmp(b.p, ref, n) != 0) {
            if (!bad++)
                fprintf(stderr, "%lld: '%.*s' vs '%s'\n", (long long)v, (int)b.len, b.p, ref);
        }
        char ri[24];
        int rn = snprintf(ri, sizeof ri, "%lld", (long long)v);
        qw_sbuf_reset(&b);
        qw_sbuf_i64(&b, v);
        if (b.len != (size_t)rn || memcmp(b.p, ri, (size_t)rn) != 0)
            bad++;
    }
    ASSERT_EQ(bad, 0);
    qw_sbuf_free(&b);
}

TEST(sim_fastenc_time_matches_core)
{
    qw_sbuf b = {0};
    uint64_t s = 0x9E3779B97F4A7C15ull;
    int bad = 0;
    int64_t t = 1767225600123456789LL; /* 2026-01-01 */
    for (int i = 0; i < 100000; i++) {
        uint64_t r = xs(&s);
        /* small steps (same second, cache hits) and jumps */
        t += (r & 3) ? (int64_t)(r % 2000000) : (int64_t)(r % 100000) * QW_NS_PER_SEC;
        int64_t tt = (r & 0x100) ? t - t % 1000 : t;
        if ((r & 0xff) == 7)
            tt = t - t % QW_NS_PER_SEC; /* whole second */
        int digits = (int)(r >> 20) % 11, trim = (int)(r >> 30) & 1;
        char ref[QW_TIME_STR_MAX];
        qw_time_format(tt, ref);
        size_t keep = 19;
        if (digits > 0) {
            keep = 20 + (size_t)(digits > 9 ? 9 : digits);
            if (trim) {
                while (keep > 20 && ref[keep - 1] == '0')
                    keep--;
                if (keep == 20)
                    keep = 19;
            }
        }
        ref[keep] = 'Z';
        qw_sbuf_reset(&b);
        qw_sbuf_time(&b, tt, digits, trim);
        if (b.len != keep + 1 || memcmp(b.p, ref, keep + 1) != 0) {
            if (!bad++)
                fprintf(stderr, "%lld d%d t%d: '%.*s' vs '%.*s'\n", (long long)tt, digits, trim,
                        (int)b.len, b.p, (int)keep + 1, ref);
        }
    }
    ASSERT_EQ(bad, 0);
    /* appends after other text, growing the buffer */
    qw_sbuf_reset(&b);
    for (int i = 0; i < 1000; i++) {
        qw_sbuf_chr(&b, '[');
        qw_sbuf_time(&b, t, 6, 0);
        qw_sbuf_str(&b, "],");
    }
    ASSERT_EQ(b.len, 1000 * (1 + 27 + 2));
    qw_sbuf_free(&b);
}

/* time.c: RFC 3339 timestamps <-> int64 ns since the epoch, and clocks.
 *
 * Parsing is done by hand (no strptime/timegm: locale- and TZ-free, and an
 * order of magnitude faster); days are counted with Howard Hinnant's
 * days_from_civil, exact for the proleptic Gregorian calendar.
 */
#include "core/time.h"

#include <time.h>

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

qw_err qw_time_parse(const char *s, size_t n, int64_t *out_ns)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y, mo, d, h, mi, se, frac = 0;
    /* YYYY-MM-DDTHH:MM:SS = 19 bytes minimum, plus zone */
    if (n < 20 || n > 35)
        return QW_BAD_TIME;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &se))
        return QW_BAD_TIME;
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return QW_BAD_TIME;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return QW_BAD_TIME;
    size_t i = 19;
    if (s[i] == '.') {
        i++;
        size_t nf = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nf == 9)
                return QW_BAD_TIME;
            frac = frac * 10 + (s[i] - '0');
            nf++;
            i++;
        }
        if (nf == 0)
            return QW_BAD_TIME;
        for (; nf < 9; nf++)
            frac *= 10;
    }
    int64_t off_s = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int64_t oh, om;
        if (n - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return QW_BAD_TIME;
        off_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return QW_BAD_TIME;
    }
    if (i != n)
        return QW_BAD_TIME;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_s;
    /* int64 ns covers 1677-09-21 .. 2262-04-11; keep to [1970, 2262). */
    if (secs < 0 || secs > 9223372036LL || (secs == 9223372036LL && frac > 854775807))
        return QW_TIME_RANGE;
    *out_ns = secs * QW_NS_PER_SEC + frac;
    return QW_OK;
}

int qw_time_plausible(int64_t t_ns)
{
    return t_ns >= 1262304000LL * QW_NS_PER_SEC && t_ns < 7258118400LL * QW_NS_PER_SEC;
}

size_t qw_time_format(int64_t t_ns, char *buf)
{
    int64_t secs = t_ns / QW_NS_PER_SEC, ns = t_ns % QW_NS_PER_SEC;
    if (ns < 0) {
        ns += QW_NS_PER_SEC;
        secs--;
    }
    int64_t z = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        z--;
    }
    /* civil_from_days */
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    int64_t f[7] = {y, m, d, rem / 3600, rem / 60 % 60, rem % 60, ns};
    static const int w[7] = {4, 2, 2, 2, 2, 2, 9};
    static const char sep[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    size_t n = 0;
    for (int k = 0; k < 7; k++) {
        int64_t v = f[k] < 0 ? 0 : f[k];
        for (int j = w[k] - 1; j >= 0; j--) {
            buf[n + (size_t)j] = (char)('0' + v % 10);
            v /= 10;
        }
        n += (size_t)w[k];
        buf[n++] = sep[k];
    }
    buf[n] = '\0';
    return n;
}

int64_t qw_now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * QW_NS_PER_SEC + ts.tv_nsec;
}

int64_t qw_now_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * QW_NS_PER_SEC + ts.tv_nsec;
}

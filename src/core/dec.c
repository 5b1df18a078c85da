/* dec.c: exact decimal string <-> int64 e8 fixed point.
 *
 * The parser is the gate every price and size passes through, so it is
 * strict: it accepts only what Coinbase writes (unsigned plain decimals)
 * and rejects everything else with QW_BAD_NUMBER rather than guessing.
 * Overflow is checked digit by digit; no double is ever involved.
 */
#include "core/dec.h"

#include <string.h>

#define DEC_MAX_LEN 40 /* longer strings are absurd on this wire */

qw_err qw_dec_parse(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > DEC_MAX_LEN)
        return QW_BAD_NUMBER;
    size_t i = 0;
    uint64_t ip = 0;
    size_t nint = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        ip = ip * 10 + (uint64_t)(s[i] - '0');
        if (ip > (uint64_t)INT64_MAX / QW_DEC_SCALE)
            return QW_BAD_NUMBER;
        i++;
        nint++;
    }
    if (nint == 0)
        return QW_BAD_NUMBER;
    uint64_t fp = 0;
    if (i < n) {
        if (s[i] != '.')
            return QW_BAD_NUMBER;
        i++;
        size_t nfrac = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nfrac < 8)
                fp = fp * 10 + (uint64_t)(s[i] - '0');
            else if (s[i] != '0')
                return QW_BAD_NUMBER; /* a 9th significant decimal */
            nfrac++;
            i++;
        }
        if (nfrac == 0 || i != n)
            return QW_BAD_NUMBER;
        for (; nfrac < 8; nfrac++)
            fp *= 10;
    }
    uint64_t v = ip * (uint64_t)QW_DEC_SCALE + fp;
    if (v > (uint64_t)INT64_MAX)
        return QW_BAD_NUMBER;
    *out = (int64_t)v;
    return QW_OK;
}

/* The fraction of an e8 value (fp < 1e8) without trailing zeros, after the
 * n characters already in buf; terminates buf and returns its length. */
static size_t put_frac(char *buf, size_t n, uint64_t fp)
{
    if (fp) {
        int digits = 8;
        while (fp % 10 == 0) {
            fp /= 10;
            digits--;
        }
        buf[n++] = '.';
        for (int d = digits - 1; d >= 0; d--) {
            buf[n + (size_t)d] = (char)('0' + fp % 10);
            fp /= 10;
        }
        n += (size_t)digits;
    }
    buf[n] = '\0';
    return n;
}

size_t qw_dec_format(int64_t v, char *buf)
{
    char tmp[QW_DEC_STR_MAX];
    size_t n = 0;
    uint64_t u;
    int neg = v < 0;
    u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ip = u / (uint64_t)QW_DEC_SCALE;
    uint64_t fp = u % (uint64_t)QW_DEC_SCALE;
    if (neg)
        buf[n++] = '-';
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (k)
        buf[n++] = tmp[--k];
    return put_frac(buf, n, fp);
}

qw_err qw_dec_parse_sz(const char *s, size_t n, qw_sz *out)
{
    int64_t small;
    if (n <= 19 && qw_dec_parse(s, n, &small) == QW_OK) { /* the common case */
        *out = small;
        return QW_OK;
    }
    if (n == 0 || n > DEC_MAX_LEN)
        return QW_BAD_NUMBER;
    size_t i = 0, nint = 0;
    unsigned __int128 ip = 0;
    const unsigned __int128 imax = (unsigned __int128)QW_SZ_MAX / QW_DEC_SCALE;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        ip = ip * 10 + (unsigned)(s[i] - '0');
        if (ip > imax)
            return QW_BAD_NUMBER;
        i++;
        nint++;
    }
    if (nint == 0)
        return QW_BAD_NUMBER;
    uint64_t fp = 0;
    if (i < n) {
        if (s[i] != '.')
            return QW_BAD_NUMBER;
        i++;
        size_t nfrac = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nfrac < 8)
                fp = fp * 10 + (uint64_t)(s[i] - '0');
            else if (s[i] != '0')
                return QW_BAD_NUMBER;
            nfrac++;
            i++;
        }
        if (nfrac == 0 || i != n)
            return QW_BAD_NUMBER;
        for (; nfrac < 8; nfrac++)
            fp *= 10;
    }
    unsigned __int128 v = ip * QW_DEC_SCALE + fp;
    if (v > (unsigned __int128)QW_SZ_MAX)
        return QW_BAD_NUMBER;
    *out = (qw_sz)v;
    return QW_OK;
}

size_t qw_sz_format(qw_sz v, char *buf)
{
    if (qw_sz_fits64(v))
        return qw_dec_format((int64_t)v, buf);
    char tmp[QW_SZ_STR_MAX];
    size_t n = 0, k = 0;
    int neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    unsigned __int128 ip = u / QW_DEC_SCALE;
    uint64_t fp = (uint64_t)(u % QW_DEC_SCALE);
    if (neg)
        buf[n++] = '-';
    do {
        tmp[k++] = (char)('0' + (int)(ip % 10));
        ip /= 10;
    } while (ip);
    while (k)
        buf[n++] = tmp[--k];
    return put_frac(buf, n, fp);
}

/* dec.h: exact fixed-point decimals, int64 with 8 fractional digits (e8).
 *
 * Prices and sizes never pass through double on their way into a book.
 * Accepted grammar (the wire's decimal strings):  DIGITS [ "." DIGITS ]
 * or "." DIGITS is rejected, as are signs, exponents, spaces, NaN/Inf,
 * more than 8 significant fractional digits (trailing zeros beyond the 8th
 * are accepted: "1.000000000" == 1), and values above INT64_MAX e8.
 * Every spelling of zero ("0", "0.0", "0.00000000", "000") is 0.
 */
#ifndef QW_CORE_DEC_H
#define QW_CORE_DEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_DEC_SCALE 100000000LL /* 1e8 */
#define QW_DEC_STR_MAX 24        /* "-92233720368.54775807" + NUL fits */

/* Parse s[0..n) into *out. Returns QW_OK or QW_BAD_NUMBER (out untouched). */
qw_err qw_dec_parse(const char *s, size_t n, int64_t *out);

/* Format v as the shortest exact decimal: 150000000 -> "1.5", 0 -> "0".
 * buf must hold QW_DEC_STR_MAX bytes; returns the length written (no NUL
 * counted; a NUL is written). */
size_t qw_dec_format(int64_t v, char *buf);

/* Sizes are wider than prices: a level of a SHIB or PEPE book can hold more
 * than 92,233,720,368 units (INT64_MAX e8). A size is a 128-bit e8 integer
 * (aligned to 8 so a book level is 24 bytes), accepted up to QW_SZ_MAX:
 * 22 integer digits and 8 decimals (a million times any token supply;
 * decimal(38, 8) stores it). A sum of up to 10^8 sizes cannot overflow. */
typedef __int128 qw_sz __attribute__((aligned(8)));
#define QW_SZ_MAX ((qw_sz)1000000000000000LL * (qw_sz)1000000000000000LL - 1) /* 10^30 - 1 */
#define QW_SZ_STR_MAX 48 /* 22 + 1 + 8 digits, a sign and NUL fit */

/* Parse a size (same grammar as qw_dec_parse, up to QW_SZ_MAX). */
qw_err qw_dec_parse_sz(const char *s, size_t n, qw_sz *out);
/* Format like qw_dec_format; buf holds QW_SZ_STR_MAX bytes. */
size_t qw_sz_format(qw_sz v, char *buf);
/* 1 when v fits int64 (then it was or could be an int64 e8 value). */
static inline int qw_sz_fits64(qw_sz v)
{
    return v >= INT64_MIN && v <= INT64_MAX;
}
static inline double qw_sz_to_double(qw_sz v)
{
    return (double)v / (double)QW_DEC_SCALE;
}

/* v as a double (for features only). */
static inline double qw_dec_to_double(int64_t v)
{
    return (double)v / (double)QW_DEC_SCALE;
}

#endif

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

/* v as a double (for features only). */
static inline double qw_dec_to_double(int64_t v)
{
    return (double)v / (double)QW_DEC_SCALE;
}

#endif

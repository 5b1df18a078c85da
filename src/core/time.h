/* time.h: timestamps as int64 nanoseconds since the Unix epoch, UTC.
 *
 * qw_time_parse accepts RFC 3339 date-times: YYYY-MM-DD('T'|'t'|' ')HH:MM:SS
 * with an optional fraction of 1-9 digits, then 'Z'/'z' or an offset
 * +HH:MM/-HH:MM. Leap second :60 is rejected. A well-formed time outside
 * 1970..2262 (e.g. the real feed's "0001-01-01T00:00:00.000000Z") returns
 * QW_TIME_RANGE so callers can repair it; malformed text is QW_BAD_TIME. "Plausibility" (e.g.
 * 0001-01-01 or 1970-01-01 placeholders) is the caller's business: see qw_time_plausible.
 */
#ifndef QW_CORE_TIME_H
#define QW_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QW_NS_PER_SEC 1000000000LL
#define QW_NS_PER_MS 1000000LL
#define QW_TIME_STR_MAX 40

/* Parse s[0..n) into *out_ns. QW_OK, QW_TIME_RANGE or QW_BAD_TIME (out untouched). */
qw_err qw_time_parse(const char *s, size_t n, int64_t *out_ns);

/* 1 when t is a believable exchange time: 2010-01-01 <= t < 2200-01-01. */
int qw_time_plausible(int64_t t_ns);

/* Format as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"; buf >= QW_TIME_STR_MAX. */
size_t qw_time_format(int64_t t_ns, char *buf);

/* Monotonic and wall clocks, ns. */
int64_t qw_now_mono_ns(void);
int64_t qw_now_wall_ns(void);

#endif

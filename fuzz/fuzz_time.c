/* fuzz_time.c: libFuzzer target for RFC 3339 parsing: accepted times must
 * round-trip through qw_time_format. */
#include <stdlib.h>

#include "core/time.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    int64_t t;
    if (qw_time_parse((const char *)data, size, &t) != QW_OK)
        return 0;
    if (t < 0)
        abort();
    char buf[QW_TIME_STR_MAX];
    size_t n = qw_time_format(t, buf);
    int64_t back;
    if (qw_time_parse(buf, n, &back) != QW_OK || back != t)
        abort();
    return 0;
}

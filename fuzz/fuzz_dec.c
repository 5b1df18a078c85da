/* fuzz_dec.c: libFuzzer target for the exact decimal parser: whatever is
 * accepted must be a plain unsigned decimal, and format/parse round-trip. */
#include <stdlib.h>
#include <string.h>

#include "core/dec.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    int64_t v;
    if (qw_dec_parse((const char *)data, size, &v) != QW_OK)
        return 0;
    if (v < 0)
        abort();
    for (size_t i = 0; i < size; i++)
        if (!((data[i] >= '0' && data[i] <= '9') || data[i] == '.'))
            abort();
    char buf[QW_DEC_STR_MAX];
    size_t n = qw_dec_format(v, buf);
    int64_t back;
    if (qw_dec_parse(buf, n, &back) != QW_OK || back != v)
        abort();
    return 0;
}

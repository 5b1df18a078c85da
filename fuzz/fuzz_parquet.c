/* fuzz_parquet.c: libFuzzer target for the Parquet reader: open any bytes,
 * read every column of every row group; must never crash, leak or hit UB. */
#include <stddef.h>
#include <stdint.h>

#include "parquet/parquet_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qw_pqr *r;
    char eb[128];
    if (qw_pqr_open_mem(&r, data, size, eb, sizeof eb) != QW_OK)
        return 0;
    qw_pqr_column c;
    qw_pqr_column_alloc(&c);
    for (size_t g = 0; g < qw_pqr_row_groups(r) && g < 16; g++)
        for (size_t i = 0; i < qw_pqr_ncols(r) && i < 64; i++)
            (void)qw_pqr_read(r, g, i, &c);
    qw_pqr_column_free(&c);
    qw_pqr_close(r);
    return 0;
}

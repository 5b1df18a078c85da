/* fuzz_avro.c: libFuzzer target for the Avro container reader: any input
 * must decode or fail cleanly, within the limits (no crash, no leak). */
#include <jansson.h>

#include "avro/avro_json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    qw_avro_limits lim = {1 << 20, 4 << 20, 100000, 32};
    qw_avro_reader *r;
    char err[128];
    if (qw_avro_reader_open(&r, data, size, &lim, err, sizeof(err)) != QW_OK)
        return 0;
    size_t n;
    (void)qw_avro_reader_meta(r, "avro.codec", &n);
    for (int i = 0; i < 100000; i++) {
        json_t *rec;
        if (qw_avro_reader_next(r, &rec) != QW_OK || !rec)
            break;
        json_decref(rec);
    }
    qw_avro_reader_close(r);
    return 0;
}

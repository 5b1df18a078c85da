/* fuzz_frame.c: libFuzzer target for capture-line framing: the message
 * span always lies inside the line. */
#include <stdlib.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    qw_frame fr;
    const char *line = (const char *)data;
    qw_frame_line(line, size, &fr);
    if (fr.kind == QW_FRAME_MSG && (fr.msg < line || fr.msg + fr.len > line + size))
        abort();
    if (fr.recv_ns < 0)
        abort();
    return 0;
}

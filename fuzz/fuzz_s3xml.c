/* fuzz_s3xml.c: libFuzzer target for the S3 answer scanner (objstore/s3_xml.c)
 * as the client reads a ListObjectsV2 page, an error body and a
 * CreateMultipartUpload answer from a server that may be hostile: never a
 * read outside the body, every element inside the range, every decoded
 * text NUL-terminated within its buffer. */
#include <stdlib.h>
#include <string.h>

#include "objstore/objstore.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void text(const char *b, const char *end, const char *name, size_t cap)
{
    char out[1100];
    const char *p = b;
    if (qw_s3_xml_text(&p, end, name, out, cap) != 0)
        return;
    size_t n = strnlen(out, cap);
    if (n >= cap || p < b || p > end)
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *b = (const char *)data, *end = b + size, *p = b, *cb, *ce;
    /* the listing loop of s3_ops.c: <Contents> elements, Key and Size inside */
    for (int i = 0; i < 10000 && qw_s3_xml_elem(&p, end, "Contents", &cb, &ce) == 0; i++) {
        if (cb < b || ce < cb || ce > end || p < ce || p > end)
            abort();
        text(cb, ce, "Key", 1025);
        text(cb, ce, "Size", 32);
    }
    text(b, end, "IsTruncated", 16);
    text(b, end, "NextContinuationToken", 1024);
    text(b, end, "Code", 64); /* an error body */
    text(b, end, "Message", 256);
    text(b, end, "UploadId", 1024); /* CreateMultipartUpload */
    text(b, end, "Key", 1);         /* the smallest buffer: only "" fits */
    return 0;
}

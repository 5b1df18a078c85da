/* parquet_util.c: Parquet helpers shared by writer and reader: type
 * mapping, byte order for statistics, the RLE / bit-packed hybrid. */
#include <string.h>

#include "storage/parquet_int.h"

int qw__pq_phys(qw_pq_type t)
{
    switch (t) {
    case QW_PQ_BOOL: return QW_PQ_PHYS_BOOLEAN;
    case QW_PQ_INT32:
    case QW_PQ_DATE: return QW_PQ_PHYS_INT32;
    case QW_PQ_INT64:
    case QW_PQ_DECIMAL_18_8:
    case QW_PQ_TIMESTAMP_US:
    case QW_PQ_TIMESTAMP_NS: return QW_PQ_PHYS_INT64;
    case QW_PQ_DOUBLE: return QW_PQ_PHYS_DOUBLE;
    case QW_PQ_STRING: return QW_PQ_PHYS_BYTE_ARRAY;
    }
    return -1;
}

int qw__pq_cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, int b_trunc)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    if (an == bn)
        return b_trunc ? -1 : 0;
    return an < bn ? -1 : (b_trunc && n == bn ? 0 : 1);
}

int qw__pq_bit_width(uint32_t max)
{
    int bw = 0;
    while (max) {
        bw++;
        max >>= 1;
    }
    return bw;
}

static void varint(qw_tbuf *o, uint64_t v)
{
    qw_tbuf_varint(o, v);
}

static void put_value(qw_tbuf *o, uint32_t v, int bw)
{
    int nb = (bw + 7) / 8;
    for (int i = 0; i < nb; i++)
        qw_tbuf_byte(o, (uint8_t)(v >> (8 * i)));
}

/* Bit-pack groups of 8 values [a, b) (b - a a multiple of 8 or the tail). */
static void bitpack(qw_tbuf *o, const uint32_t *v, size_t a, size_t b, int bw)
{
    size_t groups = (b - a + 7) / 8;
    varint(o, (uint64_t)groups << 1 | 1);
    uint64_t acc = 0;
    int nacc = 0;
    for (size_t i = a; i < a + groups * 8; i++) {
        uint64_t x = i < b ? v[i] : 0;
        acc |= x << nacc;
        nacc += bw;
        while (nacc >= 8) {
            qw_tbuf_byte(o, (uint8_t)acc);
            acc >>= 8;
            nacc -= 8;
        }
    }
    if (nacc > 0)
        qw_tbuf_byte(o, (uint8_t)acc);
}

void qw__pq_rle_encode(qw_tbuf *o, const uint32_t *v, size_t n, int bw)
{
    if (bw == 0) { /* every value is 0: one RLE run of zero-width values */
        if (n)
            varint(o, (uint64_t)n << 1);
        return;
    }
    size_t i = 0, pend = 0; /* pending bit-packed values start at pend */
    while (i < n) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i])
            j++;
        /* a run worth RLE: at least 8 equal values, taken from a group boundary */
        if (j - i >= 8) {
            size_t lead = (i - pend) % 8;
            size_t rs = i + (lead ? 8 - lead : 0); /* pad the pending part to whole groups */
            if (j - rs >= 8) {
                if (rs > pend) {
                    /* the pending block ends at rs, a multiple of 8 after pend */
                    size_t a = pend;
                    while (a < rs) {
                        size_t b = rs - a > 63 * 8 ? a + 63 * 8 : rs;
                        bitpack(o, v, a, b, bw);
                        a = b;
                    }
                }
                varint(o, (uint64_t)(j - rs) << 1);
                put_value(o, v[i], bw);
                i = pend = j;
                continue;
            }
        }
        i = j;
    }
    size_t a = pend;
    while (a < n) {
        size_t b = n - a > 63 * 8 ? a + 63 * 8 : n;
        bitpack(o, v, a, b, bw);
        a = b;
    }
}

int qw__pq_rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n)
{
    const uint8_t *end = p + len;
    size_t k = 0;
    if (bw < 0 || bw > 32)
        return -1;
    while (k < n) {
        uint64_t h = 0;
        int shift = 0;
        for (;;) {
            if (p >= end || shift > 63)
                return -1;
            uint8_t b = *p++;
            h |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups > (1u << 26))
                return -1;
            uint64_t nvals = groups * 8, bytes = (groups * 8 * (uint64_t)bw + 7) / 8;
            if (bytes > (uint64_t)(end - p))
                return -1;
            uint64_t acc = 0;
            int nacc = 0;
            const uint8_t *q = p;
            uint32_t mask = bw == 32 ? 0xffffffffu : ((1u << bw) - 1);
            for (uint64_t i = 0; i < nvals; i++) {
                while (nacc < bw) {
                    acc |= (uint64_t)(q < p + bytes ? *q++ : 0) << nacc;
                    nacc += 8;
                }
                if (k < n)
                    out[k++] = (uint32_t)(acc & mask);
                acc >>= bw;
                nacc -= bw;
            }
            p += bytes;
        } else {
            uint64_t cnt = h >> 1;
            int nb = (bw + 7) / 8;
            if ((size_t)(end - p) < (size_t)nb)
                return -1;
            uint32_t v = 0;
            for (int i = 0; i < nb; i++)
                v |= (uint32_t)p[i] << (8 * i);
            p += nb;
            if (cnt == 0)
                return -1; /* would loop forever */
            for (uint64_t i = 0; i < cnt && k < n; i++)
                out[k++] = v;
        }
    }
    return 0;
}

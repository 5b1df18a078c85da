/* parquet_util.c: Parquet helpers shared by writer and reader: type
 * mapping, byte order for statistics, the RLE / bit-packed hybrid. */
#include <string.h>

#include "parquet/parquet_int.h"

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
    case QW_PQ_DECIMAL_38_8: return QW_PQ_PHYS_FLBA;
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

/* ---- DELTA_BINARY_PACKED (INT64): blocks of 128 values, 4 miniblocks of 32 ---- */

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* 32 values of width bw (1..64), LSB first, into 4 * bw bytes at o:
 * a 64-bit accumulator, stored 8 bytes at a time. */
static void pack32(uint8_t *o, const uint64_t *v, int bw)
{
    uint64_t acc = 0;
    int n = 0;
    for (int i = 0; i < 32; i++) {
        uint64_t x = v[i];
        acc |= x << n;
        n += bw;
        if (n >= 64) {
            memcpy(o, &acc, 8); /* little-endian hosts only (checked at build) */
            o += 8;
            n -= 64;
            acc = n ? x >> (bw - n) : 0;
        }
    }
    for (int k = 0; n > 0; k++, n -= 8)
        *o++ = (uint8_t)(acc >> (8 * k));
}

void qw__pq_delta_encode(qw_tbuf *o, const int64_t *v, size_t n)
{
    varint(o, 128);
    varint(o, 4);
    varint(o, n);
    varint(o, zigzag64(n ? v[0] : 0));
    uint64_t d[128];
    for (size_t i = 1; i < n; i += 128) {
        size_t m = n - i < 128 ? n - i : 128;
        int64_t mind = INT64_MAX;
        for (size_t k = 0; k < m; k++) {
            d[k] = (uint64_t)v[i + k] - (uint64_t)v[i + k - 1];
            mind = (int64_t)d[k] < mind ? (int64_t)d[k] : mind;
        }
        varint(o, zigzag64(mind));
        uint8_t bws[4] = {0, 0, 0, 0};
        size_t at = o->n;
        qw_tbuf_put(o, bws, 4);
        for (size_t mb = 0; mb < 4 && mb * 32 < m; mb++) {
            uint64_t any = 0;
            for (size_t k = mb * 32; k < mb * 32 + 32; k++) {
                d[k] = k < m ? d[k] - (uint64_t)mind : 0; /* the last miniblock is padded */
                any |= d[k];
            }
            int bw = any ? 64 - __builtin_clzll(any) : 0;
            if (!o->oom)
                o->b[at + mb] = (uint8_t)bw;
            if (bw) {
                uint8_t *p = qw_tbuf_append(o, (size_t)bw * 4);
                if (p)
                    pack32(p, d + mb * 32, bw);
            }
        }
    }
}

static int get_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pp >= end)
            return -1;
        uint8_t b = *(*pp)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

long qw__pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t n)
{
    const uint8_t *s = p, *end = p + len;
    uint64_t bsize, nmb, total, zf;
    if (get_uvarint(&p, end, &bsize) || get_uvarint(&p, end, &nmb) ||
        get_uvarint(&p, end, &total) || get_uvarint(&p, end, &zf))
        return -1;
    if (bsize == 0 || bsize % 128 || bsize > (1u << 20) || nmb == 0 || bsize % nmb ||
        (bsize / nmb) % 32 || total < n)
        return -1;
    uint64_t per = bsize / nmb;
    if (n)
        out[0] = (int64_t)((zf >> 1) ^ (0 - (zf & 1)));
    size_t k = 1;
    while (k < n) {
        uint64_t zm;
        if (get_uvarint(&p, end, &zm) || (uint64_t)(end - p) < nmb)
            return -1;
        uint64_t mind = (zm >> 1) ^ (0 - (zm & 1));
        const uint8_t *bws = p;
        p += nmb;
        for (uint64_t mb = 0; mb < nmb && k < n; mb++) {
            int bw = bws[mb];
            if (bw > 64)
                return -1;
            size_t want = n - k < per ? n - k : (size_t)per;
            size_t full = (size_t)(per * (uint64_t)bw / 8), need = (want * (size_t)bw + 7) / 8;
            if ((size_t)(end - p) < need)
                return -1;
            size_t bit = 0;
            if (bw == 0) {
                for (size_t j = 0; j < want; j++, k++)
                    out[k] = (int64_t)((uint64_t)out[k - 1] + mind);
                want = 0;
            } else if (bw <= 56) { /* one unaligned little-endian word per value */
                const uint64_t mask = ((uint64_t)1 << bw) - 1;
                const size_t avail = (size_t)(end - p); /* >= need: at < avail below */
                for (size_t j = 0; j < want; j++, k++, bit += (size_t)bw) {
                    size_t at = bit >> 3;
                    uint64_t w = 0;
                    if (__builtin_expect(at + 8 <= avail, 1))
                        memcpy(&w, p + at, 8); /* little-endian hosts only (as pack32) */
                    else
                        for (size_t q = at; q < avail; q++)
                            w |= (uint64_t)p[q] << (8 * (q - at));
                    out[k] = (int64_t)((uint64_t)out[k - 1] + mind + ((w >> (bit & 7)) & mask));
                }
                want = 0;
            }
            for (size_t j = 0; j < want; j++, k++, bit += (size_t)bw) {
                uint64_t x = 0;
                for (int got = 0; got < bw;) {
                    size_t at = (bit + (size_t)got) >> 3;
                    int sh = (int)((bit + (size_t)got) & 7), take = 8 - sh;
                    take = take > bw - got ? bw - got : take;
                    x |= (uint64_t)((p[at] >> sh) & ((1u << take) - 1)) << got;
                    got += take;
                }
                out[k] = (int64_t)((uint64_t)out[k - 1] + mind + x);
            }
            p += (size_t)(end - p) < full ? (size_t)(end - p) : full;
        }
    }
    return (long)(p - s);
}

void qw__pq_dec38_be(qw_sz v, uint8_t out[QW_PQ_DEC38_BYTES])
{
    unsigned __int128 u = (unsigned __int128)v;
    uint64_t hi = __builtin_bswap64((uint64_t)(u >> 64)); /* little-endian hosts only */
    uint64_t lo = __builtin_bswap64((uint64_t)u);
    memcpy(out, &hi, 8);
    memcpy(out + 8, &lo, 8);
}

/* A big-endian two's complement integer of n (1..16) bytes into *out. */
int qw__pq_dec_be_to_i128(const uint8_t *p, size_t n, qw_sz *out)
{
    if (n == 0 || n > 16)
        return -1;
    unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < n; i++)
        u = u << 8 | p[i];
    *out = (qw_sz)u;
    return 0;
}

int qw__pq_dec_be_to_i64(const uint8_t *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 16)
        return -1;
    uint8_t ext = (p[0] & 0x80) ? 0xff : 0x00;
    size_t skip = n > 8 ? n - 8 : 0;
    for (size_t i = 0; i < skip; i++)
        if (p[i] != ext)
            return -1; /* does not fit int64 */
    uint64_t u = ext ? UINT64_MAX : 0;
    for (size_t i = skip; i < n; i++)
        u = u << 8 | p[i];
    int64_t v = (int64_t)u;
    if (skip && ((v < 0) != (ext != 0)))
        return -1; /* the sign bit of the low 8 bytes disagrees with the extension */
    *out = v;
    return 0;
}

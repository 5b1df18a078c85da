/* checkpoint.c: save and load a classifier's complete state as a small,
 * versioned, checksummed binary file.
 *
 * Layout (all integers little-endian, doubles as their IEEE-754 bit
 * pattern in a little-endian u64, so values round-trip bit for bit):
 *   off  size
 *     0     8  magic "QWMODEL\0"
 *     8     4  u32 version (QW_CHECKPOINT_VERSION = 1)
 *    12     4  u32 payload length in bytes
 *    16        payload:
 *              u32 n_features, u32 window, f64 alpha,
 *              u64 n_class[0], u64 n_class[1], u64 scored, u64 scaler_n_seen,
 *              f64 mean[nf], f64 var[nf], f64 coef[nf], f64 intercept, f64 t,
 *              u32 ring_fill, u8 ring[ring_fill]   (oldest first)
 *   end     4  u32 CRC-32 (IEEE 802.3, as zlib) of every byte before it
 * The scaler's scale_ is not stored: it is a function of mean, var and
 * n_seen and is recomputed on load exactly as partial_fit computes it.
 *
 * Design: decoding checks the frame (size bound, magic, version, length,
 * checksum), then the payload's shape, then hands the decoded state to
 * qw_classifier_restore, which checks consistency against the target
 * (n_features, window, alpha, counters) before changing anything. Any
 * failure leaves the classifier as it was. Saving writes a temp file in the
 * target's directory, fsyncs it, renames it over the target and fsyncs the
 * directory, so a crash leaves either the old or the new checkpoint.
 * Buffers are on the stack (a checkpoint is at most ~1.5 KiB); the only
 * heap allocation is the temp file name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/file.h"
#include "model/model.h"

#define HEADER_LEN 16
#define FIXED_PAYLOAD (4 + 4 + 8 + 4 * 8 + 8 + 8 + 4) /* without arrays */
#define MAX_LEN                                                                                    \
    (HEADER_LEN + FIXED_PAYLOAD + 3 * 8 * QW_MODEL_MAX_FEATURES + QW_ROLLING_MAX_WINDOW + 4)

static const uint8_t magic[8] = {'Q', 'W', 'M', 'O', 'D', 'E', 'L', 0};

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

uint32_t qw_model_crc32(const uint8_t *p, size_t n)
{
    return crc32_ieee(p, n);
}

/* ---- little-endian writer (the caller sized the buffer) ---- */
typedef struct wr {
    uint8_t *p;
    size_t n;
} wr;

static void put_u32(wr *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void put_u64(wr *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void put_f64(wr *w, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_u64(w, v);
}

/* ---- bounds-checked little-endian reader ---- */
typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    bool short_read;
} rd;

static uint64_t get_le(rd *r, int bytes)
{
    uint64_t v = 0;
    if (r->n - r->off < (size_t)bytes) {
        r->short_read = true;
        r->off = r->n;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += (size_t)bytes;
    return v;
}

static uint32_t get_u32(rd *r)
{
    return (uint32_t)get_le(r, 4);
}

static uint64_t get_u64(rd *r)
{
    return get_le(r, 8);
}

static double get_f64(rd *r)
{
    uint64_t v = get_le(r, 8);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

static size_t payload_len(uint32_t nf, uint32_t fill)
{
    return FIXED_PAYLOAD + 3 * 8 * (size_t)nf + fill;
}

size_t qw_checkpoint_size(const qw_classifier *c)
{
    qw_classifier_stats st;
    qw_classifier_stats_get(c, &st);
    return HEADER_LEN +
           payload_len((uint32_t)qw_classifier_n_features(c), (uint32_t)st.window_fill) + 4;
}

qw_err qw_checkpoint_encode(const qw_classifier *c, uint8_t *buf, size_t cap, size_t *len_out)
{
    qw_classifier_state st;
    qw_classifier_state_get(c, &st);
    size_t plen = payload_len(st.n_features, st.ring_fill);
    size_t total = HEADER_LEN + plen + 4;
    *len_out = 0;
    if (cap < total)
        return QW_INVAL;
    wr w = {buf, 0};
    memcpy(w.p, magic, sizeof magic);
    w.n = sizeof magic;
    put_u32(&w, QW_CHECKPOINT_VERSION);
    put_u32(&w, (uint32_t)plen);
    put_u32(&w, st.n_features);
    put_u32(&w, st.window);
    put_f64(&w, st.alpha);
    put_u64(&w, st.n_class[0]);
    put_u64(&w, st.n_class[1]);
    put_u64(&w, st.scored);
    put_u64(&w, st.scaler_n_seen);
    for (uint32_t j = 0; j < st.n_features; j++)
        put_f64(&w, st.mean[j]);
    for (uint32_t j = 0; j < st.n_features; j++)
        put_f64(&w, st.var[j]);
    for (uint32_t j = 0; j < st.n_features; j++)
        put_f64(&w, st.coef[j]);
    put_f64(&w, st.intercept);
    put_f64(&w, st.t);
    put_u32(&w, st.ring_fill);
    memcpy(w.p + w.n, st.ring, st.ring_fill);
    w.n += st.ring_fill;
    put_u32(&w, crc32_ieee(buf, w.n));
    *len_out = w.n;
    return QW_OK;
}

qw_err qw_checkpoint_decode(qw_classifier *c, const uint8_t *buf, size_t len, char *errbuf,
                            size_t errlen)
{
    if (len < HEADER_LEN + 4) {
        QW_SETERR(errbuf, errlen, "checkpoint truncated: %zu bytes", len);
        return QW_CORRUPT;
    }
    if (len > MAX_LEN) {
        QW_SETERR(errbuf, errlen, "checkpoint too large: %zu bytes (at most %d)", len, MAX_LEN);
        return QW_CORRUPT;
    }
    if (memcmp(buf, magic, sizeof magic) != 0) {
        QW_SETERR(errbuf, errlen, "not a QuoteWatch model checkpoint (bad magic)");
        return QW_CORRUPT;
    }
    rd r = {buf, len, sizeof magic, false};
    uint32_t version = get_u32(&r);
    uint32_t plen = get_u32(&r);
    if (version != QW_CHECKPOINT_VERSION) {
        QW_SETERR(errbuf, errlen, "unsupported checkpoint version %u (this build reads %d)",
                  (unsigned)version, QW_CHECKPOINT_VERSION);
        return QW_CORRUPT;
    }
    if ((size_t)plen != len - HEADER_LEN - 4) {
        QW_SETERR(errbuf, errlen, "checkpoint %s: header says %u payload bytes, file has %zu",
                  (size_t)plen > len - HEADER_LEN - 4 ? "truncated" : "has trailing bytes",
                  (unsigned)plen, len - HEADER_LEN - 4);
        return QW_CORRUPT;
    }
    uint32_t want = (uint32_t)buf[len - 4] | (uint32_t)buf[len - 3] << 8 |
                    (uint32_t)buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24;
    uint32_t got = crc32_ieee(buf, len - 4);
    if (want != got) {
        QW_SETERR(errbuf, errlen, "checkpoint checksum mismatch (stored %08x, computed %08x)",
                  (unsigned)want, (unsigned)got);
        return QW_CORRUPT;
    }

    qw_classifier_state st;
    memset(&st, 0, sizeof st);
    r.n = len - 4; /* payload ends before the CRC */
    st.n_features = get_u32(&r);
    st.window = get_u32(&r);
    if (st.n_features < 1 || st.n_features > QW_MODEL_MAX_FEATURES || st.window < 1 ||
        st.window > QW_ROLLING_MAX_WINDOW) {
        QW_SETERR(errbuf, errlen, "checkpoint has %u features and window %u (limits %d, %d)",
                  (unsigned)st.n_features, (unsigned)st.window, QW_MODEL_MAX_FEATURES,
                  QW_ROLLING_MAX_WINDOW);
        return QW_CORRUPT;
    }
    st.alpha = get_f64(&r);
    st.n_class[0] = get_u64(&r);
    st.n_class[1] = get_u64(&r);
    st.scored = get_u64(&r);
    st.scaler_n_seen = get_u64(&r);
    for (uint32_t j = 0; j < st.n_features; j++)
        st.mean[j] = get_f64(&r);
    for (uint32_t j = 0; j < st.n_features; j++)
        st.var[j] = get_f64(&r);
    for (uint32_t j = 0; j < st.n_features; j++)
        st.coef[j] = get_f64(&r);
    st.intercept = get_f64(&r);
    st.t = get_f64(&r);
    st.ring_fill = get_u32(&r);
    if (r.short_read || st.ring_fill > st.window || r.n - r.off != st.ring_fill) {
        QW_SETERR(errbuf, errlen,
                  "checkpoint payload malformed (%u features, window %u, %u entries)",
                  (unsigned)st.n_features, (unsigned)st.window, (unsigned)st.ring_fill);
        return QW_CORRUPT;
    }
    memcpy(st.ring, buf + r.off, st.ring_fill);

    char why[QW_CHECKPOINT_ERRLEN] = "";
    if (qw_classifier_restore(c, &st, why, sizeof why) != QW_OK) {
        QW_SETERR(errbuf, errlen, "checkpoint does not fit this model: %s", why);
        return QW_CORRUPT;
    }
    return QW_OK;
}

static qw_err io_fail(const char *what, const char *path, char *errbuf, size_t errlen)
{
    int e = errno;
    char why[128]; /* thread-safe: writer and committer threads call this too */
    QW_SETERR(errbuf, errlen, "%s %s: %s", what, path, qw_errno_str(e, why, sizeof why));
    return QW_IO;
}

qw_err qw_checkpoint_save(const qw_classifier *c, const char *path, char *errbuf, size_t errlen)
{
    uint8_t buf[MAX_LEN];
    size_t len;
    qw_err e = qw_checkpoint_encode(c, buf, sizeof buf, &len);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "internal: checkpoint larger than %d bytes", MAX_LEN);
        return e;
    }
    return qw_file_write_atomic(path, buf, len, errbuf, errlen);
}

qw_err qw_checkpoint_load(qw_classifier *c, const char *path, char *errbuf, size_t errlen)
{
    uint8_t buf[MAX_LEN + 1]; /* one extra byte detects oversized files */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail("open", path, errbuf, errlen);
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t k = read(fd, buf + n, sizeof buf - n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            qw_err e = io_fail("read", path, errbuf, errlen);
            close(fd);
            return e;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    return qw_checkpoint_decode(c, buf, n, errbuf, errlen);
}

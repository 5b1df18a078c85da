/* hist.h: fixed-size log-linear latency histogram (HdrHistogram-like).
 *
 * Values are unsigned 64-bit (nanoseconds by convention). Values below 16
 * are exact; above, each power of two is split into 16 linear sub-buckets,
 * so any reported quantile is within 1/16 (6.25%) above the true value.
 * Recording is O(1), branch-light and never allocates: the histogram is a
 * plain struct (7.8 KB) owned by one thread; copy it to publish.
 */
#ifndef QW_CORE_HIST_H
#define QW_CORE_HIST_H

#include <stdint.h>

#define QW_HIST_SUB_BITS 4
#define QW_HIST_SUB (1u << QW_HIST_SUB_BITS)
#define QW_HIST_BUCKETS ((64 - QW_HIST_SUB_BITS + 1) * QW_HIST_SUB)

typedef struct qw_hist {
    uint64_t count;
    uint64_t sum; /* saturates at UINT64_MAX */
    uint64_t min, max;
    uint64_t b[QW_HIST_BUCKETS];
} qw_hist;

void qw_hist_reset(qw_hist *h);
void qw_hist_record(qw_hist *h, uint64_t v);
void qw_hist_merge(qw_hist *dst, const qw_hist *src);
/* q in [0,1]: the upper edge of the bucket holding the q-th value, clamped
 * to [min, max]; 0 when empty. */
uint64_t qw_hist_quantile(const qw_hist *h, double q);
/* Number of recorded values <= edge, exact when edge + 1 is a bucket
 * boundary (every power of two is one: Prometheus `le` buckets). */
uint64_t qw_hist_count_le(const qw_hist *h, uint64_t edge);
/* Bucket index of v and that bucket's inclusive value range. */
unsigned qw_hist_index(uint64_t v);
void qw_hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *hi);

#endif

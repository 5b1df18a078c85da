/* rolling.c: rolling accuracy and base rates of one product's model.
 *
 * Design: a ring of the last `window` labeled predictions, one byte each
 * (bit 0 = predicted class, p >= 0.5; bit 1 = label), with running sums of
 * correct predictions and positive labels in the window so every query is
 * O(1). All-time counters cover every labeled sample, with or without a
 * prediction, for the long-run base rate. The ring is allocated once at
 * create; add() never allocates.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "model/model.h"

#define E_PRED 1u  /* predicted class 1 */
#define E_LABEL 2u /* label 1 */

struct qw_rolling {
    size_t window;
    size_t head; /* next slot to write */
    size_t fill;
    size_t win_correct, win_pos; /* over the fill entries in the ring */
    uint64_t scored, labels, positives;
    uint8_t *ring;
};

qw_err qw_rolling_create(qw_rolling **out, size_t window)
{
    *out = NULL;
    if (window == 0)
        window = QW_ROLLING_DEFAULT_WINDOW;
    if (window > QW_ROLLING_MAX_WINDOW)
        return QW_INVAL;
    qw_rolling *r = qw_calloc(1, sizeof *r);
    if (!r)
        goto fail;
    r->window = window;
    r->ring = qw_calloc(window, 1);
    if (!r->ring)
        goto fail;
    *out = r;
    return QW_OK;
fail:
    qw_rolling_destroy(r);
    return QW_NOMEM;
}

void qw_rolling_destroy(qw_rolling *r)
{
    if (!r)
        return;
    qw_free(r->ring);
    qw_free(r);
}

static bool entry_correct(uint8_t e)
{
    return ((e & E_PRED) != 0) == ((e & E_LABEL) != 0);
}

static void push(qw_rolling *r, uint8_t e)
{
    if (r->fill == r->window) { /* evict the oldest, which sits at head */
        uint8_t old = r->ring[r->head];
        r->win_correct -= entry_correct(old);
        r->win_pos -= (old & E_LABEL) != 0;
    } else {
        r->fill++;
    }
    r->ring[r->head] = e;
    r->head = r->head + 1 == r->window ? 0 : r->head + 1; /* no division per sample */
    r->win_correct += entry_correct(e);
    r->win_pos += (e & E_LABEL) != 0;
}

qw_err qw_rolling_add(qw_rolling *r, int y, double p)
{
    if (y != 0 && y != 1)
        return QW_INVAL;
    if (!isnan(p) && !(p >= 0.0 && p <= 1.0))
        return QW_INVAL;
    r->labels++;
    r->positives += (uint64_t)y;
    if (isnan(p))
        return QW_OK;
    r->scored++;
    push(r, (uint8_t)((p >= 0.5 ? E_PRED : 0u) | (y ? E_LABEL : 0u)));
    return QW_OK;
}

size_t qw_rolling_window(const qw_rolling *r)
{
    return r->window;
}

size_t qw_rolling_fill(const qw_rolling *r)
{
    return r->fill;
}

uint64_t qw_rolling_scored(const qw_rolling *r)
{
    return r->scored;
}

uint64_t qw_rolling_labels(const qw_rolling *r)
{
    return r->labels;
}

uint64_t qw_rolling_positives(const qw_rolling *r)
{
    return r->positives;
}

double qw_rolling_accuracy(const qw_rolling *r)
{
    return r->fill ? (double)r->win_correct / (double)r->fill : NAN;
}

double qw_rolling_base_rate(const qw_rolling *r)
{
    return r->fill ? (double)r->win_pos / (double)r->fill : NAN;
}

double qw_rolling_base_rate_all(const qw_rolling *r)
{
    return r->labels ? (double)r->positives / (double)r->labels : NAN;
}

size_t qw_rolling_entries(const qw_rolling *r, uint8_t *out)
{
    /* oldest entry: head when full, slot 0 otherwise */
    size_t start = r->fill == r->window ? r->head : 0;
    for (size_t i = 0; i < r->fill; i++)
        out[i] = r->ring[(start + i) % r->window];
    return r->fill;
}

qw_err qw_rolling_restore(qw_rolling *r, const uint8_t *entries, size_t fill, uint64_t scored,
                          uint64_t labels, uint64_t positives)
{
    if (fill > r->window || fill > scored || scored > labels || positives > labels)
        return QW_INVAL;
    size_t pos = 0;
    for (size_t i = 0; i < fill; i++) {
        if (entries[i] > (E_PRED | E_LABEL))
            return QW_INVAL;
        pos += (entries[i] & E_LABEL) != 0;
    }
    /* the window's labels are a subset of all labels */
    if (pos > positives || fill - pos > labels - positives)
        return QW_INVAL;
    memset(r->ring, 0, r->window);
    r->head = 0;
    r->fill = 0;
    r->win_correct = 0;
    r->win_pos = 0;
    for (size_t i = 0; i < fill; i++)
        push(r, entries[i]);
    r->scored = scored;
    r->labels = labels;
    r->positives = positives;
    return QW_OK;
}

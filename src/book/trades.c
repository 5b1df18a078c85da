/* trades.c: a bounded ring of one product's recent trades.
 *
 * Design: one array of `capacity` records allocated at create; nothing is
 * allocated afterwards. `next` is the slot the next push writes; once the
 * ring is full a push overwrites the oldest record, which is exactly the
 * slot at `next`. Record i (0 = most recent) lives at next - 1 - i, taken
 * modulo capacity. `total` counts every push ever made, so callers can
 * tell how many trades fell off the end (total - count).
 *
 * Loop thread only; not thread-safe.
 */
#include <stdint.h>

#include "book/book.h"
#include "core/alloc.h"

struct qw_trades {
    qw_trade_rec *r; /* capacity slots */
    size_t cap;      /* >= 1 */
    size_t next;     /* slot of the next push, 0..cap-1 */
    size_t count;    /* valid records, <= cap */
    uint64_t total;  /* pushes ever made (clear does not reset it) */
};

qw_err qw_trades_create(qw_trades **out, size_t capacity)
{
    if (!out)
        return QW_INVAL;
    *out = NULL;
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(qw_trade_rec))
        return QW_INVAL;
    qw_trades *t = qw_calloc(1, sizeof *t);
    if (!t)
        return QW_NOMEM;
    t->r = qw_malloc(capacity * sizeof *t->r);
    if (!t->r)
        goto fail;
    t->cap = capacity;
    *out = t;
    return QW_OK;
fail:
    qw_trades_destroy(t); /* accepts the half-built ring */
    return QW_NOMEM;
}

void qw_trades_destroy(qw_trades *t)
{
    if (!t)
        return;
    qw_free(t->r);
    qw_free(t);
}

/* Forget the held records; `total` keeps counting across clears, as it
 * is "ever pushed". */
void qw_trades_clear(qw_trades *t)
{
    t->next = 0;
    t->count = 0;
}

void qw_trades_push(qw_trades *t, const qw_trade_rec *r)
{
    t->r[t->next] = *r;
    if (++t->next == t->cap)
        t->next = 0;
    if (t->count < t->cap)
        t->count++;
    t->total++;
}

size_t qw_trades_count(const qw_trades *t)
{
    return t->count;
}

uint64_t qw_trades_total(const qw_trades *t)
{
    return t->total;
}

const qw_trade_rec *qw_trades_get(const qw_trades *t, size_t i)
{
    if (i >= t->count)
        return NULL;
    /* next - 1 - i, modulo cap, without going below zero */
    size_t back = i + 1;
    size_t slot = t->next >= back ? t->next - back : t->next + t->cap - back;
    return &t->r[slot];
}

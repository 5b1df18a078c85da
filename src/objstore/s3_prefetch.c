/* s3_prefetch.c: read-ahead of ranged reads (qw_fileio_prefetch).
 *
 * Why: the lake reader (storage/lake_read.c) reads a data file's footer in
 * its scan and the whole file when the merge reaches it, one file after the
 * other. On an object store each read waits a round trip that the reader
 * spends idle (`replay --lake` from s3:// ran at half the rate of file://
 * with our CPU mostly waiting). It knows which files come next, so it
 * names them here and QW_S3_PREFETCHERS threads GET them while it decodes.
 *
 * Rules:
 *  - a hint is (uri, off, len); a read_range of uri inside a hinted range
 *    takes its bytes (once: the entry goes), and a whole read of uri takes
 *    a hint at offset 0 whose GET came back shorter than asked (the whole
 *    object: hint one byte more than a known length). Queued and not started: the
 *    reader drops the hint and GETs itself; running: it waits for it;
 *    failed: it GETs itself (with the usual retries and errors), so a
 *    prefetch never changes what a read returns, only when;
 *  - bounded: at most QW_S3_PREFETCH_BYTES and QW_S3_PREFETCH_SLOTS hints
 *    held; beyond that settled entries are evicted oldest first, and a hint
 *    that still does not fit is ignored;
 *  - a write, stream commit or remove of uri drops its hints (a running
 *    GET's bytes are discarded when it ends);
 *  - threads start with the first hint (a writer never pays for them);
 *    destroy waits for running GETs.
 * Threads: one mutex and two condition variables; GETs run outside it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "objstore/s3_int.h"

enum { QUEUED, RUNNING, DONE, FAILED };

typedef struct pf {
    struct pf *next;
    char uri[QW_FILEIO_PATH_MAX], bucket[256], key[QW_S3_KEY_MAX + 1];
    uint64_t off;
    size_t len, got;
    uint8_t *data;
    int state;
    int stale;   /* dropped, taken or evicted while busy: unlinked once idle */
    int waiters; /* readers waiting for its GET (they hold it: not freed) */
} pf;

struct qw_s3_prefetch {
    qw_s3 *s;
    pthread_mutex_t mu;
    pthread_cond_t work, settled;
    pthread_t th[QW_S3_PREFETCHERS];
    int nth, stop;
    pf *head; /* oldest first */
    size_t bytes, n;
    uint64_t served, wasted;
};

static void unlink_pf(qw_s3_prefetch *p, pf *e)
{
    pf **pp = &p->head;
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    p->bytes -= e->len;
    p->n--;
    qw_free(e->data);
    qw_free(e);
}

static void *worker(void *arg)
{
    qw_s3_prefetch *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        pf *e = p->head;
        while (e && e->state != QUEUED)
            e = e->next;
        if (!e) {
            if (p->stop)
                break;
            pthread_cond_wait(&p->work, &p->mu);
            continue;
        }
        e->state = RUNNING;
        pthread_mutex_unlock(&p->mu);
        uint8_t *d = qw_malloc(e->len ? e->len : 1);
        size_t got = 0;
        qw_err r = d ? qw_s3_get_range(p->s, e->bucket, e->key, e->off, d, e->len, &got) : QW_NOMEM;
        pthread_mutex_lock(&p->mu);
        if (r == QW_OK) {
            e->data = d, e->got = got, e->state = DONE;
        } else {
            qw_free(d);
            e->state = FAILED;
        }
        if (e->stale && !e->waiters) {
            p->wasted++;
            unlink_pf(p, e);
        }
        pthread_cond_broadcast(&p->settled);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

qw_err qw__s3_prefetch_create(qw_s3_prefetch **out, qw_s3 *s)
{
    qw_s3_prefetch *p = qw_calloc(1, sizeof *p);
    if (!p)
        return QW_NOMEM;
    p->s = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->settled, NULL);
    *out = p;
    return QW_OK;
}

void qw__s3_prefetch_destroy(qw_s3_prefetch *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nth; i++)
        pthread_join(p->th[i], NULL);
    while (p->head)
        unlink_pf(p, p->head);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->settled);
    qw_free(p);
}

/* Evict settled entries, oldest first, until need more bytes fit. */
static void make_room(qw_s3_prefetch *p, size_t need)
{
    pf *e = p->head;
    while (e && (p->bytes + need > QW_S3_PREFETCH_BYTES || p->n >= QW_S3_PREFETCH_SLOTS)) {
        pf *next = e->next;
        if ((e->state == DONE || e->state == FAILED) && !e->waiters) {
            p->wasted++;
            unlink_pf(p, e);
        }
        e = next;
    }
}

void qw__s3_prefetch_add(qw_s3_prefetch *p, const char *uri, const char *bucket, const char *key,
                         uint64_t off, size_t len)
{
    if (!p || !len || len > QW_S3_PREFETCH_BYTES)
        return;
    pthread_mutex_lock(&p->mu);
    for (pf *e = p->head; e; e = e->next)
        if (!e->stale && e->off == off && e->len == len && strcmp(e->uri, uri) == 0)
            goto out; /* already hinted */
    make_room(p, len);
    if (p->bytes + len > QW_S3_PREFETCH_BYTES || p->n >= QW_S3_PREFETCH_SLOTS)
        goto out; /* full of running or unread hints: this one is not worth a wait */
    for (; p->nth < QW_S3_PREFETCHERS; p->nth++)
        if (pthread_create(&p->th[p->nth], NULL, worker, p) != 0)
            break;
    if (!p->nth)
        goto out;
    pf *e = qw_calloc(1, sizeof *e);
    if (!e)
        goto out;
    snprintf(e->uri, sizeof e->uri, "%s", uri);
    snprintf(e->bucket, sizeof e->bucket, "%s", bucket);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->off = off, e->len = len, e->state = QUEUED;
    pf **tail = &p->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = e;
    p->bytes += len;
    p->n++;
    pthread_cond_signal(&p->work);
out:
    pthread_mutex_unlock(&p->mu);
}

/* The hint that serves a read of [off, off + len) (whole: a hint at
 * offset 0), its GET settled; NULL when there is none or it had not
 * started (then dropped: the reader's own GET is as quick). The caller
 * ends with used(). Under p->mu. */
static pf *settled_hint(qw_s3_prefetch *p, const char *uri, uint64_t off, size_t len, int whole)
{
    pf *e = p->head;
    for (; e; e = e->next)
        if (!e->stale && strcmp(e->uri, uri) == 0 &&
            (whole ? e->off == 0 : off >= e->off && off + len <= e->off + e->len))
            break;
    if (e && e->state == QUEUED) {
        unlink_pf(p, e);
        return NULL;
    }
    if (e) {
        e->waiters++; /* e stays while waited for: only the last waiter unlinks it */
        while (e->state == RUNNING)
            pthread_cond_wait(&p->settled, &p->mu);
        e->waiters--;
    }
    return e;
}

/* A hint serves one read; a failed one none (the reader GETs and reports). */
static void used(qw_s3_prefetch *p, pf *e)
{
    e->stale = 1;
    if (!e->waiters)
        unlink_pf(p, e);
}

int qw__s3_prefetch_take(qw_s3_prefetch *p, const char *uri, uint64_t off, void *buf, size_t len,
                         size_t *got)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    pf *e = settled_hint(p, uri, off, len, 0);
    int served = e && e->state == DONE && !e->stale;
    if (served) {
        size_t at = (size_t)(off - e->off);
        size_t n = e->got > at ? e->got - at : 0;
        n = n < len ? n : len;
        memcpy(buf, e->data + at, n);
        *got = n;
        p->served++;
    }
    if (e)
        used(p, e);
    pthread_mutex_unlock(&p->mu);
    return served;
}

int qw__s3_prefetch_take_whole(qw_s3_prefetch *p, const char *uri, size_t max, uint8_t **out,
                               size_t *len)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    pf *e = settled_hint(p, uri, 0, 0, 1);
    /* whole only if the object ended inside the hint (got < len): then
     * data has room for the terminating NUL */
    int served = e && e->state == DONE && !e->stale && e->got < e->len && e->got <= max;
    if (served) {
        e->data[e->got] = 0;
        *out = e->data, *len = e->got;
        e->data = NULL;
        p->served++;
    }
    if (e)
        used(p, e);
    pthread_mutex_unlock(&p->mu);
    return served;
}

void qw__s3_prefetch_drop(qw_s3_prefetch *p, const char *uri)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    for (pf *e = p->head, *next; e; e = next) {
        next = e->next;
        if (strcmp(e->uri, uri) != 0 || e->stale)
            continue;
        if (e->state == RUNNING || e->waiters)
            e->stale = 1;
        else
            unlink_pf(p, e);
    }
    pthread_mutex_unlock(&p->mu);
}

void qw__s3_prefetch_counts(qw_s3_prefetch *p, uint64_t *served, uint64_t *wasted)
{
    *served = *wasted = 0;
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    *served = p->served, *wasted = p->wasted;
    pthread_mutex_unlock(&p->mu);
}

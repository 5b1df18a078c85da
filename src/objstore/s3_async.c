/* s3_async.c: background PUTs of deferred-sync commits.
 *
 * Why: the lake's writer thread commits each data file with
 * QW_FILEIO_DEFER_SYNC and hands it to the committer, which calls
 * qw_fileio_sync before a manifest refers to the file. On local disk that
 * keeps the writer from waiting for fsync; on an object store the writer
 * waited for the whole PUT instead (tens of ms a file on loopback), with
 * nothing else to do. Here a deferred commit of an object that fits one
 * PUT queues the upload for QW_S3_UPLOADERS threads and returns; sync
 * waits for that upload and returns its outcome.
 *
 * Rules:
 *  - any read, stat or remove of the URI through this client waits for
 *    its upload first, so for this process the object is there once commit
 *    returned (another process cannot know the name before sync anyway);
 *  - a failed upload keeps its bytes: sync PUTs it again (with the usual
 *    retries) and reports the error if that fails too, so a committer that
 *    retries its commit retries the upload; remove forgets it;
 *  - bounded: queued and failed uploads hold at most QW_S3_ASYNC_BYTES
 *    (buffer capacity counted); commit waits for room. When only failed
 *    uploads hold the room, the oldest one's bytes are dropped (its sync
 *    then fails for good: the committer's job fails as a failed PUT would
 *    have) rather than blocking the writer forever;
 *  - destroy waits for the queued uploads to finish.
 * Threads: one mutex and two condition variables; the PUTs run outside
 * the mutex. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "objstore/s3_int.h"

enum { QUEUED, RUNNING, DONE, FAILED, DROPPED };

typedef struct job {
    struct job *next;
    char uri[QW_FILEIO_PATH_MAX], bucket[256], key[QW_S3_KEY_MAX + 1];
    uint8_t *data;
    size_t n, cost;
    int state;
    qw_err err;
    char why[256];
} job;

struct qw_s3_async {
    qw_s3 *s;
    pthread_mutex_t mu;
    pthread_cond_t work, settled; /* work: a job queued or stop; settled: a job ended */
    pthread_t th[QW_S3_UPLOADERS];
    int nth, stop;
    job *head, *tail; /* every job not yet synced or forgotten, oldest first */
    size_t bytes;
};

static void *uploader(void *arg)
{
    qw_s3_async *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        job *j = a->head;
        while (j && j->state != QUEUED)
            j = j->next;
        if (!j) {
            if (a->stop)
                break;
            pthread_cond_wait(&a->work, &a->mu);
            continue;
        }
        j->state = RUNNING;
        pthread_mutex_unlock(&a->mu);
        qw_err e = qw_s3_put(a->s, j->bucket, j->key, j->data, j->n);
        pthread_mutex_lock(&a->mu);
        j->err = e;
        if (e == QW_OK) {
            j->state = DONE;
            qw__s3_buf_give(a->s, j->data, j->cost); /* durable: only the outcome is kept */
            j->data = NULL;
            a->bytes -= j->cost;
        } else {
            j->state = FAILED;
            snprintf(j->why, sizeof j->why, "%s", qw_s3_errmsg());
        }
        pthread_cond_broadcast(&a->settled);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

qw_err qw__s3_async_create(qw_s3_async **out, qw_s3 *s)
{
    *out = NULL;
    qw_s3_async *a = qw_calloc(1, sizeof *a);
    if (!a)
        return QW_NOMEM;
    a->s = s;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->work, NULL);
    pthread_cond_init(&a->settled, NULL);
    for (; a->nth < QW_S3_UPLOADERS; a->nth++)
        if (pthread_create(&a->th[a->nth], NULL, uploader, a) != 0)
            break;
    if (!a->nth) {
        qw__s3_async_destroy(a);
        return QW_NOMEM;
    }
    *out = a;
    return QW_OK;
}

static void unlink_job(qw_s3_async *a, job *j)
{
    job **pp = &a->head, *prev = NULL;
    while (*pp && *pp != j) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = j->next;
    if (a->tail == j)
        a->tail = prev;
    if (j->data)
        a->bytes -= j->cost;
    qw__s3_buf_give(a->s, j->data, j->cost);
    qw_free(j);
}

void qw__s3_async_destroy(qw_s3_async *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_broadcast(&a->work);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->nth; i++)
        pthread_join(a->th[i], NULL);
    while (a->head)
        unlink_job(a, a->head);
    pthread_cond_destroy(&a->work);
    pthread_cond_destroy(&a->settled);
    pthread_mutex_destroy(&a->mu);
    qw_free(a);
}

static job *find(qw_s3_async *a, const char *uri)
{
    for (job *j = a->head; j; j = j->next)
        if (strcmp(j->uri, uri) == 0)
            return j;
    return NULL;
}

/* Wait until uri's upload (if any) is no longer queued or running; the job
 * (or NULL) under the lock. */
static job *settle(qw_s3_async *a, const char *uri)
{
    job *j;
    while ((j = find(a, uri)) && (j->state == QUEUED || j->state == RUNNING))
        pthread_cond_wait(&a->settled, &a->mu);
    return j;
}

qw_err qw__s3_async_put(qw_s3_async *a, const char *uri, const char *bucket, const char *key,
                        uint8_t *data, size_t n, size_t cost)
{
    job *j = qw_calloc(1, sizeof *j);
    if (!j || strlen(uri) >= sizeof j->uri || strlen(bucket) >= sizeof j->bucket ||
        strlen(key) >= sizeof j->key) {
        qw_free(j);
        qw_free(data);
        return j ? QW_TOO_LARGE : QW_NOMEM;
    }
    snprintf(j->uri, sizeof j->uri, "%s", uri);
    snprintf(j->bucket, sizeof j->bucket, "%s", bucket);
    snprintf(j->key, sizeof j->key, "%s", key);
    j->data = data;
    j->n = n;
    j->cost = cost;
    pthread_mutex_lock(&a->mu);
    job *old = settle(a, uri); /* the same name again: after the earlier upload */
    if (old)
        unlink_job(a, old);
    while (a->bytes && a->bytes + cost > QW_S3_ASYNC_BYTES) {
        int busy = 0;
        job *failed = NULL;
        for (job *k = a->head; k; k = k->next) {
            busy |= k->state == QUEUED || k->state == RUNNING;
            if (!failed && k->state == FAILED && k->data)
                failed = k;
        }
        if (busy) {
            pthread_cond_wait(&a->settled, &a->mu);
        } else if (failed) { /* only failed uploads hold the room */
            qw__s3_buf_give(a->s, failed->data, failed->cost);
            failed->data = NULL;
            a->bytes -= failed->cost;
            failed->state = DROPPED;
        } else {
            break;
        }
    }
    j->state = QUEUED;
    if (a->tail)
        a->tail->next = j;
    else
        a->head = j;
    a->tail = j;
    a->bytes += cost;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    return QW_OK;
}

qw_err qw__s3_async_sync(qw_s3_async *a, const char *uri)
{
    if (!a)
        return QW_OK;
    pthread_mutex_lock(&a->mu);
    job *j = settle(a, uri);
    qw_err e = QW_OK;
    if (j && j->state == DONE) {
        unlink_job(a, j);
    } else if (j && j->state == DROPPED) {
        qw__s3_seterr("%s: upload failed (%.200s) and its bytes were dropped to bound memory", uri,
                      j->why);
        e = j->err != QW_OK ? j->err : QW_IO;
    } else if (j) { /* FAILED: once more, here */
        j->state = RUNNING;
        pthread_mutex_unlock(&a->mu);
        e = qw_s3_put(a->s, j->bucket, j->key, j->data, j->n);
        pthread_mutex_lock(&a->mu);
        if (e == QW_OK) {
            unlink_job(a, j);
        } else {
            j->state = FAILED;
            j->err = e;
            snprintf(j->why, sizeof j->why, "%s", qw_s3_errmsg());
        }
        pthread_cond_broadcast(&a->settled);
    }
    pthread_mutex_unlock(&a->mu);
    return e;
}

void qw__s3_async_wait(qw_s3_async *a, const char *uri)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    (void)settle(a, uri);
    pthread_mutex_unlock(&a->mu);
}

void qw__s3_async_forget(qw_s3_async *a, const char *uri)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    job *j = settle(a, uri);
    if (j)
        unlink_job(a, j);
    pthread_mutex_unlock(&a->mu);
}

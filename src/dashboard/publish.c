/* publish.c: the dashboard's cross-thread hand-off (dashboard.h
 * "Threads").
 *
 * The owner thread builds a complete snapshot (state JSON = push payload,
 * its metric families, readiness) into a snapshot nobody reads, then makes
 * it current under pub_mu. The server thread takes a reference to the
 * current snapshot under pub_mu, writes its bytes to sockets without the
 * lock (lws copies what the kernel does not take), and drops the
 * reference. A snapshot is rebuilt only when it is neither current nor
 * referenced, so readers never see a half-written one. The lock is held
 * for a pointer swap or a reference count, never while building or
 * writing. Buffers are reused: no allocation per publish once warm.
 *
 * With one server thread at most one snapshot is referenced at a time,
 * so of QW_DASH_NSNAP = 3 one is always free; if none were, the publish
 * is skipped and counted (pub_skipped), never waited for. */
#include <libwebsockets.h>
#include <string.h>

#include "core/alloc.h"
#include "core/time.h"
#include "dashboard/dash_int.h"

void qw__dash_snaps_init(qw_dash *d)
{
    pthread_mutex_init(&d->pub_mu, NULL);
}

void qw__dash_snaps_free(qw_dash *d)
{
    for (int i = 0; i < QW_DASH_NSNAP; i++) {
        qw__dbuf_free(&d->snaps[i].state);
        qw__dbuf_free(&d->snaps[i].metrics);
        qw__dbuf_free(&d->snaps[i].ix.summary);
        qw_free(d->snaps[i].ix.prods);
    }
    pthread_mutex_destroy(&d->pub_mu);
}

void qw__dash_publish(qw_dash *d, int64_t now)
{
    dash_snap *s = NULL;
    pthread_mutex_lock(&d->pub_mu);
    for (int i = 0; i < QW_DASH_NSNAP && !s; i++)
        if (&d->snaps[i] != d->cur && d->snaps[i].refs == 0)
            s = &d->snaps[i];
    pthread_mutex_unlock(&d->pub_mu);
    if (!s) {
        d->pub_skipped++;
        return;
    }
    /* s is neither current nor referenced: the server cannot reach it */
    qw__dash_build_state(d, &s->state, &s->ix);
    qw__dash_build_metrics_owner(d, &s->metrics);
    s->ready = qw_dash_ready(d, s->ready_why, sizeof s->ready_why);
    if (s->state.oom || s->metrics.oom) {
        d->pub_skipped++; /* keep serving the previous snapshot */
        return;
    }
    s->version = ++d->pub_version;
    d->last_pub_ns = now;
    pthread_mutex_lock(&d->pub_mu);
    d->cur = s;
    pthread_mutex_unlock(&d->pub_mu);
    if (d->ctx)
        lws_cancel_service(d->ctx); /* the one lws call allowed off the server thread */
}

dash_snap *qw__dash_snap_get(qw_dash *d)
{
    pthread_mutex_lock(&d->pub_mu);
    dash_snap *s = d->cur;
    if (s)
        s->refs++;
    pthread_mutex_unlock(&d->pub_mu);
    return s;
}

void qw__dash_snap_put(qw_dash *d, dash_snap *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&d->pub_mu);
    s->refs--;
    pthread_mutex_unlock(&d->pub_mu);
}

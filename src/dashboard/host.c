/* host.c: a dashboard with a libwebsockets context of its own, serviced
 * from the caller's thread between units of work (replay --dashboard). */
#include <libwebsockets.h>
#include <string.h>

#include "core/alloc.h"
#include "core/time.h"
#include "dashboard/dashboard.h"

struct qw_dash_host {
    struct lws_context *ctx;
    qw_dash *d;
    int64_t last;
};

qw_err qw_dash_host_open(qw_dash_host **out, const qw_dash_opts *o, char *errbuf, size_t errlen)
{
    qw_dash_host *h = qw_calloc(1, sizeof *h);
    if (!h)
        return QW_NOMEM;
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    ci.gid = (gid_t)-1;
    ci.uid = (uid_t)-1;
    lws_set_log_level(LLL_ERR, NULL);
    qw_err e = QW_OK;
    if (!(h->ctx = lws_create_context(&ci))) {
        QW_SETERR(errbuf, errlen, "cannot create the lws context");
        e = QW_NOMEM;
    } else {
        e = qw_dash_create(&h->d, h->ctx, o, errbuf, errlen);
    }
    if (e != QW_OK) {
        qw_dash_host_close(h);
        return e;
    }
    *out = h;
    return QW_OK;
}

qw_dash *qw_dash_host_dash(qw_dash_host *h)
{
    return h ? h->d : NULL;
}

void qw_dash_host_poll(qw_dash_host *h, int force)
{
    if (!h)
        return;
    int64_t now = qw_now_mono_ns();
    if (!force && now - h->last < 10 * QW_NS_PER_MS)
        return;
    h->last = now;
    lws_service(h->ctx, -1);
    qw_dash_tick(h->d, now);
}

void qw_dash_host_close(qw_dash_host *h)
{
    if (!h)
        return;
    if (h->ctx)
        lws_context_destroy(h->ctx);
    qw_dash_destroy(h->d);
    qw_free(h);
}

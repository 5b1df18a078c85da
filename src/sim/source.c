/* source.c: the simulator's input (capture files through qw_msgsrc, the
 * reader replay uses, or the synthetic market) as parsed messages, and the
 * product table (source.h). */
#define QW_MODULE "sim"
#include "sim/source.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "ingest/msgsrc.h"

struct qw_simsrc {
    qw_simsrc_opts o;
    qw_feed *feed;
    qw_msgsrc *ms; /* capture files */
    qw_synth *syn;
    char *sbuf; /* synth line buffer */
    size_t scap;
    int64_t last_t;
    qw_simsrc_stats st;
    char err[256];
};

static qw_err open_synth(qw_simsrc *s)
{
    qw_synth_destroy(s->syn);
    s->syn = NULL;
    return qw_synth_create(&s->syn, &s->o.synth);
}

qw_err qw_simsrc_open(qw_simsrc **out, const qw_simsrc_opts *opts)
{
    qw_simsrc *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->o = *opts;
    qw_err e = qw_feed_create(&s->feed, NULL);
    if (e == QW_OK && !opts->synthetic)
        e = qw_msgsrc_open(&s->ms, opts->files, opts->nfiles, opts->max_line);
    if (e == QW_OK && opts->synthetic) {
        s->scap = 1 << 16;
        s->sbuf = qw_malloc(s->scap);
        e = s->sbuf ? open_synth(s) : QW_NOMEM;
    }
    if (e != QW_OK) {
        qw_simsrc_close(s);
        return e;
    }
    *out = s;
    return QW_OK;
}

void qw_simsrc_close(qw_simsrc *s)
{
    if (!s)
        return;
    qw_msgsrc_close(s->ms);
    qw_synth_destroy(s->syn);
    qw_feed_destroy(s->feed);
    qw_free(s->sbuf);
    qw_free(s);
}

qw_err qw_simsrc_rewind(qw_simsrc *s)
{
    if (s->ms)
        qw_msgsrc_rewind(s->ms);
    s->st.restarts++;
    qw_feed_reset(s->feed);
    return s->o.synthetic ? open_synth(s) : QW_OK;
}

/* The next message from the files (QW_OK), QW_NOT_FOUND at the end, or
 * the error of a file that could not be opened or read. */
static qw_err next_line(qw_simsrc *s, const char **line, size_t *len, int64_t *recv)
{
    for (;;) {
        qw_msgsrc_item it;
        qw_err e = qw_msgsrc_next(s->ms, &it);
        if (e != QW_OK)
            return e;
        switch (it.kind) {
        case QW_MSGSRC_MSG:
            *line = it.msg;
            *len = it.len;
            *recv = it.recv_ns;
            return QW_OK;
        case QW_MSGSRC_CONNECT:
        case QW_MSGSRC_INPUT: qw_feed_reset(s->feed); break;
        case QW_MSGSRC_TOO_LONG: s->st.too_long++; break;
        case QW_MSGSRC_DROPPED: s->st.rejected++; break;
        case QW_MSGSRC_OPEN_FAILED:
            snprintf(s->err, sizeof s->err, "%s: %s", it.path, qw_strerror(it.err));
            return it.err;
        case QW_MSGSRC_READ_FAILED:
            snprintf(s->err, sizeof s->err, "%s: %s", it.path, qw_msgsrc_errmsg(s->ms));
            return it.err;
        }
    }
}

qw_err qw_simsrc_next(qw_simsrc *s, const qw_msg **msg, int64_t *t_ns, int64_t *pace_ns)
{
    for (;;) {
        const char *line = NULL;
        size_t len = 0;
        int64_t recv = 0;
        if (s->o.synthetic) {
            qw_err e = qw_synth_next(s->syn, s->sbuf, s->scap, &len);
            if (e == QW_TOO_LARGE) {
                char *nb = qw_realloc(s->sbuf, len + 1);
                if (!nb)
                    return QW_NOMEM;
                s->sbuf = nb;
                s->scap = len + 1;
                continue;
            }
            if (e != QW_OK)
                return e;
            line = s->sbuf;
        } else {
            qw_err e = next_line(s, &line, &len, &recv);
            if (e != QW_OK)
                return e;
        }
        s->st.lines++;
        const qw_msg *m;
        if (qw_feed_parse(s->feed, line, len, &m) != QW_OK) {
            s->st.rejected++;
            continue;
        }
        s->st.messages++;
        if (m->t_ns > 0)
            s->last_t = m->t_ns;
        *msg = m;
        *t_ns = s->last_t;
        *pace_ns = recv > 0 ? recv : s->last_t;
        return QW_OK;
    }
}

void qw_simsrc_get_stats(const qw_simsrc *s, qw_simsrc_stats *out)
{
    *out = s->st;
    if (s->ms) {
        qw_msgsrc_stats ms;
        qw_msgsrc_get_stats(s->ms, &ms);
        out->meta = ms.meta;
        out->connects = ms.connects;
    }
}

const char *qw_simsrc_errmsg(const qw_simsrc *s)
{
    return s->err;
}

qw_err qw_simsrc_prescan(const qw_simsrc_opts *opts, void (*fn)(void *ctx, const char *product),
                         void *ctx, int64_t *first_t_ns)
{
    qw_simsrc *s;
    *first_t_ns = 0;
    if (opts->synthetic) {
        for (size_t i = 0; i < opts->synth.nproducts; i++)
            fn(ctx, opts->synth.products[i]);
        *first_t_ns = opts->synth.start_ns ? opts->synth.start_ns : 1767312000LL * QW_NS_PER_SEC;
        return QW_OK;
    }
    qw_err e = qw_simsrc_open(&s, opts);
    if (e != QW_OK)
        return e;
    const qw_msg *m;
    int64_t t, pace;
    while ((e = qw_simsrc_next(s, &m, &t, &pace)) == QW_OK) {
        if (!*first_t_ns && t > 0)
            *first_t_ns = t;
        for (size_t i = 0; i < m->ngroups; i++)
            fn(ctx, m->groups[i].product);
        for (size_t i = 0; i < m->ntrades; i++)
            fn(ctx, m->trades[i].product);
    }
    if (e == QW_NOT_FOUND)
        e = QW_OK;
    if (e != QW_OK)
        QW_LOG(ERROR, "prescan: %s", s->err[0] ? s->err : qw_strerror(e));
    qw_simsrc_close(s);
    return e;
}

/* ---- market ---- */

void qw_market_free(qw_market *m)
{
    for (size_t i = 0; i < m->n; i++) {
        qw_book_destroy(m->p[i].book);
        qw_trades_destroy(m->p[i].trades);
    }
    qw_free(m->p);
    memset(m, 0, sizeof *m);
}

int qw_market_find(const qw_market *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->p[i].id, id) == 0)
            return (int)i;
    return -1;
}

qw_err qw_market_add(qw_market *m, const char *id)
{
    size_t n = strlen(id);
    if (!qw_feed_product_ok(id, n))
        return QW_BAD_PRODUCT;
    if (qw_market_find(m, id) >= 0)
        return QW_OK;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        qw_simprod *np = qw_realloc(m->p, nc * sizeof *np);
        if (!np)
            return QW_NOMEM;
        m->p = np;
        m->cap = nc;
    }
    qw_simprod *p = &m->p[m->n];
    memset(p, 0, sizeof *p);
    memcpy(p->id, id, n + 1);
    qw_err e = qw_book_create(&p->book, NULL);
    if (e == QW_OK)
        e = qw_trades_create(&p->trades, QW_SIM_RECENT_TRADES);
    if (e != QW_OK) {
        qw_book_destroy(p->book);
        return e;
    }
    m->n++;
    return QW_OK;
}

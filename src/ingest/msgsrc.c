/* msgsrc.c: the one line -> frame -> message loop (msgsrc.h), shared by
 * replay and the simulator so that both read every capture format alike.
 *
 * The hot path is one qw_linesrc_next, one qw_frame_line and a scan for a
 * non-blank byte per message; everything else (msg_hex, markers, input
 * changes, errors) is off to the side. The msg_hex buffer only grows.
 */
#include "ingest/msgsrc.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "ingest/ingest.h"

struct qw_msgsrc {
    const char *const *paths;
    size_t npaths, max_line;
    size_t next;    /* index of the next input to open */
    size_t cur;     /* index of the current input (valid when ls) */
    qw_linesrc *ls; /* current input, NULL between inputs */
    char *hex;      /* decoded msg_hex message */
    size_t hexcap;
    uint64_t bytes_done; /* bytes of closed inputs */
    qw_msgsrc_stats st;
    char err[200];
};

qw_err qw_msgsrc_open(qw_msgsrc **out, const char *const *paths, size_t npaths, size_t max_line)
{
    qw_msgsrc *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->paths = paths;
    s->npaths = npaths;
    s->max_line = max_line;
    *out = s;
    return QW_OK;
}

static void end_input(qw_msgsrc *s)
{
    if (!s->ls)
        return;
    s->bytes_done += qw_linesrc_bytes(s->ls);
    qw_linesrc_close(s->ls);
    s->ls = NULL;
}

void qw_msgsrc_close(qw_msgsrc *s)
{
    if (!s)
        return;
    qw_linesrc_close(s->ls);
    qw_free(s->hex);
    qw_free(s);
}

void qw_msgsrc_rewind(qw_msgsrc *s)
{
    end_input(s);
    s->next = 0;
}

void qw_msgsrc_get_stats(const qw_msgsrc *s, qw_msgsrc_stats *out)
{
    *out = s->st;
    out->bytes = s->bytes_done + (s->ls ? qw_linesrc_bytes(s->ls) : 0);
}

const char *qw_msgsrc_errmsg(const qw_msgsrc *s)
{
    return s->err;
}

double qw_msgsrc_progress(const qw_msgsrc *s)
{
    if (!s->npaths)
        return 1;
    double frac = 0;
    size_t idx = s->ls ? s->cur : s->next;
    if (s->ls) {
        int64_t size = qw_linesrc_file_size(s->ls);
        if (size > 0)
            frac = (double)qw_linesrc_file_pos(s->ls) / (double)size;
    }
    return ((double)idx + (frac > 1 ? 1 : frac)) / (double)s->npaths;
}

/* Open the next input: QW_MSGSRC_INPUT or QW_MSGSRC_OPEN_FAILED into it. */
static void next_input(qw_msgsrc *s, qw_msgsrc_item *it)
{
    s->cur = s->next++;
    it->input = s->cur;
    it->path = s->paths[s->cur];
    qw_err e = qw_linesrc_open(&s->ls, it->path, s->max_line);
    if (e != QW_OK) {
        s->ls = NULL;
        s->st.open_errors++;
        snprintf(s->err, sizeof s->err, "%s", qw_strerror(e));
        it->kind = QW_MSGSRC_OPEN_FAILED;
        it->err = e;
        return;
    }
    s->st.inputs++;
    it->kind = QW_MSGSRC_INPUT;
}

/* A msg_hex frame decoded into s->hex: 1 = a message, 0 = bad hex (a meta
 * line), -1 = no memory (it is a QW_MSGSRC_DROPPED item). */
static int unhex(qw_msgsrc *s, qw_frame *fr, qw_msgsrc_item *it)
{
    if (fr->len / 2 + 1 > s->hexcap) {
        char *nb = qw_realloc(s->hex, fr->len / 2 + 1);
        if (!nb) {
            s->st.dropped++;
            it->kind = QW_MSGSRC_DROPPED;
            it->err = QW_NOMEM;
            return -1;
        }
        s->hex = nb;
        s->hexcap = fr->len / 2 + 1;
    }
    size_t n = qw_frame_unhex(fr->msg, fr->len, s->hex);
    if (n == (size_t)-1) {
        s->st.bad_hex++;
        s->st.meta++;
        return 0;
    }
    s->hex[n] = '\0';
    s->st.msg_hex++;
    fr->msg = s->hex;
    fr->len = n;
    return 1;
}

/* Anything but a line: the next input, too long, end or error of this
 * one. 1 = *it is an item, 0 = go on reading, -1 = no more inputs. */
__attribute__((noinline)) static int line_event(qw_msgsrc *s, qw_err e, size_t len,
                                                qw_msgsrc_item *it)
{
    if (!s->ls) {
        if (s->next >= s->npaths)
            return -1;
        next_input(s, it);
        return 1;
    }
    it->input = s->cur;
    it->path = s->paths[s->cur];
    if (e == QW_NOT_FOUND) {
        end_input(s);
        return 0;
    }
    if (e == QW_TOO_LARGE) {
        s->st.lines++;
        s->st.too_long++;
        it->kind = QW_MSGSRC_TOO_LONG;
        it->len = len;
        return 1;
    }
    s->st.input_errors++;
    snprintf(s->err, sizeof s->err, "%s", qw_linesrc_errmsg(s->ls));
    end_input(s);
    it->kind = QW_MSGSRC_READ_FAILED;
    it->err = e;
    return 1;
}

/* A line that is not plainly a message: markers, metadata, msg_hex,
 * blank. 1 = *it is an item, 0 = skipped (counted). */
__attribute__((noinline)) static int frame_event(qw_msgsrc *s, qw_frame *fr, qw_msgsrc_item *it)
{
    switch (fr->kind) {
    case QW_FRAME_MSG: break;
    case QW_FRAME_CONNECT:
        s->st.connects++;
        it->kind = QW_MSGSRC_CONNECT;
        it->recv_ns = fr->recv_ns;
        return 1;
    case QW_FRAME_META: s->st.meta++; return 0;
    case QW_FRAME_MSG_HEX: {
        int r = unhex(s, fr, it);
        if (r <= 0)
            return r < 0;
        break;
    }
    }
    size_t k = 0;
    while (k < fr->len && (fr->msg[k] == ' ' || fr->msg[k] == '\r' || fr->msg[k] == '\t'))
        k++;
    if (k == fr->len) {
        s->st.blank++;
        return 0;
    }
    s->st.messages++;
    it->kind = QW_MSGSRC_MSG;
    it->msg = fr->msg;
    it->len = fr->len;
    it->recv_ns = fr->recv_ns;
    return 1;
}

qw_err qw_msgsrc_next(qw_msgsrc *s, qw_msgsrc_item *it)
{
    for (;;) {
        const char *line = NULL;
        size_t len = 0;
        qw_err e = s->ls ? qw_linesrc_next(s->ls, &line, &len) : QW_NOT_FOUND;
        if (__builtin_expect(e != QW_OK, 0)) {
            int r = line_event(s, e, len, it);
            if (r < 0)
                return QW_NOT_FOUND;
            if (r > 0)
                return QW_OK;
            continue;
        }
        s->st.lines++;
        qw_frame fr;
        qw_frame_line(line, len, &fr);
        it->input = s->cur;
        it->path = s->paths[s->cur];
        /* the common case: a message that starts with a visible byte */
        if (__builtin_expect(fr.kind == QW_FRAME_MSG && fr.len && (unsigned char)fr.msg[0] > ' ',
                             1)) {
            s->st.messages++;
            it->kind = QW_MSGSRC_MSG;
            it->msg = fr.msg;
            it->len = fr.len;
            it->recv_ns = fr.recv_ns;
            return QW_OK;
        }
        if (frame_event(s, &fr, it))
            return QW_OK;
    }
}

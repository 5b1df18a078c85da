/* server.c: the dashboard's libwebsockets vhost: routing, static files
 * from memory, the upgrade check of the state WebSocket and the push
 * schedule (see dashboard.h; the WebSocket itself is wsconn.c).
 *
 * Protocol edges (docs/DASHBOARD.md "Protocol edges"): every connection
 * starts in front.c, which reads its request head itself and refuses the
 * ones lws must not see (400 malformed, 405 CONNECT and methods lws does
 * not parse, 414 target over 2 KiB, 431 head over 8 KiB or 64 header
 * lines); the others reach lws's HTTP role here, on vh_http:
 *   GET/HEAD/POST/PUT/PATCH/OPTIONS/DELETE  on_http()  (405 unless GET/HEAD;
 *     414 for a path over 2 KiB, 431 for known headers over 4 KiB);
 *     after a keep-alive response the connection goes back to front.c
 *   Upgrade: websocket                      HTTP_CONFIRM_UPGRADE ->
 *     check_upgrade(): GET /ws, version 13, subprotocol qw-state, else
 *     405/400/426; then wsconn.c: Connection, key, client limit (400/503)
 *     and the takeover of the socket
 *   client frames                           wsconn.c, our codec's server
 *     role: 1002 (unmasked, RSV bits, framing), 1007 (UTF-8), 1009 (size)
 *
 * Threads (dashboard.h "Threads"): everything here runs on the server
 * thread, except qw_dash_tick, the qw_dash_set_ functions and qw_dash_on_labeled (owner) and
 * create/destroy. Responses come from the published snapshot (publish.c),
 * never from the pipeline. */
#define QW_MODULE "dashboard"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libwebsockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/time.h"
#include "dashboard/dash_int.h"

_Static_assert(QW_DASH_PRE >= LWS_PRE, "QW_DASH_PRE must cover LWS_PRE");

#define MAX_URI 2048
#define MAX_HEAD 4096 /* known headers (names and values) plus URI: else 431 */
#define AH_IDLE_S 10  /* a request's headers must be complete within this (slowloris) */
#define STUCK_NS (5 * QW_NS_PER_SEC)
#define PUSH_NS (100 * QW_NS_PER_MS)
#define PUB_NS (90 * QW_NS_PER_MS) /* publish at most this often (live ticks every 100 ms) */

/* ---- static files ---- */

static const char *ctype_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return "application/octet-stream";
    static const struct {
        const char *ext, *type;
    } t[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(dot, t[i].ext) == 0)
            return t[i].type;
    return "application/octet-stream";
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size > (16 << 20)) {
        fclose(f);
        return NULL;
    }
    char *b = qw_malloc((size_t)sb.st_size + QW_DASH_PRE + 1);
    if (b && fread(b + QW_DASH_PRE, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        qw_free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)sb.st_size;
    return b;
}

static void load_dir(qw_dash *d, const char *dir, const char *urlprefix, int depth)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        char p[2048], url[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        snprintf(url, sizeof url, "%s/%s", urlprefix, e->d_name);
        struct stat sb;
        if (stat(p, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth < 3)
                load_dir(d, p, url, depth + 1);
            continue;
        }
        size_t l = strlen(e->d_name);
        if (l > 3 && strcmp(e->d_name + l - 3, ".gz") == 0)
            continue; /* attached to its original below */
        dash_file *nf = qw_realloc(d->files, (d->nfiles + 1) * sizeof *nf);
        if (!nf)
            break;
        d->files = nf;
        dash_file *f = &d->files[d->nfiles];
        memset(f, 0, sizeof *f);
        if (strlen(url) >= sizeof f->path)
            continue;
        memcpy(f->path, url, strlen(url) + 1);
        f->type = ctype_of(e->d_name);
        f->body = slurp(p, &f->len);
        if (!f->body)
            continue;
        char gz[2100];
        snprintf(gz, sizeof gz, "%s.gz", p);
        f->gz = slurp(gz, &f->gzlen);
        d->nfiles++;
    }
    closedir(dp);
}

static const dash_file *find_file(const qw_dash *d, const char *path)
{
    for (size_t i = 0; i < d->nfiles; i++)
        if (strcmp(d->files[i].path, path) == 0)
            return &d->files[i];
    return NULL;
}

/* ---- HTTP ---- */

/* body points at text with QW_DASH_PRE writable bytes before it. */
static int respond_x(qw_dash *d, struct lws *wsi, unsigned status, const char *ctype,
                     const char *cache, const char *encoding, const char *xname, const char *xval,
                     const char *body, size_t len, int head, int complete)
{
    uint8_t hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
    if (status >= 400)
        d->http_rejected++;
    if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
        return 1;
    if (cache && lws_add_http_header_by_name(
                     wsi, (const unsigned char *)"cache-control:", (const unsigned char *)cache,
                     (int)strlen(cache), &p, end))
        return 1;
    if (encoding &&
        (lws_add_http_header_by_name(
             wsi, (const unsigned char *)"content-encoding:", (const unsigned char *)encoding,
             (int)strlen(encoding), &p, end) ||
         lws_add_http_header_by_name(wsi, (const unsigned char *)"vary:",
                                     (const unsigned char *)"accept-encoding", 15, &p, end)))
        return 1;
    if (xname &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)xname, (const unsigned char *)xval,
                                    (int)strlen(xval), &p, end))
        return 1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)"nosniff", 7, &p, end))
        return 1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    if (!head && len &&
        lws_write(wsi, (unsigned char *)(uintptr_t)body, len, LWS_WRITE_HTTP_FINAL) < (int)len)
        return 1;
    if (!complete)
        return 0;
    return qw__dash_http_done(d, wsi); /* front.c: keep-alive goes back to the front */
}

static int respond(qw_dash *d, struct lws *wsi, unsigned status, const char *ctype,
                   const char *cache, const char *encoding, const char *body, size_t len, int head)
{
    return respond_x(d, wsi, status, ctype, cache, encoding, NULL, NULL, body, len, head, 1);
}

/* complete = 0: the caller finishes the transaction (HTTP_CONFIRM_UPGRADE
 * returns 1 and lws does it). */
static int respond_text_x(qw_dash *d, struct lws *wsi, unsigned status, const char *xname,
                          const char *xval, const char *text, int head, int complete)
{
    static char buf[QW_DASH_PRE + 512];
    size_t n = strlen(text);
    if (n > sizeof buf - QW_DASH_PRE - 1)
        n = sizeof buf - QW_DASH_PRE - 1;
    memcpy(buf + QW_DASH_PRE, text, n);
    return respond_x(d, wsi, status, "text/plain", "no-store", NULL, xname, xval, buf + QW_DASH_PRE,
                     n, head, complete);
}

static int respond_text(qw_dash *d, struct lws *wsi, unsigned status, const char *ctype,
                        const char *text, int head)
{
    static char buf[QW_DASH_PRE + 512];
    size_t n = strlen(text);
    if (n > sizeof buf - QW_DASH_PRE - 1)
        n = sizeof buf - QW_DASH_PRE - 1;
    memcpy(buf + QW_DASH_PRE, text, n);
    return respond(d, wsi, status, ctype, "no-store", NULL, buf + QW_DASH_PRE, n, head);
}

static int accepts_gzip(struct lws *wsi)
{
    char ae[256];
    if (lws_hdr_copy(wsi, ae, sizeof ae, WSI_TOKEN_HTTP_ACCEPT_ENCODING) <= 0)
        return 0;
    return strstr(ae, "gzip") != NULL;
}

/* /api/state[?product=P]: the whole state, or P's object plus the summary
 * of every product (subscribe.c); gzipped when the client accepts it. */
static int on_api_state(qw_dash *d, struct lws *wsi, const dash_snap *s, int head)
{
    const char *body = s->state.b + s->state.pre;
    size_t n = s->state.n;
    char arg[80];
    /* lws 4.1.6 copies the whole "product=P" and returns a pointer to P */
    const char *prod = lws_get_urlarg_by_name(wsi, "product=", arg, sizeof arg);
    if (prod) {
        uint64_t seq = 0;
        if (qw__dash_compose(s, prod, 0, &seq, &d->srv_push) != 0)
            return respond_text(d, wsi, 404, "application/json",
                                "{\"error\":\"unknown product\"}\n", head);
        body = d->srv_push.b + d->srv_push.pre;
        n = d->srv_push.n;
    }
    if (accepts_gzip(wsi) && qw__dash_gzip(body, n, &d->srv_gz) == 0)
        return respond(d, wsi, 200, "application/json", "no-store", "gzip",
                       d->srv_gz.b + d->srv_gz.pre, d->srv_gz.n, head);
    return respond(d, wsi, 200, "application/json", "no-store", NULL, body, n, head);
}

/* The endpoints served from the published snapshot (publish.c): the
 * reference is held only while lws_write runs (lws copies what the kernel
 * does not take). */
static int on_published(qw_dash *d, struct lws *wsi, const char *uri, int head)
{
    dash_snap *s = qw__dash_snap_get(d);
    int rc;
    if (!s) {
        rc = respond_text(d, wsi, 503, "text/plain", "starting\n", head);
    } else if (strcmp(uri, "/readyz") == 0) {
        char body[256];
        snprintf(body, sizeof body, "{\"ready\":%s,\"reason\":\"%s\"}\n",
                 s->ready ? "true" : "false", s->ready_why);
        rc = respond_text(d, wsi, s->ready ? 200 : 503, "application/json", body, head);
    } else if (strcmp(uri, "/api/state") == 0) {
        rc = on_api_state(d, wsi, s, head);
    } else {
        qw_dbuf *m = &d->srv_metrics;
        qw__dbuf_reset(m, QW_DASH_PRE);
        qw__dbuf_put(m, s->metrics.b + s->metrics.pre, s->metrics.n);
        qw__dash_build_metrics_server(d, m);
        rc = m->oom ? respond_text(d, wsi, 503, "text/plain", "out of memory\n", head)
                    : respond(d, wsi, 200, "text/plain; version=0.0.4; charset=utf-8", "no-store",
                              NULL, m->b + m->pre, m->n, head);
    }
    qw__dash_snap_put(d, s);
    return rc;
}

/* The bytes of the request head lws parsed into headers it knows (name,
 * ": ", value, CRLF) plus the URI. Headers lws does not know are stored
 * too, but lws 4.1.6 has no way to list them: they only meet the buffer
 * size (docs/DASHBOARD.md "Protocol edges"). */
static size_t head_size(struct lws *wsi)
{
    size_t n = 0;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        int l = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (l > 0) {
            const unsigned char *name = lws_token_to_string((enum lws_token_indexes)t);
            n += (size_t)l + (name ? strlen((const char *)name) : 0) + 3;
        }
    }
    return n;
}

static int on_http(qw_dash *d, struct lws *wsi, const char *uri, size_t len)
{
    d->http_requests++;
    int head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (!get && !head) /* RFC 9110 15.5.6: a 405 names the allowed methods */
        return respond_text_x(d, wsi, 405, "allow:", "GET, HEAD",
                              "method not allowed: GET or HEAD\n", 0, 1);
    if (len > MAX_URI)
        return respond_text(d, wsi, 414, "text/plain", "URI too long\n", head);
    if (head_size(wsi) > MAX_HEAD) /* RFC 6585 5 */
        return respond_text(d, wsi, 431, "text/plain", "request header fields too large\n", head);
    if (len == 0 || uri[0] != '/' || strstr(uri, "..") || memchr(uri, '\\', len) ||
        memchr(uri, '%', len) || strlen(uri) != len)
        return respond_text(d, wsi, 400, "text/plain", "bad path\n", head);
    if (strcmp(uri, "/healthz") == 0)
        return respond_text(d, wsi, 200, "text/plain", "ok\n", head);
    if (!strcmp(uri, "/readyz") || !strcmp(uri, "/api/state") || !strcmp(uri, "/metrics"))
        return on_published(d, wsi, uri, head);
    const dash_file *f = find_file(d, strcmp(uri, "/") == 0 ? "/index.html" : uri);
    if (!f)
        return respond_text(d, wsi, 404, "text/plain",
                            d->nfiles ? "not found\n"
                                      : "not found (no web root: build the page with `make web`)\n",
                            head);
    int index = strcmp(f->path, "/index.html") == 0;
    const char *cache = index ? "no-cache" : "public, max-age=300";
    if (f->gz && accepts_gzip(wsi))
        return respond(d, wsi, 200, f->type, cache, "gzip", f->gz + QW_DASH_PRE, f->gzlen, head);
    return respond(d, wsi, 200, f->type, cache, NULL, f->body + QW_DASH_PRE, f->len, head);
}

/* Is `tok` one of the comma-separated tokens of `list`? ci: ignoring case
 * (Connection: Upgrade), else exact (subprotocol names). */
int qw__dash_has_token(const char *list, const char *tok, int ci)
{
    size_t tl = strlen(tok);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - p) == tl && (ci ? strncasecmp(p, tok, tl) : strncmp(p, tok, tl)) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* After a refused upgrade: back to the front (front.c) once the refusal
 * is flushed; if lws still holds some of it, lws closes the connection
 * after flushing it (-1), rather than parsing a next head itself. */
static int refused(qw_dash *d, struct lws *wsi)
{
    return lws_partial_buffered(wsi) ? -1 : qw__dash_front_handback(d, wsi);
}

/* HTTP_CONFIRM_UPGRADE (RFC 6455 4.2.1/4.2.2): only GET /ws, version 13,
 * offering qw-state (lws would otherwise upgrade any method and path, any
 * version); then the connection is taken over (wsconn.c). Returns 0 to let
 * lws handle it (h2c), -1 to hang up (also: after a refusal, handed back
 * to the front, and taken over). */
static int check_upgrade(qw_dash *d, struct lws *wsi, const char *what)
{
    char uri[64], ver[16], proto[256];
    if (!what || strcasecmp(what, "websocket") != 0)
        return 0; /* h2c: lws's business */
    if (head_size(wsi) > MAX_HEAD)
        return respond_text_x(d, wsi, 431, NULL, NULL, "request header fields too large\n", 0, 0)
                   ? -1
                   : refused(d, wsi);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
        return respond_text_x(d, wsi, 405, "allow:", "GET", "a WebSocket upgrade must be a GET\n",
                              0, 0)
                   ? -1
                   : refused(d, wsi);
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws") != 0)
        return respond_text_x(d, wsi, 400, NULL, NULL, "WebSocket only on /ws\n", 0, 0)
                   ? -1
                   : refused(d, wsi);
    if (lws_hdr_copy(wsi, ver, sizeof ver, WSI_TOKEN_VERSION) <= 0 || strcmp(ver, "13") != 0)
        return respond_text_x(d, wsi, 426, "sec-websocket-version:", "13",
                              "WebSocket version 13 only\n", 0, 0)
                   ? -1
                   : refused(d, wsi);
    /* lws binds the first offered name it knows, and "http" is one */
    if (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) <= 0 ||
        !qw__dash_has_token(proto, "qw-state", 0) || qw__dash_has_token(proto, "http", 0))
        return respond_text_x(d, wsi, 400, NULL, NULL, "WebSocket subprotocol qw-state required\n",
                              0, 0)
                   ? -1
                   : refused(d, wsi);
    return qw__dash_ws_takeover(d, wsi); /* wsconn.c: our framing from here */
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    (void)user;
    struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
    qw_dash *d = vh ? lws_vhost_user(vh) : NULL; /* context-level callbacks have no wsi */
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: /* limits.c: close it before lws builds on it */
        return d ? qw__dash_filter(d, (int)(intptr_t)in) : 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        if (d)
            qw__dash_conn_added(d, wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (d) {
            qw__dash_conn_removed(d, wsi);
            qw__dash_carry_drop(d, lws_get_socket_fd(wsi));
        }
        return 0;
    case LWS_CALLBACK_HTTP:
        return d ? on_http(d, wsi, in ? (const char *)in : "", in ? strlen(in) : 0) : -1;
    case LWS_CALLBACK_HTTP_BODY: return -1; /* no request bodies are accepted */
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return d ? check_upgrade(d, wsi, in) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE: /* a response flushed: back to the front */
        if (d && user && ((dash_http *)user)->handback)
            return qw__dash_http_done(d, wsi);
        break;
    default: break;
    }
    (void)len;
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- WebSocket ---- */

int qw__dash_refuse(qw_dash *d, struct lws *wsi, unsigned status, const char *text)
{
    return respond_text_x(d, wsi, status, NULL, NULL, text, 0, 0) ? -1 : refused(d, wsi);
}

static int cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    return qw__dash_cb_ws(wsi, (int)reason, user, in, len);
}

static int cb_front(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    return qw__dash_cb_front(wsi, (int)reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", cb_http, sizeof(dash_http), 0, 0, NULL, 0},
    /* every accepted connection first (front.c): raw, its head read by us */
    {"qw-front", cb_front, sizeof(dash_front), 4096, 0, NULL, 0},
    /* /ws after the takeover (wsconn.c): raw sockets, our framing */
    {"qw-ws", cb_ws, sizeof(dash_client), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Owner thread: publish a snapshot at most every PUB_NS. */
void qw_dash_tick(qw_dash *d, int64_t now)
{
    if (!d)
        return;
    if (d->pub_version && now - d->last_pub_ns < PUB_NS)
        return;
    qw__dash_publish(d, now);
}

/* Server thread, after every wake-up: a new snapshot (at most every
 * PUSH_NS) is offered to each WebSocket client that is not still flushing
 * the previous one; one stuck for STUCK_NS is dropped. */
void qw__dash_serve_tick(qw_dash *d, int64_t now)
{
    if (!d->clients || now - d->last_push_ns < PUSH_NS)
        return;
    pthread_mutex_lock(&d->pub_mu);
    uint64_t v = d->cur ? d->cur->version : 0;
    pthread_mutex_unlock(&d->pub_mu);
    if (!v || v == d->push_version)
        return;
    d->push_version = v;
    d->last_push_ns = now;
    for (dash_client *c = d->conns; c; c = c->next) {
        if (lws_partial_buffered(c->wsi) || lws_send_pipe_choked(c->wsi)) {
            if (!c->stuck_since)
                c->stuck_since = now;
            else if (now - c->stuck_since > STUCK_NS) {
                d->ws_dropped++;
                QW_LOG(INFO, "dropping a dashboard client that stopped reading");
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            }
            continue; /* coalesce: it gets the newest state once it drains */
        }
        c->stuck_since = 0;
        lws_callback_on_writable(c->wsi);
    }
}

/* ---- lifecycle ---- */

static void resolve_root(qw_dash *d)
{
    struct stat sb;
    if (d->o.web_root && *d->o.web_root) {
        snprintf(d->web_root, sizeof d->web_root, "%s", d->o.web_root);
        return;
    }
    if (stat("build/web/index.html", &sb) == 0) {
        snprintf(d->web_root, sizeof d->web_root, "build/web");
        return;
    }
    char exe[900];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(d->web_root, sizeof d->web_root, "%s/web", exe);
    }
}

qw_err qw_dash_create(qw_dash **out, struct lws_context *ctx, const qw_dash_opts *o, char *errbuf,
                      size_t errlen)
{
    qw_dash *d = qw_calloc(1, sizeof *d);
    if (!d)
        return QW_NOMEM;
    d->ctx = ctx;
    d->o = *o;
    d->max_clients = o->max_clients > 0 ? o->max_clients : 64;
    d->max_conns = o->max_conns > 0 ? o->max_conns : 256;
    d->max_per_ip = o->max_per_ip > 0 ? o->max_per_ip : 16;
    qw__dash_snaps_init(d);
    snprintf(d->bind, sizeof d->bind, "%s", o->bind && *o->bind ? o->bind : "127.0.0.1");
    snprintf(d->mode, sizeof d->mode, "%s", o->mode && *o->mode ? o->mode : "live");
    snprintf(d->replay_state, sizeof d->replay_state, "running");
    resolve_root(d);
    load_dir(d, d->web_root, "", 0);
    if (!find_file(d, "/index.html"))
        QW_LOG(WARN, "dashboard: no index.html under %s (run `make web`); the API still works",
               d->web_root);
    if (qw__dash_limits_init(d) != QW_OK) {
        qw_dash_destroy(d);
        return QW_NOMEM;
    }
    if (!ctx) { /* no server: state and metrics only (tests, tools) */
        *out = d;
        return QW_OK;
    }
    char mapped[80];
    const char *iface = NULL;
#if defined(LWS_WITH_IPV6)
    const int ipv6 = 1;
#else
    const int ipv6 = 0;
#endif
    char why[256];
    if (qw_net_listen_iface(d->bind, o->port, ipv6, mapped, sizeof mapped, &iface, why,
                            sizeof why) != QW_OK) { /* core/net.h: what lws 4.1.6 needs */
        QW_SETERR(errbuf, errlen, "dashboard: %s", why);
        qw_dash_destroy(d);
        return QW_IO;
    }
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.port = o->port;
    vi.iface = iface;
    vi.protocols = protocols;
    vi.vhost_name = "qw-dashboard";
    vi.user = d;
    /* max_http_header_data and LWS_SERVER_OPTION_VALIDATE_UTF8 are context
     * settings in lws 4.1.6 (ignored on a vhost): see docs/DASHBOARD.md
     * "Protocol edges" for what that leaves to lws's defaults */
    vi.timeout_secs_ah_idle = AH_IDLE_S;
    /* the HTTP role, for connections whose head front.c checked: not
     * listening, adopted from the front (lws_adopt_socket_vhost_readbuf) */
    vi.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    vi.vhost_name = "qw-dashboard-http";
    d->vh_http = lws_create_vhost(ctx, &vi);
    /* every accepted connection becomes a raw socket of "qw-front" */
    vi.port = o->port;
    vi.vhost_name = "qw-dashboard";
    vi.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
    vi.listen_accept_role = "raw-skt";
    vi.listen_accept_protocol = "qw-front";
    d->vh = d->vh_http ? lws_create_vhost(ctx, &vi) : NULL;
    if (!d->vh) {
        snprintf(errbuf, errlen, "dashboard: cannot listen on %s:%d", d->bind, o->port);
        qw_dash_destroy(d);
        return QW_IO;
    }
    QW_LOG(INFO, "dashboard on http://%s:%d/ (%zu static files from %s)", d->bind, qw_dash_port(d),
           d->nfiles, d->web_root);
    *out = d;
    return QW_OK;
}

int qw_dash_port(const qw_dash *d)
{
    return d->vh ? lws_get_vhost_listen_port(d->vh) : -1;
}

void qw_dash_destroy(qw_dash *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nfiles; i++) {
        qw_free(d->files[i].body);
        qw_free(d->files[i].gz);
    }
    qw_free(d->files);
    qw__dash_carry_free(d);
    qw_free(d->prods);
    qw_free(d->pslot);
    qw__dbuf_free(&d->state);
    qw__dbuf_free(&d->metrics);
    qw__dbuf_free(&d->srv_metrics);
    qw__dbuf_free(&d->srv_push);
    qw__dbuf_free(&d->srv_gz);
    qw__dash_snaps_free(d);
    qw__dash_limits_free(d);
    qw_free(d);
}

void qw_dash_set_sources(qw_dash *d, const qw_pipeline *p, const qw_live_stats *live,
                         const qw_store_stats *store)
{
    d->p = p;
    d->live = live;
    d->store = store;
}

void qw_dash_set_replay_state(qw_dash *d, const char *state)
{
    snprintf(d->replay_state, sizeof d->replay_state, "%s", state);
}

static size_t prod_hash(const char *p)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 32));
}

dash_prod *qw__dash_prod(qw_dash *dh, const char *product, int add)
{
    size_t mask = dh->npslot - 1, i = dh->npslot ? prod_hash(product) & mask : 0;
    for (; dh->npslot; i = (i + 1) & mask) {
        uint32_t k = dh->pslot[i];
        if (!k)
            break;
        if (strncmp(dh->prods[k - 1].product, product, sizeof dh->prods[0].product - 1) == 0)
            return &dh->prods[k - 1];
    }
    if (!add)
        return NULL;
    if (dh->nprods == dh->prods_cap) { /* grow both; rehash */
        size_t cap = dh->prods_cap ? 2 * dh->prods_cap : 16, ns = 4 * cap;
        dash_prod *np = qw_realloc(dh->prods, cap * sizeof *np);
        if (!np)
            return NULL;
        dh->prods = np;
        uint32_t *sl = qw_calloc(ns, sizeof *sl);
        if (!sl)
            return NULL;
        dh->prods_cap = cap;
        qw_free(dh->pslot);
        dh->pslot = sl, dh->npslot = ns, mask = ns - 1;
        for (size_t k = 0; k < dh->nprods; k++) {
            size_t j = prod_hash(dh->prods[k].product) & mask;
            while (sl[j])
                j = (j + 1) & mask;
            sl[j] = (uint32_t)k + 1;
        }
        for (i = prod_hash(product) & mask; sl[i]; i = (i + 1) & mask) {
        }
    }
    dash_prod *dp = &dh->prods[dh->nprods++];
    memset(dp, 0, sizeof *dp);
    snprintf(dp->product, sizeof dp->product, "%s", product);
    dh->pslot[i] = (uint32_t)dh->nprods;
    return dp;
}

void qw_dash_on_labeled(qw_dash *d, const char *product, const qw_labeled *s)
{
    if (!d)
        return;
    dash_prod *dp = qw__dash_prod(d, product, 1);
    if (!dp)
        return; /* out of memory: this label is not shown */
    dp->lab[dp->head] = (dash_label){s->s.f.t_ns, s->s.p, s->label};
    dp->head = (dp->head + 1) % QW_DASH_LABELS;
    if (dp->nlab < QW_DASH_LABELS)
        dp->nlab++;
    dp->total++;
    qw__dash_mstat_add(&dp->ms, s->s.p, s->label);
}

/* wsproto_srv.c: the server's side of the WebSocket handshake (see
 * wsproto.h): the Sec-WebSocket-Key check and the answer to a client's
 * permessage-deflate offer (RFC 7692), and the parameter reader and rules
 * both roles share (wsproto_int.h). No I/O; the parser for both roles
 * is in wsproto.c, the frame writers and the server's sender in
 * wsproto_tx.c. */
#include "ingest/wsproto.h"
#include "ingest/wsproto_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int qw_ws_key_ok(const char *key, size_t n)
{
    /* 16 bytes in base64: 22 symbols, then "==" (the last symbol's low
     * 4 bits are padding) */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n != QW_WS_KEY_LEN || key[22] != '=' || key[23] != '=')
        return 0;
    for (size_t i = 0; i < 22; i++)
        if (!key[i] || !strchr(b64, key[i]))
            return 0;
    return ((strchr(b64, key[21]) - b64) & 0x0f) == 0;
}

int qw__ws_ext_param(const char *v, size_t n, size_t *ip, const char **k, size_t *kl, int *val)
{
    size_t i = *ip, ks = i;
    while (i < n && v[i] != '=' && v[i] != ';' && v[i] != ',' && !qw__ws_is_sp(v[i]))
        i++;
    *k = v + ks;
    *kl = i - ks;
    while (i < n && qw__ws_is_sp(v[i]))
        i++;
    *val = -1;
    if (i < n && v[i] == '=') {
        i++;
        while (i < n && qw__ws_is_sp(v[i]))
            i++;
        int q = i < n && v[i] == '"';
        i += (size_t)q;
        size_t ds = i;
        int x = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9' && i - ds < 3)
            x = x * 10 + (v[i++] - '0');
        if (i == ds || (q && (i >= n || v[i++] != '"')))
            return -1;
        *val = x;
        while (i < n && qw__ws_is_sp(v[i]))
            i++;
    }
    *ip = i;
    return 0;
}

int qw__ws_pmd_param(qw_ws_pmd *pmd, const char *k, size_t kl, int val, int server, int *seen_cmwb)
{
#define KEY(s) (kl == sizeof(s) - 1 && strncasecmp(k, s, kl) == 0)
    if (KEY("server_no_context_takeover") && val < 0 && !pmd->server_no_context_takeover)
        pmd->server_no_context_takeover = 1;
    else if (KEY("client_no_context_takeover") && val < 0 && !pmd->client_no_context_takeover)
        pmd->client_no_context_takeover = 1;
    else if (KEY("server_max_window_bits") && val >= 8 && val <= 15 && !pmd->server_max_window_bits)
        pmd->server_max_window_bits = val;
    else if (KEY("client_max_window_bits") && server && (val < 0 || (val >= 8 && val <= 15)) &&
             !*seen_cmwb)
        *seen_cmwb = 1; /* a hint we need not answer: our inflater takes any window */
    else if (KEY("client_max_window_bits") && !server && val >= 8 && val <= 15 &&
             !pmd->client_max_window_bits)
        pmd->client_max_window_bits = val;
    else
        return -1;
#undef KEY
    return 0;
}

/* One offer o[0..n) ("permessage-deflate; a; b=1"): 1 and *pmd when we
 * accept it, 0 to decline it. */
static int offer_ok(const char *o, size_t n, qw_ws_pmd *pmd)
{
    static const char name[] = "permessage-deflate";
    const size_t nl = sizeof name - 1;
    size_t i = 0;
    while (i < n && qw__ws_is_sp(o[i]))
        i++;
    if (n - i < nl || strncasecmp(o + i, name, nl) != 0)
        return 0;
    i += nl;
    while (i < n && qw__ws_is_sp(o[i]))
        i++;
    if (i < n && o[i] != ';')
        return 0; /* "permessage-deflatex" */
    memset(pmd, 0, sizeof *pmd);
    int seen_cmwb = 0;
    while (i < n) {
        i++; /* the ';' */
        while (i < n && qw__ws_is_sp(o[i]))
            i++;
        const char *k;
        size_t kl;
        int val;
        if (qw__ws_ext_param(o, n, &i, &k, &kl, &val) != 0 || (i < n && o[i] != ';'))
            return 0;
        if (qw__ws_pmd_param(pmd, k, kl, val, 1, &seen_cmwb) != 0)
            return 0; /* RFC 7692 5.1: unknown, repeated or invalid: decline */
    }
    if (pmd->server_max_window_bits == 8)
        return 0;
    pmd->enabled = 1;
    pmd->client_max_window_bits = 15;
    return 1;
}

qw_err qw_ws_server_ext(const char *offer, size_t n, qw_ws_pmd *pmd, char *resp, size_t cap)
{
    memset(pmd, 0, sizeof *pmd);
    if (!cap)
        return QW_TOO_LARGE;
    resp[0] = '\0';
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        while (i < n && offer[i] != ',')
            i++;
        if (offer_ok(offer + s, i - s, pmd)) {
            int w = snprintf(resp, cap, "permessage-deflate%s%s",
                             pmd->server_no_context_takeover ? "; server_no_context_takeover" : "",
                             pmd->client_no_context_takeover ? "; client_no_context_takeover" : "");
            if (w > 0 && (size_t)w < cap && pmd->server_max_window_bits)
                w += snprintf(resp + w, cap - (size_t)w, "; server_max_window_bits=%d",
                              pmd->server_max_window_bits);
            if (w < 0 || (size_t)w >= cap) {
                memset(pmd, 0, sizeof *pmd);
                resp[0] = '\0';
                return QW_TOO_LARGE;
            }
            if (!pmd->server_max_window_bits)
                pmd->server_max_window_bits = 15;
            return QW_OK;
        }
        i++; /* the ',' */
    }
    memset(pmd, 0, sizeof *pmd);
    return QW_OK;
}

/* fuzz_wsproto.c: libFuzzer target for the WebSocket protocol: the 101
 * response check, the server's answer to an extension offer, and the frame
 * parser in both roles (with and without permessage-deflate, input cut
 * into reads of fuzzer-chosen sizes). Delivered messages never exceed
 * max_message and are NUL-terminated, a close reports only a code a peer
 * may send; the client role leaves the input buffer unchanged (the server
 * role unmasks in place); an agreed extension answer is well-formed and
 * fits. First byte: bit 0 response, bit 4 extension offer, else parser
 * (bit 3 server role, bit 1 deflate, bit 2 no context takeover). */
#include <stdlib.h>
#include <string.h>

#include "ingest/wsproto.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define MAXMSG 4096

static int on_msg(void *ctx, char *buf, size_t len, int bin)
{
    (void)ctx, (void)bin;
    if (len > MAXMSG || buf[len] != '\0')
        abort();
    return 0;
}

static int on_ping(void *ctx, const unsigned char *p, size_t n)
{
    (void)ctx, (void)p;
    if (n > 125)
        abort();
    return 0;
}

static int on_close(void *ctx, int code, const char *reason, size_t n)
{
    (void)ctx, (void)reason;
    if (code > 65535 || n > 123)
        abort();
    /* only codes a peer may send get here (RFC 6455 7.4) */
    if (code != -1 && !((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                        (code >= 3000 && code <= 4999)))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned mode = data[0], step = data[1] ? data[1] : 256;
    data += 2, size -= 2;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (mode & 16) {
        qw_ws_pmd pmd;
        char resp[96];
        if (qw_ws_server_ext(buf, size, &pmd, resp, sizeof resp) == QW_OK) {
            size_t rl = strlen(resp);
            if (rl >= sizeof resp || (pmd.enabled != (rl > 0)) ||
                (pmd.enabled &&
                 (pmd.server_max_window_bits < 9 || pmd.server_max_window_bits > 15 ||
                  strncmp(resp, "permessage-deflate", 18) != 0)))
                abort();
        }
    } else if (mode & 1) {
        qw_ws_pmd pmd;
        char err[128];
        size_t hl = 0;
        qw_err e = qw_ws_response(buf, size, "dGhlIHNhbXBsZSBub25jZQ==", mode & 2, &hl, &pmd, err,
                                  sizeof err);
        if (e == QW_OK && (hl > size || hl < 4))
            abort();
    } else {
        int server = (mode & 8) != 0;
        qw_ws_pmd pmd = {(mode & 2) != 0, (mode & 4) != 0, 1, 15, 15};
        qw_ws_rx_cb cb = {NULL, on_msg, on_ping, on_close, NULL};
        qw_ws_rx r;
        memset(&r, 0, sizeof r);
        qw_err re = server ? qw_ws_rx_reset_server(&r, MAXMSG, &pmd, &cb)
                           : qw_ws_rx_reset(&r, MAXMSG, &pmd, &cb);
        if (re == QW_OK) {
            for (size_t i = 0; i < size; i += step)
                if (qw_ws_rx_feed(&r, buf + i, size - i < step ? size - i : step) != QW_OK ||
                    r.closed)
                    break;
            if (!server && memcmp(buf, data, size) != 0)
                abort();
        }
        qw_ws_rx_free(&r);
    }
    free(buf);
    return 0;
}

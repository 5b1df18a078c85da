/* wsproto_int.h: what the client's (wsproto.c) and the server's
 * (wsproto_srv.c) permessage-deflate negotiation share. Not a public
 * interface. */
#ifndef QW_INGEST_WSPROTO_INT_H
#define QW_INGEST_WSPROTO_INT_H

#include <stddef.h>

#include "ingest/wsproto.h"

static inline int qw__ws_is_sp(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* One extension parameter "key[=value]" of v[0..n), starting at v[*i] (the
 * first character after its ';' and spaces). On return *k / *kl are the
 * key, *val its value (-1: none; a value is 1..3 digits, quoted or not) and
 * *i is past the value and the spaces after it: the caller checks that a
 * ';', a ',' or the end follows. Returns 0, or -1 for a malformed value. */
int qw__ws_ext_param(const char *v, size_t n, size_t *i, const char **k, size_t *kl, int *val);

/* Applies one permessage-deflate parameter to pmd by RFC 7692's rules.
 * server = 1: a client's offer read by the server (client_max_window_bits
 * may come without a value and is only a hint: *seen_cmwb remembers it);
 * server = 0: the server's answer read by the client (the value is
 * required and kept). Returns 0, or -1 for an unknown, repeated or
 * out-of-range parameter (the server declines the offer, the client fails
 * the handshake). */
int qw__ws_pmd_param(qw_ws_pmd *pmd, const char *k, size_t kl, int val, int server, int *seen_cmwb);

#endif

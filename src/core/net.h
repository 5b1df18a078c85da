/* net.h: what a listener built on libwebsockets 4.1.6 must be given as its
 * vhost `iface` so that --bind means exactly that address.
 *
 * lws binds a dual-stack IPv6 socket and, given an IPv4 literal, parses it
 * into an IPv4 sockaddr it never uses: the socket listens on every
 * interface (127.0.0.1 included), and an address the host does not have
 * listens nowhere, silently. qw_net_listen_iface checks the address first
 * (a throwaway bind on it: EADDRNOTAVAIL is "not an address of this host";
 * an interface name must exist and have an address) and maps an IPv4
 * literal to ::ffff:a.b.c.d, which lws binds exactly. 0.0.0.0 and :: mean
 * every interface (iface NULL). Used by the dashboard and the simulator.
 */
#ifndef QW_CORE_NET_H
#define QW_CORE_NET_H

#include <stddef.h>

#include "core/err.h"

/* bind: address or interface name; port: 0 = any. ipv6: lws was built with
 * IPv6 (LWS_WITH_IPV6), so IPv4 literals go as IPv4-mapped addresses.
 * *iface: what to give lws (points into buf or at bind; NULL = every
 * interface). QW_INVAL with errbuf saying why (no prefix). */
qw_err qw_net_listen_iface(const char *bind, int port, int ipv6, char *buf, size_t cap,
                           const char **iface, char *errbuf, size_t errlen);

#endif

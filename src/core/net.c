/* net.c: --bind checked and mapped for libwebsockets (net.h). */
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

qw_err qw_net_listen_iface(const char *bind_to, int port, int ipv6, char *buf, size_t cap,
                           const char **iface, char *errbuf, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    socklen_t sl;
    if (inet_pton(AF_INET, bind_to, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, bind_to, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof *s6;
    } else { /* an interface name: it must exist and have an address */
        struct ifaddrs *ifa = NULL;
        int found = 0;
        if (getifaddrs(&ifa) == 0) {
            for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
                if (i->ifa_addr && strcmp(i->ifa_name, bind_to) == 0 &&
                    (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
                    found = 1;
            freeifaddrs(ifa);
        }
        if (!found) {
            QW_SETERR(errbuf, errlen,
                      "--bind %s: not an IP address or an interface with an address on this host",
                      bind_to);
            return QW_INVAL;
        }
        *iface = bind_to;
        return QW_OK;
    }
    /* the address must be one of this host's (or the wildcard): try it */
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0 && ss.ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (fd >= 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (const struct sockaddr *)&ss, sl) != 0) {
        int e = errno;
        char why[128];
        if (fd >= 0)
            close(fd);
        QW_SETERR(errbuf, errlen, "cannot listen on %s:%d: %s%s", bind_to, port,
                  qw_errno_str(e, why, sizeof why),
                  e == EADDRNOTAVAIL ? " (not an address of this host)" : "");
        return QW_INVAL;
    }
    close(fd);
    if ((ss.ss_family == AF_INET && s4->sin_addr.s_addr == htonl(INADDR_ANY)) ||
        (ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))) {
        *iface = NULL; /* every interface */
        return QW_OK;
    }
    if (ss.ss_family == AF_INET && ipv6) {
        snprintf(buf, cap, "::ffff:%s", bind_to);
        *iface = buf;
        return QW_OK;
    }
    *iface = bind_to;
    return QW_OK;
}

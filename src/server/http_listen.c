/* http_listen.c - the listening socket, made here rather than by
 * libmicrohttpd so that a failure says which address and why ("address
 * already in use"), and so port 0 can be reported as the port it became. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_internal.h"

#define LISTEN_BACKLOG 4096 /* bursts of thousands of new connections */

static int bind_one(const struct addrinfo *ai, int *fd_out, int *errno_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        *errno_out = errno;
        return -1;
    }
    int on = 1;
    /* A restarted server must not wait out TIME_WAIT of its old connections. */
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ai->ai_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        *errno_out = errno;
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

static int port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int http_listen_open(const char *host, int port, int *fd, int *bound_port, int *ipv6, nq_err *err)
{
    struct addrinfo hints, *res = NULL;
    char service[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%d", port);
    const char *node = host && host[0] ? host : NULL;
    if (!node)
        hints.ai_family = AF_INET;
    int gai = getaddrinfo(node, service, &hints, &res);
    if (gai != 0)
        return nq_err_set(err, NQ_EINVAL, "--listen", "cannot resolve '%s': %s", node ? node : "*",
                          gai_strerror(gai));
    int last = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (bind_one(ai, fd, &last) == 0) {
            *ipv6 = ai->ai_family == AF_INET6;
            *bound_port = port_of(*fd);
            freeaddrinfo(res);
            return NQ_OK;
        }
    }
    freeaddrinfo(res);
    return nq_err_set(err, NQ_EIO, "--listen", "cannot listen on %s:%d: %s", node ? node : "*",
                      port, strerror(last ? last : EADDRNOTAVAIL));
}

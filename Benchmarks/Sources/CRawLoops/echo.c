// The per-connection work every raw server does: the protocol of the benchmark.
#define _GNU_SOURCE
#include "raw_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int rl_echo(int fd) {
    char buffer[4096];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n > 0) {
            // A 64-byte answer to a 64-byte question always fits in the send buffer.
            if (send(fd, buffer, (size_t)n, MSG_NOSIGNAL) != n) return 0;
            // A short read drained the socket: whatever arrives later raises a new edge (Linux
            // wakes the poll for every arrival), so the read that would say EAGAIN is skipped,
            // as tokio and SwiftNIO do.
            if ((size_t)n < sizeof buffer) return 1;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && errno == EAGAIN;
    }
}

int rl_accept(int listen_fd) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int rl_connections_init(rl_connections *set) {
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    set->capacity = limit.rlim_cur > (1u << 20) ? (1 << 20) : (int)limit.rlim_cur;
    set->open = calloc((size_t)set->capacity, 1);
    return set->open ? 0 : -ENOMEM;
}

void rl_connections_add(rl_connections *set, int fd) {
    if (fd < set->capacity) set->open[fd] = 1;
}

void rl_connections_remove(rl_connections *set, int fd) {
    if (fd < set->capacity) set->open[fd] = 0;
}

void rl_connections_close_all(rl_connections *set) {
    for (int fd = 0; fd < set->capacity; fd++) {
        if (set->open[fd]) close(fd);
    }
    free(set->open);
    set->open = NULL;
}

// The raw epoll echo server.
#define _GNU_SOURCE
#include "CRawLoops.h"
#include "raw_internal.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

static int watch(int epoll, int fd) {
    struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : -errno;
}

static int accept_all(int epoll, int listen_fd, rl_connections *connections) {
    for (;;) {
        int fd = rl_accept(listen_fd);
        if (fd == -EAGAIN) return 0;
        if (fd < 0) return fd == -EINTR || fd == -ECONNABORTED ? 0 : fd;
        rl_connections_add(connections, fd);
        if (watch(epoll, fd) != 0) {
            rl_connections_remove(connections, fd);
            close(fd);
        }
    }
}

static int serve(int epoll, const rl_echo_config *config, rl_connections *connections) {
    struct epoll_event events[1024];
    for (;;) {
        int ready = epoll_wait(epoll, events, 1024, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (fd == config->stop_fd) return 0;
            if (fd == config->listen_fd) {
                int result = accept_all(epoll, fd, connections);
                if (result < 0) return result;
            } else if (!rl_echo(fd)) {
                rl_connections_remove(connections, fd);
                close(fd);  // also removes it from the epoll set
            }
        }
    }
}

int rl_epoll_echo_run(const rl_echo_config *config) {
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) return -errno;
    rl_connections connections;
    int result = rl_connections_init(&connections);
    if (result == 0) result = watch(epoll, config->listen_fd);
    if (result == 0) result = watch(epoll, config->stop_fd);
    for (int i = 0; i < config->idle_count && result == 0; i++) result = watch(epoll, config->idle_fds[i]);
    if (result == 0) result = serve(epoll, config, &connections);
    if (connections.open) rl_connections_close_all(&connections);
    close(epoll);
    return result;
}

// Register+deregister storm on epoll: one epoll_ctl per change.
#define _GNU_SOURCE
#include "CRawLoops.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int64_t rl_epoll_storm(const int *fds, int count, uint64_t duration_ns) {
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) return -errno;
    struct epoll_event events[64];
    uint64_t deadline = rpm_now_ns() + duration_ns;
    int64_t pairs = 0;
    do {
        for (int i = 0; i < count; i++) {
            struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u64 = (uint64_t)i};
            if (epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &event) != 0) goto failed;
        }
        epoll_wait(epoll, events, 64, 0);
        for (int i = 0; i < count; i++) {
            if (epoll_ctl(epoll, EPOLL_CTL_DEL, fds[i], NULL) != 0) goto failed;
        }
        epoll_wait(epoll, events, 64, 0);
        pairs += count;
    } while (rpm_now_ns() < deadline);
    close(epoll);
    return pairs;
failed:;
    int error = errno;
    close(epoll);
    return -error;
}

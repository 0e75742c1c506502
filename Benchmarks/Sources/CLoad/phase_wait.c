// The wait at the heart of every measured phase of the load generator.
#define _GNU_SOURCE
#include "load_internal.h"

#include <errno.h>
#include <sys/epoll.h>

int rpl_wait(int epoll, struct epoll_event *events, int capacity, int *sending, uint64_t deadline) {
    for (;;) {
        uint64_t now = rpm_now_ns();
        if (*sending && now >= deadline) *sending = 0;
        int timeout = *sending ? (int)((deadline - now) / 1000000u) + 1 : 1000;
        int ready = epoll_wait(epoll, events, capacity, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (ready == 0 && !*sending) return -ETIMEDOUT;
        return ready;
    }
}

// epoll for the fallback backend.
#define _GNU_SOURCE
#include "CLiburing.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

_Static_assert(sizeof(struct epoll_event) <= sizeof(rp_epoll_event), "in-place unpacking needs room");

int rp_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int rp_epoll_ctl(int epfd, rp_epoll_op op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, (int)op, fd, &event) == 0 ? 0 : -errno;
}

static int precise_wait_missing;  // set once epoll_pwait2 answered ENOSYS

int rp_epoll_wait(int epfd, rp_epoll_event *out, int maxevents, int64_t timeout_ns) {
    struct epoll_event *packed = (struct epoll_event *)out;  // the kernel writes packed records
    long n = -1;
    if (!__atomic_load_n(&precise_wait_missing, __ATOMIC_RELAXED)) {
        struct timespec ts, *tsp = NULL;
        if (timeout_ns >= 0) {
            ts.tv_sec = timeout_ns / 1000000000LL;
            ts.tv_nsec = timeout_ns % 1000000000LL;
            tsp = &ts;
        }
        n = syscall(SYS_epoll_pwait2, epfd, packed, maxevents, tsp, NULL, 0);
        if (n < 0 && errno == ENOSYS) __atomic_store_n(&precise_wait_missing, 1, __ATOMIC_RELAXED);
    }
    if (__atomic_load_n(&precise_wait_missing, __ATOMIC_RELAXED)) {
        int ms = -1;
        if (timeout_ns >= 0) {
            int64_t rounded = (timeout_ns + 999999) / 1000000;
            ms = rounded > 0x7fffffff ? 0x7fffffff : (int)rounded;
        }
        n = epoll_wait(epfd, packed, maxevents, ms);
    }
    if (n < 0) return -errno;
    // Unpack from the back: record i moves from byte 12*i to 16*i, never over an unread one.
    for (long i = n - 1; i >= 0; i--) {
        struct epoll_event record;
        memcpy(&record, &packed[i], sizeof record);
        out[i].events = record.events;
        out[i].data = record.data.u64;
    }
    return (int)n;
}

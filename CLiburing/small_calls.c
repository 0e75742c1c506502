// Small system calls Swift's Glibc module does not offer: eventfd and thread identity.
#define _GNU_SOURCE
#include "CLiburing.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

uint64_t rp_thread_serial(void) {
    static _Atomic uint64_t next = 1;
    static __thread uint64_t serial;
    if (serial == 0) serial = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed);
    return serial;
}

int rp_eventfd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

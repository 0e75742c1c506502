// ThreadSanitizer builds only: tells TSan that a ring's memory is new when liburing maps it.
//
// liburing (2.2 and later, built without libc on x86-64) maps the SQ ring, the CQ ring and the
// SQE array with raw mmap/munmap system calls, which TSan's interceptors never see. When one
// Poll's ring is torn down and another Poll's ring is mapped at the same addresses (by another
// thread), TSan still remembers the first ring's SQE writes and reports the second ring's as a
// data race, although munmap before mmap orders them. Here every page of a mapping is released
// as a sync object before it is unmapped and acquired once it is mapped again: exactly the order
// the kernel guarantees, and nothing more. Races inside one ring (two threads preparing SQEs at
// once, which RingPoll must never do) are still reported.
#include "ring_internal.h"

#ifdef RP_TSAN
#include <stdint.h>
#include <unistd.h>

void __tsan_acquire(void *address);
void __tsan_release(void *address);

static void each_page(void *start, size_t length, void (*annotate)(void *)) {
    if (!start || !length) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)start & ~(page - 1);
    for (uintptr_t address = first; address < (uintptr_t)start + length; address += page)
        annotate((void *)address);
}

static void each_mapping(const struct io_uring *ring, void (*annotate)(void *)) {
    each_page(ring->sq.ring_ptr, ring->sq.ring_sz, annotate);
    if (ring->cq.ring_ptr != ring->sq.ring_ptr) each_page(ring->cq.ring_ptr, ring->cq.ring_sz, annotate);
    each_page(ring->sq.sqes, ring->sq.ring_entries * sizeof(struct io_uring_sqe), annotate);
}

void rp_tsan_ring_mapped(const struct io_uring *ring) { each_mapping(ring, __tsan_acquire); }

void rp_tsan_ring_unmapping(const struct io_uring *ring) { each_mapping(ring, __tsan_release); }
#endif

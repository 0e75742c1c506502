// Private to the CLiburing .c files: the layout behind the opaque rp_ring handle.
#ifndef RINGPOLL_RING_INTERNAL_H
#define RINGPOLL_RING_INTERNAL_H

#include <liburing.h>

#include "CLiburing.h"

struct rp_ring {
    struct io_uring ring;
    rp_ring_mode mode;
    int enabled;  // DEFER rings are created disabled and enabled by their owning thread
    // IOSQE_CQE_SKIP_SUCCESS for requests whose success needs no completion (cancels, closes),
    // when the kernel has it (5.17+).
    unsigned quiet_success;
};

// Ring memory annotations for ThreadSanitizer builds (tsan_rings.c); nothing otherwise.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RP_TSAN 1
#endif
#endif

#ifdef RP_TSAN
void rp_tsan_ring_mapped(const struct io_uring *ring);
void rp_tsan_ring_unmapping(const struct io_uring *ring);
#else
static inline void rp_tsan_ring_mapped(const struct io_uring *ring) { (void)ring; }
static inline void rp_tsan_ring_unmapping(const struct io_uring *ring) { (void)ring; }
#endif

#endif

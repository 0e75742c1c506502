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

#endif

// Private to the CLiburing .c files: the layout behind the opaque rp_ring handle.
#ifndef RINGPOLL_RING_INTERNAL_H
#define RINGPOLL_RING_INTERNAL_H

#include <liburing.h>

#include "CLiburing.h"

struct rp_ring {
    struct io_uring ring;
    rp_ring_mode mode;
    int enabled;  // DEFER rings are created disabled and enabled by their owning thread
};

#endif

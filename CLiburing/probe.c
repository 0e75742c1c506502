// Decides whether io_uring can carry RingPoll: setup allowed, opcodes present, multishot working.
#define _GNU_SOURCE
#include "ring_internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int first_missing_opcode(struct io_uring *ring) {
    static const int required[] = {IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL};
    struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
    if (!probe) return IORING_OP_POLL_ADD;  // probing itself needs 5.6; older kernels fail here
    int missing = -1;
    for (unsigned i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (!io_uring_opcode_supported(probe, required[i])) {
            missing = required[i];
            break;
        }
    }
    io_uring_free_probe(probe);
    return missing;
}

// Multishot poll has no feature bit: arm one on an eventfd that is already readable and expect
// a completion that says more will follow. Kernels before 5.13 reject the request with -EINVAL.
static int multishot_self_test(rp_ring *r) {
    int efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) return errno;
    int result = EINVAL;
    if (rp_ring_enable(r) == 0 && rp_ring_prep_poll(r, efd, POLLIN, 1, 1) == 0 &&
        rp_ring_submit_and_wait(r, 1000000000LL) >= 0) {
        rp_completion c;
        int overflowed = 0;
        if (rp_ring_reap(r, &c, 1, &overflowed) == 1) {
            if (c.res < 0)
                result = -c.res;
            else if (c.res > 0 && (c.flags & RP_CQE_F_MORE))
                result = 0;
        } else {
            result = ETIME;
        }
    }
    close(efd);
    return result;
}

void rp_probe(rp_probe_report *report) {
    memset(report, 0, sizeof *report);
    report->missing_opcode = -1;
    rp_ring *r = NULL;
    int ret = rp_ring_create(8, 16, RP_MODE_DEFER, &r);
    if (ret < 0) {
        report->setup_errno = -ret;
        return;
    }
    report->best_mode = rp_ring_get_mode(r);
    unsigned needed = IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
    report->missing_feature = (r->ring.features & needed) != needed;
    report->missing_opcode = first_missing_opcode(&r->ring);
    if (report->missing_opcode < 0 && !report->missing_feature)
        report->multishot_errno = multishot_self_test(r);
    rp_ring_destroy(r);
}

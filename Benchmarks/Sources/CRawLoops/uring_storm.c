// Register+deregister storm on io_uring: POLL_ADD multishot, then ASYNC_CANCEL, in SQ-sized
// batches that travel with one io_uring_enter each, every completion reaped.
#define _GNU_SOURCE
#include "CRawLoops.h"
#include "raw_internal.h"

#include <errno.h>
#include <poll.h>

#define CANCEL (UINT64_C(1) << 63)

/// Consumes every completion in the CQ; counts cancels answered and polls ended.
static void reap(struct io_uring *ring, int64_t *answered, int64_t *ended) {
    unsigned head, seen = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(ring, head, cqe) {
        seen++;
        if (cqe->user_data & CANCEL)
            (*answered)++;
        else if (!(cqe->flags & IORING_CQE_F_MORE))
            (*ended)++;
    }
    io_uring_cq_advance(ring, seen);
}

/// An SQE; a full SQ is submitted (running task-work) and the CQ drained first.
static struct io_uring_sqe *next_sqe(struct io_uring *ring, int64_t *answered, int64_t *ended) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    while (!sqe) {
        if (io_uring_submit_and_get_events(ring) < 0) return NULL;
        reap(ring, answered, ended);
        sqe = io_uring_get_sqe(ring);
    }
    return sqe;
}

int64_t rl_uring_storm(const int *fds, int count, uint64_t duration_ns) {
    struct io_uring ring;
    int result = rl_ring_init(&ring);
    if (result < 0) return result;
    uint64_t deadline = rpm_now_ns() + duration_ns;
    int64_t pairs = 0, answered = 0, ended = 0;
    do {
        for (int i = 0; i < count; i++) {
            struct io_uring_sqe *sqe = next_sqe(&ring, &answered, &ended);
            if (!sqe) goto failed;
            io_uring_prep_poll_multishot(sqe, fds[i], POLLIN | POLLRDHUP);
            io_uring_sqe_set_data64(sqe, (uint64_t)i);
        }
        if (io_uring_submit_and_get_events(&ring) < 0) goto failed;
        reap(&ring, &answered, &ended);
        for (int i = 0; i < count; i++) {
            struct io_uring_sqe *sqe = next_sqe(&ring, &answered, &ended);
            if (!sqe) goto failed;
            io_uring_prep_cancel64(sqe, (uint64_t)i, 0);
            io_uring_sqe_set_data64(sqe, CANCEL | (uint64_t)i);
        }
        pairs += count;
        // Every poll must be gone before the same descriptors are registered again.
        while (answered < pairs || ended < pairs) {
            if (io_uring_submit_and_wait(&ring, 1) < 0) goto failed;
            reap(&ring, &answered, &ended);
        }
    } while (rpm_now_ns() < deadline);
    io_uring_queue_exit(&ring);
    return pairs;
failed:
    io_uring_queue_exit(&ring);
    return -EIO;
}

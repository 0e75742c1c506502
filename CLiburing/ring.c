// The io_uring ring behind RingPoll's io_uring selector. Only the polling thread calls these.
#define _GNU_SOURCE
#include "ring_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static unsigned setup_flags(rp_ring_mode mode) {
    switch (mode) {
    case RP_MODE_DEFER:
        // Disabled at birth so that the thread which first polls, not the creator, owns it.
        return IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
               IORING_SETUP_SUBMIT_ALL | IORING_SETUP_R_DISABLED;
    case RP_MODE_COOP:
        return IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL;
    case RP_MODE_PLAIN:
    default:
        return 0;
    }
}

int rp_ring_create(unsigned sq_entries, unsigned cq_entries, rp_ring_mode max_mode, rp_ring **out) {
    rp_ring *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    int ret = -EINVAL;
    for (int mode = (int)max_mode; mode >= RP_MODE_PLAIN; mode--) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = setup_flags((rp_ring_mode)mode) | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        p.cq_entries = cq_entries;
        ret = io_uring_queue_init_params(sq_entries, &r->ring, &p);
        if (ret == 0) {
            rp_tsan_ring_mapped(&r->ring);
            r->mode = (rp_ring_mode)mode;
            r->enabled = (mode != RP_MODE_DEFER);
            r->quiet_success = (p.features & IORING_FEAT_CQE_SKIP) ? IOSQE_CQE_SKIP_SUCCESS : 0;
            *out = r;
            return 0;
        }
        // -EINVAL means "flag unknown to this kernel": try the next weaker mode. Anything else
        // (ENOSYS, EPERM, ENOMEM) is an answer about io_uring itself.
        if (ret != -EINVAL) break;
    }
    free(r);
    return ret;
}

void rp_ring_destroy(rp_ring *r) {
    if (!r) return;
    rp_tsan_ring_unmapping(&r->ring);
    io_uring_queue_exit(&r->ring);  // closing the ring cancels every request it still holds
    free(r);
}

rp_ring_mode rp_ring_get_mode(const rp_ring *r) { return r->mode; }

int rp_ring_enable(rp_ring *r) {
    if (r->enabled) return 0;
    // liburing 2.3 declares io_uring_enable_rings but does not export it.
    int ret = io_uring_register(r->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    if (ret < 0) return ret;
    r->enabled = 1;
    return 0;
}

int rp_ring_prep_poll(rp_ring *r, int fd, uint32_t mask, int multishot, uint64_t user_data) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    if (multishot)
        io_uring_prep_poll_multishot(sqe, fd, mask);
    else
        io_uring_prep_poll_add(sqe, fd, mask);
    io_uring_sqe_set_data64(sqe, user_data);
    return 0;
}

int rp_ring_prep_cancel(rp_ring *r, uint64_t target, uint64_t user_data) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_cancel64(sqe, target, 0);
    io_uring_sqe_set_data64(sqe, user_data);
    // Only a failed cancel matters (-EALREADY is retried); the cancelled poll's own final
    // completion still arrives. Half the completions of a deregister.
    io_uring_sqe_set_flags(sqe, r->quiet_success);
    return 0;
}

int rp_ring_prep_close(rp_ring *r, int fd, uint64_t user_data) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_close(sqe, fd);
    io_uring_sqe_set_data64(sqe, user_data);
    io_uring_sqe_set_flags(sqe, r->quiet_success);
    return 0;
}

unsigned rp_ring_sq_pending(const rp_ring *r) { return io_uring_sq_ready(&r->ring); }

int rp_ring_submit(rp_ring *r) { return io_uring_submit(&r->ring); }

int rp_ring_submit_and_flush(rp_ring *r) { return io_uring_submit_and_get_events(&r->ring); }

int rp_ring_submit_and_wait(rp_ring *r, int64_t timeout_ns) {
    if (timeout_ns < 0) return io_uring_submit_and_wait(&r->ring, 1);
    if (timeout_ns == 0) return io_uring_submit_and_get_events(&r->ring);
    struct __kernel_timespec ts = {
        .tv_sec = timeout_ns / 1000000000LL,
        .tv_nsec = timeout_ns % 1000000000LL,
    };
    struct io_uring_cqe *cqe = NULL;
    // With EXT_ARG the timeout travels in the enter call itself: no timeout SQE, ns precision.
    return io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, &ts, NULL);
}

int rp_ring_run_task_work(rp_ring *r, unsigned budget) {
    if (!r->enabled || r->mode != RP_MODE_DEFER) return 0;
    if (!(IO_URING_READ_ONCE(*r->ring.sq.kflags) & IORING_SQ_TASKRUN)) return 0;
    // Every item may post a completion: ask for no more than the CQ has room for.
    unsigned room = *r->ring.cq.kring_entries - io_uring_cq_ready(&r->ring);
    if (budget > room) budget = room;
    if (budget == 0) return 0;
    // A wait for `budget` completions runs up to `budget` items of task-work before it looks;
    // the zero timeout makes it return (-ETIME) instead of sleeping for what is missing.
    struct __kernel_timespec zero = {.tv_sec = 0, .tv_nsec = 0};
    struct io_uring_getevents_arg arg = {.sigmask = 0, .sigmask_sz = _NSIG / 8, .ts = (uint64_t)(uintptr_t)&zero};
    int ret = io_uring_enter2((unsigned)r->ring.ring_fd, 0, budget, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                              (sigset_t *)&arg, sizeof arg);
    return (ret >= 0 || ret == -ETIME || ret == -EINTR) ? (int)budget : ret;
}

unsigned rp_ring_reap(rp_ring *r, rp_completion *out, unsigned capacity, int *overflowed) {
    unsigned n = 0;
    int flushes = 0;
    while (n < capacity) {
        unsigned kflags = IO_URING_READ_ONCE(*r->ring.sq.kflags);
        if (kflags & IORING_SQ_CQ_OVERFLOW) *overflowed = 1;
        unsigned head, taken = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(&r->ring, head, cqe) {
            if (n == capacity) break;
            out[n].user_data = cqe->user_data;
            out[n].res = cqe->res;
            out[n].flags = cqe->flags;
            n++;
            taken++;
        }
        if (taken) {
            io_uring_cq_advance(&r->ring, taken);
            continue;
        }
        // The CQ is empty, but the kernel may still hold completions. Bounded, so that a flood
        // of new completions cannot keep one call here forever.
        if (!r->enabled || flushes >= 64) break;
        // Overflowed completions are flushed always: the multishot polls they ended must be seen
        // and re-armed. Deferred task-work only when nothing was reaped at all: otherwise the
        // next wait runs it anyway, and chasing it here (or running it with a zero-timeout wait)
        // cost measurably more CPU per event under load (ringpoll-bench, 100 connections).
        int overflow = kflags & IORING_SQ_CQ_OVERFLOW;
        int idle_taskwork = (kflags & IORING_SQ_TASKRUN) && n == 0;
        if (overflow || idle_taskwork) {
            flushes++;
            int ret = io_uring_get_events(&r->ring);
            if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) break;
            continue;
        }
        break;
    }
    return n;
}

unsigned rp_ring_dropped(const rp_ring *r) { return IO_URING_READ_ONCE(*r->ring.cq.koverflow); }

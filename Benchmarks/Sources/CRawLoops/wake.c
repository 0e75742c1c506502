// Cross-thread wake latency: the shared state, and the raw pollers.
#define _GNU_SOURCE
#include "CRawLoops.h"
#include "raw_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct rl_wake_state {
    _Atomic uint64_t stamped_at;
    _Atomic uint64_t sent;
    _Atomic uint64_t served;
    _Atomic int stop;
    int eventfd;
    rpm_histogram latencies;  // written by the poller only
};

rl_wake_state *rl_wake_state_create(void) {
    rl_wake_state *state = calloc(1, sizeof *state);
    if (!state) return NULL;
    state->eventfd = rl_eventfd();
    if (state->eventfd < 0) {
        free(state);
        return NULL;
    }
    return state;
}

void rl_wake_state_destroy(rl_wake_state *state) {
    if (!state) return;
    close(state->eventfd);
    free(state);
}

int rl_wake_is_served(rl_wake_state *state) {
    return atomic_load(&state->served) == atomic_load(&state->sent);
}

void rl_wake_stamp(rl_wake_state *state) {
    atomic_store(&state->stamped_at, rpm_now_ns());
    atomic_fetch_add(&state->sent, 1);
}

uint64_t rl_wake_served_count(rl_wake_state *state) { return atomic_load(&state->served); }

void rl_wake_served(rl_wake_state *state, uint64_t now_ns) {
    uint64_t sent = atomic_load(&state->sent);
    if (atomic_load(&state->served) == sent) return;  // a spurious wake-up
    rpm_hist_record(&state->latencies, now_ns - atomic_load(&state->stamped_at));
    atomic_store(&state->served, sent);
}

void rl_wake_request_stop(rl_wake_state *state) { atomic_store(&state->stop, 1); }
int rl_wake_stop_requested(rl_wake_state *state) { return atomic_load(&state->stop); }
const rpm_histogram *rl_wake_latencies(const rl_wake_state *state) { return &state->latencies; }
int rl_wake_eventfd(const rl_wake_state *state) { return state->eventfd; }

void rl_wake_reset(rl_wake_state *state) {
    rpm_hist_reset(&state->latencies);
    atomic_store(&state->stop, 0);
    atomic_store(&state->sent, 0);
    atomic_store(&state->served, 0);
}

int rl_epoll_wake_poller(rl_wake_state *state) {
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) return -errno;
    struct epoll_event event = {.events = EPOLLIN | EPOLLET, .data.u64 = 0};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, state->eventfd, &event) != 0) {
        int error = errno;
        close(epoll);
        return -error;
    }
    while (!rl_wake_stop_requested(state)) {
        struct epoll_event events[8];
        int ready = epoll_wait(epoll, events, 8, -1);
        if (ready > 0) rl_wake_served(state, rpm_now_ns());
    }
    close(epoll);
    return 0;
}

int rl_uring_wake_poller(rl_wake_state *state) {
    struct io_uring ring;
    int result = rl_ring_init(&ring);
    if (result < 0) return result;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_poll_multishot(sqe, state->eventfd, POLLIN);
    io_uring_sqe_set_data64(sqe, 1);
    while (!rl_wake_stop_requested(state)) {
        result = io_uring_submit_and_wait(&ring, 1);
        uint64_t now = rpm_now_ns();
        unsigned head, seen = 0;
        struct io_uring_cqe *cqe;
        int rearm = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            if (!(cqe->flags & IORING_CQE_F_MORE)) rearm = 1;
        }
        io_uring_cq_advance(&ring, seen);
        if (seen) rl_wake_served(state, now);
        if (rearm) {
            sqe = io_uring_get_sqe(&ring);
            io_uring_prep_poll_multishot(sqe, state->eventfd, POLLIN);
            io_uring_sqe_set_data64(sqe, 1);
        }
    }
    io_uring_queue_exit(&ring);
    return 0;
}

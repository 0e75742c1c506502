// Raw C event loops written for ringpoll-bench: the same protocols as the Swift servers, with
// nothing between the program and the kernel mechanism. They show the physical limit of epoll
// and of io_uring multishot POLL_ADD on this machine.
#ifndef RINGPOLL_BENCH_CRAWLOOPS_H
#define RINGPOLL_BENCH_CRAWLOOPS_H

#include <stdint.h>
#include "CMeasure.h"

#ifdef __cplusplus
extern "C" {
#endif

// MARK: Echo servers

/// A non-blocking listening TCP socket on 127.0.0.1 (port chosen by the kernel, SO_REUSEADDR,
/// backlog 128 like RingPoll's TCPListener). Returns the descriptor and sets `*port`, or -errno.
int rl_listen(uint16_t *port);
/// A non-blocking eventfd, or -errno.
int rl_eventfd(void);
/// Makes an eventfd readable.
void rl_eventfd_signal(int fd);

/// What an echo server loop needs. The loop accepts on `listen_fd` until it would block,
/// registers every connection for readable (edge-triggered, IN|RDHUP), reads until the socket
/// would block and writes back what it read, and closes at end of stream. `idle_fds` are
/// registered the same way and never touched again. The loop returns when `stop_fd` becomes
/// readable, after closing its connections (not `listen_fd`, `stop_fd` or `idle_fds`).
typedef struct {
    int listen_fd;
    int stop_fd;
    const int *idle_fds;
    int idle_count;
} rl_echo_config;

/// epoll_wait loop (EPOLLET). 0, or -errno.
int rl_epoll_echo_run(const rl_echo_config *config);
/// io_uring loop: one multishot POLL_ADD per descriptor, submitted with the wait
/// (io_uring_submit_and_wait), the ring set up as RingPoll sets up its own
/// (SINGLE_ISSUER|DEFER_TASKRUN|TASKRUN_FLAG|SUBMIT_ALL where the kernel has them). 0, or -errno.
int rl_uring_echo_run(const rl_echo_config *config);

// MARK: Register+deregister storm

/// Until `duration_ns` has passed: registers every descriptor of `fds` for readable, polls once
/// without waiting, deregisters them all and polls again. Returns the register+deregister pairs
/// done, or -errno.
int64_t rl_epoll_storm(const int *fds, int count, uint64_t duration_ns);
/// The same on io_uring: POLL_ADD multishot, then ASYNC_CANCEL by user_data, submitted in
/// batches of the SQ size, every completion reaped.
int64_t rl_uring_storm(const int *fds, int count, uint64_t duration_ns);

// MARK: Cross-thread wake latency

/// Shared by a waking thread and a polling thread.
typedef struct rl_wake_state rl_wake_state;

rl_wake_state *rl_wake_state_create(void);
void rl_wake_state_destroy(rl_wake_state *state);
/// The waker: whether the previous wake has been served (the next one may be sent).
int rl_wake_is_served(rl_wake_state *state);
/// The waker, right before it wakes the poller: stamps the time and counts the wake as sent.
void rl_wake_stamp(rl_wake_state *state);
/// Wakes served so far.
uint64_t rl_wake_served_count(rl_wake_state *state);
/// The poller, when its wait returned because of the wake: records the latency since the stamp.
void rl_wake_served(rl_wake_state *state, uint64_t now_ns);
/// Asks the poller to end; it checks after every wake.
void rl_wake_request_stop(rl_wake_state *state);
int rl_wake_stop_requested(rl_wake_state *state);
/// Latencies recorded so far (read once the poller has ended).
const rpm_histogram *rl_wake_latencies(const rl_wake_state *state);
void rl_wake_reset(rl_wake_state *state);
/// The eventfd the raw pollers watch; `rl_eventfd_signal` on it is the raw wake.
int rl_wake_eventfd(const rl_wake_state *state);

/// Raw pollers: wait on the eventfd (epoll: EPOLLET; io_uring: multishot POLL_ADD) until stopped.
int rl_epoll_wake_poller(rl_wake_state *state);
int rl_uring_wake_poller(rl_wake_state *state);

#ifdef __cplusplus
}
#endif

#endif

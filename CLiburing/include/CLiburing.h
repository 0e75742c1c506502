// RingPoll's own C surface over liburing and a few Linux calls Swift's Glibc module lacks.
//
// <liburing.h> is deliberately not included here: it redefines types that Swift's Glibc module
// already owns (fd_set and friends). Swift sees only this opaque API; the .c files own liburing.
#ifndef RINGPOLL_CLIBURING_H
#define RINGPOLL_CLIBURING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How task-work is run by a ring, strongest first. A ring is created with the strongest mode the
/// kernel accepts that is not above the requested ceiling.
typedef enum {
    RP_MODE_PLAIN = 0,  // task-work by signal notification
    RP_MODE_COOP = 1,   // COOP_TASKRUN | TASKRUN_FLAG
    RP_MODE_DEFER = 2,  // SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG, created disabled
} rp_ring_mode;

typedef struct rp_ring rp_ring;

/// One completion copied out of the CQ ring.
typedef struct {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
} rp_completion;

#define RP_CQE_F_MORE (1u << 1)

/// Creates a ring with `sq_entries` SQEs and at least `cq_entries` CQEs (clamped by the kernel).
/// Returns 0 or -errno. A DEFER ring starts disabled: `rp_ring_enable` on the thread that will own it.
int rp_ring_create(unsigned sq_entries, unsigned cq_entries, rp_ring_mode max_mode, rp_ring **out);
void rp_ring_destroy(rp_ring *ring);
rp_ring_mode rp_ring_get_mode(const rp_ring *ring);
/// Makes the calling thread the ring's only submitter (DEFER rings); a no-op for other modes.
int rp_ring_enable(rp_ring *ring);

/// Queue a POLL_ADD (multishot when `multishot` != 0). Returns 0, or -EBUSY when the SQ is full.
int rp_ring_prep_poll(rp_ring *ring, int fd, uint32_t mask, int multishot, uint64_t user_data);
/// Queue an ASYNC_CANCEL of the request carrying `target`; only a failure posts a completion where
/// the kernel can skip successful ones (5.17+). Returns 0, or -EBUSY when the SQ is full.
int rp_ring_prep_cancel(rp_ring *ring, uint64_t target, uint64_t user_data);
/// Queue an IORING_OP_CLOSE of `fd` (likewise silent on success). Returns 0, or -EBUSY when the SQ is full.
int rp_ring_prep_close(rp_ring *ring, int fd, uint64_t user_data);
/// SQEs queued and not yet handed to the kernel.
unsigned rp_ring_sq_pending(const rp_ring *ring);

/// Hands queued SQEs to the kernel without waiting. Returns the count or -errno.
int rp_ring_submit(rp_ring *ring);
/// Hands queued SQEs to the kernel and runs pending task-work, so completions are posted. -errno.
int rp_ring_submit_and_flush(rp_ring *ring);
/// Submits, then waits for at least one completion: forever when `timeout_ns` < 0, not at all when
/// it is 0. Returns >= 0, -ETIME on timeout, -EINTR on a signal, or another -errno.
int rp_ring_submit_and_wait(rp_ring *ring, int64_t timeout_ns);

/// DEFER_TASKRUN rings: runs up to `budget` items of deferred task-work now, in one enter that
/// does not wait (other modes run task-work on every kernel entry and return 0 at once). A wait
/// runs only about 20 items, so work that piles up faster (one item per cancelled poll, which
/// also holds the poll's reference to its file until it runs) must be run this way. Returns the
/// budget it used (0: nothing pending, or no room in the CQ: reap first), or -errno.
int rp_ring_run_task_work(rp_ring *ring, unsigned budget);
/// Copies up to `capacity` completions into `out` and consumes them, flushing the kernel's
/// overflow list and deferred task-work as needed. Sets `*overflowed` to 1 if the CQ had
/// overflowed at any point during the call (it is never reset to 0 here).
unsigned rp_ring_reap(rp_ring *ring, rp_completion *out, unsigned capacity, int *overflowed);
/// Number of CQEs the kernel had to drop (allocation failure); should stay 0.
unsigned rp_ring_dropped(const rp_ring *ring);

/// What the availability probe learnt about io_uring on this kernel.
typedef struct {
    int setup_errno;          // errno of io_uring_setup (0 when a ring could be created)
    int missing_opcode;       // first required opcode the kernel lacks, or -1
    int missing_feature;      // 1 when NODROP or EXT_ARG is missing
    int multishot_errno;      // errno of the multishot self-test, 0 when it passed
    rp_ring_mode best_mode;   // strongest task-work mode accepted
} rp_probe_report;

/// Creates a small ring, checks the opcodes and features RingPoll needs and runs a multishot
/// self-test on an eventfd. Never fails itself: the report says what did.
void rp_probe(rp_probe_report *report);

// epoll, which Swift's Glibc module does not expose. Events come back unpacked (the kernel's
// struct epoll_event is packed, which Swift handles poorly).
typedef struct {
    uint32_t events;
    uint64_t data;
} rp_epoll_event;

typedef enum { RP_EPOLL_ADD = 1, RP_EPOLL_DEL = 2, RP_EPOLL_MOD = 3 } rp_epoll_op;

/// A close-on-exec epoll instance, or -errno.
int rp_epoll_create(void);
/// epoll_ctl; 0 or -errno. `events` and `data` are ignored for RP_EPOLL_DEL.
int rp_epoll_ctl(int epfd, rp_epoll_op op, int fd, uint32_t events, uint64_t data);
/// Waits up to `timeout_ns` (< 0: forever), with nanosecond precision where the kernel has
/// epoll_pwait2 (5.11) and rounding up to milliseconds otherwise. Returns the count or -errno.
int rp_epoll_wait(int epfd, rp_epoll_event *events, int maxevents, int64_t timeout_ns);

/// A non-blocking, close-on-exec eventfd with count 0, or -errno.
int rp_eventfd(void);

/// A number naming the calling thread, never reused within the process (unlike tids and
/// pthread_t values, which are recycled once a thread exits).
uint64_t rp_thread_serial(void);

// Sockets and pipes. Unlike the calls above, these keep libc's convention (-1 and errno), so Swift
// wraps them like any other system call.

/// Linux's limit on the buffers of one readv/writev/sendmsg call (UIO_MAXIOV).
#define RP_IOV_MAX 1024

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC: the accepted descriptor is never blocking or
/// inheritable, not even for an instant. `address`/`length` as for accept(2).
int rp_accept4(int fd, void *address, uint32_t *length);
/// pipe2 with O_NONBLOCK | O_CLOEXEC; fds[0] reads, fds[1] writes.
int rp_pipe2(int fds[2]);
/// write(2) that never raises SIGPIPE in the process: a write to a pipe without reader fails with
/// EPIPE only. SIGPIPE is blocked on the calling thread for the call and a SIGPIPE it caused is
/// consumed before the mask is restored (MSG_NOSIGNAL exists only for sockets).
long rp_write_nosigpipe(int fd, const void *buffer, size_t length);
/// writev(2) with the same SIGPIPE guarantee; `vectors` points at `count` struct iovec.
long rp_writev_nosigpipe(int fd, const void *vectors, int count);

#ifdef __cplusplus
}
#endif

#endif

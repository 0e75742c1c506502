// The raw io_uring echo server: one multishot POLL_ADD per descriptor.
#define _GNU_SOURCE
#include "CRawLoops.h"
#include "raw_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

// user_data = generation << 32 | descriptor, so that completions of a closed connection's poll
// are told apart from those of a new connection on the same number. Cancels carry CANCEL.
#define CANCEL (UINT64_C(1) << 63)
#define MASK (POLLIN | POLLRDHUP)

typedef struct {
    struct io_uring ring;
    uint32_t *generation;
    rl_connections connections;
    const rl_echo_config *config;
} server;

static uint64_t user_data(const server *s, int fd) { return (uint64_t)s->generation[fd] << 32 | (uint32_t)fd; }

static int arm(server *s, int fd) {
    struct io_uring_sqe *sqe = rl_sqe(&s->ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_poll_multishot(sqe, fd, MASK);
    io_uring_sqe_set_data64(sqe, user_data(s, fd));
    return 0;
}

/// Closes at once; the cancel rides the next submit, and the new generation hides the old
/// poll's completions.
static void retire(server *s, int fd) {
    struct io_uring_sqe *sqe = rl_sqe(&s->ring);
    if (sqe) {
        io_uring_prep_cancel64(sqe, user_data(s, fd), 0);
        io_uring_sqe_set_data64(sqe, CANCEL);
    }
    s->generation[fd]++;
    rl_connections_remove(&s->connections, fd);
    close(fd);
}

static int accept_all(server *s) {
    for (;;) {
        int fd = rl_accept(s->config->listen_fd);
        if (fd == -EAGAIN) return 0;
        if (fd < 0) return fd == -EINTR || fd == -ECONNABORTED ? 0 : fd;
        if (fd >= s->connections.capacity) return -EMFILE;
        s->generation[fd]++;
        rl_connections_add(&s->connections, fd);
        int result = arm(s, fd);
        if (result < 0) return result;
    }
}

/// Handles one completion; 1 when the stop descriptor fired.
static int handle(server *s, const struct io_uring_cqe *cqe) {
    if (cqe->user_data & CANCEL) return 0;
    int fd = (int)(uint32_t)cqe->user_data;
    if (fd == s->config->stop_fd) return 1;
    if (cqe->user_data != user_data(s, fd)) return 0;  // a retired connection's poll
    int ended = !(cqe->flags & IORING_CQE_F_MORE);
    if (fd == s->config->listen_fd) {
        int result = accept_all(s);
        if (result < 0) return result;
        if (ended) return arm(s, fd);
        return 0;
    }
    if (cqe->res < 0 && cqe->res != -ECANCELED) {
        retire(s, fd);
        return 0;
    }
    if (!rl_echo(fd)) {
        retire(s, fd);
        return 0;
    }
    // A multishot poll ends on its own when the CQ was full: arm again.
    return ended ? arm(s, fd) : 0;
}

static int serve(server *s) {
    for (;;) {
        int result = io_uring_submit_and_wait(&s->ring, 1);
        if (result < 0 && result != -EINTR && result != -ETIME && result != -EAGAIN && result != -EBUSY)
            return result;
        unsigned head, seen = 0;
        struct io_uring_cqe *cqe;
        int outcome = 0;
        io_uring_for_each_cqe(&s->ring, head, cqe) {
            seen++;
            outcome = handle(s, cqe);
            if (outcome != 0) break;
        }
        io_uring_cq_advance(&s->ring, seen);
        if (outcome != 0) return outcome > 0 ? 0 : outcome;
    }
}

int rl_uring_echo_run(const rl_echo_config *config) {
    server s = {.config = config};
    int result = rl_connections_init(&s.connections);
    if (result < 0) return result;
    s.generation = calloc((size_t)s.connections.capacity, sizeof *s.generation);
    result = s.generation ? rl_ring_init(&s.ring) : -ENOMEM;
    if (result < 0) {
        free(s.generation);
        rl_connections_close_all(&s.connections);
        return result;
    }
    result = arm(&s, config->listen_fd);
    if (result == 0) result = arm(&s, config->stop_fd);
    for (int i = 0; i < config->idle_count && result == 0; i++) result = arm(&s, config->idle_fds[i]);
    if (result == 0) result = serve(&s);
    rl_connections_close_all(&s.connections);
    io_uring_queue_exit(&s.ring);
    free(s.generation);
    return result;
}

// Sockets, eventfds and rings for the raw loops.
#define _GNU_SOURCE
#include "CRawLoops.h"
#include "raw_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

int rl_listen(uint16_t *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

int rl_eventfd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

void rl_eventfd_signal(int fd) {
    uint64_t one = 1;
    (void)!write(fd, &one, sizeof one);
}

int rl_ring_init(struct io_uring *ring) {
    static const unsigned modes[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
        0,
    };
    int result = -EINVAL;
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0] && result == -EINVAL; i++) {
        struct io_uring_params params;
        memset(&params, 0, sizeof params);
        params.flags = modes[i] | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        params.cq_entries = RL_CQ_ENTRIES;
        result = io_uring_queue_init_params(RL_SQ_ENTRIES, ring, &params);
    }
    return result;
}

struct io_uring_sqe *rl_sqe(struct io_uring *ring) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    if (sqe) return sqe;
    if (io_uring_submit(ring) < 0) return NULL;
    return io_uring_get_sqe(ring);
}

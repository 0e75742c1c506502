// Shared between the raw loops.
#ifndef RINGPOLL_BENCH_RAW_INTERNAL_H
#define RINGPOLL_BENCH_RAW_INTERNAL_H

#include <liburing.h>

/// SQ and CQ sizes RingPoll uses by default.
enum { RL_SQ_ENTRIES = 512, RL_CQ_ENTRIES = 8192 };  // as RingPoll's defaults

/// A ring on the calling thread with RingPoll's setup flags, falling back as RingPoll does.
int rl_ring_init(struct io_uring *ring);

/// Gets an SQE, submitting a full SQ first. NULL only if submitting failed.
struct io_uring_sqe *rl_sqe(struct io_uring *ring);

/// Reads until the socket would block, writing back everything read. Returns 1 while the
/// connection lives, 0 when it ended (end of stream or an error): the caller closes it.
int rl_echo(int fd);
/// Accepts one connection (non-blocking, close-on-exec, TCP_NODELAY), or -errno (-EAGAIN: none).
int rl_accept(int listen_fd);

/// Open connections, by descriptor, so a loop can close them when it stops.
typedef struct {
    unsigned char *open;
    int capacity;
} rl_connections;

int rl_connections_init(rl_connections *set);
void rl_connections_add(rl_connections *set, int fd);
void rl_connections_remove(rl_connections *set, int fd);
void rl_connections_close_all(rl_connections *set);

#endif

// Shared between the load generator's files.
#ifndef RINGPOLL_BENCH_LOAD_INTERNAL_H
#define RINGPOLL_BENCH_LOAD_INTERNAL_H

#include <stdint.h>
#include "CMeasure.h"

enum { RPL_MESSAGE = 64 };

typedef struct {
    uint16_t port;
    unsigned connections;
    uint64_t warmup_ns;
    uint64_t duration_ns;
} rpl_args;

/// What one measured phase produced.
typedef struct {
    uint64_t operations;
    uint64_t elapsed_ns;
    rpm_histogram latency;
} rpl_phase;

/// A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY, from source address
/// 127.0.0.(2 + index % 200) so that many connections do not run out of ports. -errno on failure.
int rpl_connect(uint16_t port, unsigned index);
/// Makes `fd` non-blocking. 0 or -errno.
int rpl_set_nonblocking(int fd);

struct epoll_event;

/// One wait of a measured phase: until `deadline` new operations start (`*sending`), after it
/// the phase only lets what is in flight come back, giving up after a second of silence.
/// Returns the number of ready events, -ETIMEDOUT when nothing came back, or -errno.
int rpl_wait(int epoll, struct epoll_event *events, int capacity, int *sending, uint64_t deadline);

/// Prints "ready", waits for "go" on stdin. 0, or -1 when stdin closed.
int rpl_handshake(void);
/// Waits for a line on stdin (or its end).
void rpl_wait_line(void);
/// Prints an error line and returns the failure exit status.
int rpl_fail(const char *what, int error);

int rpl_run_pingpong(const rpl_args *args);
int rpl_run_churn(const rpl_args *args);

/// Prints the result line of a measured phase.
void rpl_report(const rpl_phase *phase);

#endif

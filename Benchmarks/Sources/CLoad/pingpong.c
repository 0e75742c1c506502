// Ping-pong: every connection sends 64 bytes, waits for the echo, and sends again.
#define _GNU_SOURCE
#include "load_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct {
    int fd;
    unsigned received;
    uint64_t sent_at;
} connection;

static char message[RPL_MESSAGE];

static int send_message(connection *c, uint64_t now) {
    c->sent_at = now;
    c->received = 0;
    ssize_t n = write(c->fd, message, RPL_MESSAGE);
    return n == RPL_MESSAGE ? 0 : (n < 0 ? -errno : -EMSGSIZE);
}

/// One blocking echo, so that the connection is known to be accepted and served.
static int first_echo(int fd) {
    if (write(fd, message, RPL_MESSAGE) != RPL_MESSAGE) return -EIO;
    char buffer[RPL_MESSAGE];
    unsigned got = 0;
    while (got < RPL_MESSAGE) {
        ssize_t n = read(fd, buffer + got, RPL_MESSAGE - got);
        if (n <= 0) return n == 0 ? -ECONNRESET : -errno;
        got += (unsigned)n;
    }
    return 0;
}

/// Runs ping-pong on every connection until `duration_ns` has passed, then lets every message
/// in flight come back. Records operations and latencies into `phase` when it is not NULL.
static int run_phase(int epoll, connection *connections, unsigned count, uint64_t duration_ns,
                     rpl_phase *phase) {
    uint64_t start = rpm_now_ns(), deadline = start + duration_ns, operations = 0;
    unsigned outstanding = 0;
    int sending = 1;
    for (unsigned i = 0; i < count; i++) {
        int result = send_message(&connections[i], rpm_now_ns());
        if (result < 0) return result;
        outstanding++;
    }
    struct epoll_event events[512];
    char buffer[RPL_MESSAGE];
    while (outstanding > 0) {
        int ready = rpl_wait(epoll, events, 512, &sending, deadline);
        if (ready < 0) return ready;
        for (int e = 0; e < ready; e++) {
            connection *c = &connections[events[e].data.u32];
            ssize_t n = read(c->fd, buffer, RPL_MESSAGE - c->received);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) return n == 0 ? -ECONNRESET : -errno;
            c->received += (unsigned)n;
            if (c->received < RPL_MESSAGE) continue;
            uint64_t now = rpm_now_ns();
            operations++;
            if (phase) rpm_hist_record(&phase->latency, now - c->sent_at);
            if (sending && now < deadline) {
                int result = send_message(c, now);
                if (result < 0) return result;
            } else {
                c->received = 0;
                outstanding--;
            }
        }
    }
    if (phase) {
        phase->operations = operations;
        phase->elapsed_ns = rpm_now_ns() - start;
    }
    return 0;
}

int rpl_run_pingpong(const rpl_args *args) {
    memset(message, 'p', sizeof message);
    connection *connections = calloc(args->connections, sizeof *connections);
    rpl_phase *phase = calloc(1, sizeof *phase);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (!connections || !phase || epoll < 0) return rpl_fail("setup", errno);
    for (unsigned i = 0; i < args->connections; i++) {
        int fd = rpl_connect(args->port, i);
        if (fd < 0) return rpl_fail("connect", -fd);
        connections[i].fd = fd;
        int result = first_echo(fd);
        if (result == 0) result = rpl_set_nonblocking(fd);
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = i};
        if (result == 0 && epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) result = -errno;
        if (result < 0) return rpl_fail("first echo", -result);
    }
    int result = run_phase(epoll, connections, args->connections, args->warmup_ns, NULL);
    if (result < 0) return rpl_fail("warm-up", -result);
    if (rpl_handshake() != 0) return 0;
    rpm_hist_reset(&phase->latency);
    result = run_phase(epoll, connections, args->connections, args->duration_ns, phase);
    if (result < 0) return rpl_fail("measured phase", -result);
    rpl_report(phase);
    rpl_wait_line();  // until the bench has read its counters
    for (unsigned i = 0; i < args->connections; i++) close(connections[i].fd);
    return 0;
}

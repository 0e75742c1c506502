// Churn: every slot connects, sends 64 bytes, waits for the echo and closes, again and again.
#define _GNU_SOURCE
#include "load_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    unsigned received;
    uint64_t started_at;
} slot;

static char message[RPL_MESSAGE];
static unsigned next_source;

/// Connects (blocking: on loopback the kernel finishes the handshake without the server's
/// help), sends the message, and watches for the echo.
static int start_cycle(int epoll, slot *s, unsigned index, uint16_t port) {
    s->started_at = rpm_now_ns();
    s->received = 0;
    int fd = rpl_connect(port, next_source++);
    if (fd < 0) return fd;
    s->fd = fd;
    if (write(fd, message, RPL_MESSAGE) != RPL_MESSAGE) return -EIO;
    int result = rpl_set_nonblocking(fd);
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = index};
    if (result == 0 && epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) result = -errno;
    return result;
}

/// Lets the server finish closing the last connections before its counters are read.
static void settle(void) {
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

static int run_phase(int epoll, slot *slots, unsigned count, uint16_t port, uint64_t duration_ns,
                     rpl_phase *phase) {
    uint64_t start = rpm_now_ns(), deadline = start + duration_ns, operations = 0;
    unsigned outstanding = 0;
    int sending = 1;
    for (unsigned i = 0; i < count; i++) {
        int result = start_cycle(epoll, &slots[i], i, port);
        if (result < 0) return result;
        outstanding++;
    }
    struct epoll_event events[512];
    char buffer[RPL_MESSAGE];
    while (outstanding > 0) {
        int ready = rpl_wait(epoll, events, 512, &sending, deadline);
        if (ready < 0) return ready;
        for (int e = 0; e < ready; e++) {
            unsigned index = events[e].data.u32;
            slot *s = &slots[index];
            ssize_t n = read(s->fd, buffer, RPL_MESSAGE - s->received);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) return n == 0 ? -ECONNRESET : -errno;
            s->received += (unsigned)n;
            if (s->received < RPL_MESSAGE) continue;
            close(s->fd);
            uint64_t now = rpm_now_ns();
            operations++;
            if (phase) rpm_hist_record(&phase->latency, now - s->started_at);
            if (sending && now < deadline) {
                int result = start_cycle(epoll, s, index, port);
                if (result < 0) return result;
            } else {
                outstanding--;
            }
        }
    }
    if (phase) {
        phase->operations = operations;
        phase->elapsed_ns = rpm_now_ns() - start;
    }
    settle();
    return 0;
}

int rpl_run_churn(const rpl_args *args) {
    memset(message, 'c', sizeof message);
    slot *slots = calloc(args->connections, sizeof *slots);
    rpl_phase *phase = calloc(1, sizeof *phase);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (!slots || !phase || epoll < 0) return rpl_fail("setup", errno);
    int result = run_phase(epoll, slots, args->connections, args->port, args->warmup_ns, NULL);
    if (result < 0) return rpl_fail("warm-up", -result);
    if (rpl_handshake() != 0) return 0;
    rpm_hist_reset(&phase->latency);
    result = run_phase(epoll, slots, args->connections, args->port, args->duration_ns, phase);
    if (result < 0) return rpl_fail("measured phase", -result);
    rpl_report(phase);
    rpl_wait_line();  // until the bench has read its counters
    return 0;
}

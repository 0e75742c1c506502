// Clocks and per-thread CPU time.
#define _GNU_SOURCE
#include "CMeasure.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint64_t rpm_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

pid_t rpm_gettid(void) { return (pid_t)syscall(SYS_gettid); }

void rpm_lower_timer_slack(void) { prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); }

uint64_t rpm_self_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rpm_thread_cpu_ns(pid_t tid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char text[128];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    text[n] = 0;
    // "<ns on cpu> <ns waiting on a runqueue> <timeslices>"
    return strtoull(text, NULL, 10);
}

// Counting the system calls of one thread: a perf counter on the raw_syscalls:sys_enter
// tracepoint, attached to that thread only.
#define _GNU_SOURCE
#include "CMeasure.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const event_id_file = "events/raw_syscalls/sys_enter/id";

static int read_id(const char *root) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, event_id_file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char text[32];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return -EIO;
    text[n] = 0;
    return atoi(text);
}

static void say(char *reason, int size, const char *text, int error) {
    if (reason && size > 0) snprintf(reason, (size_t)size, "%s: %s", text, strerror(error));
}

int rpm_syscall_tracepoint_id(char *reason, int reason_size) {
    static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
    for (unsigned i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        int id = read_id(roots[i]);
        if (id > 0) return id;
    }
    // No tracefs mounted: mount one privately for the moment it takes to read the id.
    char folder[] = "/tmp/ringpoll-bench-tracefs-XXXXXX";
    if (!mkdtemp(folder)) {
        int error = errno;
        say(reason, reason_size, "no tracefs mounted and no temporary folder to mount one", error);
        return -error;
    }
    int id;
    if (mount("nodev", folder, "tracefs", 0, NULL) != 0) {
        id = -errno;
        say(reason, reason_size, "no tracefs mounted, and mounting one failed", errno);
    } else {
        id = read_id(folder);
        if (id < 0) say(reason, reason_size, "tracefs has no raw_syscalls:sys_enter", -id);
        umount2(folder, MNT_DETACH);
    }
    rmdir(folder);
    return id;
}

int rpm_syscall_counter_open(int tracepoint_id, pid_t tid) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = (uint64_t)tracepoint_id;
    attr.disabled = 1;
    long fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

void rpm_counter_start(int fd) {
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

void rpm_counter_stop(int fd) { ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); }

uint64_t rpm_counter_read(int fd) {
    uint64_t value = 0;
    return read(fd, &value, sizeof value) == (ssize_t)sizeof value ? value : UINT64_MAX;
}

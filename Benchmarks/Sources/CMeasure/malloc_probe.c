// Counting the heap allocations of one thread, of this or another process, without touching
// it: perf counters on uprobes at the entry of glibc's allocation functions (malloc, calloc,
// realloc and the aligned ones), attached to that thread only. The Swift runtime allocates
// through these functions, so every object, array buffer or closure context is counted.
#define _GNU_SOURCE
#include "CMeasure.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const functions[] = {
    "malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign", "valloc",
};
enum { FUNCTION_COUNT = sizeof functions / sizeof functions[0] };

static int pmu_type = -1;
static char library[4096];
static uint64_t offsets[FUNCTION_COUNT];
static int prepared;  // 1 ready, < 0 -errno

static void say(char *reason, int size, const char *text, int error) {
    if (reason && size > 0) snprintf(reason, (size_t)size, "%s: %s", text, strerror(error));
}

/// The file and file offset that hold `address` in this process, from /proc/self/maps.
static int locate(uintptr_t address, char *path, size_t path_size, uint64_t *offset) {
    FILE *maps = fopen("/proc/self/maps", "re");
    if (!maps) return -errno;
    char line[4352];
    int found = -ENOENT;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end, file_offset;
        char permissions[8];
        int consumed = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, permissions, &file_offset, &consumed) < 4) continue;
        if (address < start || address >= end || consumed == 0) continue;
        char *name = line + consumed;
        name[strcspn(name, "\n")] = 0;
        if (name[0] != '/') break;
        snprintf(path, path_size, "%s", name);
        *offset = address - start + file_offset;
        found = 0;
        break;
    }
    fclose(maps);
    return found;
}

int rpm_malloc_probes_prepare(char *reason, int reason_size) {
    if (prepared) return prepared;
    FILE *type = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
    if (!type || fscanf(type, "%d", &pmu_type) != 1) {
        int error = type ? EIO : errno;
        if (type) fclose(type);
        say(reason, reason_size, "no uprobe PMU (/sys/bus/event_source/devices/uprobe)", error);
        return prepared = -error;
    }
    fclose(type);
    for (int i = 0; i < FUNCTION_COUNT; i++) {
        void *symbol = dlsym(RTLD_DEFAULT, functions[i]);
        char path[sizeof library];
        int result = symbol ? locate((uintptr_t)symbol, path, sizeof path, &offsets[i]) : -ENOENT;
        if (result < 0 || (i > 0 && strcmp(path, library) != 0)) {
            say(reason, reason_size, "cannot find glibc's allocation functions", result < 0 ? -result : EXDEV);
            return prepared = result < 0 ? result : -EXDEV;
        }
        if (i == 0) memcpy(library, path, sizeof library);
    }
    // A counter needs CAP_PERFMON (or a permissive perf_event_paranoid): try one.
    int fds[FUNCTION_COUNT];
    int opened = rpm_malloc_counters_open(0, fds);
    if (opened < 0) {
        say(reason, reason_size, "perf_event_open of a uprobe", -opened);
        return prepared = opened;
    }
    for (int i = 0; i < opened; i++) close(fds[i]);
    return prepared = 1;
}

int rpm_malloc_counters_open(pid_t tid, int *fds) {
    if (pmu_type < 0 || library[0] == 0) return -ENODEV;
    for (int i = 0; i < FUNCTION_COUNT; i++) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = (uint32_t)pmu_type;
        attr.config1 = (uint64_t)(uintptr_t)library;  // uprobe_path
        attr.config2 = offsets[i];                     // probe_offset
        attr.disabled = 1;
        long fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            int error = errno;
            for (int j = 0; j < i; j++) close(fds[j]);
            return -error;
        }
        fds[i] = (int)fd;
    }
    return FUNCTION_COUNT;
}

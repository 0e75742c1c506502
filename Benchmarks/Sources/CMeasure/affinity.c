// CPU placement, for the wake workload's same-CPU variant.
#define _GNU_SOURCE
#include "CMeasure.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

int rpm_pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

void *rpm_affinity_save(void) {
    cpu_set_t *set = malloc(sizeof *set);
    if (set && sched_getaffinity(0, sizeof *set, set) != 0) {
        free(set);
        return NULL;
    }
    return set;
}

void rpm_affinity_restore(void *saved) {
    if (!saved) return;
    sched_setaffinity(0, sizeof(cpu_set_t), saved);
    free(saved);
}

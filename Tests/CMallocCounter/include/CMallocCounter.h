// Counts heap allocations made by the calling thread, so tests can prove a hot path allocates
// nothing. The test binary defines malloc and friends itself (forwarding to glibc), which makes
// every allocation in the process, the Swift runtime's included, pass through the counter.
#ifndef RINGPOLL_CMALLOCCOUNTER_H
#define RINGPOLL_CMALLOCCOUNTER_H

#include <stdint.h>

/// Starts counting this thread's allocations from zero.
void rp_malloc_counter_start(void);
/// Stops counting and returns how many allocations this thread made since the start.
uint64_t rp_malloc_counter_stop(void);
/// Whether this process's allocations really pass through the counter (it counts one itself).
int rp_malloc_counter_is_active(void);

#endif

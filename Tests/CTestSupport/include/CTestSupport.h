// C help for RingPoll's tests.
#ifndef RINGPOLL_CTESTSUPPORT_H
#define RINGPOLL_CTESTSUPPORT_H

#include <pthread.h>
#include <stdint.h>

// Allocation counting. The test binary defines malloc and friends itself (forwarding to glibc),
// which makes every allocation in the process, the Swift runtime's included, pass through it.

/// Starts counting this thread's allocations from zero.
void rp_malloc_counter_start(void);
/// Stops counting and returns how many allocations this thread made since the start.
uint64_t rp_malloc_counter_stop(void);
/// Counts the allocations of `thread` (another thread than the caller, typically) from zero,
/// until `rp_malloc_counter_unwatch`; one thread is watched at a time.
void rp_malloc_counter_watch(pthread_t thread);
/// How many allocations the watched thread made since the watch began.
uint64_t rp_malloc_counter_watched(void);
void rp_malloc_counter_unwatch(void);
/// Whether this process's allocations really pass through the counter (it counts one itself).
int rp_malloc_counter_is_active(void);
/// The sanitizer that owns malloc in this build ("AddressSanitizer", "ThreadSanitizer"), in which
/// case the counter is compiled out; NULL otherwise.
const char *rp_malloc_counter_conflict(void);

/// Makes io_uring_setup fail with EPERM for the calling thread only, as a container's seccomp
/// profile would (the filter dies with the thread). Returns 0 or -errno.
int rp_deny_io_uring_on_this_thread(void);

#endif

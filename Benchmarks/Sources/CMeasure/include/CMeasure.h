// Measuring helpers shared by ringpoll-bench, its load process and the package-benchmark suite:
// clocks, per-thread CPU time, system-call counting and a latency histogram.
#ifndef RINGPOLL_BENCH_CMEASURE_H
#define RINGPOLL_BENCH_CMEASURE_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t rpm_now_ns(void);
/// The calling thread's kernel thread id.
pid_t rpm_gettid(void);
/// Makes the calling thread's short sleeps precise (timer slack 1 µs instead of 50 µs).
void rpm_lower_timer_slack(void);
/// CPU time the calling thread has used, in nanoseconds (CLOCK_THREAD_CPUTIME_ID).
uint64_t rpm_self_cpu_ns(void);
/// CPU time thread `tid` (of this or another process) has used, in nanoseconds, from
/// /proc/<tid>/schedstat (time on CPU, user and kernel). 0 when it cannot be read.
uint64_t rpm_thread_cpu_ns(pid_t tid);

/// Pins the calling thread to `cpu`. 0 or -errno.
int rpm_pin_to_cpu(int cpu);
/// The calling thread's CPU affinity (an opaque copy), and putting it back (which frees it).
void *rpm_affinity_save(void);
void rpm_affinity_restore(void *saved);

/// The perf tracepoint id of raw_syscalls:sys_enter, or -errno. Looks in the usual tracefs
/// mounts first; when none is mounted, mounts tracefs on a private temporary folder, reads the id
/// and unmounts again (needs CAP_SYS_ADMIN). `reason` (may be NULL) receives a sentence on failure.
int rpm_syscall_tracepoint_id(char *reason, int reason_size);
/// A counter of system calls entered by thread `tid` (0: the calling thread), created stopped.
/// Returns the counter's descriptor, or -errno.
int rpm_syscall_counter_open(int tracepoint_id, pid_t tid);
/// Resets and starts, or stops, a counter.
void rpm_counter_start(int fd);
void rpm_counter_stop(int fd);
/// The count so far, or UINT64_MAX when it cannot be read.
uint64_t rpm_counter_read(int fd);

/// How many counters `rpm_malloc_counters_open` opens: one per glibc allocation function.
enum { RPM_MALLOC_COUNTERS = 7 };
/// Prepares counting of heap allocations with uprobes on glibc's allocation functions (found in
/// this process's own mapping of libc, which other processes share). 1 when ready, or -errno;
/// `reason` (may be NULL) receives a sentence on failure. Needs CAP_PERFMON.
int rpm_malloc_probes_prepare(char *reason, int reason_size);
/// Opens RPM_MALLOC_COUNTERS stopped counters of the allocations thread `tid` makes (0: the
/// calling thread; any process), writing their descriptors to `fds`. Their sum is the count.
/// Returns RPM_MALLOC_COUNTERS or -errno.
int rpm_malloc_counters_open(pid_t tid, int *fds);

/// A log-linear histogram of nanosecond values: exact below 32, then 32 buckets per power of
/// two (a relative error under 3.2%). Not thread-safe; one per recording thread.
enum { RPM_HIST_BUCKETS = 32 + 59 * 32 };
typedef struct {
    uint64_t count;
    uint64_t buckets[RPM_HIST_BUCKETS];
} rpm_histogram;

void rpm_hist_reset(rpm_histogram *h);
void rpm_hist_record(rpm_histogram *h, uint64_t value);
/// The value at `percentile` (0...100): the middle of its bucket; 0 for an empty histogram.
uint64_t rpm_hist_percentile(const rpm_histogram *h, double percentile);
/// Adds every sample of `other` to `h`.
void rpm_hist_merge(rpm_histogram *h, const rpm_histogram *other);

#ifdef __cplusplus
}
#endif

#endif

#define _GNU_SOURCE
#include "CTestSupport.h"

#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

// AddressSanitizer and ThreadSanitizer own malloc: they intercept it to track every block. An
// interposer that forwards to glibc behind their back hands them blocks they never saw (ASan
// reports a bad free, TSan crashes while it initialises). Under either sanitizer the counter is
// compiled out and reports itself inactive; the allocation tests skip with that reason.
#if defined(__SANITIZE_ADDRESS__)
#define RP_MALLOC_OWNER "AddressSanitizer"
#elif defined(__SANITIZE_THREAD__)
#define RP_MALLOC_OWNER "ThreadSanitizer"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RP_MALLOC_OWNER "AddressSanitizer"
#elif __has_feature(thread_sanitizer)
#define RP_MALLOC_OWNER "ThreadSanitizer"
#endif
#endif

const char *rp_malloc_counter_conflict(void) {
#ifdef RP_MALLOC_OWNER
    return RP_MALLOC_OWNER;
#else
    return NULL;
#endif
}

#ifdef RP_MALLOC_OWNER

void rp_malloc_counter_start(void) {}
uint64_t rp_malloc_counter_stop(void) { return 0; }
int rp_malloc_counter_is_active(void) { return 0; }
void rp_malloc_counter_watch(pthread_t thread) { (void)thread; }
uint64_t rp_malloc_counter_watched(void) { return 0; }
void rp_malloc_counter_unwatch(void) {}

#else

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static __thread int counting;
static __thread uint64_t allocations;

static __thread int tracing;  // inside backtrace(): do not count or trace its own allocations
static int trace_budget = -1;   // backtraces left to print; -1 until read from the environment

// With RINGPOLL_TRACE_ALLOCATIONS=n in the environment, the first n counted allocations print
// their backtrace to stderr: the quickest way to find what a hot path allocates.
static void trace(void) {
    if (trace_budget < 0) {
        const char *value = getenv("RINGPOLL_TRACE_ALLOCATIONS");
        trace_budget = value ? atoi(value) : 0;
    }
    if (trace_budget == 0) return;
    trace_budget--;
    tracing = 1;
    void *frames[24];
    int depth = backtrace(frames, 24);
    static const char banner[] = "--- counted allocation ---\n";
    write(2, banner, sizeof banner - 1);
    backtrace_symbols_fd(frames, depth, 2);
    tracing = 0;
}

// The thread another thread watches (rp_malloc_counter_watch), and its count.
static _Atomic(pthread_t) watched;
static _Atomic uint64_t watched_allocations;

static inline void count_one(void) {
    if (counting && !tracing) {
        allocations++;
        trace();
    }
    pthread_t target = atomic_load_explicit(&watched, memory_order_relaxed);
    if (target && pthread_equal(target, pthread_self())) {
        atomic_fetch_add_explicit(&watched_allocations, 1, memory_order_relaxed);
    }
}

void *malloc(size_t size) {
    count_one();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    count_one();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    count_one();
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    count_one();
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer) return ENOMEM;
    *out = pointer;
    return 0;
}

void *valloc(size_t size) {
    count_one();
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    count_one();
    return __libc_pvalloc(size);
}

void rp_malloc_counter_start(void) {
    allocations = 0;
    counting = 1;
}

uint64_t rp_malloc_counter_stop(void) {
    counting = 0;
    return allocations;
}

int rp_malloc_counter_is_active(void) {
    rp_malloc_counter_start();
    void *volatile probe = malloc(16);
    uint64_t seen = rp_malloc_counter_stop();
    extern void free(void *);
    free(probe);
    return seen == 1;
}

void rp_malloc_counter_watch(pthread_t thread) {
    atomic_store(&watched_allocations, 0);
    atomic_store(&watched, thread);
}

uint64_t rp_malloc_counter_watched(void) { return atomic_load(&watched_allocations); }

void rp_malloc_counter_unwatch(void) { atomic_store(&watched, (pthread_t)0); }

#endif

// ThreadSanitizer builds only: teaches TSan the contended path of Swift's `Synchronization.Mutex`.
//
// On Linux, `Mutex` is a priority-inheritance futex. Its uncontended lock and unlock are atomic
// compare-exchanges inlined into the caller, which TSan instruments and understands. Under
// contention, `_MutexHandle._lockSlow`, `_tryLockSlow` and `_unlockSlow` in
// libswiftSynchronization.so (not built with TSan) spin with plain loads and hand the lock over
// through FUTEX_LOCK_PI/FUTEX_UNLOCK_PI: the kernel writes the new owner's thread id into the
// lock word, and TSan sees no release by the old owner nor an acquire by the new one. Every
// access to state guarded by a contended Mutex is then reported as a data race (or a Swift access
// race) although the lock orders them. The Swift runtime annotates its own futex lock for TSan
// the same way (swift::once on Linux); the Synchronization module's slow paths are not.
//
// Every program that links RingPoll (its tests, its tools, its examples, yours) defines the three
// slow-path symbols itself in a ThreadSanitizer build (the executable's definition wins over the
// library's), forwards to the real ones found with dlsym(RTLD_NEXT), and tells TSan what a lock
// does: acquire after it is taken, release before it is given back, on the lock word's address,
// which is also the address the inlined fast paths synchronise on. Nothing else is suppressed
// or annotated. It lives in the library, not in test support, because RingPollAsync's executor
// and the sockets take contended Mutexes in every program: a TSan build of async-echo-server
// reported the executor's inbox (guarded by a Mutex) as racing without it.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RP_ANNOTATE_SWIFT_MUTEX 1
#endif
#endif

#ifdef RP_ANNOTATE_SWIFT_MUTEX
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void __tsan_acquire(void *address);
void __tsan_release(void *address);

// The Swift signatures: `borrowing func _lockSlow(_ selfId: UInt32)`, `_tryLockSlow() -> Bool`,
// `_unlockSlow()`, with `self` (the address of the lock word) passed as swiftself.
#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

typedef __attribute__((swiftcall)) void (*lock_slow_t)(uint32_t, __attribute__((swift_context)) void *);
typedef __attribute__((swiftcall)) bool (*try_lock_slow_t)(__attribute__((swift_context)) void *);
typedef __attribute__((swiftcall)) void (*unlock_slow_t)(__attribute__((swift_context)) void *);

static void *real(const char *name) {
    void *function = dlsym(RTLD_NEXT, name);
    if (!function) {
        fprintf(stderr, "tsan_mutex.c: %s not found: %s\n", name, dlerror());
        abort();
    }
    return function;
}

__attribute__((swiftcall)) void rp_tsan_lock_slow(uint32_t self_id, __attribute__((swift_context)) void *lock) __asm__(LOCK_SLOW);
__attribute__((swiftcall)) bool rp_tsan_try_lock_slow(__attribute__((swift_context)) void *lock) __asm__(TRY_LOCK_SLOW);
__attribute__((swiftcall)) void rp_tsan_unlock_slow(__attribute__((swift_context)) void *lock) __asm__(UNLOCK_SLOW);

static lock_slow_t next_lock_slow;
static try_lock_slow_t next_try_lock_slow;
static unlock_slow_t next_unlock_slow;

// Resolved once, before any Swift code (and any second thread) runs.
__attribute__((constructor)) static void resolve(void) {
    next_lock_slow = (lock_slow_t)real(LOCK_SLOW);
    next_try_lock_slow = (try_lock_slow_t)real(TRY_LOCK_SLOW);
    next_unlock_slow = (unlock_slow_t)real(UNLOCK_SLOW);
}

__attribute__((swiftcall)) void rp_tsan_lock_slow(uint32_t self_id, __attribute__((swift_context)) void *lock) {
    next_lock_slow(self_id, lock);
    __tsan_acquire(lock);
}

__attribute__((swiftcall)) bool rp_tsan_try_lock_slow(__attribute__((swift_context)) void *lock) {
    bool locked = next_try_lock_slow(lock);
    if (locked) __tsan_acquire(lock);
    return locked;
}

__attribute__((swiftcall)) void rp_tsan_unlock_slow(__attribute__((swift_context)) void *lock) {
    __tsan_release(lock);
    next_unlock_slow(lock);
}
#endif

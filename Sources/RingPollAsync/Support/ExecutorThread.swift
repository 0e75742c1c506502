import Glibc
import Synchronization

/// The executor's OS thread: started with a body, joined once.
final class ExecutorThread: Sendable {
    private struct State {
        var handle = pthread_t()
        var joined = false
    }
    private let state = Mutex(State())

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let handle = startThread(Unmanaged.passRetained(ThreadEntry(name: name, body)).toOpaque())
        state.withLock { $0.handle = handle }
    }

    /// Waits for the thread to exit. Idempotent; concurrent callers wait for the first.
    func join() {
        state.withLock { state in
            guard !state.joined else { return }
            pthread_join(state.handle, nil)
            state.joined = true
        }
    }

    /// Lets the system reclaim an exited thread nobody joined.
    func detachUnlessJoined() {
        state.withLock { state in
            guard !state.joined else { return }
            pthread_detach(state.handle)
            state.joined = true
        }
    }
}

/// The closure a new thread runs, boxed for pthread_create's context pointer.
private final class ThreadEntry {
    let name: String
    let body: @Sendable () -> Void
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

// pthread_create lives in a free function: the region-isolation checker of Swift 6.3.1 crashed
// on a C-callback closure defined inside an initializer (see the benchmarks' OSThread).
private func startThread(_ context: UnsafeMutableRawPointer) -> pthread_t {
    var handle = pthread_t()
    let created = pthread_create(&handle, nil, threadMain, context)
    precondition(created == 0, "pthread_create failed: \(created)")
    return handle
}

private func threadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let entry = Unmanaged<ThreadEntry>.fromOpaque(context!).takeRetainedValue()
    nameThisThread(entry.name)
    entry.body()
    return nil
}

/// Names the calling thread (its first 15 bytes) for `top -H` and profilers. Glibc's
/// pthread_setname_np is not visible to Swift without _GNU_SOURCE; the kernel's own file is.
private func nameThisThread(_ name: String) {
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
}

import Glibc

/// A plain OS thread that can be joined: servers and pollers run on threads of their own, so
/// their CPU time can be read per thread.
final class OSThread: @unchecked Sendable {
    private var handle = pthread_t()
    private var joined = false

    init(_ body: @escaping @Sendable () -> Void) {
        handle = startThread(Unmanaged.passRetained(ThreadEntry(body)).toOpaque())
    }

    /// Waits for the body to return. Idempotent.
    func join() {
        guard !joined else { return }
        pthread_join(handle, nil)
        joined = true
    }
}

/// The closure a new thread runs, boxed for pthread_create's context pointer.
private final class ThreadEntry {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

// pthread_create lives in a free function: the region-isolation checker of Swift 6.3.1 crashed
// on a C-callback closure defined inside an initializer.
private func startThread(_ context: UnsafeMutableRawPointer) -> pthread_t {
    var handle = pthread_t()
    let created = pthread_create(&handle, nil, threadMain, context)
    precondition(created == 0, "pthread_create failed: \(created)")
    return handle
}

private func threadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadEntry>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}

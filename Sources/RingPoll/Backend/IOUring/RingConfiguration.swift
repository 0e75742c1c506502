import SystemPackage

/// Sizes and task-work mode of the io_uring ring behind a `Poll`.
///
/// The defaults suit every workload; the knobs exist so that tests can force the fault paths
/// (a tiny CQ that overflows, a tiny SQ that fills) and benchmarks can compare modes.
@_spi(Tuning)
public struct RingConfiguration: Sendable, Hashable {
    /// How the kernel runs io_uring task-work, strongest first. The ring gets the strongest mode
    /// the kernel accepts that is not above this one.
    public enum TaskRunMode: Sendable, Hashable {
        /// `SINGLE_ISSUER | DEFER_TASKRUN` (Linux 6.1): task-work runs only when the poller
        /// asks for completions, which also caps the CQEs per registration per poll at about one.
        case deferred
        /// `COOP_TASKRUN` (Linux 5.19): task-work runs at the poller's next kernel entry.
        case cooperative
        /// The kernel interrupts the poller to run task-work.
        case signal
    }

    /// Submission queue entries (1...32768). When more changes are pending they are submitted
    /// in several batches.
    public var submissionEntries: UInt32 = 512
    /// Completion queue entries, at least `submissionEntries` (the kernel caps it at 65536).
    /// Overflow is survived (no completion is lost, ended polls are re-armed), but costs time.
    /// The kernel also sizes its cancel lookup by it: 8192 and up give the most buckets (256),
    /// which keeps deregistration cheap with many registrations.
    public var completionEntries: UInt32 = 8192
    /// The strongest task-work mode to try.
    public var taskRunMode = TaskRunMode.deferred

    /// The defaults: 512 SQEs, 8192 CQEs, `.deferred`.
    public init() {}

    /// A ring of the given sizes; `Poll` throws `Errno.invalidArgument` for sizes the kernel refuses.
    public init(submissionEntries: UInt32, completionEntries: UInt32, taskRunMode: TaskRunMode = .deferred) {
        self.submissionEntries = submissionEntries
        self.completionEntries = completionEntries
        self.taskRunMode = taskRunMode
    }

    func validate() throws(Errno) {
        guard (1...32768).contains(submissionEntries), completionEntries >= submissionEntries else {
            throw .invalidArgument
        }
    }
}

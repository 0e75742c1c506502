import Benchmark
import CMeasure
import Glibc

/// System calls made during a measured run, counted with a perf counter on the
/// raw_syscalls:sys_enter tracepoint of the benchmark's threads. (package-benchmark's own
/// `syscalls` metric exists on macOS only.) Reported per inner iteration.
enum SyscallMetric {
    static let metric = BenchmarkMetric.custom("syscalls", polarity: .prefersSmaller, useScalingFactor: true)

    nonisolated(unsafe) private static var tracepointID: Int32? = {
        let id = rpm_syscall_tracepoint_id(nil, 0)
        return id > 0 ? id : nil
    }()

    /// Starts counting the calling thread and `others`; nil when counting is impossible here.
    static func start(others: [pid_t] = []) -> [Int32]? {
        guard let tracepointID else { return nil }
        let descriptors = ([0] + others).map { rpm_syscall_counter_open(tracepointID, $0) }
        guard descriptors.allSatisfy({ $0 >= 0 }) else {
            descriptors.filter { $0 >= 0 }.forEach { close($0) }
            return nil
        }
        descriptors.forEach { rpm_counter_start($0) }
        return descriptors
    }

    /// Stops the counters and records the count (less the stopping ioctl itself; what
    /// package-benchmark's own start and stop cost is spread over the 1,000 inner iterations).
    static func stop(_ descriptors: [Int32]?, _ benchmark: Benchmark) {
        guard let descriptors else { return }
        var total = 0
        for fd in descriptors {
            rpm_counter_stop(fd)
            total += Int(rpm_counter_read(fd))
            close(fd)
        }
        benchmark.measurement(metric, max(0, total - 1))
    }
}

/// Runs `body` as the measured region, counting its system calls. The counters are opened and
/// closed outside the region: creating or closing a tracepoint counter registers or unregisters
/// the tracepoint, which takes milliseconds. While it counts, every system call costs about
/// 150 ns more (measured on the machine of docs/BENCHMARKS.md), on both backends alike.
func measured(_ benchmark: Benchmark, countingAlso others: [pid_t] = [], _ body: () -> Void) {
    let counters = SyscallMetric.start(others: others)
    benchmark.startMeasurement()
    body()
    benchmark.stopMeasurement()
    SyscallMetric.stop(counters, benchmark)
}

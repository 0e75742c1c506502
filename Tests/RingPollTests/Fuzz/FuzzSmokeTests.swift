import Glibc
import Testing
@testable import RingPoll

/// The differential fuzzer's smoke run for CI: 10,000 operations per backend (every io_uring
/// task-work mode with tiny rings, and epoll), from a fixed seed, against the contract model.
///
/// It runs `ringpoll-fuzz` as a child process: the fuzzer closes descriptors behind RingPoll's
/// back and registers stale numbers on purpose, which in this shared process could be numbers
/// other tests just opened (and its descriptor-leak check needs a process of its own). The long
/// runs are `swift run ringpoll-fuzz --operations 1000000`; docs/RELIABILITY.md.
@Suite struct FuzzSmokeTests {
    static let targets: [String] = TestBackends.all.flatMap { backend -> [String] in
        backend == .epoll ? ["epoll"] : ["io_uring-deferred", "io_uring-cooperative", "io_uring-signal"]
    }

    @Test(arguments: targets)
    func tenThousandOperationsStayInsideTheContract(target: String) throws {
        let fuzzer = try ExampleProcess("ringpoll-fuzz", ["--target", target, "--operations", "10000", "--seed", "20261203"],
                                        backend: target == "epoll" ? .epoll : .ioUring)
        let status = fuzzer.waitForExit(within: .seconds(240))
        let summary = fuzzer.transcript.last { $0.hasPrefix("\(target): ") && $0.contains(" episodes, ") } ?? ""
        let findings = fuzzer.transcript.filter { $0.hasPrefix("DIVERGENCE") || $0.hasPrefix("HANG") || $0.hasPrefix("  ") }
        #expect(status == 0, "exit \(status.map(String.init) ?? "none"):\n\(findings.prefix(40).joined(separator: "\n"))")
        #expect(number(before: " divergences", in: summary) == 0, "\(summary)")
        #expect(number(before: " operations", in: summary) >= 10_000, "\(summary)")
        #expect(number(before: " events", in: summary) > 1_000, "the programs hardly produced events: \(summary)")
        #expect(number(before: " dropped completions", in: summary) == 0, "\(summary)")
        if target != "epoll" {
            // The fault paths were really taken: the tiny CQ overflowed and polls moved threads.
            #expect(number(after: "CQ overflowed in ", in: summary) > 0, "\(summary)")
            #expect(number(before: " ring rebuilds", in: summary) > 0, "\(summary)")
        }
    }

    /// The count in the part of the summary (parts are separated by ", ") that ends with
    /// `label`, for example "10000 operations" (-1 when absent).
    private func number(before label: String, in summary: String) -> Int {
        for part in summary.split(separator: ",") {
            let words = part.split(separator: " ")
            let labelWords = label.split(separator: " ")
            guard words.count > labelWords.count, Array(words.suffix(labelWords.count)) == labelWords else { continue }
            if let value = Int(words[words.count - labelWords.count - 1]) { return value }
        }
        return -1
    }

    /// The count right after `label` in the summary, for example "CQ overflowed in 37".
    private func number(after label: String, in summary: String) -> Int {
        for part in summary.split(separator: ",") {
            let text = part.drop { $0 == " " }
            guard text.hasPrefix(label) else { continue }
            return Int(String(text.dropFirst(label.count).prefix { $0.isNumber })) ?? -1
        }
        return -1
    }
}

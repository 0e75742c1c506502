import Testing
@testable import RingPoll

extension ManyDescriptorTests {
    /// Delivery at scale: thousands of sources, small event buffers, many registering threads.
    @Suite struct ScaleTests {
        @Test(arguments: TestBackends.all)
        func tenThousandReadySourcesEachReportedOnceThroughSixteenSlots(backend: Backend) throws {
            raiseDescriptorLimit()
            let poll = try Poll(backend: backend)
            let count = 10_000
            let sources = (0..<count).map { _ in ReadyEventFD() }
            defer { withExtendedLifetime(sources) {} }  // descriptors must outlive the test body, also when optimized
            for (index, source) in sources.enumerated() {
                try poll.registry.register(SourceFD(source.fd), token: Token(index), interests: .readable)
            }
            var reports = [Int](repeating: 0, count: count)
            var events = Events(capacity: 16)
            var total = 0
            var calls = 0
            while total < count, calls < 20 * count / 16 {
                try poll.pollRetrying(&events, timeout: .seconds(1))
                calls += 1
                #expect(events.count <= 16)
                for event in events {
                    reports[event.token.rawValue] += 1
                    total += 1
                }
            }
            #expect(reports.allSatisfy { $0 == 1 }, "tokens not reported exactly once: \(reports.enumerated().filter { $0.element != 1 }.prefix(5))")
            #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        }

        /// Registrations from many threads at once, while the poll thread keeps polling.
        @Test(arguments: TestBackends.all)
        func concurrentRegistrationsFromManyThreads(backend: Backend) throws {
            raiseDescriptorLimit()
            let poll = try Poll(backend: backend)
            let perThread = 200, threads = 4
            let sources = (0..<(perThread * threads)).map { _ in ReadyEventFD() }
            defer { withExtendedLifetime(sources) {} }  // descriptors must outlive the test body, also when optimized
            let registry = poll.registry
            let fds = sources.map(\.fd)
            let workers = (0..<threads).map { worker in
                TestThread { () -> Bool in
                    for index in (worker * perThread)..<((worker + 1) * perThread) {
                        do {
                            try registry.register(SourceFD(fds[index]), token: Token(index), interests: .readable)
                        } catch { return false }
                    }
                    return true
                }
            }
            var seen = Set<Int>()
            try pollUntil(poll, within: .seconds(10)) { events in
                for event in events { seen.insert(event.token.rawValue) }
                return seen.count == sources.count
            }
            #expect(workers.allSatisfy { $0.join() })
            #expect(seen.count == sources.count)
        }
    }
}

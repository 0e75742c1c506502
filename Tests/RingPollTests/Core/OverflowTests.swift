import Testing
@_spi(Tuning) @testable import RingPoll

/// CQ overflow driven for real: the smallest ring the kernel accepts (1 SQE, 1 CQE) and thousands
/// of sources made ready at once. On epoll the same workload checks the same promises.
extension ManyDescriptorTests {
    @Suite struct OverflowTests {
        @Test(arguments: TestBackends.withRingModes)
        func overflowLosesNothingAndEveryPollIsRearmed(target: BackendUnderTest) throws {
            raiseDescriptorLimit()
            let poll = try target.makePoll(submissionEntries: 1, completionEntries: 1)
            let count = 2_000
            let pairs = (0..<count).map { _ in SocketPair() }
            for (index, pair) in pairs.enumerated() {
                try poll.registry.register(SourceFD(pair.local), token: Token(index), interests: .readable)
            }
            var events = Events(capacity: 256)
            try poll.pollRetrying(&events, timeout: .zero)
            #expect(events.isEmpty)

            for round in 1...2 {
                for pair in pairs { pair.send() }
                var seen = Set<Int>()
                try pollUntil(poll, within: .seconds(30)) { events in
                    for event in events { seen.insert(event.token.rawValue) }
                    return seen.count == count
                }
                #expect(seen.count == count, "round \(round): \(count - seen.count) sources never reported")
                for pair in pairs { pair.drain() }
            }

            let diagnostics = poll.registry.selector.diagnostics
            if target.backend == .ioUring {
                #expect(diagnostics.completionOverflows > 0, "the CQ never overflowed: the test proved nothing")
                #expect(diagnostics.rearms > 0)
            }
            #expect(diagnostics.droppedCompletions == 0)
        }

        /// More registration changes than the SQ holds, in one poll: submitted in batches.
        @Test(arguments: TestBackends.withRingModes)
        func fullSubmissionQueueIsSubmittedInBatches(target: BackendUnderTest) throws {
            raiseDescriptorLimit()
            let poll = try target.makePoll(submissionEntries: 4, completionEntries: 8)
            let sources = (0..<500).map { _ in ReadyEventFD() }
            for (index, source) in sources.enumerated() {
                try poll.registry.register(SourceFD(source.fd), token: Token(index), interests: .readable)
            }
            var seen = Set<Int>()
            try pollUntil(poll, within: .seconds(20)) { events in
                for event in events { seen.insert(event.token.rawValue) }
                return seen.count == sources.count
            }
            #expect(seen.count == sources.count)
            for source in sources { try poll.registry.deregister(SourceFD(source.fd)) }
            for source in sources { source.signal() }
            #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        }
    }
}

import CMeasure

/// One trial of a TCP workload: start the server, let the load process connect and warm up,
/// read the server threads' counters, let the load run its timed phase, read them again.
func runEchoTrial(_ implementation: Implementation, mode: LoadProcess.Mode, connections: Int,
                  idleSockets: Int, plan: TrialPlan, counting: ThreadCounting) throws(BenchError) -> TrialResult {
    let server = try startEchoServer(implementation, idleSockets: idleSockets)
    defer { server.stop() }
    let load = try LoadProcess(mode: mode, port: server.port, connections: connections,
                               warmupMilliseconds: plan.warmupMilliseconds,
                               durationMilliseconds: plan.durationMilliseconds)
    defer { load.finish() }
    try load.waitUntilReady()
    let counters = plan.countsSyscalls ? counting.start(threads: server.threadIDs) : nil
    let cpuBefore = server.threadIDs.reduce(0) { $0 + rpm_thread_cpu_ns($1) }
    load.go()
    let result = try load.waitForResult()
    let cpuAfter = server.threadIDs.reduce(0) { $0 + rpm_thread_cpu_ns($1) }
    let counts = counters?.stop()
    return TrialResult(operations: result.operations, elapsedNanoseconds: result.elapsedNanoseconds,
                       serverCPUNanoseconds: cpuAfter &- cpuBefore,
                       p50Nanoseconds: result.p50Nanoseconds, p99Nanoseconds: result.p99Nanoseconds,
                       syscalls: counts?.syscalls ?? nil, mallocs: counts?.mallocs ?? nil)
}

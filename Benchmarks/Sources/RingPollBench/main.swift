import CLoad
import Foundation
import Glibc

// ringpoll-bench: RingPoll side by side with raw C epoll and io_uring loops and SwiftNIO.
// `ringpoll-bench __load …` is the load process this program starts for the TCP workloads.

let arguments = CommandLine.arguments
if arguments.count > 1, arguments[1] == "__load" {
    var cArguments = arguments.dropFirst().map { strdup($0) }
    let status = rpl_main(Int32(cArguments.count), &cArguments)
    exit(status)
}

signal(SIGPIPE, SIG_IGN)
let settings: Settings
do {
    settings = try Settings.parse(Array(arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(2)
}

let started = nowNanoseconds()
func progress(_ text: String) {
    let seconds = Double(nowNanoseconds() - started) / 1e9
    FileHandle.standardError.write(Data(String(format: "[%6.1fs] ", seconds).utf8 + Data("\(text)\n".utf8)))
}

let machine = Machine.current()
let header = RunHeader(
    date: ISO8601DateFormatter().string(from: Date()),
    command: (["ringpoll-bench"] + arguments.dropFirst()).joined(separator: " "),
    machine: machine,
    scale: Scale(descriptorLimit: machine.descriptorLimit),
    settings: settings,
    counting: ThreadCounting.probe()
)

var measurements: [RowMeasurements] = []
for kind in settings.workloads {
    do throws(BenchError) {
        let rows = try makeRows(kind, scale: header.scale, counting: header.counting)
            .filter { settings.rowKeys?.contains($0.key) ?? true }
        measurements += measure(rows, settings: settings, progress: progress)
    } catch {
        progress("\(kind.rawValue): could not be set up: \(error)")
    }
}
progress("done")

let targets = checkTargets(measurements) + checkAsyncTargets(measurements)
if settings.json {
    print(JSONReport(header: header, rows: measurements, targets: targets).encoded())
} else {
    print(header.text)
    print()
    print(renderTable(measurements))
    let failures = measurements.flatMap { row in row.failures.map { "\(row.title) · \($0.key.title): \($0.value)" } }
    if !failures.isEmpty {
        print("\nfailures:\n" + failures.joined(separator: "\n"))
    }
    print("\ntargets:\n" + renderTargets(targets))
}

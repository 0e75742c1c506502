import Glibc

/// Why a benchmark could not run. Carries a sentence for the report.
struct BenchError: Error, CustomStringConvertible, Sendable {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// For a C call that returned -errno.
    init(_ what: String, errno code: Int32) {
        description = "\(what): \(String(cString: strerror(code)))"
    }
}

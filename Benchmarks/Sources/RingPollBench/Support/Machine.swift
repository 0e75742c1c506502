import Foundation
import Glibc

/// What the report says about the machine it ran on.
struct Machine: Codable, Sendable {
    var cores: Int
    var kernel: String
    var cpuModel: String
    /// RLIMIT_NOFILE after raising the soft limit to the hard one.
    var descriptorLimit: Int

    static func current() -> Machine {
        Machine(
            cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            kernel: kernelRelease(),
            cpuModel: cpuModel(),
            descriptorLimit: raiseDescriptorLimit()
        )
    }

    var summary: String {
        "\(cores) cores, \(cpuModel), Linux \(kernel), descriptor limit \(descriptorLimit)"
    }

    private static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown CPU"
    }

    /// Raises the soft descriptor limit to the hard one (allowed without CAP_SYS_RESOURCE) and
    /// returns it.
    private static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(min(limit.rlim_cur, UInt(Int32.max)))
    }
}

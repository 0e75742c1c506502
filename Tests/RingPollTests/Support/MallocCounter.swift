import CTestSupport

/// Whether the malloc counter of CTestSupport can prove anything in this build. AddressSanitizer
/// and ThreadSanitizer own malloc, so under them the counter is compiled out (see
/// malloc_counter.c) and the allocation suites are skipped with this reason.
enum MallocCounter {
    /// The sanitizer this test binary was built with, if it owns malloc.
    static let conflictingSanitizer: String? = rp_malloc_counter_conflict().map { String(cString: $0) }

    static var isUsable: Bool { conflictingSanitizer == nil }
}

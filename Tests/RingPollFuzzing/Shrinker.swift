/// Delta debugging over the operations of a failing program: the smallest subset (found
/// greedily, within a budget of replays) that still diverges the same way.
enum Shrinker {
    /// `fails(keep)` replays the program with only the operations in `keep`.
    static func minimize(_ failing: [Int], budget: Int = 400, fails: ([Int]) -> Bool) -> [Int] {
        var current = failing
        var chunks = 2
        var replays = 0
        while current.count > 1 && replays < budget {
            let size = max(1, current.count / chunks)
            var reduced = false
            var start = 0
            while start < current.count && replays < budget {
                let candidate = Array(current[..<start] + current[min(current.count, start + size)...])
                replays += 1
                if !candidate.isEmpty && fails(candidate) {
                    current = candidate
                    chunks = max(chunks - 1, 2)
                    reduced = true
                } else {
                    start += size
                }
            }
            if !reduced {
                if size == 1 { break }
                chunks = min(current.count, chunks * 2)
            }
        }
        return current
    }
}

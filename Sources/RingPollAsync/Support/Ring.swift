/// A growable FIFO ring of values in raw memory.
///
/// The executor keeps its job queues and request lists in rings: pushing and popping touch no
/// allocator once the ring has grown to the working size, and, unlike an `Array`, there is no
/// `_modify` coroutine on the path (an unoptimized build allocates the frame of one per access).
/// Not thread-safe: each ring belongs to the executor thread or sits inside a `Mutex`.
struct Ring<Element>: ~Copyable {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = Swift.max(1, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    deinit {
        var index = head
        for _ in 0..<count {
            (storage + index).deinitialize(count: 1)
            index = index + 1 == capacity ? 0 : index + 1
        }
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        var tail = head + count
        if tail >= capacity { tail -= capacity }
        (storage + tail).initialize(to: element)
        count += 1
    }

    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = (storage + head).move()
        head = head + 1 == capacity ? 0 : head + 1
        count -= 1
        return element
    }

    /// Moves every element of `other` to the end of this ring, oldest first.
    mutating func append(contentsOf other: inout Ring<Element>) {
        while let element = other.pop() { push(element) }
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let newStorage = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        var index = head
        for offset in 0..<count {
            (newStorage + offset).moveInitialize(from: storage + index, count: 1)
            index = index + 1 == capacity ? 0 : index + 1
        }
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
        head = 0
    }
}

import Testing
@testable import RingPoll

/// The deque behind the free-slot and submission lists, against an array doing the same.
@Suite struct SlotDequeTests {
    @Test func matchesAnArrayThroughWrapAroundAndGrowth() {
        var deque = SlotDeque()
        var model: [UInt32] = []
        var generator = SystemRandomNumberGenerator()
        var next: UInt32 = 0
        for step in 0..<20_000 {
            if step == 5_000 { deque.reserveCapacity(deque.capacity + 37) }  // growth mid-wrap
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                deque.pushBack(next); model.append(next); next += 1
            case 1:
                deque.pushFront(next); model.insert(next, at: 0); next += 1
            case 2:
                let popped = deque.popFront()
                #expect(popped == (model.isEmpty ? nil : model.removeFirst()))
            default:
                let popped = deque.popBack()
                #expect(popped == model.popLast())
            }
            let count = deque.count
            #expect(count == model.count)
        }
        while let slot = deque.popFront() {
            let expected = model.removeFirst()
            #expect(slot == expected)
        }
        let count = deque.count
        #expect(model.isEmpty)
        #expect(count == 0)
    }

    @Test func reservedCapacityIsKept() {
        var deque = SlotDeque()
        deque.reserveCapacity(100)
        for slot in 0..<100 { deque.pushBack(UInt32(slot)) }
        let capacity = deque.capacity
        let (first, last) = (deque.popFront(), deque.popBack())
        #expect(capacity == 100)
        #expect(first == 0)
        #expect(last == 99)
    }
}

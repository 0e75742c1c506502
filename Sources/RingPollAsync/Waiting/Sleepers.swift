import RingPoll

/// The executor's sleeping tasks, in RingPoll's deadline heap (the one the event loop keeps its
/// timers in): O(log n) to start or cancel a sleep, O(1) to find the next deadline, ties woken
/// in the order the sleeps began, no allocation once grown to the working size.
typealias SleeperHeap = DeadlineHeap<Waiter>

extension DeadlineHeap where Value == Waiter {
    /// Removes the sleep in `slot` if it is still the one of `generation` and waits under `id`
    /// (a cancellation request that arrives late must not end a later sleep); returns its waiter.
    func cancel(slot: UInt32, generation: UInt32, id: UInt64) -> Waiter? {
        guard let waiter = pending(slot: slot, generation: generation), waiter.id == id else { return nil }
        return cancel(slot: slot, generation: generation)
    }
}

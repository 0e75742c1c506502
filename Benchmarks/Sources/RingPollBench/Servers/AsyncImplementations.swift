extension Implementation {
    /// The async servers of issue 8 (RingPollAsync, NIOAsyncChannel), run on the echo rows.
    var isAsyncServer: Bool {
        switch self {
        case .asyncIOUring, .asyncEpoll, .swiftNIOAsync: true
        default: false
        }
    }

    /// The poll-loop column of the same backend as an async RingPoll column.
    var pollLoopCounterpart: Implementation? {
        switch self {
        case .asyncIOUring: .ringPollIOUring
        case .asyncEpoll: .ringPollEpoll
        default: nil
        }
    }
}

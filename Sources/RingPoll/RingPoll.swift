// RingPoll: edge-triggered readiness events on Linux, from io_uring multishot polls or epoll.
//
// Errors are `Errno` values from swift-system. Re-exported so that `import RingPoll` alone is
// enough to write `catch Errno.wouldBlock`.
@_exported import struct SystemPackage.Errno

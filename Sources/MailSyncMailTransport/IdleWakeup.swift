import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A pipe whose read end an idling connection polls beside its socket: ``signal()`` from any
/// thread ends the wait at once (task cancellation, ``IMAPConnection/close()``), without the
/// connection's thread ever waking on a timer.
///
/// Two descriptors for the length of one ``IMAPConnection/idle(for:budget:)`` call. Signalling
/// after ``close()`` does nothing (the descriptors may already belong to someone else).
final class IdleWakeup: Sendable {
    private let descriptors: Mutex<(read: Int32, write: Int32)?>
    /// Polled by the connection's thread while the pipe is open.
    let readDescriptor: Int32

    /// Nil when the system has no descriptors left (the caller reports it as a failed idle).
    init?() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        descriptors = Mutex<(read: Int32, write: Int32)?>((read: ends[0], write: ends[1]))
        readDescriptor = ends[0]
    }

    /// Wakes the wait (once is enough; more are harmless: a full pipe refuses the byte).
    func signal() {
        descriptors.withLock { ends in
            guard let ends else { return }
            var byte: UInt8 = 1
            _ = write(ends.write, &byte, 1)
        }
    }

    /// Closes both ends. Call once the idle job returned. Idempotent.
    func close() {
        descriptors.withLock { ends in
            guard let open = ends else { return }
            _ = Glibc.close(open.read)
            _ = Glibc.close(open.write)
            ends = nil
        }
    }

    deinit { close() }
}

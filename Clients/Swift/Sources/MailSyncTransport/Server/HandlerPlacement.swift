import Logging
import MailSyncRPC
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Which of a server's calls start their handlers on their connection's event loop instead of
/// Swift's cooperative pool. One per server, shared by its connections.
///
/// Unary handlers start on the event loop when `ServerConfiguration.runsUnaryHandlersOnEventLoop`
/// is on (the default): the request is decoded, the handler runs and its response and status are
/// queued where the frames arrived, with no hop to the pool and back. Each unary method has a
/// `LoopSliceWatch`; once its jobs have run longer than `eventLoopJobLimit` in CPU time three
/// times, it runs on the pool from then on. Other kinds of call run on the pool, unless `runsHandlersOnEventLoop`
/// puts every handler on the loop (unwatched).
final class HandlerPlacement: Sendable {
    private let enabled: Bool
    private let limitNanoseconds: UInt64
    private let logger: Logger
    /// Made on a method's first call: only methods the router serves get one.
    private let watches = NIOLockedValueBox<[String: LoopSliceWatch]>([:])

    init(configuration: ServerConfiguration, logger: Logger) {
        self.enabled = configuration.runsUnaryHandlersOnEventLoop
        self.limitNanoseconds = UInt64(max(0, configuration.eventLoopJobLimit.nanoseconds))
        self.logger = logger
    }

    /// The watch of a served method whose calls start on their event loop; nil for one whose calls
    /// run on the pool (not unary, or not served, or off). Connections keep what this returns:
    /// it takes a lock.
    func watch(for descriptor: MethodDescriptor?) -> LoopSliceWatch? {
        guard enabled, let descriptor, descriptor.kind == .unary else { return nil }
        return watches.withLockedValue { watches in
            if let watch = watches[descriptor.fullName] { return watch }
            let watch = LoopSliceWatch(method: descriptor.fullName, limitNanoseconds: limitNanoseconds, logger: logger)
            watches[descriptor.fullName] = watch
            return watch
        }
    }
}

/// Times one unary method's jobs on event loops and moves the method to the pool for good once it
/// finds it heavy: `strikesAllowed` jobs over the limit in thread CPU time within one window.
///
/// Jobs are timed on the monotonic clock, which costs next to nothing. A job over the limit in wall
/// time may only have been preempted (a loaded machine; on a virtual machine, the host), so it is no
/// strike: it opens a window in which the method's next `window` jobs are timed in thread CPU time
/// (a system call per reading), and only those count. Strikes rather than one even then: on a
/// virtual machine whose host preempts it, a cheap job's thread CPU time can include the host's
/// time now and then. So a method whose every call has a job over the limit stalls its loops for
/// `strikesAllowed + 1` jobs before it moves, and one that is only sometimes slow for at most
/// `strikesAllowed` jobs per window. Logged once, at `notice`, when it moves.
final class LoopSliceWatch: Sendable {
    static let strikesAllowed = 3
    static let window = 1000

    let method: String
    let limitNanoseconds: UInt64
    private let heavy = Atomic<Bool>(false)
    /// Jobs left in the current window of CPU timing; none outside a window.
    private let windowLeft = Atomic<Int>(0)
    /// Jobs over the limit in CPU time in the current window.
    private let strikes = Atomic<Int>(0)
    private let logger: Logger

    init(method: String, limitNanoseconds: UInt64, logger: Logger) {
        self.method = method
        self.limitNanoseconds = limitNanoseconds
        self.logger = logger
    }

    /// Whether the method's handlers now run on the pool.
    var isHeavy: Bool { heavy.load(ordering: .relaxed) }

    /// Whether the next job should be timed in thread CPU time (`ran(cpuNanoseconds:)`) rather
    /// than wall time (`ran(wallNanoseconds:)`).
    var timesCPU: Bool { windowLeft.load(ordering: .relaxed) > 0 }

    /// A job of this method took `nanoseconds` of wall time on an event loop.
    func ran(wallNanoseconds nanoseconds: UInt64) {
        guard nanoseconds > limitNanoseconds else { return }
        strikes.store(0, ordering: .relaxed)
        windowLeft.store(Self.window, ordering: .relaxed)
    }

    /// A job of this method, in a window, used `nanoseconds` of CPU on an event loop.
    func ran(cpuNanoseconds nanoseconds: UInt64) {
        windowLeft.subtract(1, ordering: .relaxed)
        guard nanoseconds > limitNanoseconds else { return }
        guard strikes.add(1, ordering: .relaxed).newValue >= Self.strikesAllowed else { return }
        guard heavy.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        logger.notice(
            "a handler ran too long on its event loop; its method's handlers now run on the cooperative pool",
            metadata: [
                "method": "\(method)", "cpu-microseconds": "\(nanoseconds / 1000)",
                "limit-microseconds": "\(limitNanoseconds / 1000)", "strikes": "\(Self.strikesAllowed)",
            ])
    }
}

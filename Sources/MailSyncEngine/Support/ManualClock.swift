import MailSyncCoding
import NIOConcurrencyHelpers

/// A clock that moves only when told: for tests (and the demo) that need "two days later".
public final class ManualClock: WallClock {
    private let current: NIOLockedValueBox<Timestamp>

    public init(_ start: Timestamp) { current = NIOLockedValueBox(start) }

    public func now() -> Timestamp { current.withLockedValue { $0 } }

    public func advance(seconds: Double) {
        current.withLockedValue { $0 = Timestamp(microsecondsSinceEpoch: $0.microsecondsSinceEpoch + Int64(seconds * 1e6)) }
    }

    public func set(_ time: Timestamp) { current.withLockedValue { $0 = time } }
}

import Foundation
public import MailSyncCoding

/// The time of day, injected so that tests can move it (a day's cap, two days of failures).
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// The system clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Timestamp { Timestamp(secondsSinceEpoch: Date().timeIntervalSince1970) }
}

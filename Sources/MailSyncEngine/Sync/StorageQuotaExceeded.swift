import Foundation

/// A write refused because the company's database reached its storage quota (SQLite's
/// `max_page_count`, set from the company's plan): the transaction rolled back, nothing was saved.
///
/// Thrown by the quota-limited tenant write. The sync engine records it as the company's to fix
/// (``SyncFailure/init(storage:)``); the service answers it with `resource exhausted` and
/// ``message``.
public struct StorageQuotaExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    /// The quota in bytes.
    public var limit: Int64
    /// The plan the quota comes from, by name (or its number when it has none).
    public var plan: String
    /// What was not saved, for the message ("the leads", "new mail", …).
    public var what: String

    public init(limit: Int64, plan: String, what: String) {
        self.limit = limit
        self.plan = plan
        self.what = what
    }

    /// Which quota, and what to do about it.
    public var message: String {
        "the company's storage quota of \(Self.size(limit)) (plan \(plan)) is full, so \(what) was not saved (nothing was changed); delete leads or disable mailboxes removing their mail to free space, or ask an operator to raise the quota (planDatabaseMaxMB)"
    }

    public var description: String { message }

    /// `bytes` for people (binary units: "2 MB").
    public static func size(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary)
    }
}

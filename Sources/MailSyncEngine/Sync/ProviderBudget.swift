import Foundation
import MailSyncCoding
import MailSyncTenantData

/// A provider's daily limits for one mailbox and what is left of them today (UTC days: the
/// providers publish no day of their own; Gmail's 2.5 GB download limit is per rolling day, so a
/// UTC day with a margin keeps well inside it).
///
/// The governor stops before the limit, at ``margin`` of it, so the provider never sees the
/// mailbox cross its line: the remaining allowance is what a run may download (the connection
/// enforces it, ``IMAPConnection/downloadLimit``), and a mailbox with none left does not connect
/// until the next UTC day. A value with its own tests.
package struct ProviderBudget: Sendable, Equatable {
    /// Bytes a mailbox may download per day; nil: no limit known.
    package var dailyDownloadBytes: Int64?
    /// Commands a mailbox may send per day; nil: no limit known.
    package var dailyCommands: Int64?
    /// Messages a mailbox may send per day through the provider's SMTP server; nil: none known.
    package var dailySends: Int64?

    package init(dailyDownloadBytes: Int64? = nil, dailyCommands: Int64? = nil, dailySends: Int64? = nil) {
        self.dailyDownloadBytes = dailyDownloadBytes
        self.dailyCommands = dailyCommands
        self.dailySends = dailySends
    }

    /// The share of a limit the governor lets a mailbox use. Default 0.9.
    package static let margin = 0.9

    /// What a mailbox used on `day` (`yyyy-MM-dd`, UTC).
    package struct Usage: Sendable, Equatable {
        package var day: String
        package var bytes: Int64
        package var commands: Int64

        package init(day: String, bytes: Int64, commands: Int64) {
            self.day = day
            self.bytes = bytes
            self.commands = commands
        }

        package static func none(_ day: String) -> Usage { Usage(day: day, bytes: 0, commands: 0) }

        /// Today's usage: this, if it is of `today`, else nothing used yet.
        package func on(_ today: String) -> Usage { day == today ? self : .none(today) }

        /// This plus a run's bytes and commands (starting over on a new day).
        package func adding(bytes: Int64, commands: Int64, on today: String) -> Usage {
            let base = on(today)
            return Usage(day: today, bytes: base.bytes.addingReportingOverflow(bytes).partialValue,
                         commands: base.commands.addingReportingOverflow(commands).partialValue)
        }
    }

    /// Bytes a run may still download today; nil: unlimited. Never negative.
    package func remainingBytes(_ usage: Usage) -> Int64? {
        guard let limit = dailyDownloadBytes else { return nil }
        return max(0, Int64(Double(limit) * Self.margin) - usage.bytes)
    }

    /// Why the mailbox must wait for the next day, or nil when it may run.
    package func exhausted(_ usage: Usage) -> String? {
        if let limit = dailyDownloadBytes, usage.bytes >= Int64(Double(limit) * Self.margin) {
            return "\(Self.megabytes(usage.bytes)) of the provider's \(Self.megabytes(limit)) daily download limit used"
        }
        if let limit = dailyCommands, usage.commands >= Int64(Double(limit) * Self.margin) {
            return "\(usage.commands) of the provider's \(limit) daily commands used"
        }
        return nil
    }

    /// Why a Smart Mail may not go out today, with `sent` already sent on this UTC day; nil: it may.
    package func sendRefusal(sent: Int64) -> String? {
        guard let limit = dailySends, sent >= Int64(Double(limit) * Self.margin) else { return nil }
        return "\(sent) Smart Mails went out through this mailbox today (UTC), and its provider allows \(limit) a day; Mail Sync stops at 90% so the provider does not lock the account"
    }

    package static func megabytes(_ bytes: Int64) -> String {
        bytes >= 1_000_000_000 ? String(format: "%.1f GB", Double(bytes) / 1e9) : String(format: "%.1f MB", Double(bytes) / 1e6)
    }

    /// The provider day: UTC, through the calendar the daily cap uses for company zones.
    package static let utc = CompanyCalendar(identifier: "UTC")

    /// `yyyy-MM-dd` of `microseconds` in UTC.
    package static func utcDay(_ microseconds: Int64) -> String {
        utc.day(Timestamp(microsecondsSinceEpoch: microseconds))
    }

    /// The start of the UTC day after `microseconds`.
    package static func startOfNextUTCDay(after microseconds: Int64) -> Int64 {
        utc.startOfNextDay(after: Timestamp(microsecondsSinceEpoch: microseconds)).microsecondsSinceEpoch
    }
}

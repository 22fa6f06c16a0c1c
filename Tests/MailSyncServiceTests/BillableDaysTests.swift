import Foundation
import MailSyncClient
@testable import MailSyncService
@testable import MailSyncTenantData
import Testing

/// The billable mailbox-day count on its own: calendar days in the company's zone, statuses that
/// count and those that do not, periods cut through a day or a status.
@Suite("Billable mailbox-days", .timeLimit(.minutes(5)))
struct BillableDaysTests {
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let utc = TimeZone(identifier: "UTC")!

    /// Microseconds of an ISO 8601 time with its offset, e.g. `2026-03-08T23:30:00-04:00`.
    static func at(_ iso: String) -> Int64 {
        let date = ISO8601DateFormatter().date(from: iso)!
        return Int64(date.timeIntervalSince1970) * 1_000_000
    }

    static func count(_ transitions: [(String, MailboxRecord.Status)], from start: String, to end: String, in zone: TimeZone = newYork) -> Int {
        BillableDays(start: at(start), end: at(end), timeZone: zone)
            .count(transitions.map { BillableDays.Transition(time: at($0.0), status: $0.1) })
    }

    @Test("days run midnight to midnight in the company's zone, 23 hours on the spring DST change")
    func springForward() {
        let days = BillableDays(start: Self.at("2026-03-07T00:00:00-05:00"), end: Self.at("2026-03-10T00:00:00-04:00"), timeZone: Self.newYork)
        #expect(days.boundaries == [
            Self.at("2026-03-07T05:00:00Z"), Self.at("2026-03-08T05:00:00Z"), Self.at("2026-03-09T04:00:00Z"), Self.at("2026-03-10T04:00:00Z"),
        ])
        // An hour across New York's midnight after the change: two days there, one in UTC.
        let acrossMidnight = [("2026-03-08T23:30:00-04:00", MailboxRecord.Status.enabled), ("2026-03-09T00:30:00-04:00", .disabled)]
        #expect(Self.count(acrossMidnight, from: "2026-03-07T00:00:00-05:00", to: "2026-03-10T00:00:00-04:00") == 2)
        #expect(Self.count(acrossMidnight, from: "2026-03-07T00:00:00-05:00", to: "2026-03-10T00:00:00-04:00", in: Self.utc) == 1)
    }

    @Test("the 25-hour autumn DST day ends at New York's midnight, not 24 hours after the last one")
    func fallBack() {
        let acrossMidnight = [("2026-11-01T23:30:00-05:00", MailboxRecord.Status.enabled), ("2026-11-02T00:30:00-05:00", .disabled)]
        #expect(Self.count(acrossMidnight, from: "2026-10-31T00:00:00-04:00", to: "2026-11-04T00:00:00-05:00") == 2)
        let lateOnTheLongDay = [("2026-11-01T23:00:00-05:00", MailboxRecord.Status.enabled), ("2026-11-01T23:59:00-05:00", .disabled)]
        #expect(Self.count(lateOnTheLongDay, from: "2026-10-31T00:00:00-04:00", to: "2026-11-04T00:00:00-05:00") == 1)
    }

    @Test("CONNECTION_ISSUE from mid-day: that day counts, the later ones do not")
    func connectionIssue() {
        let timeline = [("2026-01-01T00:00:00-05:00", MailboxRecord.Status.enabled), ("2026-01-03T12:00:00-05:00", .connectionIssue)]
        #expect(Self.count(timeline, from: "2026-01-01T00:00:00-05:00", to: "2026-01-06T00:00:00-05:00") == 3)
        // Back to ENABLED the same day: the day is counted once.
        let recovered = timeline + [("2026-01-03T18:00:00-05:00", MailboxRecord.Status.enabled), ("2026-01-04T01:00:00-05:00", .connectionIssue)]
        #expect(Self.count(recovered, from: "2026-01-01T00:00:00-05:00", to: "2026-01-06T00:00:00-05:00") == 4)
    }

    @Test("PENDING days are not counted; ERROR days are")
    func pendingAndError() {
        let timeline = [
            ("2026-01-01T09:00:00-05:00", MailboxRecord.Status.pending), ("2026-01-03T10:00:00-05:00", .enabled),
            ("2026-01-04T10:00:00-05:00", .error),
        ]
        #expect(Self.count(timeline, from: "2026-01-01T00:00:00-05:00", to: "2026-01-06T00:00:00-05:00") == 3)
        #expect(Self.count([("2026-01-01T09:00:00-05:00", .pending)], from: "2026-01-01T00:00:00-05:00", to: "2026-01-06T00:00:00-05:00") == 0)
    }

    @Test("disabled mid-period: the days up to and including the day it was disabled")
    func disabledMidPeriod() {
        let timeline = [("2025-12-20T08:00:00-05:00", MailboxRecord.Status.enabled), ("2026-01-02T08:00:00-05:00", .disabled)]
        #expect(Self.count(timeline, from: "2026-01-01T00:00:00-05:00", to: "2026-01-06T00:00:00-05:00") == 2)
        // A status held for no time at all bills nothing.
        let instant = [("2026-01-02T08:00:00-05:00", MailboxRecord.Status.enabled), ("2026-01-02T08:00:00-05:00", .disabled)]
        #expect(Self.count(instant, from: "2026-01-01T00:00:00-05:00", to: "2026-01-06T00:00:00-05:00") == 0)
    }

    @Test("a period starting mid-way through a status: its first and last partial days count, what ended before it does not")
    func periodCutsThroughAStatus() {
        let enabledSinceDecember = [("2025-12-20T08:00:00-05:00", MailboxRecord.Status.enabled)]
        #expect(Self.count(enabledSinceDecember, from: "2026-01-01T12:00:00-05:00", to: "2026-01-03T12:00:00-05:00") == 3)
        let disabledBeforeTheStart = enabledSinceDecember + [("2026-01-01T11:00:00-05:00", MailboxRecord.Status.disabled)]
        #expect(Self.count(disabledBeforeTheStart, from: "2026-01-01T12:00:00-05:00", to: "2026-01-03T12:00:00-05:00") == 0)
        let enabledAfterTheEnd = [("2026-01-03T12:00:00-05:00", MailboxRecord.Status.enabled)]
        #expect(Self.count(enabledAfterTheEnd, from: "2026-01-01T12:00:00-05:00", to: "2026-01-03T12:00:00-05:00") == 0)
    }
}

import Foundation
import MailSyncCoding
import MailSyncTenantData

/// Days in a company's time zone: the plan's daily cap counts per day there.
package struct CompanyCalendar: Sendable {
    package let timeZone: TimeZone

    /// The company's zone, or UTC when the stored name is unknown to this system.
    package init(identifier: String) {
        timeZone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// `YYYY-MM-DD` of the day `time` falls on.
    package func day(_ time: Timestamp) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: time.date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The first instant of the day after the one `time` falls on.
    package func startOfNextDay(after time: Timestamp) -> Timestamp {
        let start = calendar.startOfDay(for: time.date)
        let next = calendar.date(byAdding: .day, value: 1, to: start) ?? time.date.addingTimeInterval(86_400)
        return Timestamp(secondsSinceEpoch: next.timeIntervalSince1970)
    }
}

extension Timestamp {
    package var date: Date { Date(timeIntervalSince1970: Double(microsecondsSinceEpoch) / 1e6) }
}

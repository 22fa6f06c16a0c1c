import Foundation
import MailSyncTenantData
import MailSyncEngine

/// Billable mailbox-days: the calendar days of a period on which a mailbox was `ENABLED` or
/// `ERROR` at any moment.
///
/// Days are the company's calendar days (midnight to midnight in its time zone, 23 or 25 hours
/// long on a DST change), clipped to the period: the first and last day count for the part of them
/// inside `[start, end)`. `PENDING`, `CONNECTION_ISSUE`, `DISABLED` and `NOT_CONFIGURED` time does
/// not count, nor does a status held for no time at all (two transitions at the same instant).
///
/// Pure: no clock, no database. Built once per company and period (the day boundaries are worked
/// out up front, at most 367 of them for the 366-day limit), then `count(_:)` per mailbox.
struct BillableDays: Sendable {
    /// A mailbox's status from `time` (microseconds since the epoch) until the next transition.
    struct Transition: Sendable, Equatable {
        var time: Int64
        var status: MailboxRecord.Status
    }

    /// The statuses that are billed.
    static let billedStatuses: Set<MailboxRecord.Status> = [.enabled, .error]

    let start: Int64
    let end: Int64
    /// `boundaries[k]` starts the period's day `k`; the last element is `end`. Strictly increasing.
    let boundaries: [Int64]

    /// - Parameters: `start` inclusive, `end` exclusive (microseconds); an empty or reversed
    ///   period has no days.
    init(start: Int64, end: Int64, timeZone: TimeZone) {
        self.start = start
        self.end = end
        guard start < end else {
            boundaries = [end]
            return
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var boundaries = [start]
        var day = calendar.startOfDay(for: Self.date(start))
        while true {
            // 36 hours on lands inside the next day whatever DST does (days of 23 to 25 hours),
            // and a skipped day (a zone moving across the date line) is skipped here too.
            let next = calendar.startOfDay(for: day.addingTimeInterval(36 * 3600))
            let micros = Self.micros(next)
            guard micros < end, next > day else { break }
            if micros > start { boundaries.append(micros) }
            day = next
        }
        boundaries.append(end)
        self.boundaries = boundaries
    }

    /// How many of the period's days the mailbox was billable on.
    ///
    /// - Parameter transitions: the mailbox's statuses in the order they happened (its events in
    ///   `seq` order), including the last one before the period if any; before the first, the
    ///   mailbox did not exist. A time earlier than the one before it (a clock set back) is taken
    ///   as that earlier transition's time.
    func count(_ transitions: [Transition]) -> Int {
        var days = 0
        var countedThrough = -1  // the last day index already counted
        var previousTime = Int64.min
        for (i, transition) in transitions.enumerated() {
            let from = max(transition.time, previousTime)
            previousTime = from
            guard Self.billedStatuses.contains(transition.status) else { continue }
            let until = i + 1 < transitions.count ? max(transitions[i + 1].time, from) : Int64.max
            let (a, b) = (max(from, start), min(until, end))
            guard a < b else { continue }
            let first = max(dayIndex(a), countedThrough + 1)
            let last = dayIndex(b - 1)
            if first <= last {
                days += last - first + 1
                countedThrough = last
            }
        }
        return days
    }

    /// The index of the day holding `time` (which must lie within the period).
    private func dayIndex(_ time: Int64) -> Int {
        // The last boundary not after `time`.
        var (low, high) = (0, boundaries.count - 1)
        while low < high {
            let mid = (low + high + 1) / 2
            if boundaries[mid] <= time { low = mid } else { high = mid - 1 }
        }
        return low
    }

    private static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
    private static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
}

import Foundation
import Testing
@testable import MailSyncMatching

@Suite("Date: headers and the timeline's date")
struct MailDateTests {
    /// Seconds since 1970 of a UTC date, from Foundation (an oracle independent of the parser).
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
        return Int64(date.timeIntervalSince1970) * 1_000_000
    }

    @Test("real-world spellings", arguments: [
        ("Mon, 21 Sep 2026 10:00:00 +0000", utc(2026, 9, 21, 10)),
        ("21 Sep 2026 10:00:00 +0000", utc(2026, 9, 21, 10)),
        ("Mon, 21 Sep 2026 12:30:15 +0230", utc(2026, 9, 21, 10, 0, 15)),
        ("Sun, 20 Sep 2026 21:00 -0500", utc(2026, 9, 21, 2)),
        ("Tue, 1 Mar 2016 00:00:00 GMT", utc(2016, 3, 1)),
        ("tue, 01 MAR 2016 00:00:00 pst", utc(2016, 3, 1, 8)),
        ("Mon, 21 Sep 2026 10:00:00 +0000 (UTC)", utc(2026, 9, 21, 10)),
        ("Mon,21 Sep 2026 10:00:00 EDT", utc(2026, 9, 21, 14)),
        ("Mon, 21 Sep 26 10:00:00 +0000", utc(2026, 9, 21, 10)),
        ("Mon, 21 Sep 99 10:00:00 +0000", utc(1999, 9, 21, 10)),
        ("Mon, 21 Sep 126 10:00:00 +0000", utc(2026, 9, 21, 10)),
        ("Mon, 21 Sep 2026 10 : 00 : 00 +0000", utc(2026, 9, 21, 10)),
        ("Mon, 21 Sep 2026 10:00:00", utc(2026, 9, 21, 10)),
        ("Mon, 21 Sep 2026 10:00:00 +0000 GMT", utc(2026, 9, 21, 10)),
        ("Mon, 21 Sep 2026 10:00:00 A", utc(2026, 9, 21, 10)),
        ("(sent from my phone) Mon, 21 (a (nested) comment) Sep 2026 10:00:00 +0000", utc(2026, 9, 21, 10)),
        ("Thu, 29 Feb 2024 23:59:60 +0000", utc(2024, 2, 29, 23, 59, 59)),
        ("Fri, 31 Dec 9999 23:59:59 -2359", utc(9999, 12, 31, 23, 59, 59) + 86_340_000_000),
        ("1 Jan 1900 00:00 +0000", utc(1900, 1, 1)),
    ] as [(String, Int64)])
    func parses(text: String, expected: Int64) {
        #expect(MailDate.parse(Array(text.utf8)) == expected, "\(text)")
    }

    @Test("nonsense is nil, never a trap", arguments: [
        "", "yesterday", "Mon, 21 Sep", "Mon, 32 Sep 2026 10:00:00 +0000", "Mon, 29 Feb 2026 10:00:00 +0000",
        "Mon, 31 Apr 2026 10:00:00 +0000", "Mon, 21 Foo 2026 10:00:00 +0000", "Mon, 21 Sep 2026 24:00:00 +0000",
        "Mon, 21 Sep 2026 10:61:00 +0000", "Mon, 21 Sep 2026 10:00:00 +2400", "Mon, 21 Sep 2026 10:00:00 +0075",
        "Mon, 21 Sep 1899 10:00:00 +0000", "Mon, 21 Sep 12026 10:00:00 +0000", "Mon, 21 Sep 2026 100:00:00 +0000",
        "Mon, 21 Sep 2026 10:00:00 +00000", "Mon, 0 Sep 2026 10:00:00 +0000", "Mon, 99999999999999999999 Sep 2026 10:00",
        "2026-09-21T10:00:00Z", "((((((((", "Mon, 21 Sep 2026 10:",
    ])
    func refuses(text: String) {
        #expect(MailDate.parse(Array(text.utf8)) == nil, "\(text)")
    }

    @Test("every day of four years round-trips against Foundation's calendar")
    func everyDay() {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var checked = 0
        for year in [1900, 2000, 2024, 2100] {
            for month in 1...12 {
                for day in 1...MailDate.daysIn(month: month, year: year) {
                    let text = "\(day) \(months[month - 1]) \(year) 12:34:56 +0000"
                    #expect(MailDate.parse(Array(text.utf8)) == Self.utc(year, month, day, 12, 34, 56), "\(text)")
                    checked += 1
                }
            }
        }
        #expect(checked == 365 + 366 + 366 + 365)  // 1900 and 2100 are not leap years, 2000 is
    }

    @Test("the timeline date: a sane Date: header, else INTERNALDATE, saying which")
    func choice() {
        let now = Self.utc(2026, 9, 21, 14)
        let backfill = Self.utc(2026, 6, 23)
        let received = Self.utc(2026, 9, 20, 9)
        func choose(_ header: String?) -> TimelineDate {
            TimelineDate.choose(header: header.map { Array($0.utf8) }, internalDate: received, now: now, backfill: backfill)
        }
        // Imported mail: the header's earlier date wins over the import's INTERNALDATE.
        #expect(choose("Tue, 1 Sep 2026 08:00:00 +0000") == TimelineDate(microseconds: Self.utc(2026, 9, 1, 8), source: .dateHeader))
        // Slightly fast sender clock: kept; a day ahead: not.
        #expect(choose("Mon, 21 Sep 2026 14:30:00 +0000").source == .dateHeader)
        #expect(choose("Tue, 22 Sep 2026 14:00:00 +0000") == TimelineDate(microseconds: received, source: .serverReceived))
        // Before the backfill window (beyond the day's slack): not; within the slack: kept.
        #expect(choose("Sun, 21 Jun 2026 10:00:00 +0000").source == .serverReceived)
        #expect(choose("Mon, 22 Jun 2026 10:00:00 +0000").source == .dateHeader)
        // Unparsable or missing.
        #expect(choose("soon") == TimelineDate(microseconds: received, source: .serverReceived))
        #expect(choose(nil).source == .serverReceived)
        // No INTERNALDATE either: the sync's time.
        #expect(TimelineDate.choose(header: nil, internalDate: nil, now: now, backfill: backfill) == TimelineDate(microseconds: now, source: .serverReceived))
    }

    @Test("FuzzMailDate's seeds and crashers, replayed: each parses within 1900...9999 or not at all")
    func fuzzInputsReplayed() throws {
        let inputs = try fuzzInputs("FuzzMailDate")
        #expect(inputs.count >= 6)
        for (name, input) in inputs {
            if let date = MailDate.parse(input) {
                #expect(date >= Self.utc(1900, 1, 1) - 86_400_000_000 && date <= Self.utc(9999, 12, 31, 23, 59, 59) + 86_400_000_000, "\(name)")
            }
        }
        #expect(MailDate.parse(Array("Mon, 21 Sep 2026 10:00:00 +0000".utf8)) != nil)
    }
}

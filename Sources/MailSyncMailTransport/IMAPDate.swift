import Foundation

/// IMAP's own date formats (RFC 3501): INTERNALDATE `"17-Jul-1996 02:44:25 -0700"` and the
/// SEARCH date `17-Jul-1996`. English month names always: nothing here depends on the locale,
/// the time zone or the calendar settings of the machine.
public enum IMAPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Parses a date-time as in INTERNALDATE (without its quotes): `dd-Mon-yyyy hh:mm:ss +zzzz`,
    /// the day one or two digits or space-padded (` 7-Jul-1996`), the month case-insensitive.
    /// Returns `nil` for anything else: wrong shape, a day the month does not have, an hour
    /// past 23, a zone beyond ±14:59.
    public static func parseInternalDate(_ text: String) -> Date? {
        var bytes = Array(text.utf8)[...]
        if bytes.first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")), let day = number(bytes[..<dash], digits: 1...2) else { return nil }
        bytes = bytes[(dash + 1)...]
        guard bytes.count == 3 + 1 + 4 + 1 + 8 + 1 + 5 else { return nil }
        let monthText = String(decoding: bytes.prefix(3), as: UTF8.self).lowercased()
        guard let monthIndex = months.firstIndex(where: { $0.lowercased() == monthText }) else { return nil }
        let start = bytes.startIndex
        func field(_ offset: Int, _ count: Int) -> Int? { number(bytes[(start + offset)..<(start + offset + count)], digits: count...count) }
        func byte(_ offset: Int) -> UInt8 { bytes[start + offset] }
        guard byte(3) == UInt8(ascii: "-"), byte(8) == UInt8(ascii: " "), byte(11) == UInt8(ascii: ":"), byte(14) == UInt8(ascii: ":"),
            byte(17) == UInt8(ascii: " "), byte(18) == UInt8(ascii: "+") || byte(18) == UInt8(ascii: "-"),
            let year = field(4, 4), let hour = field(9, 2), let minute = field(12, 2), let second = field(15, 2),
            let zoneHours = field(19, 2), let zoneMinutes = field(21, 2),
            hour < 24, minute < 60, second < 61, zoneHours < 15, zoneMinutes < 60
        else { return nil }
        let month = monthIndex + 1
        let days = daysFromCivil(year: year, month: month, day: day)
        guard civil(fromDays: days) == (year, month, day) else { return nil }  // 31-Feb and the like
        let zone = (zoneHours * 3600 + zoneMinutes * 60) * (byte(18) == UInt8(ascii: "-") ? -1 : 1)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - zone
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// The SEARCH date (`SINCE 1-Jan-2024`) of `date`'s day in UTC. Servers compare it with
    /// INTERNALDATE by day in their own zone, so mail within hours of midnight may fall either way.
    public static func searchDate(_ date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (year, month, day) = civil(fromDays: days)
        return "\(day)-\(months[month - 1])-\(year)"
    }

    private static func number(_ bytes: ArraySlice<UInt8>, digits: ClosedRange<Int>) -> Int? {
        guard digits.contains(bytes.count), bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// The `Date:` header of a message (RFC 5322 §3.3, with the obsolete forms of §4.3), read into
/// microseconds since 1970 UTC.
///
/// Accepted: an optional day name (`Mon,`), day, month name (any case), year (4 digits; 2 digits
/// are 1950–2049, 3 digits are + 1900 as §4.3 says), `hh:mm` with optional `:ss`, and a zone:
/// `±hhmm` (hours < 24, minutes < 60), `UT`/`GMT`/`Z`, the US zones (`EST` … `PDT`), or none /
/// an unknown or military zone (then UTC: §4.3 reads those as "no information"). Comments in parentheses, folding
/// whitespace and a trailing period are ignored. A leap second (`:60`) counts as `:59`.
///
/// Returns nil for anything else — a missing part, a day past the month's end, an hour past 23, a
/// year before 1900 or after 9999 — never traps: the input is a stranger's header. Cost is
/// linear in the input, which callers bound (an envelope field).
public enum MailDate {
    public static func parse(_ bytes: some Collection<UInt8>) -> Int64? {
        var tokenizer = Tokenizer(Array(bytes.prefix(Self.maxLength)))
        var tokens = tokenizer.tokens()
        // Optional day name, with or without its comma.
        if let first = tokens.first, case .word(let word) = first, Self.dayNames.contains(word) {
            tokens.removeFirst()
            if tokens.first == .comma { tokens.removeFirst() }
        }
        guard tokens.count >= 4,
              case .number(let day, _) = tokens[0], (1...31).contains(day),
              case .word(let monthName) = tokens[1], let month = Self.monthNames.firstIndex(of: monthName),
              case .number(let rawYear, let yearDigits) = tokens[2],
              case .time(let hour, let minute, let second) = tokens[3]
        else { return nil }
        let year: Int
        switch yearDigits {
        case 2: year = rawYear < 50 ? 2000 + rawYear : 1900 + rawYear
        case 3: year = 1900 + rawYear
        case 4: year = rawYear
        default: return nil
        }
        guard (1900...9999).contains(year), hour < 24, minute < 60, second <= 60 else { return nil }
        guard day <= Self.daysIn(month: month + 1, year: year) else { return nil }
        let offset: Int
        let zone: Token? = tokens.count > 4 ? tokens[4] : nil
        switch zone {
        case nil: offset = 0
        case .zone(let minutes)?: offset = minutes
        case .word(let name)?: offset = Self.namedZones[name] ?? 0
        default: return nil
        }
        let days = Self.daysFromCivil(year: year, month: month + 1, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset * 60
        return Int64(seconds) * 1_000_000
    }

    /// Longer headers are cut here before parsing: a real date is under 50 bytes, comments aside.
    public static let maxLength = 512

    static let dayNames: Set<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    /// RFC 5322 §4.3's named zones, in minutes east of UTC.
    static let namedZones: [String: Int] = [
        "ut": 0, "gmt": 0, "z": 0,
        "edt": -4 * 60, "est": -5 * 60, "cdt": -5 * 60, "cst": -6 * 60,
        "mdt": -6 * 60, "mst": -7 * 60, "pdt": -7 * 60, "pst": -8 * 60,
    ]

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm); the
    /// year is within 1900...9999, so nothing overflows.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    enum Token: Equatable {
        case word(String)              // letters, lower-cased
        case number(Int, digits: Int)  // at most 4 digits
        case time(Int, Int, Int)
        case zone(Int)                 // minutes east of UTC
        case comma
        case other
    }

    /// Splits the header into words, numbers, `hh:mm[:ss]`, `±hhmm`, commas; drops comments.
    struct Tokenizer {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func tokens() -> [Token] {
            var out: [Token] = []
            while index < bytes.count, out.count < 16 {
                let byte = bytes[index]
                switch byte {
                case 0x28: skipComment()
                case 0x20, 0x09, 0x0D, 0x0A, 0x2E: index += 1  // whitespace, a stray period
                case 0x2C: out.append(.comma); index += 1
                case 0x2B, 0x2D: out.append(zone())
                case 0x30...0x39: out.append(numberOrTime())
                case 0x41...0x5A, 0x61...0x7A: out.append(word())
                default: out.append(.other); index += 1
                }
            }
            return out
        }

        /// Skips a comment, nested ones included (depth bounded by the input).
        mutating func skipComment() {
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case 0x28: depth += 1
                case 0x29: depth -= 1
                case 0x5C: index += 1  // quoted-pair
                default: break
                }
                index += 1
                if depth == 0 { return }
            }
        }

        mutating func word() -> Token {
            var text = ""
            while index < bytes.count, case let byte = bytes[index], (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) {
                if text.utf8.count < 16 { text.unicodeScalars.append(Unicode.Scalar(byte | 0x20)) }
                index += 1
            }
            return .word(text)
        }

        /// Up to `limit` digits as a number and how many there were (nil for none; more than
        /// `limit` digits: the extra ones are consumed and the result is nil).
        mutating func digits(limit: Int) -> (Int, Int)? {
            var value = 0
            var count = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                if count < limit { value = value * 10 + Int(bytes[index] - 0x30) }
                count += 1
                index += 1
            }
            return count == 0 || count > limit ? nil : (value, count)
        }

        mutating func numberOrTime() -> Token {
            guard let (first, count) = digits(limit: 4) else { return .other }
            let afterNumber = index
            skipSpaces()  // obsolete syntax allows folding whitespace around the colons
            guard index < bytes.count, bytes[index] == 0x3A else {
                index = afterNumber
                return .number(first, digits: count)
            }
            guard count <= 2 else { return .other }
            index += 1
            skipSpaces()
            guard let (minute, _) = digits(limit: 2) else { return .other }
            let afterMinute = index
            skipSpaces()
            var second = 0
            if index < bytes.count, bytes[index] == 0x3A {
                index += 1
                skipSpaces()
                guard let (value, _) = digits(limit: 2) else { return .other }
                second = value
            } else {
                index = afterMinute
            }
            return .time(first, minute, second)
        }

        mutating func zone() -> Token {
            let negative = bytes[index] == 0x2D
            index += 1
            guard let (value, count) = digits(limit: 4), count == 4 else { return .other }
            let hours = value / 100, minutes = value % 100
            guard hours < 24, minutes < 60 else { return .other }
            let total = hours * 60 + minutes
            return .zone(negative ? -total : total)
        }

        mutating func skipSpaces() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        }
    }
}

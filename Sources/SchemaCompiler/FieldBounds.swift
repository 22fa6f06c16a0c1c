/// The bounds a field declares, resolved from its options (`[max_length = 200, ...]`) and checked
/// against its type. The checker reports `problems`; the emitter uses the resolved values of a
/// checked file (and tests, through `SchemaFile.bounds(of:)`). Lengths count UTF-8 bytes for strings
/// and bytes for `bytes`.
public struct FieldBounds: Equatable, Sendable {
    /// One end of a resolved `range`, as a Swift expression of the field's element type, and as
    /// the schema spells it (for messages and docs).
    public struct Range: Equatable, Sendable {
        /// Swift expressions of the element type (`0`, `Int32.max`, microseconds for timestamps).
        var low: String
        var high: String
        /// The ends as numbers (microseconds for timestamps); uint64's `max` reads `Int.max`.
        public var lowValue: Int
        public var highValue: Int
        public var spelled: String
        public var isTimestamp: Bool
    }

    public var maxLength: Int?
    public var maxKeyLength: Int?
    public var maxCount: Int?
    public var range: Range?
    public var knownValues = false

    public init() {}

    public var isEmpty: Bool { self == FieldBounds() }

    /// Every option name the language knows, for the "unknown option" message.
    static let optionNames = ["max_length", "max_key_length", "max_count", "range", "known_values"]

    /// Resolves `field`'s options; `problems` lists what is wrong, at the option.
    static func resolve(
        _ field: FieldDecl, isEnum: (String) -> Bool
    ) -> (bounds: FieldBounds, problems: [(SourceLocation, String)]) {
        var bounds = FieldBounds()
        var problems: [(SourceLocation, String)] = []
        var seen: Set<String> = []
        let element: TypeRef
        var keyType: TypeRef?
        switch field.type {
        case .map(let key, let value, _):
            element = value
            keyType = key
        default:
            element = field.type
        }
        let isCollection = field.label == .repeated || keyType != nil
        let scalar: ScalarType? = if case .scalar(let s, _) = element { s } else { nil }
        let enumElement: Bool = if case .named(let name, _) = element { isEnum(name) } else { false }
        let what = "field '\(field.name)' (\(field.label == .singular ? "" : field.label.rawValue + " ")\(field.type.spelling))"

        for option in field.options {
            guard seen.insert(option.name).inserted else {
                problems.append((option.location, "duplicate option '\(option.name)' on field '\(field.name)'"))
                continue
            }
            switch option.name {
            case "max_length", "max_key_length", "max_count":
                guard case .integer(let n) = option.value else {
                    problems.append((option.valueLocation, "'\(option.name)' takes a whole number, such as '\(option.name) = 200'"))
                    continue
                }
                guard n >= 0, n <= Int(Int32.max) else {
                    problems.append((option.valueLocation, "'\(option.name)' must be 0 to \(Int32.max), got \(spell(n))"))
                    continue
                }
                switch option.name {
                case "max_length":
                    if scalar == .string || scalar == .bytes {
                        bounds.maxLength = n
                    } else {
                        problems.append((option.location, "'max_length' applies to string and bytes fields (or their repeated and map values); \(what) has none"))
                    }
                case "max_key_length":
                    if case .scalar(.string, _)? = keyType {
                        bounds.maxKeyLength = n
                    } else {
                        problems.append((option.location, "'max_key_length' applies to maps with string keys; \(what) is not one"))
                    }
                default:
                    if isCollection {
                        bounds.maxCount = n
                    } else {
                        problems.append((option.location, "'max_count' applies to repeated and map fields; \(what) holds one value (use 'max_length' for its length)"))
                    }
                }
            case "range":
                guard case .range(let lowEnd, let highEnd) = option.value else {
                    problems.append((option.valueLocation, "'range' takes 'low to high', such as 'range = 0 to 500'"))
                    continue
                }
                guard let scalar, let limits = integerLimits(scalar) else {
                    problems.append((option.location, "'range' applies to int32, int64, uint32, uint64 and timestamp fields; \(what) is not one"))
                    continue
                }
                let isTime = scalar == .timestamp
                var ends: [(value: Int, swift: String, spelled: String)] = []
                for (end, isLow) in [(lowEnd, true), (highEnd, false)] {
                    switch end {
                    case .min: ends.append((limits.min, limits.minSwift, "min"))
                    case .max: ends.append((limits.max, limits.maxSwift, "max"))
                    case .integer(let n):
                        if isTime {
                            problems.append((option.valueLocation, "a timestamp range takes quoted UTC times such as \"2000-01-01\" or \"2000-01-01T12:00:00Z\" (or 'min', 'max'), not a number"))
                        } else if n < limits.min || n > limits.max {
                            problems.append((option.valueLocation, "range end \(spell(n)) does not fit in \(scalar.rawValue) (\(limits.minSwift) to \(limits.maxSwift))"))
                        } else {
                            ends.append((n, "\(n)", "\(n)"))
                        }
                    case .time(let text):
                        if !isTime {
                            problems.append((option.valueLocation, "a quoted time can only bound a timestamp field; \(what) takes numbers"))
                        } else if let micros = Self.microseconds(text, endOfRange: !isLow) {
                            ends.append((micros, "\(micros)", text))
                        } else {
                            problems.append((option.valueLocation, "invalid time \"\(text)\": write a UTC date \"YYYY-MM-DD\" or time \"YYYY-MM-DDTHH:MM:SS[.ffffff]Z\", years 0001 to 9999"))
                        }
                    }
                }
                guard ends.count == 2 else { continue }
                guard ends[0].value <= ends[1].value else {
                    problems.append((option.valueLocation, "range \(ends[0].spelled) to \(ends[1].spelled) is empty: the low end must not exceed the high end"))
                    continue
                }
                bounds.range = Range(
                    low: ends[0].swift, high: ends[1].swift, lowValue: ends[0].value, highValue: ends[1].value, spelled: "\(ends[0].spelled) to \(ends[1].spelled)", isTimestamp: isTime)
            case "known_values":
                guard case .name(let flag) = option.value, flag == "true" || flag == "false" else {
                    problems.append((option.valueLocation, "'known_values' takes 'true' or 'false'"))
                    continue
                }
                if enumElement {
                    bounds.knownValues = flag == "true"
                } else {
                    problems.append((option.location, "'known_values' applies to enum fields; \(what) is not one"))
                }
            default:
                problems.append((option.location, "unknown field option '\(option.name)'; expected one of: \(optionNames.joined(separator: ", "))"))
            }
        }
        return (bounds, problems)
    }

    /// The lowest and highest value of an integer-like scalar, as `Int` (uint64's top clamps to
    /// `Int.max`, which only `max` can name) and as Swift expressions.
    static func integerLimits(_ scalar: ScalarType) -> (min: Int, max: Int, minSwift: String, maxSwift: String)? {
        switch scalar {
        case .int32: (Int(Int32.min), Int(Int32.max), "Int32.min", "Int32.max")
        case .uint32: (0, Int(UInt32.max), "0", "UInt32.max")
        case .int64: (Int.min, Int.max, "Int64.min", "Int64.max")
        case .uint64: (0, Int.max, "0", "UInt64.max")
        case .timestamp: (Int.min, Int.max, "Int64.min", "Int64.max")
        default: nil
        }
    }

    /// Microseconds since the epoch of `"YYYY-MM-DD"` (midnight UTC, or the day's last
    /// microsecond when it ends a range) or `"YYYY-MM-DDTHH:MM:SS[.f…]Z"`; nil when malformed.
    static func microseconds(_ text: String, endOfRange: Bool) -> Int? {
        let chars = Array(text.utf8)
        func number(_ range: Swift.Range<Int>) -> Int? {
            guard range.upperBound <= chars.count, range.allSatisfy({ chars[$0] >= 48 && chars[$0] <= 57 }) else { return nil }
            return range.reduce(0) { $0 * 10 + Int(chars[$1] - 48) }
        }
        guard chars.count >= 10, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        if chars.count == 10 {
            return days * 86_400_000_000 + (endOfRange ? 86_399_999_999 : 0)
        }
        guard chars.count >= 20, chars[10] == UInt8(ascii: "T"), chars[13] == UInt8(ascii: ":"), chars[16] == UInt8(ascii: ":"),
            chars.last == UInt8(ascii: "Z"),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0
        if chars.count > 20 {
            let digits = chars.count - 21
            guard chars[19] == UInt8(ascii: "."), (1...6).contains(digits), let f = number(20..<(20 + digits)) else { return nil }
            fraction = f * [100_000, 10_000, 1_000, 100, 10, 1][digits - 1]
        } else if chars.count != 20 {
            return nil
        }
        return ((days * 86_400 + hour * 3_600 + minute * 60 + second) * 1_000_000) + fraction
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func spell(_ n: Int) -> String {
        n == Int.max ? "(beyond 64 bits)" : n == Int.min ? "(below -2^63)" : "\(n)"
    }

    /// The bounds as a sentence for generated docs: "At most 200 bytes (UTF-8). At most 50 elements."
    func summary(for field: FieldDecl) -> String {
        var parts: [String] = []
        if let maxCount { parts.append("at most \(maxCount) \(field.type.isMap ? "entries" : "elements")") }
        if let maxKeyLength { parts.append("keys at most \(maxKeyLength) bytes (UTF-8)") }
        let each = field.label == .repeated || field.type.isMap ? "each " : ""
        if let maxLength {
            let unit = field.type.elementScalar == .bytes ? "bytes" : "bytes (UTF-8)"
            parts.append("\(each)at most \(maxLength) \(unit)")
        }
        if let range {
            parts.append("\(each)\(range.isTimestamp ? "from " : "")\(range.spelled)\(range.isTimestamp ? " (UTC)" : "")")
        }
        if knownValues { parts.append("\(each)a known value") }
        guard !parts.isEmpty else { return "" }
        return "Bounds: " + parts.joined(separator: "; ") + "."
    }
}

/// `interval start to end [max_days = n];` resolved.
struct IntervalBounds: Equatable {
    var start: FieldDecl
    var end: FieldDecl
    var maxDays: Int?

    static func resolve(
        _ interval: IntervalDecl, in message: MessageDecl
    ) -> (bounds: IntervalBounds?, problems: [(SourceLocation, String)]) {
        var problems: [(SourceLocation, String)] = []
        func timestampField(_ name: String, at location: SourceLocation) -> FieldDecl? {
            guard let field = message.fields.first(where: { $0.name == name }) else {
                problems.append((location, "interval field '\(name)' is not a field of message '\(message.name)'"))
                return nil
            }
            guard case .scalar(.timestamp, _) = field.type, field.label != .repeated else {
                problems.append((location, "interval field '\(name)' must be a singular or optional timestamp, not \(field.label == .singular ? "" : field.label.rawValue + " ")\(field.type.spelling)"))
                return nil
            }
            return field
        }
        let start = timestampField(interval.start, at: interval.startLocation)
        let end = timestampField(interval.end, at: interval.endLocation)
        if interval.start == interval.end {
            problems.append((interval.endLocation, "an interval needs two different fields; '\(interval.start)' is both ends"))
        }
        var maxDays: Int?
        var seen: Set<String> = []
        for option in interval.options {
            guard seen.insert(option.name).inserted else {
                problems.append((option.location, "duplicate option '\(option.name)' on the interval"))
                continue
            }
            guard option.name == "max_days" else {
                problems.append((option.location, "unknown interval option '\(option.name)'; expected 'max_days'"))
                continue
            }
            guard case .integer(let n) = option.value, (1...3_660_000).contains(n) else {
                problems.append((option.valueLocation, "'max_days' takes a whole number of days from 1 to 3660000, such as 'max_days = 366'"))
                continue
            }
            maxDays = n
        }
        guard let start, let end, problems.isEmpty else { return (nil, problems) }
        return (IntervalBounds(start: start, end: end, maxDays: maxDays), problems)
    }

    var summary: String {
        "Interval: `\(start.name)` is not after `\(end.name)`" + (maxDays.map { ", at most \($0) days apart" } ?? "")
            + " (checked when both are set)."
    }
}

extension SchemaFile {
    /// The resolved bounds of a field of this (checked) file.
    public func bounds(of field: FieldDecl) -> FieldBounds {
        let enums = Set(self.enums.map(\.name))
        return FieldBounds.resolve(field, isEnum: { enums.contains($0) }).bounds
    }
}

extension TypeRef {
    var isMap: Bool { if case .map = self { true } else { false } }

    /// The scalar a field's elements (or map values) are, if any.
    var elementScalar: ScalarType? {
        switch self {
        case .scalar(let s, _): s
        case .named: nil
        case .map(_, let value, _): value.elementScalar
        }
    }
}

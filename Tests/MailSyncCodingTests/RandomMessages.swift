import MailSyncCoding
import TestSupport

/// Random `AllTypes` values biased towards the edges: extremes, defaults, empty and non-ASCII
/// strings, NaNs and negative zero, unknown enum values, and nested children.
struct RandomMessages {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    mutating func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }

    /// A 64-bit pattern: often an edge value, otherwise random with a random number of bits.
    mutating func bits() -> UInt64 {
        if chance(30) {
            return pick([0, 1, 2, 0x7F, 0x80, 0x3FFF, 0x4000, UInt64(UInt32.max), 1 << 31, 1 << 32, UInt64.max, UInt64.max - 1, 1 << 63])
        }
        return rng.next() >> (rng.next() % 64)
    }

    mutating func int32() -> Int32 { chance(20) ? pick([Int32.min, Int32.max, -1, 0]) : Int32(truncatingIfNeeded: Int64(bitPattern: bits())) }
    mutating func int64() -> Int64 { chance(20) ? pick([Int64.min, Int64.max, -1, 0]) : Int64(bitPattern: bits()) &* (chance(50) ? -1 : 1) }
    mutating func uint32() -> UInt32 { UInt32(truncatingIfNeeded: bits()) }
    mutating func uint64() -> UInt64 { bits() }
    mutating func bool() -> Bool { chance(50) }

    mutating func double() -> Double {
        if chance(40) {
            return pick([
                0, -0.0, 1, -1, .pi, .infinity, -.infinity, .nan, Double(bitPattern: 0x7FF0_0000_0000_0001),
                -Double.nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.leastNormalMagnitude,
            ])
        }
        return Double(bitPattern: rng.next())
    }

    mutating func string() -> String {
        if chance(25) { return pick(["", "a", "héllo", "日本語", "👩‍👩‍👧‍👦", "\u{0}", "e\u{301}", String(repeating: "x", count: 300)]) }
        var scalars = String.UnicodeScalarView()
        for _ in 0..<(rng.next() % 12) {
            let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0x00...0x7F, 0xA0...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFD, 0x1_0000...0x10_FFFF]
            let range = pick(ranges)
            scalars.append(Unicode.Scalar(range.lowerBound + UInt32(rng.next() % UInt64(range.count)))!)
        }
        return String(scalars)
    }

    mutating func bytes() -> [UInt8] {
        (0..<(rng.next() % (chance(10) ? 300 : 12))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    mutating func timestamp() -> Timestamp {
        chance(20) ? pick([.epoch, Timestamp(microsecondsSinceEpoch: .min), Timestamp(microsecondsSinceEpoch: .max)])
            : Timestamp(microsecondsSinceEpoch: int64())
    }

    /// Known values mostly; sometimes one this build does not know.
    mutating func color() -> Color {
        chance(80) ? pick(Color.allKnown) : Color(rawValue: pick([3, 99, -1, Int32.max, Int32.min]))
    }

    mutating func nested() -> Nested {
        var n = Nested()
        if chance(60) { n.label = string() }
        if chance(60) { n.number = int32() }
        if chance(60) { n.color = color() }
        return n
    }

    mutating func optional<T>(_ make: (inout RandomMessages) -> T) -> T? {
        chance(50) ? make(&self) : nil
    }

    mutating func array<T>(_ make: (inout RandomMessages) -> T) -> [T] {
        (0..<(chance(40) ? 0 : rng.next() % 6)).map { _ in make(&self) }
    }

    mutating func map<K: Hashable, V>(_ key: (inout RandomMessages) -> K, _ value: (inout RandomMessages) -> V) -> [K: V] {
        var result: [K: V] = [:]
        for _ in 0..<(rng.next() % 4) { result[key(&self)] = value(&self) }
        return result
    }

    /// A message; `depth` bounds how deeply children nest below it.
    mutating func allTypes(depth: Int = 3) -> AllTypes {
        var m = AllTypes()
        if chance(70) { m.int32Value = int32() }
        if chance(70) { m.int64Value = int64() }
        if chance(70) { m.uint32Value = uint32() }
        if chance(70) { m.uint64Value = uint64() }
        if chance(70) { m.boolValue = bool() }
        if chance(70) { m.doubleValue = double() }
        if chance(70) { m.stringValue = string() }
        if chance(70) { m.bytesValue = bytes() }
        if chance(70) { m.timestampValue = timestamp() }
        if chance(70) { m.color = color() }
        if chance(70) { m.nested = nested() }
        m.optionalInt32 = optional { $0.int32() }
        m.optionalInt64 = optional { $0.int64() }
        m.optionalUint32 = optional { $0.uint32() }
        m.optionalUint64 = optional { $0.uint64() }
        m.optionalBool = optional { $0.bool() }
        m.optionalDouble = optional { $0.double() }
        m.optionalString = optional { $0.string() }
        m.optionalBytes = optional { $0.bytes() }
        m.optionalTimestamp = optional { $0.timestamp() }
        m.optionalColor = optional { $0.color() }
        m.optionalNested = optional { $0.nested() }
        m.repeatedInt32 = array { $0.int32() }
        m.repeatedInt64 = array { $0.int64() }
        m.repeatedUint32 = array { $0.uint32() }
        m.repeatedUint64 = array { $0.uint64() }
        m.repeatedBool = array { $0.bool() }
        m.repeatedDouble = array { $0.double() }
        m.repeatedString = array { $0.string() }
        m.repeatedBytes = array { $0.bytes() }
        m.repeatedTimestamp = array { $0.timestamp() }
        m.repeatedColor = array { $0.color() }
        m.repeatedNested = array { $0.nested() }
        m.stringToString = map({ $0.string() }, { $0.string() })
        m.int64ToNested = map({ $0.int64() }, { $0.nested() })
        m.uint32ToColor = map({ $0.uint32() }, { $0.color() })
        m.stringToBytes = map({ $0.string() }, { $0.bytes() })
        if depth > 0 && chance(30) {
            m.children = (0..<(1 + rng.next() % 2)).map { _ in allTypes(depth: depth - 1) }
        }
        if chance(20) { m.farAway = int32() }
        return m
    }
}

/// Equality that compares doubles by bit pattern, so NaN equals the same NaN and 0 differs from -0.
func sameBits(_ a: AllTypes, _ b: AllTypes) -> Bool {
    guard a.doubleValue.bitPattern == b.doubleValue.bitPattern,
        a.optionalDouble?.bitPattern == b.optionalDouble?.bitPattern,
        a.repeatedDouble.map(\.bitPattern) == b.repeatedDouble.map(\.bitPattern),
        a.children.count == b.children.count,
        zip(a.children, b.children).allSatisfy(sameBits)
    else { return false }
    var a = a
    var b = b
    for i in [0, 1] {
        var m = i == 0 ? a : b
        m.doubleValue = 0
        m.optionalDouble = m.optionalDouble.map { _ in 0 }
        m.repeatedDouble = []
        m.children = []
        if i == 0 { a = m } else { b = m }
    }
    return a == b
}

import MailSyncCoding
import SchemaCompiler

/// Extreme requests for any RPC, derived from the schema: for every field (nested messages too, two
/// levels deep) the values at and past its bounds, type extremes, empty values, duplicates, unknown
/// enum values and malformed encodings. A new RPC or field is covered without a new test.
///
/// A variant is the method's baseline request (`SchemaProbe.request`) with the field's encoding
/// appended: on the wire a singular field's last occurrence wins and a repeated field appends, so
/// the variant changes that one field.
struct ExtremeRequests {
    struct Variant: Sendable {
        /// `field.sub` path and what was sent, for failure messages.
        let label: String
        let bytes: [UInt8]
        /// What an allowed caller must be answered.
        let expected: Refusal
    }

    enum Refusal: Sendable, Equatable {
        /// Within every bound: whatever the handler decides.
        case none
        /// Past a declared bound: `invalid argument` naming the field.
        case bound(field: String)
        /// Not decodable (invalid UTF-8 in a string, a bool of 2, an int past its type): `invalid argument`.
        case decoding
    }

    /// One field occurrence: its encoding and how it must be answered.
    private struct Value {
        let label: String
        let write: (inout WireWriter) -> Void
        let refused: Refusal
    }

    let probe: SchemaProbe
    private var messages: [String: MessageDecl]
    private var enums: Set<String>

    init(probe: SchemaProbe) {
        self.probe = probe
        messages = Dictionary(uniqueKeysWithValues: probe.file.messages.map { ($0.name, $0) })
        enums = Set(probe.file.enums.map(\.name))
    }

    /// Every single-field variant of a request type, depth-first.
    func variants(of type: String, baseline: [UInt8]) -> [Variant] {
        values(of: type, depth: 0).map { value in
            var writer = WireWriter()
            writer.writeRawBytes(baseline)
            value.write(&writer)
            return Variant(label: value.label, bytes: writer.bytes, expected: value.refused)
        }
    }

    /// Every field at once at its largest accepted size (`overflowing`: one past it), as far as
    /// 3 MiB allow (the server's message limit is 4 MiB).
    func composite(of type: String, baseline: [UInt8], overflowing: Bool) -> [UInt8] {
        var writer = WireWriter()
        writer.writeRawBytes(baseline)
        for field in messages[type]?.fields ?? [] {
            guard let value = largest(field, overflowing: overflowing) else { continue }
            var part = WireWriter()
            value.write(&part)
            if writer.bytes.count + part.bytes.count <= 3 << 20 { writer.writeRawBytes(part.bytes) }
        }
        return writer.bytes
    }

    // MARK: Fields

    private func values(of type: String, depth: Int) -> [Value] {
        guard let message = messages[type], depth < 3 else { return [] }
        var result: [Value] = []
        for field in message.fields {
            let bounds = probe.file.bounds(of: field)
            let n = field.number
            let name = field.name
            switch field.type {
            case .named(let inner, _) where messages[inner] != nil:
                // The nested message with one field extreme, as one more occurrence (or element).
                for value in values(of: inner, depth: depth + 1) {
                    result.append(Value(label: "\(name).\(value.label)", write: { w in
                        var nested = WireWriter()
                        value.write(&nested)
                        Self.writeLengthDelimited(nested.bytes, field: n, into: &w)
                    }, refused: value.refused))
                }
                if field.label == .repeated {
                    result += counts(field, bounds) { w in Self.writeLengthDelimited([], field: n, into: &w) }
                }
            case .map:
                result += counts(field, bounds) { w in
                    // An entry with default key and value; distinct keys need not matter for counts.
                    Self.writeLengthDelimited([], field: n, into: &w)
                }
            default:
                let elements = scalarValues(field, bounds)
                if field.label == .repeated {
                    for element in elements {
                        result.append(Value(label: "\(name)[] \(element.label)", write: element.write, refused: element.refused))
                    }
                    if let duplicate = elements.first(where: { $0.refused == .none }) {
                        result += counts(field, bounds, duplicate.write)
                    }
                } else {
                    for element in elements {
                        result.append(Value(label: "\(name) \(element.label)", write: element.write, refused: element.refused))
                    }
                }
            }
        }
        return result
    }

    /// For repeated fields and maps: exactly the bound of duplicates, and one more (refused);
    /// 10,000 duplicates when unbounded.
    private func counts(_ field: FieldDecl, _ bounds: FieldBounds, _ element: @escaping (inout WireWriter) -> Void) -> [Value] {
        let limit = bounds.maxCount ?? 10_000
        var result = [Value(label: "\(field.name) ×\(limit) duplicates", write: { w in for _ in 0..<limit { element(&w) } }, refused: .none)]
        if bounds.maxCount != nil {
            result.append(Value(label: "\(field.name) ×\(limit + 1)", write: { w in for _ in 0...limit { element(&w) } }, refused: .bound(field: field.name)))
        }
        return result
    }

    /// Values of one scalar or enum element, each written as an unpacked occurrence of the field.
    private func scalarValues(_ field: FieldDecl, _ bounds: FieldBounds) -> [Value] {
        let n = field.number
        var result: [Value] = []
        let past = Refusal.bound(field: field.name)
        func add(_ label: String, refused: Refusal = .none, _ write: @escaping (inout WireWriter) -> Void) {
            result.append(Value(label: label, write: write, refused: refused))
        }
        func add(_ label: String, refused: Bool, _ write: @escaping (inout WireWriter) -> Void) {
            add(label, refused: refused ? past : .none, write)
        }
        let inRange: (Int) -> Bool = { v in bounds.range.map { $0.lowValue <= v && v <= $0.highValue } ?? true }
        switch field.type {
        case .scalar(.string, _), .scalar(.bytes, _):
            add("empty") { $0.writeBytes([], field: n) }
            add("invalid UTF-8", refused: field.type.spelling == "string" ? .decoding : .none) { $0.writeBytes([0xC3, 0x28, 0xFF], field: n) }
            add("NUL and line breaks") { $0.writeBytes(Array("a\u{0}\r\nb".utf8), field: n) }
            if let max = bounds.maxLength {
                add("\(max) bytes") { $0.writeBytes(Array(repeating: 0x61, count: max), field: n) }
                add("\(max + 1) bytes", refused: true) { $0.writeBytes(Array(repeating: 0x61, count: max + 1), field: n) }
                // Multi-byte characters: fewer characters than the bound, more bytes.
                add("\(max / 2 + 1) × é", refused: max >= 1) { $0.writeBytes(Array(String(repeating: "é", count: max / 2 + 1).utf8), field: n) }
            } else {
                add("64 KiB") { $0.writeBytes(Array(repeating: 0x61, count: 65_536), field: n) }
            }
        case .scalar(.bool, _):
            add("true") { $0.writeBool(true, field: n) }
            add("2", refused: .decoding) { w in w.writeTag(field: n, wireType: .varint); w.writeVarint(2) }
        case .scalar(.double, _):
            for v in [Double.nan, .infinity, -.infinity, -0.0, .greatestFiniteMagnitude] {
                add("\(v)") { $0.writeDouble(v, field: n) }
            }
        case .scalar(.uint32, _), .scalar(.uint64, _):
            let top: UInt64 = field.type.spelling == "uint32" ? UInt64(UInt32.max) : .max
            for v in [0, 1, top] {
                add("\(v)", refused: !inRange(v > UInt64(Int.max) ? Int.max : Int(v))) { w in w.writeTag(field: n, wireType: .varint); w.writeVarint(v) }
            }
            if field.type.spelling == "uint32" {
                add("2^32 (overflows uint32)", refused: .decoding) { w in w.writeTag(field: n, wireType: .varint); w.writeVarint(1 << 32) }
            }
            if let range = bounds.range, range.highValue < Int(top > UInt64(Int.max) ? UInt64(Int.max) : top) {
                let v = UInt64(range.highValue + 1)
                add("\(v) (above range)", refused: true) { w in w.writeTag(field: n, wireType: .varint); w.writeVarint(v) }
            }
        case .scalar(let s, _) where s == .int32 || s == .int64 || s == .timestamp:
            let (low, high): (Int64, Int64) = s == .int32 ? (Int64(Int32.min), Int64(Int32.max)) : (.min, .max)
            var candidates: [Int64] = [0, -1, 1, low, high]
            if let range = bounds.range {
                let (l, h) = (Int64(range.lowValue), Int64(range.highValue))
                candidates += [l, h]
                if l > low { candidates.append(l - 1) }
                if h < high { candidates.append(h + 1) }
            }
            for v in Set(candidates).sorted() {
                add("\(v)", refused: !inRange(Int(v))) { w in w.writeTag(field: n, wireType: .varint); w.writeVarint(WireWriter.zigzag(v)) }
            }
            if s == .int32 {
                add("2^31 (overflows int32)", refused: .decoding) { w in w.writeTag(field: n, wireType: .varint); w.writeVarint(WireWriter.zigzag(1 << 31)) }
            }
        case .named(let name, _) where enums.contains(name):
            for v: Int64 in [0, 1, -1, Int64(Int32.max), Int64(Int32.min), 12_345] {
                add("enum \(v)") { w in w.writeTag(field: n, wireType: .varint); w.writeVarint(WireWriter.zigzag(v)) }
            }
        default:
            break
        }
        return result
    }

    /// The largest accepted value of a field (`overflowing`: one past the bound), for composites.
    private func largest(_ field: FieldDecl, overflowing: Bool) -> Value? {
        let bounds = probe.file.bounds(of: field)
        let extra = overflowing ? 1 : 0
        let n = field.number
        let count = field.label == .repeated ? (bounds.maxCount ?? 100) + extra : 1
        switch field.type {
        case .scalar(.string, _), .scalar(.bytes, _):
            let length = (bounds.maxLength ?? 4_096) + extra
            return Value(label: field.name, write: { w in
                for _ in 0..<count { w.writeBytes(Array(repeating: 0x62, count: length), field: n) }
            }, refused: .none)
        case .named(let name, _) where enums.contains(name):
            return Value(label: field.name, write: { w in
                for _ in 0..<count { w.writeTag(field: n, wireType: .varint); w.writeVarint(WireWriter.zigzag(Int64(Int32.max))) }
            }, refused: .none)
        case .named(let name, _) where messages[name] != nil:
            var nested = WireWriter()
            for inner in messages[name]?.fields ?? [] where !(inner.type.spelling == name) {
                if let value = largest(inner, overflowing: overflowing) { value.write(&nested) }
            }
            let bytes = nested.bytes
            return Value(label: field.name, write: { w in
                for _ in 0..<count { Self.writeLengthDelimited(bytes, field: n, into: &w) }
            }, refused: .none)
        default:
            return nil
        }
    }

    static func writeLengthDelimited(_ bytes: [UInt8], field: Int, into w: inout WireWriter) {
        w.writeTag(field: field, wireType: .lengthDelimited)
        w.writeVarint(UInt64(bytes.count))
        w.writeRawBytes(bytes)
    }
}

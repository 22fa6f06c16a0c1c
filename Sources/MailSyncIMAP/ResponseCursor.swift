/// A read position in one framed response, with the grammar's terminals (RFC 3501 section 9).
///
/// Every read is bounds-checked and throws `IMAPError` on malformed input; none traps.
struct ResponseCursor {
    let bytes: [UInt8]
    let limits: IMAPLimits
    var index = 0
    var depth = 0

    init(_ bytes: [UInt8], limits: IMAPLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// At CR, LF or the end of the bytes.
    var atLineEnd: Bool {
        guard let byte = peek else { return true }
        return byte == 0x0D || byte == 0x0A
    }

    func error(_ code: IMAPError.Code, _ what: String) -> IMAPError {
        var excerpt = ""
        if index < bytes.count {
            for byte in bytes[index..<min(index + 24, bytes.count)] {
                switch byte {
                case 0x0D: excerpt += "\\r"
                case 0x0A: excerpt += "\\n"
                case 0x20..<0x7F: excerpt.append(Character(Unicode.Scalar(byte)))
                default: excerpt += "\\x" + String(byte, radix: 16)
                }
            }
        }
        return IMAPError(code, "\(what) at byte \(index)" + (excerpt.isEmpty ? " (end of response)" : " near \"\(excerpt)\""))
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(IMAPError) {
        guard let next = peek, !(atLineEnd && byte != 0x0D && byte != 0x0A) else { throw error(.unexpectedEnd, "expected \(what)") }
        guard next == byte else { throw error(.unexpectedByte, "expected \(what)") }
        index += 1
    }

    /// Consumes `byte` if it is next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func space() throws(IMAPError) {
        try expect(UInt8(ascii: " "), "a space")
        while skip(UInt8(ascii: " ")) {}
    }

    mutating func skipSpaces() {
        while skip(UInt8(ascii: " ")) {}
    }

    /// The line ending, then the end of the response: anything after is an error.
    mutating func finish() throws(IMAPError) {
        skipSpaces()
        _ = skip(0x0D)
        if peek == nil { return }
        try expect(0x0A, "the end of the line")
        guard peek == nil else { throw error(.unexpectedByte, "unexpected bytes after the end of the response") }
    }

    /// Bytes up to the line ending (not included), verbatim.
    mutating func restOfLine() -> ArraySlice<UInt8> {
        let start = index
        while !atLineEnd { index += 1 }
        return bytes[start..<index]
    }

    // MARK: Atoms and numbers

    /// An atom; with `allowBrackets`, an astring's atom form (which may hold `]`) or a
    /// response-code name (which stops at `]`).
    mutating func atom(_ what: String, stopAtBracket: Bool = true) throws(IMAPError) -> String {
        let start = index
        while let byte = peek, Self.isAtomByte(byte, stopAtBracket: stopAtBracket) { index += 1 }
        guard index > start else {
            throw error(peek == nil ? .unexpectedEnd : .unexpectedByte, "expected \(what)")
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    static func isAtomByte(_ byte: UInt8, stopAtBracket: Bool) -> Bool {
        switch byte {
        case 0...0x20, 0x7F, UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "\""): false
        case UInt8(ascii: "["), UInt8(ascii: "]"): !stopAtBracket
        default: true
        }
    }

    mutating func number32(_ what: String) throws(IMAPError) -> UInt32 {
        let value = try number64(what)
        guard let narrow = UInt32(exactly: value) else { throw error(.invalidNumber, "\(what) \(value) exceeds 32 bits") }
        return narrow
    }

    mutating func number64(_ what: String) throws(IMAPError) -> UInt64 {
        let start = index
        var value: UInt64 = 0
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw error(.invalidNumber, "\(what) overflows") }
            value = sum
            index += 1
        }
        guard index > start else { throw error(.invalidNumber, "expected \(what)") }
        return value
    }

    var atDigit: Bool {
        guard let byte = peek else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Consumes `word` (ASCII, compared case-insensitively) if it comes next as a whole atom.
    mutating func skipKeyword(_ word: String) -> Bool {
        var end = index
        for expected in word.utf8 {
            guard end < bytes.count, bytes[end] | 0x20 == expected | 0x20 else { return false }
            end += 1
        }
        if end < bytes.count, Self.isAtomByte(bytes[end], stopAtBracket: true) { return false }
        index = end
        return true
    }

    // MARK: Strings

    /// A quoted string (`\"` and `\\` escapes) or a literal (`{n}`, `{n+}`, `~{n}`), raw bytes.
    mutating func string(_ what: String) throws(IMAPError) -> [UInt8] {
        switch peek {
        case UInt8(ascii: "\""): return try quoted()
        case UInt8(ascii: "{"), UInt8(ascii: "~"): return try literal()
        case nil: throw error(.unexpectedEnd, "expected \(what)")
        default: throw error(.unexpectedByte, "expected \(what) (a quoted string or literal)")
        }
    }

    /// NIL or a string.
    mutating func nstring(_ what: String) throws(IMAPError) -> [UInt8]? {
        if skipKeyword("NIL") { return nil }
        return try string(what)
    }

    /// An atom (brackets allowed) or a string.
    mutating func astring(_ what: String) throws(IMAPError) -> [UInt8] {
        switch peek {
        case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "~"): return try string(what)
        default: return Array(try atom(what, stopAtBracket: false).utf8)
        }
    }

    mutating func quoted() throws(IMAPError) -> [UInt8] {
        let start = index
        try expect(UInt8(ascii: "\""), "a quoted string")
        // Most quoted strings have no escapes: find the closing quote and copy once.
        var end = index
        while end < bytes.count, bytes[end] != 0x22, bytes[end] != 0x5C, bytes[end] != 0x0D, bytes[end] != 0x0A { end += 1 }
        if end < bytes.count, bytes[end] == 0x22 {
            defer { index = end + 1 }
            return Array(bytes[index..<end])
        }
        var output = Array(bytes[index..<end])
        index = end
        while true {
            guard let byte = peek, byte != 0x0D, byte != 0x0A else {
                index = start
                throw error(.unterminatedQuotedString, "quoted string without a closing quote")
            }
            index += 1
            if byte == UInt8(ascii: "\"") { return output }
            if byte == UInt8(ascii: "\\"), let escaped = peek, escaped != 0x0D, escaped != 0x0A {
                output.append(escaped)
                index += 1
            } else {
                output.append(byte)
            }
        }
    }

    mutating func literal() throws(IMAPError) -> [UInt8] {
        _ = skip(UInt8(ascii: "~"))
        try expect(UInt8(ascii: "{"), "a literal")
        let sizeStart = index
        let size = try number64("a literal size")
        guard size <= UInt64(limits.maxLiteralSize) else {
            index = sizeStart
            throw error(.literalTooLarge, "literal of \(size) bytes, the limit is \(limits.maxLiteralSize)")
        }
        _ = skip(UInt8(ascii: "+"))
        try expect(UInt8(ascii: "}"), "'}' closing a literal header")
        _ = skip(0x0D)
        guard skip(0x0A) else { throw error(.invalidLiteralHeader, "a literal header must end its line") }
        let end = index + Int(size)
        guard end <= bytes.count else { throw error(.unexpectedEnd, "literal of \(size) bytes is cut short") }
        defer { index = end }
        return Array(bytes[index..<end])
    }

    // MARK: Lists

    /// Parses `( item SP item … )`, calling `item` for each; enforces the nesting limit.
    mutating func list(_ what: String, item: (inout ResponseCursor) throws(IMAPError) -> Void) throws(IMAPError) {
        try expect(UInt8(ascii: "("), "'(' opening \(what)")
        depth += 1
        guard depth <= limits.maxNestingDepth else {
            throw error(.nestingTooDeep, "lists nested deeper than \(limits.maxNestingDepth)")
        }
        skipSpaces()
        while !skip(UInt8(ascii: ")")) {
            guard !atLineEnd else { throw error(.unexpectedEnd, "expected ')' closing \(what)") }
            try item(&self)
            skipSpaces()
        }
        depth -= 1
    }

    /// A flag list `(\Seen $Forwarded)`.
    mutating func flagList() throws(IMAPError) -> [String] {
        var flags: [String] = []
        try list("a flag list") { (cursor: inout ResponseCursor) throws(IMAPError) in
            flags.append(try cursor.atom("a flag"))
        }
        return flags
    }

    /// Any value: NIL, atom, number, string or nested list.
    mutating func value() throws(IMAPError) -> IMAPValue {
        switch peek {
        case UInt8(ascii: "("):
            var items: [IMAPValue] = []
            try list("a list") { (cursor: inout ResponseCursor) throws(IMAPError) in
                items.append(try cursor.value())
            }
            return .list(items)
        case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "~"):
            return .string(try string("a string"))
        default:
            if skipKeyword("NIL") { return .nil }
            return .atom(try atom("a value", stopAtBracket: false))
        }
    }
}

import Foundation

/// A small, strict XML reader for S3's answers (listings, errors, multipart replies): elements,
/// text, the five predefined entities and character references, CDATA, comments and processing
/// instructions. Attributes are checked for shape and skipped; namespace prefixes are dropped.
///
/// Not a general XML parser on purpose: a `<!DOCTYPE` (and with it every user-defined entity,
/// the "billion laughs") is refused, as are unclosed or mismatched tags, text outside the root,
/// unknown entities, more than ``maxDepth`` levels or ``maxElements`` elements. Whatever the
/// input, it returns a tree or throws ``Malformed``; it never traps. The caller bounds the input's
/// size (``S3Transfer``).
struct S3XML: Sendable, Equatable {
    var name: String
    /// The element's own text (its children's is in them), entities decoded.
    var text: String
    var children: [S3XML]

    struct Malformed: Error, Equatable, CustomStringConvertible {
        let description: String
    }

    static let maxDepth = 32
    static let maxElements = 200_000

    /// The first child named `name`.
    func child(_ name: String) -> S3XML? { children.first { $0.name == name } }
    /// Every child named `name`, in order.
    func children(_ name: String) -> [S3XML] { children.filter { $0.name == name } }

    static func parse(_ data: Data) throws(Malformed) -> S3XML {
        var reader = Reader(bytes: Array(data))
        return try reader.document()
    }
}

private struct Reader {
    let bytes: [UInt8]
    var index = 0
    var elements = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    mutating func document() throws(S3XML.Malformed) -> S3XML {
        var stack: [S3XML] = []
        var root: S3XML?
        while index < bytes.count {
            if bytes[index] != UInt8(ascii: "<") {
                let text = try readText()
                if stack.isEmpty {
                    guard text.allSatisfy(\.isWhitespace) else { throw fail("text outside the root element") }
                } else {
                    stack[stack.count - 1].text += text
                }
                continue
            }
            if starts("<?") {
                try skip(past: "?>")
            } else if starts("<!--") {
                try skip(past: "-->")
            } else if starts("<![CDATA[") {
                index += 9
                let start = index
                try skip(past: "]]>")
                guard !stack.isEmpty else { throw fail("CDATA outside the root element") }
                stack[stack.count - 1].text += String(decoding: bytes[start..<(index - 3)], as: UTF8.self)
            } else if starts("<!") {
                throw fail("declarations (<!DOCTYPE, <!ENTITY) are not accepted")
            } else if starts("</") {
                index += 2
                let name = try readName()
                skipSpace()
                try expect(UInt8(ascii: ">"))
                guard let open = stack.popLast(), open.name == name else { throw fail("mismatched end tag </\(name)>") }
                if stack.isEmpty { root = open; break } else { stack[stack.count - 1].children.append(open) }
            } else {
                guard root == nil else { throw fail("a second root element") }
                index += 1
                let name = try readName()
                let selfClosing = try skipAttributes()
                elements += 1
                guard elements <= S3XML.maxElements else { throw fail("more than \(S3XML.maxElements) elements") }
                let element = S3XML(name: name, text: "", children: [])
                if selfClosing {
                    if stack.isEmpty { root = element; break } else { stack[stack.count - 1].children.append(element) }
                } else {
                    guard stack.count < S3XML.maxDepth else { throw fail("nested deeper than \(S3XML.maxDepth)") }
                    stack.append(element)
                }
            }
        }
        guard let root, stack.isEmpty else { throw fail(stack.isEmpty ? "no root element" : "unclosed <\(stack[stack.count - 1].name)>") }
        // After the root: only space, comments and processing instructions.
        while index < bytes.count {
            if isSpace(bytes[index]) {
                index += 1
            } else if starts("<?") {
                try skip(past: "?>")
            } else if starts("<!--") {
                try skip(past: "-->")
            } else {
                throw fail("content after the root element")
            }
        }
        return root
    }

    private func starts(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        return literal.withUTF8Buffer { bytes[index..<(index + count)].elementsEqual($0) }
    }

    private mutating func skip(past literal: StaticString) throws(S3XML.Malformed) {
        while index < bytes.count {
            if starts(literal) {
                index += literal.utf8CodeUnitCount
                return
            }
            index += 1
        }
        throw fail("unterminated \(literal)")
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private mutating func skipSpace() {
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(S3XML.Malformed) {
        guard index < bytes.count, bytes[index] == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    /// A tag or attribute name, namespace prefix dropped.
    private mutating func readName() throws(S3XML.Malformed) -> String {
        let start = index
        while index < bytes.count, !isSpace(bytes[index]), !"/>=<\"'".utf8.contains(bytes[index]) { index += 1 }
        guard index > start, index - start <= 256 else { throw fail("a missing or overlong name") }
        let name = String(decoding: bytes[start..<index], as: UTF8.self)
        return name.split(separator: ":").last.map(String.init) ?? name
    }

    /// Skips `name="value"` pairs up to `>` or `/>`; returns whether the tag closed itself.
    private mutating func skipAttributes() throws(S3XML.Malformed) -> Bool {
        while true {
            skipSpace()
            guard index < bytes.count else { throw fail("unterminated tag") }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                return false
            }
            if starts("/>") {
                index += 2
                return true
            }
            _ = try readName()
            skipSpace()
            try expect(UInt8(ascii: "="))
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw fail("an unquoted attribute value")
            }
            let quote = bytes[index]
            index += 1
            while index < bytes.count, bytes[index] != quote {
                guard bytes[index] != UInt8(ascii: "<") else { throw fail("'<' in an attribute value") }
                index += 1
            }
            try expect(quote)
        }
    }

    /// Text up to the next `<`, entities decoded.
    private mutating func readText() throws(S3XML.Malformed) -> String {
        var out: [UInt8] = []
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") {
            if bytes[index] == UInt8(ascii: "&") {
                try out.append(contentsOf: readEntity())
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func readEntity() throws(S3XML.Malformed) -> [UInt8] {
        guard let end = bytes[index..<min(bytes.count, index + 12)].firstIndex(of: UInt8(ascii: ";")) else {
            throw fail("an unterminated entity")
        }
        let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
        index = end + 1
        switch name {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            var digits = Substring(name)
            guard digits.first == "#" else { throw fail("unknown entity &\(name);") }
            digits = digits.dropFirst()
            let radix = digits.first == "x" || digits.first == "X" ? 16 : 10
            if radix == 16 { digits = digits.dropFirst() }
            guard !digits.isEmpty, let value = UInt32(digits, radix: radix), let scalar = Unicode.Scalar(value), value != 0 else {
                throw fail("a bad character reference &\(name);")
            }
            return Array(String(Character(scalar)).utf8)
        }
    }

    private func fail(_ why: String) -> S3XML.Malformed {
        S3XML.Malformed(description: "\(why) at byte \(index)")
    }
}

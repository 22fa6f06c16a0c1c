import Foundation

/// The readable text of a raw RFC 5322 message, for the lead's timeline.
///
/// Walks the MIME tree (at most 16 levels, 200 parts) and takes the first `text/plain` part that
/// is not an attachment; failing that, the first `text/html` with its tags removed. Decodes
/// `quoted-printable` and `base64` transfer encodings and the common charsets (UTF-8,
/// US-ASCII, ISO-8859-1/2, Windows-1250…1254, Shift_JIS, EUC-JP, ISO-2022-JP; unknown ones are read as UTF-8 with invalid bytes
/// replaced). Never fails: a message it cannot make sense of yields its body as UTF-8.
public enum MailBodyText {
    public static func extract(_ raw: [UInt8]) -> String {
        var budget = 200
        let (headers, body) = split(raw[...])
        return text(headers: headers, body: body, depth: 0, budget: &budget)?.text
            ?? String(decoding: body, as: UTF8.self)
    }

    private struct Found {
        var text: String
        var isHTML: Bool
    }

    private static func text(headers: [String: String], body: ArraySlice<UInt8>, depth: Int, budget: inout Int) -> Found? {
        budget -= 1
        guard budget >= 0, depth < 16 else { return nil }
        let contentType = ContentType(headers["content-type"] ?? "text/plain")
        let disposition = (headers["content-disposition"] ?? "").lowercased()
        if contentType.type.hasPrefix("multipart/"), let boundary = contentType.parameters["boundary"], !boundary.isEmpty {
            var html: Found?
            for part in parts(body, boundary: boundary) {
                let (partHeaders, partBody) = split(part)
                guard let found = text(headers: partHeaders, body: partBody, depth: depth + 1, budget: &budget) else { continue }
                if !found.isHTML { return found }
                if html == nil { html = found }
            }
            return html
        }
        guard !disposition.hasPrefix("attachment") else { return nil }
        guard contentType.type == "text/plain" || contentType.type == "text/html" else { return nil }
        let decoded = decodeTransfer(body, encoding: (headers["content-transfer-encoding"] ?? "").lowercased())
        let string = decodeCharset(decoded, charset: contentType.parameters["charset"])
        if contentType.type == "text/html" { return Found(text: stripTags(string), isHTML: true) }
        return Found(text: string, isHTML: false)
    }

    /// Header fields (unfolded, names lower-cased, the first of repeats kept) and the body.
    ///
    /// Works on the bytes: a field's name is lower-cased as ASCII, space and tab around names and
    /// values are trimmed, and a folded line joins the field before it with one space. Only the
    /// values become strings (invalid UTF-8 replaced).
    static func split(_ message: ArraySlice<UInt8>) -> (headers: [String: String], body: ArraySlice<UInt8>) {
        var fields: [(name: [UInt8], value: [UInt8])] = []
        var index = message.startIndex
        while index < message.endIndex {
            var end = index
            while end < message.endIndex, message[end] != 0x0A { end += 1 }
            var line = message[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = end < message.endIndex ? end + 1 : end
            if line.isEmpty { break }
            if let first = line.first, first == 0x20 || first == 0x09 {
                guard !fields.isEmpty else { continue }
                fields[fields.count - 1].value.append(0x20)
                fields[fields.count - 1].value.append(contentsOf: trimmedBlanks(line))
            } else if let colon = line.firstIndex(of: 0x3A) {
                fields.append((trimmedBlanks(line[..<colon]).map(asciiLowercased), Array(trimmedBlanks(line[(colon + 1)...]))))
            } else {
                fields.append(([], []))  // not a field; a folded line after it is dropped with it
            }
        }
        var headers: [String: String] = [:]
        for field in fields where !field.name.isEmpty {
            let name = String(decoding: field.name, as: UTF8.self)
            if headers[name] == nil { headers[name] = String(decoding: trimmedBlanks(field.value[...]), as: UTF8.self) }
        }
        return (headers, message[index...])
    }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmedBlanks(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }

    /// The parts between `--boundary` lines (the preamble and epilogue dropped).
    static func parts(_ body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            var end = lineStart
            while end < body.endIndex, body[end] != 0x0A { end += 1 }
            let line = body[lineStart..<end]
            if line.starts(with: delimiter) {
                if let start = partStart {
                    var partEnd = lineStart
                    // The CRLF before a delimiter belongs to the delimiter.
                    if partEnd > start, body[partEnd - 1] == 0x0A { partEnd -= 1 }
                    if partEnd > start, body[partEnd - 1] == 0x0D { partEnd -= 1 }
                    parts.append(body[start..<partEnd])
                }
                let rest = line.dropFirst(delimiter.count)
                if rest.starts(with: [0x2D, 0x2D]) { return parts }
                partStart = end < body.endIndex ? end + 1 : end
            }
            lineStart = end < body.endIndex ? end + 1 : end
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return parts
    }

    static func decodeTransfer(_ body: ArraySlice<UInt8>, encoding: String) -> [UInt8] {
        switch encoding {
        case "base64":
            let compact = body.filter { !($0 == 0x0D || $0 == 0x0A || $0 == 0x20 || $0 == 0x09) }
            return Data(base64Encoded: Data(compact), options: .ignoreUnknownCharacters).map(Array.init) ?? Array(body)
        case "quoted-printable":
            return quotedPrintable(body)
        default:
            return Array(body)
        }
    }

    static func quotedPrintable(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var index = body.startIndex
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        while index < body.endIndex {
            let byte = body[index]
            if byte == 0x3D {
                let next = body.index(after: index)
                if next < body.endIndex, body[next] == 0x0A { index = body.index(after: next); continue }
                if next < body.endIndex, body[next] == 0x0D {
                    let after = body.index(after: next)
                    index = after < body.endIndex && body[after] == 0x0A ? body.index(after: after) : after
                    continue
                }
                if body.distance(from: index, to: body.endIndex) >= 3, let high = hex(body[next]), let low = hex(body[body.index(after: next)]) {
                    out.append(high << 4 | low)
                    index = body.index(index, offsetBy: 3)
                    continue
                }
            }
            out.append(byte)
            index = body.index(after: index)
        }
        return out
    }

    static func decodeCharset(_ bytes: [UInt8], charset: String?) -> String {
        let name = (charset ?? "utf-8").lowercased()
        if name == "utf-8" || name == "utf8" || name == "us-ascii" { return String(decoding: bytes, as: UTF8.self) }
        let encodings: [String: String.Encoding] = [
            "iso-8859-1": .isoLatin1, "latin1": .isoLatin1, "iso-8859-2": .isoLatin2, "windows-1250": .windowsCP1250,
            "windows-1251": .windowsCP1251, "windows-1252": .windowsCP1252, "windows-1253": .windowsCP1253,
            "windows-1254": .windowsCP1254, "utf-16": .utf16, "shift_jis": .shiftJIS, "euc-jp": .japaneseEUC,
            "iso-2022-jp": .iso2022JP,
        ]
        if let encoding = encodings[name], let text = String(bytes: bytes, encoding: encoding) { return text }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// HTML to text: tags dropped, `<br>` and block ends as newlines, a few entities decoded.
    static func stripTags(_ html: String) -> String {
        var out = ""
        var inTag = false
        var tag = ""
        for character in html {
            if inTag {
                if character == ">" {
                    inTag = false
                    let name = tag.lowercased()
                    if name.hasPrefix("br") || name.hasPrefix("/p") || name.hasPrefix("/div") || name.hasPrefix("/tr") { out.append("\n") }
                } else {
                    tag.append(character)
                }
            } else if character == "<" {
                inTag = true
                tag = ""
            } else {
                out.append(character)
            }
        }
        for (entity, value) in [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: value)
        }
        return out
    }
}

/// A parsed Content-Type: the lower-cased type and its parameters (names lower-cased, quotes removed).
struct ContentType {
    var type: String
    var parameters: [String: String] = [:]

    init(_ value: String) {
        let pieces = value.utf8.split(separator: 0x3B, omittingEmptySubsequences: true)
        type = pieces.first.map(Self.lowercasedText) ?? "text/plain"
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: 0x3D) else { continue }
            let name = Self.lowercasedText(piece[..<equals])
            var parameter = MailBodyText.trimmedBlanks(ArraySlice(piece[piece.index(after: equals)...]))
            if parameter.count >= 2, parameter.first == 0x22, parameter.last == 0x22 { parameter = parameter.dropFirst().dropLast() }
            parameters[name] = String(decoding: parameter, as: UTF8.self)
        }
    }

    private static func lowercasedText(_ bytes: Substring.UTF8View) -> String {
        String(decoding: MailBodyText.trimmedBlanks(ArraySlice(bytes)).map(MailBodyText.asciiLowercased), as: UTF8.self)
    }
}

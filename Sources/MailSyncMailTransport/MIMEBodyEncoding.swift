import Foundation

/// How a text body goes on the wire: 7-bit lines ending in CRLF, whatever the text holds.
///
/// - ``quotedPrintable`` (RFC 2045 §6.7): readable for mostly-ASCII text; lines of at most 76
///   characters (soft breaks `=` CRLF), `=` and every byte outside printable ASCII as `=XX`,
///   a space or tab before a line end as `=20` / `=09`.
/// - ``base64`` (RFC 2045 §6.8): smaller for text that is mostly non-ASCII (Chinese, Japanese,
///   Greek, …); lines of 76 characters.
///
/// Line ends in the text (CRLF, LF or a lone CR) become CRLF first, and the body always ends
/// with a line end. ``choose(for:)`` picks base64 when more than a third of the bytes are not ASCII.
public enum MIMEBodyEncoding: String, Sendable, Hashable {
    case quotedPrintable = "quoted-printable"
    case base64 = "base64"

    /// The header value (`Content-Transfer-Encoding: …`).
    public var headerValue: String { rawValue }

    public static func choose(for text: String) -> MIMEBodyEncoding {
        let bytes = text.utf8
        let nonASCII = bytes.lazy.filter { $0 >= 0x80 }.count
        return nonASCII * 3 > bytes.count ? .base64 : .quotedPrintable
    }

    /// The encoded body, CRLF line ends, ending in CRLF.
    public func encode(_ text: String) -> [UInt8] {
        let canonical = Self.canonicalLineEnds(Array(text.utf8))
        switch self {
        case .quotedPrintable: return Self.quotedPrintable(canonical)
        case .base64: return Self.base64(canonical)
        }
    }

    /// CRLF for every line end (CRLF, LF, lone CR), and one at the end if missing.
    static func canonicalLineEnds(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 32 + 2)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D {
                output += [0x0D, 0x0A]
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
            } else if byte == 0x0A {
                output += [0x0D, 0x0A]
            } else {
                output.append(byte)
            }
            index += 1
        }
        if !output.isEmpty, output.suffix(2) != [0x0D, 0x0A] { output += [0x0D, 0x0A] }
        return output
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    /// Quoted-printable of text whose line ends are already CRLF.
    static func quotedPrintable(_ canonical: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(canonical.count + canonical.count / 8)
        var start = 0
        while start < canonical.count {
            var end = start
            while end + 1 < canonical.count, !(canonical[end] == 0x0D && canonical[end + 1] == 0x0A) { end += 1 }
            let lineEnd = end + 1 < canonical.count ? end : canonical.count
            var column = 0
            for index in start..<lineEnd {
                let byte = canonical[index]
                let last = index == lineEnd - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 0x20 || byte == 0x09) && !last)
                let piece: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                // Room for the piece and, unless the line ends right after it, a soft break's `=`.
                let room = last ? 76 : 75
                if column + piece.count > room {
                    output += [UInt8(ascii: "="), 0x0D, 0x0A]
                    column = 0
                }
                output += piece
                column += piece.count
            }
            output += [0x0D, 0x0A]
            start = lineEnd + 2
        }
        return output
    }

    /// Base64 in lines of 76 characters, each ending in CRLF.
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count + encoded.count / 38 + 2)
        var index = 0
        while index < encoded.count {
            let end = min(encoded.count, index + 76)
            output += encoded[index..<end]
            output += [0x0D, 0x0A]
            index = end
        }
        return output
    }
}

import Foundation

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?ISO-8859-1?Q?…?=`) in header text.
///
/// - Whitespace between two adjacent encoded words is dropped (RFC 2047 6.2); adjacent words in
///   the same charset are joined before decoding, so a character split across them survives.
/// - Charsets: UTF-8, US-ASCII and ISO-8859-1 always; others through Foundation's
///   `String(data:encoding:)` where it knows them on this platform (Windows-1250…1254,
///   ISO-8859-2, ISO-2022-JP, Shift_JIS, EUC-JP). A word in an unknown charset, or one that does
///   not decode (bad base64, bytes invalid in its charset), is left exactly as it was.
/// - Invalid UTF-8 inside a UTF-8 word is replaced by U+FFFD. RFC 2231 language suffixes
///   (`UTF-8*en`) are ignored. The 75-character limit on a word is not enforced, as mailers break it.
public enum RFC2047 {
    public static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, zip(bytes, bytes.dropFirst()).contains(where: { $0 == 0x3D && $1 == 0x3F }) else { return text }
        var output = ""
        var plainStart = 0
        var index = 0
        // Bytes of the previous encoded word(s) not yet decoded, and the whitespace after them.
        var pendingCharset: String?
        var pendingBytes: [UInt8] = []
        var pendingRaw = ""
        var whitespaceStart: Int?
        var closing = ClosingSearch()

        func flushPending() {
            guard let charset = pendingCharset else { return }
            output += decodeCharset(pendingBytes, charset: charset) ?? pendingRaw
            pendingCharset = nil
            pendingBytes = []
            pendingRaw = ""
        }

        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), let word = EncodedWord(bytes, at: index, closing: &closing) {
                let onlySpaceBetween = pendingCharset != nil && whitespaceStart == plainStart
                if !onlySpaceBetween {
                    flushPending()
                    output += String(decoding: bytes[plainStart..<index], as: UTF8.self)
                }
                if pendingCharset != nil, pendingCharset != word.charset { flushPending() }
                pendingCharset = word.charset
                pendingBytes += word.payload
                pendingRaw += String(decoding: bytes[index..<word.end], as: UTF8.self)
                index = word.end
                plainStart = index
                whitespaceStart = index
                continue
            }
            if whitespaceStart != nil, bytes[index] != UInt8(ascii: " "), bytes[index] != UInt8(ascii: "\t"),
               bytes[index] != 0x0D, bytes[index] != 0x0A {
                whitespaceStart = nil
            }
            index += 1
        }
        flushPending()
        output += String(decoding: bytes[plainStart...], as: UTF8.self)
        return output
    }

    /// Where the last search for an encoded word's closing `?=` stopped, and whether it found one.
    ///
    /// A later word's text starts after the earlier one's, so when it starts at or before `stop`
    /// its search would stop at the same place: the answer is reused. Without this, text with many
    /// `=?c?q?x` openings and no closing made each opening scan to the end: quadratic, 26 s for a
    /// 64 KiB subject in a fuzz build.
    private struct ClosingSearch {
        var stop = -1
        var found = false
    }

    private struct EncodedWord {
        var charset: String
        var payload: [UInt8]
        var end: Int

        /// Parses `=?charset?B|Q?text?=` at `start`; `nil` if malformed or the charset is unknown.
        /// The charset and encoding are checked before the text is decoded, and the search for the
        /// closing `?=` is shared through `closing`, so a run of failed openings costs linear time.
        init?(_ bytes: [UInt8], at start: Int, closing: inout ClosingSearch) {
            guard start + 1 < bytes.count, bytes[start + 1] == UInt8(ascii: "?") else { return nil }
            var index = start + 2
            let charsetStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
                if bytes[index] <= 0x20 || bytes[index] >= 0x7F { return nil }
                index += 1
            }
            guard index + 2 < bytes.count, index > charsetStart, bytes[index + 2] == UInt8(ascii: "?") else { return nil }
            var charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self).lowercased()
            if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
            let encoding = bytes[index + 1] | 0x20
            guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q"), RFC2047.isKnown(charset) else { return nil }
            let textStart = index + 3
            if textStart > closing.stop {
                index = textStart
                while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "?") && bytes[index + 1] == UInt8(ascii: "=")) {
                    if bytes[index] <= 0x20 || bytes[index] >= 0x7F { break }
                    index += 1
                }
                closing = ClosingSearch(
                    stop: index, found: index + 1 < bytes.count && bytes[index] == UInt8(ascii: "?") && bytes[index + 1] == UInt8(ascii: "="))
            }
            guard closing.found else { return nil }
            let encoded = bytes[textStart..<closing.stop]
            if encoding == UInt8(ascii: "b") {
                guard let decoded = RFC2047.base64(encoded) else { return nil }
                payload = decoded
            } else {
                payload = RFC2047.quotedPrintable(encoded)
            }
            self.charset = charset
            self.end = closing.stop + 2
        }
    }

    static func isKnown(_ charset: String) -> Bool {
        nativeCharsets.contains(charset) || foundationEncodings[charset] != nil
    }

    private static let nativeCharsets: Set<String> = ["utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "iso_8859-1"]

    private static let foundationEncodings: [String: String.Encoding] = [
        "windows-1252": .windowsCP1252, "cp1252": .windowsCP1252,
        "windows-1250": .windowsCP1250, "windows-1251": .windowsCP1251,
        "windows-1253": .windowsCP1253, "windows-1254": .windowsCP1254,
        "iso-8859-2": .isoLatin2, "iso-2022-jp": .iso2022JP,
        "shift_jis": .shiftJIS, "euc-jp": .japaneseEUC,
    ]

    private static func decodeCharset(_ bytes: [UInt8], charset: String) -> String? {
        switch charset {
        case "utf-8", "utf8", "us-ascii", "ascii":
            return String(decoding: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "iso_8859-1":
            var scalars = String.UnicodeScalarView()
            for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
            return String(scalars)
        default:
            guard let encoding = foundationEncodings[charset] else { return nil }
            return String(data: Data(bytes), encoding: encoding)
        }
    }

    static func quotedPrintable(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "_") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "="), index + 2 < text.endIndex,
                      let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) {
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    /// Standard base64; padding optional; `nil` on any other byte.
    static func base64(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        var bits: UInt32 = 0
        var bitCount = 0
        for byte in text {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            bits = (bits << 6 | UInt32(value)) & 0xFFFFFF
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: bits >> UInt32(bitCount)))
            }
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

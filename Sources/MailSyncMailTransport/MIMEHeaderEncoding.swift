import Foundation

/// Header fields as they go on the wire: US-ASCII only, folded at 78 characters where possible
/// (never beyond 998), with RFC 2047 encoded words (`=?UTF-8?B?…?=`) for anything else.
///
/// Header injection is impossible by construction: every text is ``sanitized(_:)`` first (CR, LF
/// and other control characters become spaces), encoded words carry base64 only, and the only
/// line breaks in the output are the folds this type makes (CRLF followed by a space).
enum MIMEHeaderEncoding {
    /// Folded lines stay within this many characters when the words allow it (RFC 5322 §2.1.1).
    static let foldWidth = 78
    /// An encoded word's own limit (RFC 2047 §2).
    static let maxEncodedWord = 75
    /// A plain word longer than this is sent as encoded words, which fold, so no line nears 998.
    static let maxPlainWord = 200

    /// `text` on one line: control characters (CR, LF, TAB, NUL, …) become spaces; leading and
    /// trailing spaces go.
    static func sanitized(_ text: String) -> String {
        let scalars = text.unicodeScalars.map { scalar -> Unicode.Scalar in
            scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" ? " " : scalar
        }
        var result = String(String.UnicodeScalarView(scalars))
        while result.first == " " { result.removeFirst() }
        while result.last == " " { result.removeLast() }
        return result
    }

    /// `Name: value` for unstructured text (Subject), folded, ending in CRLF.
    static func unstructured(_ name: String, _ value: String) -> String {
        let text = sanitized(value)
        if needsEncoding(text) {
            return fold(name, tokens: encodedWords(text, firstLineUsed: name.count + 2))
        }
        return fold(name, tokens: plainTokens(text))
    }

    /// `Name: a, "B" <b@x>, =?UTF-8?B?…?= <c@y>` for an address list, folded, ending in CRLF.
    /// The addresses must already be valid (``MailAddressSyntax``).
    static func addressList(_ name: String, _ addresses: [MIMEMessage.Address]) -> String {
        var tokens: [String] = []
        for (index, address) in addresses.enumerated() {
            var words = phrase(address.name, firstLineUsed: tokens.isEmpty ? name.count + 2 : 1)
            words.append(words.isEmpty ? address.address : "<\(address.address)>")
            if index < addresses.count - 1 { words[words.count - 1] += "," }
            tokens += words
        }
        return fold(name, tokens: tokens)
    }

    /// A display name as header words: atoms as they are, other ASCII as one quoted string,
    /// anything else (or anything long) as encoded words. Empty for an empty name.
    static func phrase(_ name: String, firstLineUsed: Int) -> [String] {
        let text = sanitized(name)
        guard !text.isEmpty else { return [] }
        if needsEncoding(text) || text.count > maxPlainWord { return encodedWords(text, firstLineUsed: firstLineUsed) }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
        if text.allSatisfy({ atext.contains($0) }) {
            return text.split(separator: " ").map(String.init)
        }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return ["\"\(escaped)\""]
    }

    /// Whether plain ASCII cannot carry `text`: a non-ASCII or non-printable character, a `=?`
    /// that a reader would take for an encoded word, or a word too long to fold.
    static func needsEncoding(_ text: String) -> Bool {
        if text.unicodeScalars.contains(where: { !($0.value >= 0x20 && $0.value < 0x7F) }) { return true }
        if text.contains("=?") { return true }
        return text.split(separator: " ").contains { $0.count > maxPlainWord }
    }

    /// Plain text split before each run of spaces, so a fold (CRLF) can go in front of a token
    /// and unfolding gives the text back exactly.
    static func plainTokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inWord = false
        for character in text {
            if character == " " {
                if inWord { tokens.append(current); current = ""; inWord = false }
                current.append(character)
            } else {
                current.append(character)
                inWord = true
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// UTF-8 base64 encoded words, each at most ``maxEncodedWord`` characters, split between
    /// characters (grapheme clusters; a cluster too big for one word between its scalars), the
    /// first one short enough to follow `firstLineUsed` characters within ``foldWidth``.
    static func encodedWords(_ text: String, firstLineUsed: Int) -> [String] {
        let overhead = "=?UTF-8?B??=".count
        func capacity(lineUsed: Int) -> Int {
            let room = min(maxEncodedWord, foldWidth - lineUsed) - overhead
            return max(3, room / 4 * 3)
        }
        var words: [String] = []
        var chunk: [UInt8] = []
        var limit = capacity(lineUsed: firstLineUsed)
        func flush() {
            guard !chunk.isEmpty else { return }
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk.removeAll()
            limit = capacity(lineUsed: 1)
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count <= limit {
                chunk += bytes
                continue
            }
            flush()
            if bytes.count <= limit {
                chunk = bytes
                continue
            }
            for scalar in character.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                if chunk.count + scalarBytes.count > limit { flush() }
                chunk += scalarBytes
            }
        }
        flush()
        return words
    }

    /// `Name: ` then the tokens, a fold (CRLF) before a token that would pass ``foldWidth``.
    /// A token that starts with spaces carries its own folding whitespace; others get one space.
    static func fold(_ name: String, tokens: [String]) -> String {
        var output = ""
        var line = name + ":"
        var first = true
        for token in tokens {
            let piece: String
            if first {
                piece = " " + token
            } else {
                piece = token.first == " " ? token : " " + token
            }
            if !first, line.count + piece.count > foldWidth {
                output += line + "\r\n"
                line = piece
            } else {
                line += piece
            }
            first = false
        }
        return output + line + "\r\n"
    }
}

/// Which email addresses outgoing mail accepts: `local@domain` in plain ASCII, so they go into
/// `MAIL FROM:<…>`, `RCPT TO:<…>` and the From/To/Cc headers as they are.
///
/// The local part is a dot-atom (RFC 5322 `atext` and single dots, 1–64 characters; quoted local
/// parts are refused); the domain is letters, digits and hyphens in dot-separated labels of 1–63
/// characters with at least one dot (IP literals are refused). At most 254 characters in all.
/// Non-ASCII addresses would need SMTPUTF8, which we do not speak yet: refused. Nothing that
/// passes can carry CR, LF, spaces, `<`, `>` or `,`, so it cannot inject a command or a header.
enum MailAddressSyntax {
    static func isValid(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard (3...254).contains(bytes.count), let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        return isDotAtom(local, maxLength: 64) && isDomain(domain)
    }

    private static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    private static func isDotAtom(_ bytes: ArraySlice<UInt8>, maxLength: Int) -> Bool {
        guard (1...maxLength).contains(bytes.count), bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else {
            return false
        }
        var previousDot = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
                continue
            }
            previousDot = false
            guard isAlphanumeric(byte) || atextSymbols.contains(byte) else { return false }
        }
        return true
    }

    private static func isDomain(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard (1...253).contains(bytes.count) else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

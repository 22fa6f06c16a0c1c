/// The text of a `* STATUS` response (`"Sent" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 17)`), which
/// the parser keeps as `.other(keyword: "STATUS", text:)`.
struct StatusData: Hashable {
    /// The mailbox name's bytes (quoted string unescaped, literal or atom as sent).
    var mailbox: [UInt8]
    /// Item names upper-cased, with their numbers.
    var items: [String: UInt64]

    /// `nil` when `text` is not `mailbox SP "(" [item SP number *(SP item SP number)] ")"`.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        // The mailbox: quoted, literal ({n}CRLF then n bytes) or atom.
        if bytes.first == UInt8(ascii: "\"") {
            var name: [UInt8] = []
            index = 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                guard index < bytes.count else { return nil }
                name.append(bytes[index])
                index += 1
            }
            guard index < bytes.count else { return nil }
            index += 1
            mailbox = name
        } else if bytes.first == UInt8(ascii: "{") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "}")),
                let count = Int(String(decoding: bytes[1..<close], as: UTF8.self).trimmingSuffix("+")),
                close + 3 + count <= bytes.count, bytes[close + 1] == 13, bytes[close + 2] == 10
            else { return nil }
            index = close + 3 + count
            mailbox = Array(bytes[(close + 3)..<index])
        } else {
            index = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.count
            mailbox = Array(bytes[..<index])
        }
        // The item list.
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "("), bytes.last == UInt8(ascii: ")") else { return nil }
        let words = String(decoding: bytes[(index + 1)..<(bytes.count - 1)], as: UTF8.self).split(separator: " ")
        guard words.count % 2 == 0 else { return nil }
        var items: [String: UInt64] = [:]
        for pair in stride(from: 0, to: words.count, by: 2) {
            guard let value = UInt64(words[pair + 1]) else { return nil }
            items[words[pair].uppercased()] = value
        }
        self.items = items
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

/// Search keys for mail from or to given addresses: what retro-match asks the server
/// (`UID SEARCH … OR FROM "a" …`) instead of reading every message again.
///
/// A lead's address is caller data, so it only goes on a command line as a quoted string of
/// printable ASCII without `"` or `\` (``isSearchable(_:)``); anything else (CR, LF, NUL, other
/// controls, quotes, backslashes, spaces, non-ASCII) is refused here, never sent. IMAP address
/// search keys match substrings of the header (`FROM "ann@x.example"` also finds
/// `joann@x.example`): the answer only narrows what is fetched, and the lead lookup decides.
public enum IMAPAddressSearch {
    /// The longest search key text ``criteria(_:maxLength:)`` builds by default: 7,000 bytes, so
    /// the whole command stays under the 8,192 bytes RFC 7162 asks servers to accept.
    public static let defaultMaxLength = 7_000

    /// Whether `address` can be searched: 1 to 254 bytes of printable ASCII (0x21–0x7E) without
    /// `"` or `\`.
    public static func isSearchable(_ address: String) -> Bool {
        let bytes = address.utf8
        return !bytes.isEmpty && bytes.count <= 254 && bytes.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != 0x22 && $0 != 0x5C }
    }

    /// The keys for one address: `OR OR FROM "a" TO "a" OR CC "a" BCC "a"`, or nil when
    /// ``isSearchable(_:)`` refuses it.
    public static func key(_ address: String) -> String? {
        guard isSearchable(address) else { return nil }
        let quoted = "\"" + address + "\""
        return "OR OR FROM \(quoted) TO \(quoted) OR CC \(quoted) BCC \(quoted)"
    }

    /// Keys matching mail from or to any of `addresses`: `OR k1 OR k2 … kn` (n − 1 leading ORs).
    /// Returns the keys and how many addresses they hold, taken in order while the text stays
    /// within `maxLength` bytes (at least one address when the first is searchable); nil when no
    /// address is given or the first is refused. Callers pass searchable addresses only.
    public static func criteria(_ addresses: [String], maxLength: Int = defaultMaxLength) -> (text: String, count: Int)? {
        var keys: [String] = []
        var length = 0
        for address in addresses {
            guard let key = key(address) else { break }
            let added = key.utf8.count + (keys.isEmpty ? 0 : 4)  // "OR " and a space
            if !keys.isEmpty, length + added > maxLength { break }
            keys.append(key)
            length += added
        }
        guard !keys.isEmpty else { return nil }
        return (String(repeating: "OR ", count: keys.count - 1) + keys.joined(separator: " "), keys.count)
    }
}

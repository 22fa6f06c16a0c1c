/// Address normalization shared by leads, users and synced mail, so the same person compares equal.
public enum EmailAddress {
    /// `local@domain`, trimmed and lower-cased, or nil when it is not an address: empty local part
    /// or domain, no `@` or more than one outside quotes is not checked (IMAP splits mailbox and host
    /// for us), whitespace or control characters inside, or longer than 320 bytes.
    ///
    /// Lower-casing the local part is not RFC 5321's rule but every large provider's behaviour,
    /// and a CRM user types a lead's address in whatever case they received it.
    public static func normalize(_ address: String) -> String? {
        let trimmed = address.trimmingWhitespace()
        guard trimmed.utf8.count <= 320, let at = trimmed.lastIndex(of: "@") else { return nil }
        let local = trimmed[..<at]
        let domain = trimmed[trimmed.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
            return nil
        }
        return trimmed.lowercased()
    }

    /// The part after the last `@`, lower-cased.
    public static func domain(of normalized: String) -> Substring {
        guard let at = normalized.lastIndex(of: "@") else { return "" }
        return normalized[normalized.index(after: at)...]
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return view
    }
}

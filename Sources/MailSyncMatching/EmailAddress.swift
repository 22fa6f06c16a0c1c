/// Address normalization shared by leads, users and synced mail, so the same person compares equal.
public enum EmailAddress {
    /// `local@domain`, trimmed and lower-cased, or nil when it is not an address: empty local part
    /// or domain, no `@` or more than one outside quotes is not checked (IMAP splits mailbox and host
    /// for us), whitespace or control characters inside, or longer than 320 bytes.
    ///
    /// Lower-casing the local part is not RFC 5321's rule but every large provider's behaviour,
    /// and a CRM user types a lead's address in whatever case they received it.
    public static func normalize(_ address: String) -> String? {
        if let ascii = normalizeASCII(address) { return ascii.isEmpty ? nil : ascii }
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

    /// The common case, all ASCII, on bytes: the normalized address, "" when it is not one, nil
    /// when the text is not all ASCII (the general path decides).
    static func normalizeASCII(_ address: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(address.utf8.count)
        for byte in address.utf8 {
            guard byte < 0x80 else { return nil }
            bytes.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
        }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let body = bytes[start..<end]
        guard body.count <= 320, let at = body.lastIndex(of: 0x40), at > body.startIndex, at < body.endIndex - 1 else { return "" }
        guard !body.contains(where: { $0 < 0x21 || $0 == 0x7F }) else { return "" }
        return String(decoding: body, as: UTF8.self)
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

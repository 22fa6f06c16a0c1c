public import MailSyncIMAP

/// The key that makes one email one record, whoever synced it and however often.
///
/// `mid:<Message-ID>` when the message has a Message-ID (angle brackets and surrounding space
/// removed, case kept: RFC 5322 ids are case-sensitive). Mail without one gets
/// `fp:<hex SHA-256>` over the Date, From, To, Cc and Subject header values as the server gave
/// them: stable across a UIDVALIDITY reset and across users' mailboxes, which is what deduplication
/// needs. Keys are at most 1,000 bytes (a longer Message-ID is hashed as well).
public enum MessageKey {
    public static func of(_ envelope: Envelope) -> String {
        if let id = envelope.messageID.map(normalizedID), !id.isEmpty {
            let key = "mid:" + id
            if key.utf8.count <= 1000 { return key }
            return "midh:" + hex(SHA256Digest.hash(id.utf8))
        }
        var hasher = SHA256Digest()
        func field(_ bytes: [UInt8]?) {
            hasher.update(bytes ?? [])
            hasher.update([0])
        }
        func addresses(_ list: [Address]) {
            field(Array(list.compactMap(\.emailAddress).joined(separator: ",").lowercased().utf8))
        }
        field(envelope.date)
        addresses(envelope.from)
        addresses(envelope.to)
        addresses(envelope.cc)
        field(envelope.subject)
        return "fp:" + hex(hasher.finalize())
    }

    static func normalizedID(_ raw: [UInt8]) -> String {
        raw.allSatisfy({ $0 < 0x80 }) ? normalizedASCIIID(raw) : normalizedUnicodeID(raw)
    }

    /// Surrounding whitespace and one pair of angle brackets removed, newlines dropped.
    static func normalizedUnicodeID(_ raw: [UInt8]) -> String {
        var text = Substring(String(decoding: raw, as: UTF8.self)).trimmingWhitespaceSubstring()
        if text.first == "<" { text = text.dropFirst() }
        if text.last == ">" { text = text.dropLast() }
        return String(text.trimmingWhitespaceSubstring().filter { !$0.isNewline })
    }

    /// `normalizedID` for an all-ASCII id, on the bytes, with the same result: Character's
    /// whitespace and newlines among ASCII are tab, LF, VT, FF, CR and space.
    static func normalizedASCIIID(_ raw: [UInt8]) -> String {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        var slice = raw[...]
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        if slice.first == 0x3C { slice = slice.dropFirst() }
        if slice.last == 0x3E { slice = slice.dropLast() }
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        if !slice.contains(where: { (0x0A...0x0D).contains($0) }) { return String(decoding: slice, as: UTF8.self) }
        return String(decoding: slice.filter { !(0x0A...0x0D).contains($0) }, as: UTF8.self)
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}

extension Substring {
    func trimmingWhitespaceSubstring() -> Substring {
        var view = self
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return view
    }
}

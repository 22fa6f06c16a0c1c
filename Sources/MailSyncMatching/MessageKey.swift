import Crypto
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
            return "midh:" + hex(SHA256.hash(data: Array(id.utf8)))
        }
        var hasher = SHA256()
        func field(_ bytes: [UInt8]?) {
            hasher.update(data: bytes ?? [])
            hasher.update(data: [0])
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
        var text = Substring(String(decoding: raw, as: UTF8.self)).trimmingWhitespaceSubstring()
        if text.first == "<" { text = text.dropFirst() }
        if text.last == ">" { text = text.dropLast() }
        return String(text.trimmingWhitespaceSubstring().filter { !$0.isNewline })
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

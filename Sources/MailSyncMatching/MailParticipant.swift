public import MailSyncIMAP

/// One person on an email: which header named them, their address (normalized) and display name.
public struct MailParticipant: Sendable, Hashable {
    public enum Kind: Int, Sendable, Hashable {
        case from = 1, to = 2, cc = 3, bcc = 4
    }

    public var kind: Kind
    /// Lower-cased, trimmed `local@domain` (see ``EmailAddress/normalize(_:)``).
    public var address: String
    /// The display name with RFC 2047 encoded words decoded; empty when the header gave none.
    public var displayName: String

    public init(kind: Kind, address: String, displayName: String) {
        self.kind = kind
        self.address = address
        self.displayName = displayName
    }

    /// From, To, Cc and Bcc of `envelope`, in that order.
    ///
    /// Group markers (RFC 5322 groups as IMAP sends them) and addresses without a mailbox or host
    /// are skipped; so is an address that does not normalize (no `@`, control characters). An
    /// address repeated under the same header appears once. At most `limit` participants are kept
    /// (default 200), so a message addressed to thousands cannot blow up one batch.
    public static func of(_ envelope: Envelope, limit: Int = 200) -> [MailParticipant] {
        var participants: [MailParticipant] = []
        var seen: Set<String> = []
        let headers: [(Kind, [Address])] = [(.from, envelope.from), (.to, envelope.to), (.cc, envelope.cc), (.bcc, envelope.bcc)]
        for (kind, addresses) in headers {
            for address in addresses {
                guard participants.count < limit else { return participants }
                guard let raw = address.emailAddress, let normalized = EmailAddress.normalize(raw) else { continue }
                guard seen.insert("\(kind.rawValue) \(normalized)").inserted else { continue }
                let name = (address.nameText ?? "").filter { !$0.isNewline && $0 != "\0" }
                participants.append(MailParticipant(kind: kind, address: normalized, displayName: String(name.prefix(256))))
            }
        }
        return participants
    }
}

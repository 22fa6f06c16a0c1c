public import MailSyncIMAP

/// One person on an email: which header named them, their address (normalized) and display name.
public struct MailParticipant: Sendable, Hashable {
    public enum Kind: Int, Sendable, Hashable, CaseIterable {
        case from = 1, to = 2, cc = 3, bcc = 4
    }

    public var kind: Kind
    /// Lower-cased, trimmed `local@domain` (see ``EmailAddress/normalize(_:)``).
    public var address: String
    /// The display name with RFC 2047 encoded words decoded, newlines and NULs removed, at most
    /// 256 characters; empty when the header gave none. Decoded when first asked for: most
    /// participants of a sync are strangers whose names are never stored.
    public var displayName: String {
        get {
            switch name {
            case .decoded(let text): return text
            case .header(let address):
                return String((address.nameText ?? "").filter { !$0.isNewline && $0 != "\0" }.prefix(256))
            }
        }
        set { name = .decoded(newValue) }
    }

    private enum Name: Sendable {
        case decoded(String)
        case header(Address)
    }

    private var name: Name

    public init(kind: Kind, address: String, displayName: String) {
        self.kind = kind
        self.address = address
        self.name = .decoded(displayName)
    }

    init(kind: Kind, address: String, header: Address) {
        self.kind = kind
        self.address = address
        self.name = .header(header)
    }

    public static func == (lhs: MailParticipant, rhs: MailParticipant) -> Bool {
        lhs.kind == rhs.kind && lhs.address == rhs.address && lhs.displayName == rhs.displayName
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(address)
        hasher.combine(displayName)
    }

    /// From, To, Cc and Bcc of `envelope`, in that order.
    ///
    /// Group markers (RFC 5322 groups as IMAP sends them) and addresses without a mailbox or host
    /// are skipped; so is an address that does not normalize (no `@`, control characters). An
    /// address repeated under the same header appears once. All of them by default: matching must
    /// see every address (a lead listed 250th is still a lead); the envelope's size is bounded by
    /// the IMAP reply limits. `limit` cuts the list (for display only: ``forDisplay(_:keeping:limit:)``).
    public static func of(_ envelope: Envelope, limit: Int = .max) -> [MailParticipant] {
        var participants: [MailParticipant] = []
        var seen: Set<Seen> = []
        let headers: [(Kind, [Address])] = [(.from, envelope.from), (.to, envelope.to), (.cc, envelope.cc), (.bcc, envelope.bcc)]
        for (kind, addresses) in headers {
            for address in addresses {
                guard participants.count < limit else { return participants }
                guard let raw = address.emailAddress, let normalized = EmailAddress.normalize(raw) else { continue }
                guard seen.insert(Seen(kind: kind, address: normalized)).inserted else { continue }
                participants.append(MailParticipant(kind: kind, address: normalized, header: address))
            }
        }
        return participants
    }

    private struct Seen: Hashable {
        var kind: Kind
        var address: String
    }

    /// Who is stored for display on a timeline entry: the first `limit` (default 200)
    /// participants, plus any later one whose address is in `keeping` (the matched leads, the
    /// mailbox's own user), in their original order. A message to thousands stays small on the
    /// timeline without losing the people it is recorded for.
    public static func forDisplay(_ participants: [MailParticipant], keeping: Set<String>, limit: Int = 200) -> [MailParticipant] {
        guard participants.count > limit else { return participants }
        return participants.enumerated().filter { index, participant in index < limit || keeping.contains(participant.address) }.map(\.element)
    }
}

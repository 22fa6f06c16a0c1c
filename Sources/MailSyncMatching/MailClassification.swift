public import MailSyncIMAP

/// Whether the user sent an email or received it.
public enum MessageDirection: Int, Sendable, Hashable, CaseIterable {
    case sent = 1
    case received = 2
}

/// What the sync does with one email, decided from its envelope alone (before any lead lookup).
public enum MailClassification: Sendable, Hashable {
    /// It names nobody usable: no From and no To, Cc or Bcc address. It cannot be attributed, is
    /// counted and noted in the sync's events, and is not an error.
    case unmatchable(reason: String)
    /// Every participant is a company user or on a company domain, and the company prevents
    /// syncing email between employees.
    case internalOnly
    /// A candidate: look its participants' addresses up among the leads.
    case candidate(Candidate)

    public struct Candidate: Sendable, Hashable {
        public var key: String
        public var direction: MessageDirection
        public var participants: [MailParticipant]
        /// Distinct participant addresses other than the mailbox owner's, for the lead lookup.
        public var lookupAddresses: [String]
    }

    /// Classifies one message of a folder.
    ///
    /// Direction: `sent` when the folder is the sent folder or the From address is one of the
    /// owner's; `received` otherwise. Mail with a sender and no recipient (Bcc delivery,
    /// `undisclosed-recipients:;`, servers that strip To) is a candidate: in the INBOX it is mail
    /// the user received from that sender. Mail with recipients and no usable From is one too.
    /// Every address the message carries is looked up (the envelope is already bounded by the
    /// IMAP reply limits); no count cuts a lead off.
    public static func classify(_ envelope: Envelope, inSentFolder: Bool, directory: CompanyDirectory) -> MailClassification {
        let participants = MailParticipant.of(envelope)
        let from = participants.filter { $0.kind == .from }
        if participants.isEmpty { return .unmatchable(reason: "no From and no To, Cc or Bcc address") }
        if directory.preventInternalEmailSync, participants.allSatisfy({ directory.isInternal($0.address) }) {
            return .internalOnly
        }
        let sent = inSentFolder || from.contains { directory.ownerAddresses.contains($0.address) }
        var seen: Set<String> = []
        let lookup = participants.map(\.address).filter { !directory.ownerAddresses.contains($0) && seen.insert($0).inserted }
        return .candidate(Candidate(
            key: MessageKey.of(envelope), direction: sent ? .sent : .received, participants: participants,
            lookupAddresses: lookup))
    }
}

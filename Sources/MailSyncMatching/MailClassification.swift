public import MailSyncIMAP

/// Whether the user sent an email or received it.
public enum MessageDirection: Int, Sendable, Hashable {
    case sent = 1
    case received = 2
}

/// What the sync does with one email, decided from its envelope alone (before any lead lookup).
public enum MailClassification: Sendable, Hashable {
    /// It has no From, or no recipient at all (GoDaddy's servers send such envelopes): it cannot be
    /// attributed, is counted and noted in the sync's events, and is not an error.
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
    /// owner's; `received` otherwise.
    public static func classify(_ envelope: Envelope, inSentFolder: Bool, directory: CompanyDirectory) -> MailClassification {
        let participants = MailParticipant.of(envelope)
        let from = participants.filter { $0.kind == .from }
        if from.isEmpty { return .unmatchable(reason: "no From address") }
        if !participants.contains(where: { $0.kind != .from }) { return .unmatchable(reason: "no To, Cc or Bcc address") }
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

/// Who a message goes from and to, as SMTP says it (`MAIL FROM`, `RCPT TO`), apart from the
/// headers inside the message.
///
/// Every address must pass ``MailAddressSyntax`` (plain ASCII `local@domain`): nothing that could
/// end an SMTP command line or start a new one reaches the server.
public struct SMTPEnvelope: Sendable, Hashable {
    public let from: String
    /// At least one, at most ``maxRecipients``, each once (compared ignoring case), in order.
    public let recipients: [String]

    /// More recipients than most providers take in one message (Gmail: 100 per message).
    public static let maxRecipients = 100

    public struct InvalidAddress: Error, Sendable, Hashable, CustomStringConvertible {
        public let address: String
        public let reason: String
        public var description: String { "\(reason): '\(address.prefix(80))'" }
    }

    public init(from: String, recipients: [String]) throws(InvalidAddress) {
        guard MailAddressSyntax.isValid(from) else {
            throw InvalidAddress(address: from, reason: "the sender must be a plain ASCII address like name@example.com")
        }
        var seen = Set<String>()
        var unique: [String] = []
        for recipient in recipients {
            guard MailAddressSyntax.isValid(recipient) else {
                throw InvalidAddress(address: recipient, reason: "a recipient must be a plain ASCII address like name@example.com")
            }
            if seen.insert(recipient.lowercased()).inserted { unique.append(recipient) }
        }
        guard !unique.isEmpty else { throw InvalidAddress(address: "", reason: "a message needs at least one recipient") }
        guard unique.count <= Self.maxRecipients else {
            throw InvalidAddress(address: unique[Self.maxRecipients], reason: "at most \(Self.maxRecipients) recipients per message")
        }
        self.from = from
        self.recipients = unique
    }
}

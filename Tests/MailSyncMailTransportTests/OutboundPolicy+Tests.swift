import MailSyncMailTransport

extension OutboundPolicy {
    /// What the tests' own servers need: 127.0.0.1 allowed, as an operator would allow an
    /// on-premises server (plain text to it included).
    static let testLoopback = OutboundPolicy(allowedNetworks: [IPNetwork("127.0.0.1")!])
}

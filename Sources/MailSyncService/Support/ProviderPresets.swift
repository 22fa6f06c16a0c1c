import MailSyncClient

/// The server settings each mail provider preset stands for, and how often it may be polled.
///
/// One table, read by `CreateMailboxConnection` (to fill in settings the request leaves out) and,
/// later, by the sync engine (for the poll floor). `CUSTOM_IMAP` has no preset: its IMAP server
/// comes from the request. Facts: docs in /work/shared/DESIGN.md ("Provider facts").
struct ProviderPreset: Sendable, Hashable {
    let provider: MailProvider
    let imap: ServerEndpoint?
    let smtp: ServerEndpoint?
    /// The shortest time between two polls of one mailbox that the provider tolerates, in seconds.
    ///
    /// The sync engine waits at least the larger of this and the company's
    /// `minimum_poll_interval_seconds`. Gmail asks clients to check no more than once every ten
    /// minutes (600 s); the others publish no floor (0).
    let minimumPollIntervalSeconds: UInt32

    /// The preset for `provider`, or nil for `UNSPECIFIED` and values this build does not know.
    static func forProvider(_ provider: MailProvider) -> ProviderPreset? {
        all.first { $0.provider == provider }
    }

    static let all: [ProviderPreset] = [
        ProviderPreset(
            provider: .gmail,
            imap: endpoint("imap.gmail.com", 993, .tls), smtp: endpoint("smtp.gmail.com", 465, .tls),
            minimumPollIntervalSeconds: 600),
        ProviderPreset(
            provider: .microsoft365,
            imap: endpoint("outlook.office365.com", 993, .tls), smtp: endpoint("smtp.office365.com", 587, .starttls),
            minimumPollIntervalSeconds: 0),
        ProviderPreset(
            provider: .godaddy,
            imap: endpoint("imap.secureserver.net", 993, .tls), smtp: endpoint("smtpout.secureserver.net", 465, .tls),
            minimumPollIntervalSeconds: 0),
        ProviderPreset(provider: .customImap, imap: nil, smtp: nil, minimumPollIntervalSeconds: 0),
    ]

    /// The names callers may send, for error messages.
    static let names = all.map { ($0.provider.name ?? "").replacingOccurrences(of: "MAIL_PROVIDER_", with: "") }
        .joined(separator: ", ")

    private static func endpoint(_ host: String, _ port: UInt32, _ security: ConnectionSecurity) -> ServerEndpoint {
        var endpoint = ServerEndpoint()
        endpoint.host = host
        endpoint.port = port
        endpoint.security = security
        return endpoint
    }
}

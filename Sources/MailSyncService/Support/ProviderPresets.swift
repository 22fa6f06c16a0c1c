import MailSyncClient
import MailSyncEngine

/// The server settings each mail provider preset stands for, how it signs in with OAuth, and how
/// often it may be polled.
///
/// One table of data: a new provider, host or scope is a change here (the defaults) or in the
/// server's config file (`providers`, see ``ProviderSettings``), never in code elsewhere. The
/// running server reads its presets from ``ProviderTable`` (these defaults with the config's
/// overrides applied). `CUSTOM_IMAP` has no servers: they come from the request.
/// The facts behind each value, and where they come from: `docs/providers.md`.
struct ProviderPreset: Sendable, Hashable {
    let provider: MailProvider
    var imap: ServerEndpoint?
    var smtp: ServerEndpoint?
    /// The shortest time between two polls of one mailbox that the provider tolerates, in seconds.
    ///
    /// The sync engine waits at least the larger of this and the company's
    /// `minimum_poll_interval_seconds`. Gmail asks clients to check no more than once every ten
    /// minutes (600 s); the others publish no floor (0).
    var minimumPollIntervalSeconds: UInt32
    /// How the provider signs in with OAuth 2.0; nil when it does not (GoDaddy, custom IMAP).
    var oauth: OAuthPreset?
    /// The provider's daily limits per mailbox, which the governor stays under
    /// (``ProviderBudget``): Gmail allows about 2.5 GB of IMAP download a day per account; the
    /// others publish no figure (nil), and their throttling answers are the signal instead.
    var dailyDownloadBytes: Int64? = nil
    var dailyCommands: Int64? = nil
    /// Gmail: 500 messages a day (Google Workspace accounts may send more: raise it per
    /// deployment); Microsoft 365: 10,000 recipients a day, counted here as messages.
    var dailySends: Int64? = nil

    var budget: ProviderBudget {
        ProviderBudget(dailyDownloadBytes: dailyDownloadBytes, dailyCommands: dailyCommands, dailySends: dailySends)
    }

    /// The default preset for `provider`, or nil for `UNSPECIFIED` and values this build does not
    /// know. The server uses ``ProviderTable`` instead, which applies the config's overrides.
    static func forProvider(_ provider: MailProvider) -> ProviderPreset? {
        all.first { $0.provider == provider }
    }

    static let all: [ProviderPreset] = [
        ProviderPreset(
            provider: .gmail,
            imap: endpoint("imap.gmail.com", 993, .tls), smtp: endpoint("smtp.gmail.com", 465, .tls),
            minimumPollIntervalSeconds: 600,
            oauth: OAuthPreset(
                authorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
                tokenEndpoint: "https://oauth2.googleapis.com/token",
                // `openid email`: the ID token names the signed-in address.
                scopes: ["https://mail.google.com/", "openid", "email"],
                userinfoEndpoint: "https://openidconnect.googleapis.com/v1/userinfo",
                // A refresh token only comes with offline access, and again only with consent.
                extraAuthorizationParameters: [("access_type", "offline"), ("prompt", "consent")]), dailyDownloadBytes: 2_500_000_000, dailySends: 500),
        ProviderPreset(
            provider: .microsoft365,
            imap: endpoint("outlook.office365.com", 993, .tls), smtp: endpoint("smtp.office365.com", 587, .starttls),
            minimumPollIntervalSeconds: 0,
            oauth: OAuthPreset(
                authorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                tokenEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
                scopes: [
                    "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send",
                    "offline_access", "openid", "email",
                ],
                // None: Microsoft's userinfo is a Graph endpoint, and these access tokens are for
                // Outlook. With `openid` its token answer always carries the ID token.
                userinfoEndpoint: nil,
                extraAuthorizationParameters: []), dailySends: 10_000),
        ProviderPreset(
            provider: .godaddy,
            imap: endpoint("imap.secureserver.net", 993, .tls), smtp: endpoint("smtpout.secureserver.net", 465, .tls),
            minimumPollIntervalSeconds: 0, oauth: nil),
        ProviderPreset(provider: .customImap, imap: nil, smtp: nil, minimumPollIntervalSeconds: 0, oauth: nil),
    ]

    /// The names callers may send, for error messages.
    static let names = all.map(\.shortName).joined(separator: ", ")

    /// `GMAIL`, `MICROSOFT_365`, … (the schema's name without `MAIL_PROVIDER_`).
    var shortName: String { (provider.name ?? "").replacingOccurrences(of: "MAIL_PROVIDER_", with: "") }

    static func endpoint(_ host: String, _ port: UInt32, _ security: ConnectionSecurity) -> ServerEndpoint {
        var endpoint = ServerEndpoint()
        endpoint.host = host
        endpoint.port = port
        endpoint.security = security
        return endpoint
    }
}

/// A provider's OAuth 2.0 endpoints and what to ask for.
struct OAuthPreset: Sendable, Hashable {
    /// Where the user's browser signs in (the authorization request, RFC 6749 §4.1.1).
    var authorizationEndpoint: String
    /// Where codes and refresh tokens are traded for access tokens (§3.2).
    var tokenEndpoint: String
    /// Asked for on sign-in and sent again on every refresh (Microsoft requires that).
    var scopes: [String]
    /// The OpenID Connect userinfo endpoint, asked for the signed-in address when a token answer
    /// has no ID token naming it; nil: none (the sign-in then fails, saying so).
    var userinfoEndpoint: String? = nil
    /// Added to the authorization URL (Google: `access_type=offline`, `prompt=consent`).
    var extraAuthorizationParameters: [(String, String)]

    var scope: String { scopes.joined(separator: " ") }

    static func == (a: OAuthPreset, b: OAuthPreset) -> Bool {
        a.authorizationEndpoint == b.authorizationEndpoint && a.tokenEndpoint == b.tokenEndpoint && a.scopes == b.scopes
            && a.userinfoEndpoint == b.userinfoEndpoint
            && a.extraAuthorizationParameters.map { "\($0.0)=\($0.1)" } == b.extraAuthorizationParameters.map { "\($0.0)=\($0.1)" }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(authorizationEndpoint)
        hasher.combine(tokenEndpoint)
        hasher.combine(scopes)
        hasher.combine(userinfoEndpoint)
    }
}

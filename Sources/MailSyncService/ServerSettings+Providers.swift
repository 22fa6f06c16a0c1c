import Foundation
import MailSyncClient
import MailSyncMailTransport
import MailSyncTenantData
import MailSyncEngine

/// One provider's entry in the config file's `providers` table, keyed by the schema's name
/// (`GMAIL`, `MICROSOFT_365`, `GODADDY`, `CUSTOM_IMAP`). Every field is optional and overrides the
/// built-in preset (``ProviderPreset``); the OAuth client is what the operator registered with the
/// provider. Example:
/// ```json
/// "providers": {
///   "GMAIL": { "oauthClientId": "123.apps.googleusercontent.com", "oauthClientSecret": "…" },
///   "MICROSOFT_365": { "oauthClientId": "…", "oauthClientSecret": "…",
///                      "tokenEndpoint": "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token" }
/// }
/// ```
/// The client secret is never logged and never returned (``ConfigSecret``). Without a client id
/// and secret a provider cannot be connected with OAuth (`StartOAuthConnection` says so).
public struct ProviderSettings: Codable, Sendable, Equatable {
    public var imap: EndpointSettings?
    public var smtp: EndpointSettings?
    public var minimumPollIntervalSeconds: UInt32?
    public var oauthClientId: String?
    public var oauthClientSecret: ConfigSecret?
    /// https:// (http:// only to a loopback host).
    public var authorizationEndpoint: String?
    /// https:// (http:// only to a loopback host, for tests and local proxies).
    public var tokenEndpoint: String?
    /// The OpenID Connect userinfo endpoint, asked for the signed-in address when the token
    /// answer has no ID token naming it; `""` turns it off. https:// (http:// only to loopback).
    public var userinfoEndpoint: String?
    public var scopes: [String]?
    /// The provider's daily download limit per mailbox in bytes (Gmail: 2,500,000,000); 0 turns
    /// the governor's download budget off. The governor stops at 90% of it.
    public var dailyDownloadBytes: Int64?
    /// The provider's daily command limit per mailbox; 0: none.
    public var dailyCommands: Int64?
    /// The provider's daily sending limit per mailbox, in messages (Gmail: 500); 0: none.
    public var dailySends: Int64?

    public init() {}
}

/// A server in the config file: `{ "host": "imap.example.com", "port": 993, "security": "tls" }`
/// with security `none`, `starttls` or `tls`.
public struct EndpointSettings: Codable, Sendable, Equatable {
    public var host: String
    public var port: UInt32
    public var security: String

    public init(host: String, port: UInt32, security: String) {
        self.host = host
        self.port = port
        self.security = security
    }
}

/// A secret from the config file: decoded from a JSON string, shown as `<redacted>` by every
/// printing path (`description`, `debugDescription`, reflection), so logging the settings cannot
/// leak it.
public struct ConfigSecret: Codable, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension ServerSettings {
    /// The provider table these settings describe: the built-in presets with `providers`'
    /// overrides, the OAuth clients, and the accepted redirect URIs.
    ///
    /// - Throws: `SettingsError` for an unknown provider name, a bad endpoint or URL, or an OAuth
    ///   client id without a secret (or the reverse).
    public func providerTable() throws -> ProviderTable {
        var table = ProviderTable.defaults
        for (name, entry) in providers ?? [:] {
            guard let index = table.presets.firstIndex(where: { $0.shortName == name.uppercased() }) else {
                throw SettingsError("providers has an unknown provider '\(name)'; use one of \(ProviderPreset.names)")
            }
            var preset = table.presets[index]
            if let imap = entry.imap { preset.imap = try Self.endpoint(imap, "providers.\(name).imap") }
            if let smtp = entry.smtp { preset.smtp = try Self.endpoint(smtp, "providers.\(name).smtp") }
            if let floor = entry.minimumPollIntervalSeconds { preset.minimumPollIntervalSeconds = floor }
            if let bytes = entry.dailyDownloadBytes {
                guard bytes >= 0 else { throw SettingsError("providers.\(name).dailyDownloadBytes must be 0 (no limit) or more, got \(bytes)") }
                preset.dailyDownloadBytes = bytes == 0 ? nil : bytes
            }
            if let sends = entry.dailySends {
                guard sends >= 0 else { throw SettingsError("providers.\(name).dailySends must be 0 (no limit) or more, got \(sends)") }
                preset.dailySends = sends == 0 ? nil : sends
            }
            if let commands = entry.dailyCommands {
                guard commands >= 0 else { throw SettingsError("providers.\(name).dailyCommands must be 0 (no limit) or more, got \(commands)") }
                preset.dailyCommands = commands == 0 ? nil : commands
            }
            if entry.authorizationEndpoint != nil || entry.tokenEndpoint != nil || entry.userinfoEndpoint != nil || entry.scopes != nil {
                guard var oauth = preset.oauth else {
                    throw SettingsError("providers.\(name) does not sign in with OAuth; remove its OAuth endpoints and scopes")
                }
                if let url = entry.authorizationEndpoint { oauth.authorizationEndpoint = try Self.url(url, "providers.\(name).authorizationEndpoint") }
                if let url = entry.tokenEndpoint { oauth.tokenEndpoint = try Self.url(url, "providers.\(name).tokenEndpoint") }
                if let url = entry.userinfoEndpoint {
                    oauth.userinfoEndpoint = url.isEmpty ? nil : try Self.url(url, "providers.\(name).userinfoEndpoint")
                }
                if let scopes = entry.scopes {
                    guard !scopes.isEmpty, scopes.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
                        throw SettingsError("providers.\(name).scopes must be a non-empty list of scopes without spaces")
                    }
                    oauth.scopes = scopes
                }
                preset.oauth = oauth
            }
            table.presets[index] = preset
            switch (entry.oauthClientId, entry.oauthClientSecret) {
            case (nil, nil):
                break
            case (let id?, let secret?) where !id.isEmpty && !secret.value.isEmpty:
                guard preset.oauth != nil else {
                    throw SettingsError("providers.\(name) does not sign in with OAuth; remove oauthClientId and oauthClientSecret")
                }
                table.clients.removeAll { $0.provider == preset.provider }
                table.clients.append((preset.provider, OAuthTokenClient.Client(id: id, secret: secret.value)))
            default:
                throw SettingsError("providers.\(name) needs both oauthClientId and oauthClientSecret, or neither")
            }
        }
        for uri in oauthRedirectURIs ?? [] {
            guard OAuthRedirect.isAcceptable(uri) else {
                throw SettingsError("oauthRedirectURIs has '\(uri)': give absolute https:// URLs (http:// only on loopback) without a fragment")
            }
        }
        table.redirectURIs = oauthRedirectURIs ?? []
        if let file = oauthCAFile {
            try TLSFiles.checkTrustBundle(file, setting: "oauthCAFile")
            table.tokenCAFile = file
        }
        return table
    }

    private static func endpoint(_ settings: EndpointSettings, _ field: String) throws -> ServerEndpoint {
        let security: ConnectionSecurity
        switch settings.security.lowercased() {
        case "none": security = .none
        case "starttls": security = .starttls
        case "tls": security = .tls
        default: throw SettingsError("\(field).security must be none, starttls or tls, got '\(settings.security)'")
        }
        guard !settings.host.isEmpty, (1...65535).contains(settings.port) else {
            throw SettingsError("\(field) needs a host and a port 1...65535")
        }
        return ProviderPreset.endpoint(settings.host, settings.port, security)
    }

    private static func url(_ value: String, _ field: String) throws -> String {
        guard OAuthRedirect.isAcceptable(value) else {
            throw SettingsError("\(field) must be an https:// URL (http:// only on loopback), got '\(value)'")
        }
        return value
    }
}

/// The provider presets the running server uses (``ProviderPreset/all`` with the config's
/// overrides), its OAuth clients, and the redirect URIs it accepts. Built by
/// ``ServerSettings/providerTable()``; immutable while the server runs.
public struct ProviderTable: Sendable {
    var presets: [ProviderPreset]
    var clients: [(provider: MailProvider, client: OAuthTokenClient.Client)] = []
    /// `StartOAuthConnection` accepts only these when not empty.
    var redirectURIs: [String] = []
    /// Trusted instead of the system's CAs for token endpoints.
    package var tokenCAFile: String?

    /// The built-in presets, no OAuth clients.
    public static let defaults = ProviderTable(presets: ProviderPreset.all)

    /// The preset of a stored mailbox's provider.
    func preset(stored provider: MailboxRecord.Provider) -> ProviderPreset? {
        preset(MailProvider(provider))
    }

    func preset(_ provider: MailProvider) -> ProviderPreset? {
        presets.first { $0.provider == provider }
    }

    /// The provider's OAuth endpoints and the server's client there, if both exist.
    func oauth(_ provider: MailProvider) -> (preset: OAuthPreset, client: OAuthTokenClient.Client)? {
        guard let oauth = preset(provider)?.oauth, let client = clients.first(where: { $0.provider == provider })?.client else {
            return nil
        }
        return (oauth, client)
    }
}

/// What the sync engine reads from the presets, by a mailbox's stored provider.
extension ProviderTable: SyncProviders {
    package func minimumPollIntervalSeconds(_ provider: MailboxRecord.Provider) -> UInt32 {
        preset(stored: provider)?.minimumPollIntervalSeconds ?? 0
    }

    package func budget(_ provider: MailboxRecord.Provider) -> ProviderBudget {
        preset(stored: provider)?.budget ?? ProviderBudget()
    }

    package func tokenRefresh(_ provider: MailboxRecord.Provider) -> OAuthTokenRefresh? {
        oauth(MailProvider(provider)).map {
            OAuthTokenRefresh(tokenEndpoint: $0.preset.tokenEndpoint, scope: $0.preset.scope, client: $0.client)
        }
    }

    package func name(_ provider: MailboxRecord.Provider) -> String? {
        MailProvider(provider).name
    }
}

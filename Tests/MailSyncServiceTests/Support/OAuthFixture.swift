import Foundation
import Logging
import MailSyncClient
import MailSyncCoding
import MailSyncService
import MailSyncStorage
import TestSupport

/// OAuth end to end on loopback: a token endpoint (``OAuthTokenServer``) issuing HS256 JWT access
/// tokens, a Dovecot whose oauth2 passdb validates them with the same key, and a Mail Sync server
/// whose GMAIL and MICROSOFT_365 presets point at both (config `providers`; GMAIL also at the
/// endpoint's userinfo, MICROSOFT_365 with none, as built in). The company's
/// administrator signs in as `alice@acme.example`, the Dovecot user.
struct OAuthFixture {
    let harness: ServiceHarness
    let dovecot: DovecotServer
    let tokens: OAuthTokenServer
    let company: ServiceHarness.Company
    let logs: CapturingLogHandler.Store
    /// The config's `providers`, for a server restarted on the same data directory.
    let providers: [String: ProviderSettings]

    static let owner = "alice@acme.example"
    static let redirectURI = "https://crm.example/oauth/callback"
    static let leads = [(id: "lead-1", address: "jane@client.example")]

    /// - Parameter smtpPort: the providers' SMTP server (plain, on 127.0.0.1), for Smart Mail.
    static func start(tokenOptions: OAuthTokenServer.Options = .init(), clientSecret: String? = nil, smtpPort: Int? = nil) async throws -> OAuthFixture {
        let tokens = try await OAuthTokenServer.start(options: tokenOptions)
        let dovecot: DovecotServer
        do {
            dovecot = try await DovecotServer.start(
                users: [], options: .init(oauth: .init(validationKey: tokenOptions.signingKey)))
        } catch {
            await tokens.stop()
            throw error
        }
        do {
            var provider = ProviderSettings()
            provider.imap = EndpointSettings(host: "127.0.0.1", port: UInt32(dovecot.port), security: "none")
            if let smtpPort { provider.smtp = EndpointSettings(host: "127.0.0.1", port: UInt32(smtpPort), security: "none") }
            provider.oauthClientId = tokenOptions.clientID
            provider.oauthClientSecret = ConfigSecret(clientSecret ?? tokenOptions.clientSecret)
            provider.authorizationEndpoint = tokens.authorizationEndpoint
            provider.tokenEndpoint = tokens.tokenEndpoint
            var gmail = provider
            gmail.userinfoEndpoint = tokens.userinfoEndpoint
            var microsoft = provider
            microsoft.userinfoEndpoint = ""  // as built in: none
            let logs = CapturingLogHandler.Store()
            let providers = ["GMAIL": gmail, "MICROSOFT_365": microsoft]
            let harness = try await ServiceHarness.start(logHandler: CapturingLogHandler(store: logs), providers: providers)
            let company = try await harness.makeCompany(domains: ["acme.example"])
            try await SyncFixture.upsertLeads(company, leads)
            return OAuthFixture(harness: harness, dovecot: dovecot, tokens: tokens, company: company, logs: logs, providers: providers)
        } catch {
            await dovecot.stop()
            await tokens.stop()
            throw error
        }
    }

    static func with(
        tokenOptions: OAuthTokenServer.Options = .init(), clientSecret: String? = nil, smtpPort: Int? = nil,
        _ body: (OAuthFixture) async throws -> Void
    ) async throws {
        let fixture = try await start(tokenOptions: tokenOptions, clientSecret: clientSecret, smtpPort: smtpPort)
        do {
            try await body(fixture)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    func stop() async {
        await harness.stop()
        await dovecot.stop()
        await tokens.stop()
    }

    static func startRequest(_ provider: MailProvider, user: String = "", loginHint: String = owner) -> StartOAuthConnectionRequest {
        var request = StartOAuthConnectionRequest()
        request.provider = provider
        request.userId = user
        request.redirectUri = redirectURI
        request.loginHint = loginHint
        return request
    }

    static func completeRequest(state: String, code: String) -> CompleteOAuthConnectionRequest {
        var request = CompleteOAuthConnectionRequest()
        request.state = state
        request.code = code
        return request
    }

    /// Start → the browser's sign-in (the token server's `/authorize`) → Complete, as the admin.
    func signIn(_ provider: MailProvider = .gmail) async throws -> (start: StartOAuthConnectionResponse, mailbox: Mailbox) {
        let start = try await company.admin.startOAuthConnection(Self.startRequest(provider))
        let (code, state) = try await tokens.authorize(start.authorizationUrl)
        let complete = try await company.admin.completeOAuthConnection(Self.completeRequest(state: state, code: code))
        return (start, complete.mailbox)
    }

    @discardableResult
    func deliver(subject: String, from: String = "jane@client.example") async throws -> String {
        let text = "From: \(from)\r\nTo: \(Self.owner)\r\nSubject: \(subject)\r\nDate: Mon, 21 Sep 2026 10:00:00 +0000\r\n"
            + "Message-ID: <\(UUID().uuidString)@client.example>\r\nContent-Type: text/plain\r\n\r\nHello.\r\n"
        let date = Date(timeIntervalSince1970: harness.clock.now().secondsSinceEpoch - 3600)
        return try await dovecot.append(user: Self.owner, message: text, date: date)
    }

    func status(_ mailboxID: String) async throws -> MailboxStatusResponse {
        try await company.admin.getMailboxStatus(MailboxFixtures.get(mailboxID))
    }

    func timeline(_ leadID: String = "lead-1") async throws -> [TimelineEntry] {
        var request = ListLeadTimelineRequest()
        request.leadId = leadID
        request.pageSize = 500
        return try await company.admin.listLeadTimeline(request).entries
    }

    /// Moves the clock and runs what is due; returns how many mailboxes ran.
    @discardableResult
    func advanceAndSync(seconds: Double) async -> Int {
        harness.clock.advance(seconds: seconds)
        return await harness.runSyncs()
    }

    /// Logins Dovecot accepted with a bearer token.
    func bearerLogins() -> Int {
        dovecot.log().split(separator: "\n").filter {
            $0.contains("imap-login: Info: Login:") && ($0.contains("method=XOAUTH2") || $0.contains("method=OAUTHBEARER"))
        }.count
    }
}

import Foundation
import MailSyncClient
@testable import MailSyncEngine
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import TestSupport
import Testing

/// The OAuth pieces without a whole sign-in: the provider table from the config file, the
/// authorization URL, ID token claims, and one refresh for many concurrent callers.
@Suite("OAuth: configuration, URLs, claims and single-flight refresh", .timeLimit(.minutes(5)))
struct OAuthConfigurationTests {
    static func settings(_ json: String) throws -> ServerSettings {
        try JSONDecoder().decode(ServerSettings.self, from: Data(json.utf8))
    }

    @Test("the providers that sign in with OAuth are the presets with an OAuth entry, and the refusal names them")
    func oauthProvidersFromPresets() {
        #expect(OAuthHandlers.oauthProviders.contains(.gmail) && OAuthHandlers.oauthProviders.contains(.microsoft365))
        #expect(!OAuthHandlers.oauthProviders.contains(.godaddy) && !OAuthHandlers.oauthProviders.contains(.customImap))
        #expect(OAuthHandlers.oauthProviderNames == "GMAIL or MICROSOFT_365")
    }

    @Test("the config's providers override the presets and hold the OAuth clients; the secret is never printed")
    func providerTable() throws {
        let settings = try Self.settings("""
            { "providers": {
                "GMAIL": { "oauthClientId": "gid", "oauthClientSecret": "g-secret-123",
                           "imap": { "host": "127.0.0.1", "port": 1143, "security": "none" }, "minimumPollIntervalSeconds": 60 },
                "MICROSOFT_365": { "oauthClientId": "mid", "oauthClientSecret": "m-secret-456",
                                   "tokenEndpoint": "https://login.microsoftonline.com/contoso/oauth2/v2.0/token",
                                   "userinfoEndpoint": "https://idp.contoso.example/userinfo" } },
              "oauthRedirectURIs": ["https://crm.example/oauth/callback"] }
            """)
        let table = try settings.providerTable()
        let gmail = try #require(table.preset(.gmail))
        #expect(gmail.imap?.host == "127.0.0.1" && gmail.imap?.port == 1143 && gmail.imap?.security == ConnectionSecurity.none)
        #expect(gmail.smtp?.host == "smtp.gmail.com")
        #expect(gmail.minimumPollIntervalSeconds == 60)
        #expect(table.oauth(.gmail)?.client.secret == "g-secret-123")
        #expect(table.oauth(.gmail)?.preset.tokenEndpoint == "https://oauth2.googleapis.com/token")
        #expect(table.oauth(.microsoft365)?.preset.tokenEndpoint == "https://login.microsoftonline.com/contoso/oauth2/v2.0/token")
        #expect(table.oauth(.microsoft365)?.preset.scope == "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid email")
        #expect(table.oauth(.gmail)?.preset.userinfoEndpoint == "https://openidconnect.googleapis.com/v1/userinfo")
        #expect(table.oauth(.microsoft365)?.preset.userinfoEndpoint == "https://idp.contoso.example/userinfo")
        #expect(ProviderPreset.forProvider(.microsoft365)?.oauth?.userinfoEndpoint == nil)
        #expect(try Self.settings(#"{ "providers": { "GMAIL": { "userinfoEndpoint": "" } } }"#).providerTable().preset(.gmail)?.oauth?.userinfoEndpoint == nil)
        #expect(table.oauth(.godaddy) == nil)
        #expect(table.redirectURIs == ["https://crm.example/oauth/callback"])
        #expect(ProviderTable.defaults.oauth(.gmail) == nil, "no client without configuration")

        var printed = ""
        dump(settings, to: &printed)
        for text in ["\(settings)", String(reflecting: settings), printed] {
            #expect(!text.contains("g-secret-123") && !text.contains("m-secret-456"), "\(text)")
        }
    }

    @Test("config mistakes are refused with what to fix", arguments: [
        #"{ "providers": { "YAHOO": {} } }"#,
        #"{ "providers": { "GMAIL": { "oauthClientId": "only-id" } } }"#,
        #"{ "providers": { "GODADDY": { "oauthClientId": "x", "oauthClientSecret": "y" } } }"#,
        #"{ "providers": { "GMAIL": { "tokenEndpoint": "http://tokens.example/token" } } }"#,
        #"{ "providers": { "GMAIL": { "userinfoEndpoint": "http://idp.example/userinfo" } } }"#,
        #"{ "providers": { "GODADDY": { "userinfoEndpoint": "https://idp.example/userinfo" } } }"#,
        #"{ "providers": { "GMAIL": { "imap": { "host": "h", "port": 993, "security": "ssl" } } } }"#,
        #"{ "oauthRedirectURIs": ["https://crm.example/cb#x"] }"#,
    ])
    func refusals(json: String) throws {
        let settings = try Self.settings(json)
        #expect(throws: SettingsError.self) { try settings.providerTable() }
    }

    @Test("the authorization URL percent-encodes every value")
    func authorizationURL() throws {
        let url = OAuthRedirect.authorizationURL(
            endpoint: "https://accounts.example/auth", clientID: "id 1", redirectURI: "https://crm.example/cb?x=1&y=2",
            scope: "https://mail.google.com/ openid", state: "s", codeChallenge: "c", loginHint: "a+b@example.com",
            extra: [("prompt", "consent")])
        #expect(url == "https://accounts.example/auth?client_id=id%201&redirect_uri=https%3A%2F%2Fcrm.example%2Fcb%3Fx%3D1%26y%3D2&response_type=code&scope=https%3A%2F%2Fmail.google.com%2F%20openid&state=s&code_challenge=c&code_challenge_method=S256&prompt=consent&login_hint=a%2Bb%40example.com")
        let items = URLComponents(string: url)?.queryItems ?? []
        #expect(items.first { $0.name == "redirect_uri" }?.value == "https://crm.example/cb?x=1&y=2")
        #expect(OAuthRedirect.isAcceptable("http://127.0.0.1:8080/cb"))
        #expect(!OAuthRedirect.isAcceptable("http://crm.example/cb"))
        #expect(!OAuthRedirect.isAcceptable("crm.example/cb"))
    }

    @Test("ID token claims: a verified email, else an address-like preferred_username; garbage gives nil")
    func idTokenClaims() {
        func token(_ claims: String) -> String {
            "eyJhbGciOiJub25lIn0." + Data(claims.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") + ".sig"
        }
        #expect(IDTokenClaims(token(#"{"email":"a@x.example","email_verified":true,"sub":"1"}"#))?.address == "a@x.example")
        #expect(IDTokenClaims(token(#"{"email":"a@x.example","email_verified":"true"}"#))?.address == "a@x.example")
        // An unverified (or unstated) email is never the signed-in address.
        #expect(IDTokenClaims(token(#"{"email":"ceo@bigbank.example","email_verified":false}"#))?.address == nil)
        #expect(IDTokenClaims(token(#"{"email":"ceo@bigbank.example"}"#))?.address == nil)
        #expect(IDTokenClaims(token(#"{"email":"x@y.example","email_verified":false,"preferred_username":"b@x.example"}"#))?.address == "b@x.example")
        #expect(IDTokenClaims(token(#"{"preferred_username":"b@x.example"}"#))?.address == "b@x.example")
        #expect(IDTokenClaims(token(#"{"preferred_username":"bob"}"#))?.address == nil)
        #expect(IDTokenClaims("not-a-jwt") == nil)
        #expect(IDTokenClaims("a.%%%.c") == nil)
    }

    @Test("callers that need a token at once share one refresh")
    func singleFlight() async throws {
        try await OAuthFixture.with(tokenOptions: .init(rotateRefreshTokens: true)) { fixture in
            let (_, mailbox) = try await fixture.signIn(.microsoft365)
            fixture.harness.clock.advance(seconds: 56 * 60)
            let env = try #require(fixture.harness.server.environment)
            let tenant = try #require(TenantID(validating: fixture.company.id))
            let (sealed, stored) = try await MailboxFixtures.tenantRead(fixture.harness, fixture.company) {
                (try MailboxRecords.sealedSecret($0, id: mailbox.id), try MailboxRecords.require($0, id: mailbox.id))
            }
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await OAuthAccess(env: env).accessToken(tenant: tenant, mailbox: stored, sealed: sealed) }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(tokens).count == 1)
            #expect(try await fixture.tokens.stats().refreshGrants == 1)
            // Stored: a caller holding the old secret gets the new token without another refresh.
            let again = try await OAuthAccess(env: env).accessToken(tenant: tenant, mailbox: stored, sealed: sealed)
            #expect(again == tokens.first)
            #expect(try await fixture.tokens.stats().refreshGrants == 1)
        }
    }
}

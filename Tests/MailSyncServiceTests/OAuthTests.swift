import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncMailTransport
import MailSyncRPC
import MailSyncSecurity
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import TestSupport
import Testing

/// OAuth 2.0 end to end: sign-in through StartOAuthConnection / CompleteOAuthConnection against a
/// real token endpoint, mail synced from a real Dovecot over XOAUTH2/OAUTHBEARER with JWT access
/// tokens it validates itself, refreshes, rotation, and every way the token endpoint can fail.
@Suite("OAuth: sign-in, XOAUTH2 sync, refresh and failures", .serialized, .timeLimit(.minutes(5)))
struct OAuthTests {
    static let microsoftScope = "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid email"

    /// No token, code or client secret in the server's log or in what RPCs answered.
    static func expectNoSecrets(_ fixture: OAuthFixture, answers: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let stats = try await fixture.tokens.stats()
        let log = fixture.logs.all
        #expect(!log.isEmpty, sourceLocation: sourceLocation)
        for secret in stats.issuedTokens + [fixture.tokens.options.clientSecret] {
            #expect(!log.contains(secret), "a secret in the log", sourceLocation: sourceLocation)
            for answer in answers { #expect(!answer.contains(secret), "a secret in an RPC answer", sourceLocation: sourceLocation) }
        }
    }

    @Test("sign-in: the authorization URL asks for a code with PKCE S256 and offline access; Complete connects the ID token's address; the first sync logs in with a bearer token")
    func signInAndFirstSync() async throws {
        try await OAuthFixture.with { fixture in
            try await fixture.deliver(subject: "Before connecting")
            let (start, mailbox) = try await fixture.signIn(.gmail)

            let url = try #require(URLComponents(string: start.authorizationUrl))
            let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            #expect(url.path == "/authorize")
            #expect(query["client_id"] == fixture.tokens.options.clientID)
            #expect(query["redirect_uri"] == OAuthFixture.redirectURI)
            #expect(query["response_type"] == "code")
            #expect(query["scope"] == "https://mail.google.com/ openid email")
            #expect(query["state"] == start.state)
            #expect(query["code_challenge_method"] == "S256")
            #expect(query["code_challenge"]?.count == 43)
            #expect(query["access_type"] == "offline")
            #expect(query["prompt"] == "consent")
            #expect(query["login_hint"] == OAuthFixture.owner)
            #expect(start.state.count == 43)
            #expect(start.expiresAt.secondsSinceEpoch - fixture.harness.clock.now().secondsSinceEpoch == 600)

            #expect(mailbox.emailAddress == OAuthFixture.owner)
            #expect(mailbox.username == OAuthFixture.owner)
            #expect(mailbox.authMethod == .oauth)
            #expect(mailbox.provider == .gmail)
            #expect(mailbox.status == .enabled)
            #expect(mailbox.imap.port == UInt32(fixture.dovecot.port))

            #expect(await fixture.harness.runSyncs() == 1)
            let status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .enabled, "\(status.lastError.map { $0.serverText } ?? "")")
            #expect(try await fixture.timeline().map(\.subject) == ["Before connecting"])
            #expect(fixture.bearerLogins() == 1, "\(fixture.dovecot.log())")
            let stats = try await fixture.tokens.stats()
            #expect(stats.refreshGrants == 0)
            #expect(stats.userinfoRequests == 0, "the ID token named the address; userinfo is not asked")
            try await Self.expectNoSecrets(fixture, answers: ["\(start)", "\(mailbox)", "\(status)"])
        }
    }

    @Test("no ID token: the address comes from the provider's userinfo endpoint, verified only; without an endpoint, or when it refuses, Complete fails saying what to fix and connects nothing")
    func addressFromUserinfo() async throws {
        try await OAuthFixture.with { fixture in
            try await fixture.tokens.control(["id_token": false])
            let admin = fixture.company.admin
            // Microsoft 365, as built in, has no userinfo endpoint for these tokens.
            await #expect { _ = try await fixture.signIn(.microsoft365) } throws: {
                ($0 as? RPCError)?.code == .internal && "\($0)".contains("no userinfo endpoint") && "\($0)".contains("openid and email scopes")
            }
            // An address the provider has not verified is not taken.
            try await fixture.tokens.control(["userinfo_verified": false])
            await #expect { _ = try await fixture.signIn(.gmail) } throws: {
                ($0 as? RPCError)?.code == .internal && "\($0)".contains("verified")
            }
            // The endpoint failing: its words, and what to check.
            try await fixture.tokens.control(["userinfo_verified": true, "userinfo_status": 500])
            await #expect { _ = try await fixture.signIn(.gmail) } throws: {
                ($0 as? RPCError)?.code == .internal && "\($0)".contains("userinfo is failing") && "\($0)".contains("email scope")
            }
            #expect(try await admin.listMailboxes(ListMailboxesRequest()).mailboxes.isEmpty)

            try await fixture.tokens.control(["userinfo_status": 0])
            try await fixture.deliver(subject: "Found through userinfo")
            let (start, mailbox) = try await fixture.signIn(.gmail)
            #expect(mailbox.emailAddress == OAuthFixture.owner)
            #expect(mailbox.authMethod == .oauth)
            #expect(try await fixture.tokens.stats().userinfoRequests == 2)  // the unverified answer, then this one
            #expect(await fixture.harness.runSyncs() == 1)
            let status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .enabled, "\(status.lastError.map { $0.serverText } ?? "")")
            #expect(try await fixture.timeline().map(\.subject) == ["Found through userinfo"])
            try await Self.expectNoSecrets(fixture, answers: ["\(start)", "\(mailbox)", "\(status)"])
        }
    }

    @Test("Dovecot itself refuses an expired access token and one for another account, and accepts a valid one")
    func dovecotValidatesTokens() async throws {
        try await OAuthFixture.with { fixture in
            let valid = try await fixture.tokens.mintAccessToken(for: OAuthFixture.owner, lifetime: 60)
            let imap = try await IMAPConnection.connect(
                host: "127.0.0.1", port: fixture.dovecot.port, security: .none, username: OAuthFixture.owner,
                credentials: .oauthBearer(valid), policy: .testLoopback)
            await imap.close()
            let expired = try await fixture.tokens.mintAccessToken(for: OAuthFixture.owner, lifetime: -5)
            await #expect { _ = try await IMAPConnection.connect(
                host: "127.0.0.1", port: fixture.dovecot.port, security: .none, username: OAuthFixture.owner,
                credentials: .oauthBearer(expired), policy: .testLoopback) } throws: { error in
                (error as? IMAPConnectionError)?.diagnosis.errorClass == .authentication
            }
            #expect(fixture.dovecot.log().contains("Token has expired"), "\(fixture.dovecot.log())")
            let otherUser = try await fixture.tokens.mintAccessToken(for: "mallory@acme.example", lifetime: 60)
            await #expect(throws: IMAPConnectionError.self) { _ = try await IMAPConnection.connect(
                host: "127.0.0.1", port: fixture.dovecot.port, security: .none, username: OAuthFixture.owner,
                credentials: .oauthBearer(otherUser), policy: .testLoopback) }
        }
    }

    @Test("an access token close to expiry is refreshed (scopes sent again) before the sync, which goes on; Microsoft's rotated refresh token is stored and the next refresh uses it")
    func refreshAndRotation() async throws {
        try await OAuthFixture.with(tokenOptions: .init(accessTokenLifetime: 3600, rotateRefreshTokens: true)) { fixture in
            let (_, mailbox) = try await fixture.signIn(.microsoft365)
            #expect(await fixture.harness.runSyncs() == 1)
            let first = try await fixture.tokens.stats()
            #expect(first.refreshGrants == 0)
            let original = try #require(first.liveRefreshTokens.first)

            // 56 minutes later less than 5 minutes are left: the run refreshes first.
            try await fixture.deliver(subject: "After the first refresh")
            #expect(await fixture.advanceAndSync(seconds: 56 * 60) == 1)
            var stats = try await fixture.tokens.stats()
            #expect(stats.refreshGrants == 1)
            #expect(stats.refreshScopes == [Self.microsoftScope])
            #expect(stats.liveRefreshTokens.count == 1)
            #expect(stats.liveRefreshTokens.first != original, "rotated: the old refresh token is revoked")
            #expect(try await fixture.status(mailbox.id).mailbox.status == .enabled)
            #expect(try await fixture.timeline().map(\.subject) == ["After the first refresh"])

            // Between refreshes no new token is asked for.
            #expect(await fixture.advanceAndSync(seconds: 10 * 60) == 1)
            #expect(try await fixture.tokens.stats().refreshGrants == 1)

            // The next refresh must use the rotated token (the original is revoked: invalid_grant).
            try await fixture.deliver(subject: "After the second refresh")
            #expect(await fixture.advanceAndSync(seconds: 50 * 60) == 1)
            stats = try await fixture.tokens.stats()
            #expect(stats.refreshGrants == 2)
            let status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .enabled, "\(status.lastError.map { $0.serverText } ?? "")")
            #expect(try await fixture.timeline().count == 2)
            #expect(fixture.bearerLogins() == 4)
            try await Self.expectNoSecrets(fixture, answers: ["\(status)"])
        }
    }

    @Test("a token that expired early is refused by Dovecot; one forced refresh and the sync goes on")
    func refusedTokenForcesRefresh() async throws {
        try await OAuthFixture.with(tokenOptions: .init(accessTokenLifetime: 3600)) { fixture in
            let (_, mailbox) = try await fixture.signIn(.gmail)
            // The endpoint will say an hour, but the next token's JWT has already expired (no real
            // time has to pass: Dovecot's clock decides, so the token is made dead on issue).
            try await fixture.tokens.control(["expired_jwts": 1])
            try await fixture.deliver(subject: "Early expiry")
            // Near the first token's end the server refreshes, gets the dead token and believes it
            // has an hour; Dovecot refuses it → exactly one forced refresh, and the sync goes on.
            #expect(await fixture.advanceAndSync(seconds: 56 * 60) == 1)
            let status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .enabled, "\(status.lastError.map { $0.serverText } ?? "")")
            #expect(try await fixture.tokens.stats().refreshGrants == 2)
            // The next poll uses the good token: no further refresh.
            try await fixture.deliver(subject: "After the forced refresh")
            #expect(await fixture.advanceAndSync(seconds: 10 * 60) == 1)
            #expect(try await fixture.tokens.stats().refreshGrants == 2)
            #expect(fixture.dovecot.log().contains("Token has expired"), "\(fixture.dovecot.log())")
        }
    }

    @Test("a revoked refresh token: ERROR with invalid_grant and the reconnect hint, no further attempts, CONNECTION_ISSUE after two days; signing in again recovers")
    func revokedRefreshToken() async throws {
        try await OAuthFixture.with { fixture in
            let (_, mailbox) = try await fixture.signIn(.gmail)
            #expect(await fixture.harness.runSyncs() == 1)
            try await fixture.tokens.control(["revoke_all": true])
            #expect(await fixture.advanceAndSync(seconds: 56 * 60) == 1)
            var status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.errorClass == .authentication)
            #expect(error.serverText == "invalid_grant: Token has been expired or revoked.")
            #expect(error.fixHint.contains("connect again"), "\(error.fixHint)")
            #expect(try await fixture.tokens.stats().refreshGrants == 1)

            // No more attempts: a dead grant retried is only noise.
            for _ in 0..<24 { await fixture.advanceAndSync(seconds: 3600) }
            #expect(try await fixture.tokens.stats().refreshGrants == 1)
            #expect(try await fixture.status(mailbox.id).mailbox.status == .error)
            await fixture.advanceAndSync(seconds: 25 * 3600)
            status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .connectionIssue)
            #expect(try await fixture.tokens.stats().refreshGrants == 1)

            // Signing in again reconnects the same mailbox and syncs.
            let (_, again) = try await fixture.signIn(.gmail)
            #expect(again.id == mailbox.id)
            #expect(again.status == .enabled)
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(try await fixture.status(mailbox.id).mailbox.status == .enabled)
        }
    }

    @Test("invalid_client while refreshing is our configuration: class OPERATOR, logged for operators, the user told there is nothing to do")
    func invalidClientIsOperator() async throws {
        try await OAuthFixture.with { fixture in
            let (_, mailbox) = try await fixture.signIn(.gmail)
            try await fixture.tokens.control(["client_secret": "rotated-at-the-provider"])
            #expect(await fixture.advanceAndSync(seconds: 56 * 60) == 1)
            let status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.errorClass == .operator)
            #expect(error.serverText.hasPrefix("invalid_client"))
            #expect(error.fixHint.contains("nothing for you to do"), "\(error.fixHint)")
            #expect(fixture.logs.all.contains("rotate the client secret"), "the operator note is logged")
            try await Self.expectNoSecrets(fixture, answers: ["\(status)"])
        }
    }

    @Test("the token endpoint down or answering 503 is temporary (retried after a minute), never an authentication failure")
    func endpointDownIsTemporary() async throws {
        try await OAuthFixture.with { fixture in
            let (_, mailbox) = try await fixture.signIn(.gmail)
            try await fixture.tokens.control(["fail_status": 503])
            #expect(await fixture.advanceAndSync(seconds: 56 * 60) == 1)
            var error = try #require(try await fixture.status(mailbox.id).lastError)
            #expect(error.errorClass == .temporary)
            #expect(error.serverText.hasPrefix("temporarily_unavailable"))
            #expect(await fixture.advanceAndSync(seconds: 30) == 0)
            #expect(await fixture.advanceAndSync(seconds: 31) == 1, "retried after a minute")

            await fixture.tokens.kill()
            #expect(await fixture.advanceAndSync(seconds: 2 * 60 + 1) == 1)
            let status = try await fixture.status(mailbox.id)
            #expect(status.mailbox.status == .error)
            error = try #require(status.lastError)
            #expect(error.errorClass == .temporary)
            #expect(error.serverText.contains("Connection refused"), "\(error.serverText)")
        }
    }

    @Test("a sign-in started before a restart completes after it: the state is kept in the company's database as a hash, the verifier sealed")
    func stateSurvivesRestart() async throws {
        try await OAuthFixture.with { fixture in
            let start = try await fixture.company.admin.startOAuthConnection(OAuthFixture.startRequest(.gmail))
            let (code, state) = try await fixture.tokens.authorize(start.authorizationUrl)
            let stored = try await MailboxFixtures.tenantRead(fixture.harness, fixture.company) { db in
                try db.query("SELECT state_hash, verifier FROM oauth_states").map { ($0[0].string ?? "", $0[1].bytes ?? []) }
            }
            try #require(stored.count == 1)
            #expect(stored[0].0.count == 64 && stored[0].0 != state)
            let challenge = try #require(URLComponents(string: start.authorizationUrl)?.queryItems?.first { $0.name == "code_challenge" }?.value)
            let tenant = try #require(TenantID(validating: fixture.company.id))
            let secrets = try #require(fixture.harness.server.environment).secrets
            let verifier = try secrets.open(stored[0].1, context: OAuthStateStore.secretContext(tenant: tenant, hash: stored[0].0))
            #expect(OAuthPKCE.challenge(verifier) == challenge, "the sealed verifier is the one the challenge was made from")
            #expect(!String(decoding: stored[0].1, as: UTF8.self).contains(verifier), "sealed, not in clear")

            await fixture.harness.stop(keepData: true)
            let restarted = try await ServiceHarness.start(dataDirectory: fixture.harness.dataDirectory, providers: fixture.providers)
            do {
                let admin = restarted.client(key: fixture.company.adminKey)
                let complete = try await admin.completeOAuthConnection(OAuthFixture.completeRequest(state: state, code: code))
                #expect(complete.mailbox.emailAddress == OAuthFixture.owner)
                #expect(complete.mailbox.status == .enabled)
                await #expect { _ = try await admin.completeOAuthConnection(OAuthFixture.completeRequest(state: state, code: code)) } throws: {
                    ($0 as? RPCError)?.code == .failedPrecondition && "\($0)".contains("already used")
                }
            } catch {
                await restarted.stop()
                throw error
            }
            await restarted.stop()
        }
    }

    @Test("Start and Complete refuse: other providers, bad redirect URIs, a state used twice, an expired state, another user's mailbox for a salesperson")
    func refusals() async throws {
        try await OAuthFixture.with { fixture in
            let admin = fixture.company.admin
            await #expect { _ = try await admin.startOAuthConnection(OAuthFixture.startRequest(.godaddy)) } throws: {
                ($0 as? RPCError)?.code == .invalidArgument
            }
            var bad = OAuthFixture.startRequest(.gmail)
            bad.redirectUri = "http://crm.example/callback"
            await #expect { _ = try await admin.startOAuthConnection(bad) } throws: { ($0 as? RPCError)?.code == .invalidArgument }
            bad.redirectUri = "https://crm.example/callback#fragment"
            await #expect { _ = try await admin.startOAuthConnection(bad) } throws: { ($0 as? RPCError)?.code == .invalidArgument }

            // Used twice.
            let start = try await admin.startOAuthConnection(OAuthFixture.startRequest(.gmail))
            let (code, state) = try await fixture.tokens.authorize(start.authorizationUrl)
            _ = try await admin.completeOAuthConnection(OAuthFixture.completeRequest(state: state, code: code))
            await #expect { _ = try await admin.completeOAuthConnection(OAuthFixture.completeRequest(state: state, code: code)) } throws: {
                ($0 as? RPCError)?.code == .failedPrecondition && "\($0)".contains("already used")
            }
            // Unknown.
            await #expect { _ = try await admin.completeOAuthConnection(OAuthFixture.completeRequest(state: "nope", code: code)) } throws: {
                ($0 as? RPCError)?.code == .failedPrecondition
            }
            // Expired after 10 minutes.
            let late = try await admin.startOAuthConnection(OAuthFixture.startRequest(.gmail))
            let (lateCode, lateState) = try await fixture.tokens.authorize(late.authorizationUrl)
            fixture.harness.clock.advance(seconds: 601)
            await #expect { _ = try await admin.completeOAuthConnection(OAuthFixture.completeRequest(state: lateState, code: lateCode)) } throws: {
                ($0 as? RPCError)?.code == .failedPrecondition && "\($0)".contains("expired")
            }
            // A salesperson connects only their own mailbox.
            let sales = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "sam", role: .salesperson)
            await #expect { _ = try await sales.client.startOAuthConnection(OAuthFixture.startRequest(.gmail, user: fixture.company.adminUserID)) } throws: {
                ($0 as? RPCError)?.code == .permissionDenied
            }
            // An administrator may start one for the salesperson; the state is the company's only.
            let forSam = try await admin.startOAuthConnection(OAuthFixture.startRequest(.gmail, user: "sam", loginHint: "sam@acme.example"))
            let other = try await fixture.harness.makeCompany(name: "Other")
            let (samCode, samState) = try await fixture.tokens.authorize(forSam.authorizationUrl)
            await #expect { _ = try await other.admin.completeOAuthConnection(OAuthFixture.completeRequest(state: samState, code: samCode)) } throws: {
                ($0 as? RPCError)?.code == .failedPrecondition
            }
        }
    }

    @Test("only the user who started a sign-in (or an administrator) completes it; a refused caller does not use the state up")
    func completingCaller() async throws {
        try await OAuthFixture.with { fixture in
            let sam = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "sam", role: .salesperson)
            let eve = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "eve", role: .salesperson)
            let start = try await sam.client.startOAuthConnection(OAuthFixture.startRequest(.gmail, loginHint: "sam@acme.example"))
            let (code, state) = try await fixture.tokens.authorize(start.authorizationUrl)
            await #expect { _ = try await eve.client.completeOAuthConnection(OAuthFixture.completeRequest(state: state, code: code)) } throws: {
                ($0 as? RPCError)?.code == .permissionDenied && "\($0)".contains("started by another user")
            }
            // Still there for Sam, who completes it: the mailbox is Sam's.
            let done = try await sam.client.completeOAuthConnection(OAuthFixture.completeRequest(state: state, code: code))
            #expect(done.mailbox.userId == "sam")
            #expect(done.mailbox.emailAddress == "sam@acme.example")
        }
    }

    @Test("Smart Mail from an OAuth mailbox: the token is refreshed when close to expiry and the SMTP server accepts XOAUTH2 with it; a revoked sign-in fails the send and is in the error log")
    func smartMailOverXOAUTH2() async throws {
        let options = OAuthTokenServer.Options()
        try await SMTPServer.withServer(options: .init(users: [], oauthKey: options.signingKey)) { smtp in
            try await OAuthFixture.with(tokenOptions: options, smtpPort: smtp.port) { fixture in
                let (_, mailbox) = try await fixture.signIn(.gmail)
                #expect(mailbox.smtp.port == UInt32(smtp.port))
                fixture.harness.clock.advance(seconds: 56 * 60)
                var request = SendSmartMailRequest()
                request.leadId = "lead-1"
                request.subject = "Over XOAUTH2"
                request.textBody = "Hello Jane."
                let sent = try await fixture.company.admin.sendSmartMail(request)
                #expect(try await fixture.tokens.stats().refreshGrants == 1)
                let received = try smtp.messages()
                #expect(received.count == 1)
                #expect(received.first?.login == OAuthFixture.owner)
                #expect(received.first?.recipients == ["jane@client.example"])
                #expect(try await fixture.timeline().map(\.subject) == ["Over XOAUTH2"])
                try await Self.expectNoSecrets(fixture, answers: ["\(sent)"])

                // The sign-in revoked: the next send fails before SMTP, says to reconnect, and the
                // mailbox's error log and events show it like any refused send.
                try await fixture.tokens.control(["revoke_all": true])
                fixture.harness.clock.advance(seconds: 56 * 60)
                request.subject = "After revocation"
                await #expect { _ = try await fixture.company.admin.sendSmartMail(request) } throws: { error in
                    guard let status = error as? RPCError else { return false }
                    return status.code == .failedPrecondition && status.message.contains("could not be renewed")
                        && status.message.contains("invalid_grant")
                }
                #expect(try smtp.messages().count == 1)
                var logRequest = ListErrorLogRequest()
                logRequest.mailboxId = mailbox.id
                let log = try await fixture.company.admin.listErrorLog(logRequest).entries
                try #require(log.count == 1)
                #expect(log[0].errorClass == .authentication)
                #expect(log[0].serverText.contains("invalid_grant"), "\(log[0].serverText)")
                var eventRequest = ListSyncEventsRequest()
                eventRequest.mailboxId = mailbox.id
                eventRequest.kinds = [.error]
                let events = try await fixture.company.admin.listSyncEvents(eventRequest).events
                #expect(events.contains { $0.detail.contains("After revocation") && $0.detail.contains("invalid_grant") }, "\(events.map(\.detail))")
                #expect(try await fixture.timeline().map(\.subject) == ["Over XOAUTH2"])
            }
        }
    }
}

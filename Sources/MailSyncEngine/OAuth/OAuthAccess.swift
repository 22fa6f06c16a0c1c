import Foundation
import Logging
import MailSyncErrors
import MailSyncMailTransport
import MailSyncStorage
import MailSyncTenantData

/// Access tokens for OAuth mailboxes, for the sync engine and Smart Mail: the stored one while it
/// has more than ``refreshMargin`` left, otherwise a new one from the provider's token endpoint
/// (RFC 6749 §6 refresh grant, the scopes sent again), stored before it is used.
///
/// - One refresh at a time per mailbox (``OAuthRefreshFlights``); the tokens are read again from
///   the database inside the flight, so a refresh that just finished elsewhere is reused.
/// - A rotated refresh token (Microsoft: every refresh) replaces the stored one; without one the
///   old one is kept (Google). The write only replaces the secret it started from
///   (compare-and-swap), so a reconnect or disable in between wins.
/// - Failures are ``OAuthAccessError`` with a `Diagnosis`: `invalid_grant` is authentication
///   with the reconnect hint (no retries); `invalid_client` and other problems with our request
///   are operator errors; an unreachable endpoint, 5xx and 429 are temporary — never
///   authentication.
/// - Tokens are never logged; the log says a refresh happened, for which mailbox, and whether the
///   refresh token rotated.
package struct OAuthAccess: Sendable {
    package let env: any SyncEnvironment

    package init(env: any SyncEnvironment) { self.env = env }

    /// Refresh when less than this is left: 5 minutes.
    package static let refreshMargin: Int64 = 5 * 60 * 1_000_000
    /// One refresh may take this long. Default 30 s.
    package static let timeout: Duration = .seconds(30)

    /// A usable access token for `mailbox`, whose sealed secret is `sealed`. `refused`, the token
    /// the mail server has just refused, forces a refresh even when the stored token looks fresh
    /// (it may have been revoked or have expired early) — also when `refused` was itself obtained
    /// moments ago and `sealed` still holds the one before it: only a token other than `refused`
    /// is returned without a new refresh.
    package func accessToken(tenant: TenantID, mailbox: MailboxRecord, sealed: [UInt8]?, refused: String? = nil) async throws(OAuthAccessError) -> String {
        let context = MailboxRecords.secretContext(tenant: tenant, mailboxID: mailbox.id)
        let credentials = try open(sealed, context: context)
        let now = env.clock.now().microsecondsSinceEpoch
        let force = refused != nil
        if !force, credentials.expiresAt - now > Self.refreshMargin { return credentials.accessToken }
        let started = refused ?? credentials.accessToken
        do {
            return try await env.oauthRefreshes.run("\(tenant)/\(mailbox.id)") { [self] in
                try await refresh(tenant: tenant, mailbox: mailbox, context: context, startedFrom: started, force: force)
            }
        } catch let error as OAuthAccessError {
            throw error
        } catch {
            throw OAuthAccessError(SyncFailure(storage: error).diagnosis)
        }
    }

    private func refresh(tenant: TenantID, mailbox: MailboxRecord, context: String, startedFrom: String, force: Bool) async throws -> String {
        let id = mailbox.id
        let sealed = try await env.read(tenant, "the mailbox's tokens") { try MailboxRecords.sealedSecret($0, id: id) }
        guard let sealed else { throw OAuthAccessError.noCredentials }
        let current = try open(sealed, context: context)
        let now = env.clock.now().microsecondsSinceEpoch
        // Refreshed by another flight since the caller read it.
        if current.accessToken != startedFrom, current.expiresAt - now > Self.refreshMargin { return current.accessToken }
        if !force, current.expiresAt - now > Self.refreshMargin { return current.accessToken }
        guard let refreshToken = current.refreshToken else { throw OAuthAccessError.noRefreshToken }
        guard let refresh = env.syncProviders.tokenRefresh(mailbox.provider) else {
            throw OAuthAccessError.noClient(env.syncProviders.name(mailbox.provider))
        }
        let response: OAuthTokenResponse
        do {
            response = try await OAuthTokenClient.requestToken(
                endpoint: refresh.tokenEndpoint, grant: .refreshToken(refreshToken, scope: refresh.scope), client: refresh.client,
                timeout: Self.timeout, caFile: env.syncProviders.tokenCAFile, policy: env.outbound)
        } catch {
            let diagnosis = Self.diagnosis(error)
            env.logger.notice("oauth: token refresh failed", metadata: [
                "company": "\(tenant)", "mailbox": "\(id)", "class": "\(diagnosis.errorClass)", "rule": "\(diagnosis.rule)",
            ])
            throw OAuthAccessError(diagnosis)
        }
        let refreshed = OAuthCredentials(
            accessToken: response.accessToken, refreshToken: response.refreshToken ?? refreshToken,
            expiresAt: env.clock.now().microsecondsSinceEpoch + Int64(response.expiresIn ?? Int(OAuthCredentials.defaultLifetime)) * 1_000_000,
            scope: response.scope ?? current.scope)
        let newSealed = refreshed.seal(env.secrets, context: context)
        let stored = try await env.limitedWrite(tenant, "the mailbox's tokens") { db in
            try MailboxRecords.replaceSecret(db, id: id, old: sealed, new: newSealed)
        }
        env.logger.debug("oauth: access token refreshed", metadata: [
            "company": "\(tenant)", "mailbox": "\(id)", "rotated": "\(response.refreshToken != nil)",
            "expires-in": "\(response.expiresIn.map(String.init) ?? "-")", "stored": "\(stored == 1)",
        ])
        return refreshed.accessToken
    }

    private func open(_ sealed: [UInt8]?, context: String) throws(OAuthAccessError) -> OAuthCredentials {
        guard let sealed else { throw OAuthAccessError.noCredentials }
        do {
            return try OAuthCredentials.open(sealed, box: env.secrets, context: context)
        } catch {
            throw OAuthAccessError.unreadable
        }
    }

    /// A token endpoint's failure, classified: connection failures are temporary whatever their
    /// kind (the endpoint is the provider's, not the user's setting).
    package static func diagnosis(_ error: OAuthTokenClientError) -> Diagnosis {
        let diagnosis = error.diagnosis
        guard case .connection(let failure) = error.failure else { return diagnosis }
        if failure.kind == .notAllowed {
            // The endpoint comes from the server's configuration, not from the user: ours to fix.
            return Diagnosis(
                errorClass: .operator,
                hint: "Mail Sync could not reach your email provider's sign-in service because of a setting on our side, not with your account. Our team has been notified; there is nothing for you to do.",
                retry: .temporaryDefault, serverText: diagnosis.serverText, rule: "oauth.tokenEndpointNotAllowed",
                operatorNote: "the OAuth endpoint's address is refused by the outbound policy: \(error.policyRefusal.map { "\($0)" } ?? "?"); add it to outboundAllow if it is meant to be reached")
        }
        return Diagnosis(
            errorClass: .temporary,
            hint: "Your email provider's sign-in service could not be reached. Mail Sync retries automatically; nothing to do unless it lasts more than a day.",
            retry: .temporaryDefault, serverText: diagnosis.serverText, rule: "oauth.tokenEndpointUnreachable")
    }
}

/// Why no access token could be had: the diagnosis the error log records and the retry follows.
package struct OAuthAccessError: Error, Sendable, CustomStringConvertible {
    package var diagnosis: Diagnosis

    package init(_ diagnosis: Diagnosis) { self.diagnosis = diagnosis }

    package var description: String { "\(diagnosis.errorClass): \(diagnosis.serverText)" }

    package static let reconnectHint = "Disconnect Mail Sync and connect again, signing in to your email account."

    package static let noCredentials = OAuthAccessError(Diagnosis(
        errorClass: .authentication, hint: reconnectHint, retry: .reconnect, serverText: "no stored OAuth tokens", rule: "local.noSecret"))
    package static let unreadable = OAuthAccessError(Diagnosis(
        errorClass: .authentication, hint: "The server can no longer read the stored sign-in. " + reconnectHint, retry: .reconnect,
        serverText: "the stored OAuth tokens cannot be read", rule: "local.secretUnreadable"))
    package static let noRefreshToken = OAuthAccessError(Diagnosis(
        errorClass: .authentication, hint: "The sign-in expired and the provider gave no way to renew it. " + reconnectHint,
        retry: .reconnect, serverText: "the access token expired and no refresh token is stored", rule: "local.noRefreshToken"))

    package static func noClient(_ providerName: String?) -> OAuthAccessError {
        OAuthAccessError(Diagnosis(
            errorClass: .operator,
            hint: "Mail Sync could not connect because of a problem on our side, not with your account. Our team has been notified; there is nothing for you to do.",
            retry: .untilSettingsChange, serverText: "no OAuth client is configured for \(providerName ?? "this provider")",
            rule: "local.noOAuthClient",
            operatorNote: "set providers.<name>.oauthClientId and oauthClientSecret in the server's config file"))
    }
}

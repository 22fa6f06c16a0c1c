import Foundation
import Logging
import MailSyncClient
import MailSyncCoding
import MailSyncErrors
import MailSyncMailTransport
import MailSyncRPC
import MailSyncSecurity
import MailSyncStorage
import MailSyncTenantData
import MailSyncEngine

/// Connecting a Gmail or Microsoft 365 mailbox with OAuth 2.0 (authorization code flow with PKCE).
///
/// 1. `StartOAuthConnection` checks the provider (GMAIL or MICROSOFT_365, with an OAuth client in
///    the server's config), the redirect URI and whose mailbox (the caller's own, or anyone's for
///    administrators and company managers), remembers a random `state` with a PKCE verifier for 10
///    minutes (``OAuthStateStore``), and answers the provider's authorization URL.
/// 2. The frontend opens it; the provider sends the browser back to the redirect URI with `code`
///    and `state`.
/// 3. `CompleteOAuthConnection` takes the state (once: unknown, used and expired states are
///    refused with `failed precondition`), checks the caller may act for its user, trades the code
///    at the token endpoint (libcurl, its own thread), reads the signed-in address from the ID
///    token, seals the tokens (``OAuthCredentials``) and creates the mailbox — or reconnects the
///    user's mailbox with the same address — as `ENABLED` (or `PENDING` at the mailbox sync
///    limit), scheduled to sync now.
///
/// Tokens, codes, verifiers and the client secret are never logged nor returned.
struct OAuthHandlers: MailSync.OAuthHandler {
    let env: ServiceEnvironment

    /// The providers that sign in with OAuth: those whose preset has an ``OAuthPreset`` (one
    /// entry in ``ProviderPreset/all``; a new provider is added there, not here).
    static let oauthProviders: [MailProvider] = ProviderPreset.all.filter { $0.oauth != nil }.map(\.provider)
    /// `GMAIL or MICROSOFT_365`, for error messages.
    static let oauthProviderNames = ProviderPreset.all.filter { $0.oauth != nil }.map(\.shortName).joined(separator: " or ")
    static let exchangeTimeout: Duration = .seconds(30)

    func startOAuthConnection(_ request: StartOAuthConnectionRequest, context: ServerContext) async throws -> StartOAuthConnectionResponse {
        let (caller, tenant) = try context.tenant()
        let userID = try context.subjectUser(request.userId)
        let (preset, client) = try oauthSetup(request.provider)
        guard let provider = MailboxRecord.Provider(request.provider) else {
            throw RPCError(.invalidArgument, "provider must be GMAIL or MICROSOFT_365 to sign in with OAuth")
        }
        try Validate.required(request.redirectUri, "redirect_uri")
        guard OAuthRedirect.isAcceptable(request.redirectUri) else {
            throw RPCError(.invalidArgument, "redirect_uri must be an absolute https:// URL (http:// only on loopback) without a fragment, got '\(request.redirectUri.prefix(200))'")
        }
        if !env.providers.redirectURIs.isEmpty, !env.providers.redirectURIs.contains(request.redirectUri) {
            throw RPCError(.invalidArgument, "redirect_uri '\(request.redirectUri.prefix(200))' is not one this server accepts; use one registered in oauthRedirectURIs")
        }
        try Validate.length(request.loginHint, "login_hint", max: 320)
        guard !request.loginHint.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RPCError(.invalidArgument, "login_hint must not contain control characters")
        }
        try await env.read(tenant, "the user") { try MailboxHandlers.requireActiveUser($0, userID) }

        let verifier = OAuthPKCE.randomToken()
        let now = env.clock.now()
        let expiresAt = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + OAuthStateStore.lifetime)
        let entry = OAuthStateStore.Pending(
            startedBy: caller.userID, userID: userID, provider: provider,
            redirectURI: request.redirectUri, codeVerifier: verifier, expiresAt: expiresAt)
        let secrets = env.secrets
        let state = try await env.write(tenant, "the sign-in's state") { db in
            try OAuthStateStore.start(db, entry, now: now, secrets: secrets, tenant: tenant)
        }
        var response = StartOAuthConnectionResponse()
        response.authorizationUrl = OAuthRedirect.authorizationURL(
            endpoint: preset.authorizationEndpoint, clientID: client.id, redirectURI: request.redirectUri, scope: preset.scope,
            state: state, codeChallenge: OAuthPKCE.challenge(verifier), loginHint: request.loginHint,
            extra: preset.extraAuthorizationParameters)
        response.state = state
        response.expiresAt = expiresAt
        return response
    }

    func completeOAuthConnection(_ request: CompleteOAuthConnectionRequest, context: ServerContext) async throws -> CompleteOAuthConnectionResponse {
        let (caller, tenant) = try context.tenant()
        try Validate.required(request.state, "state")
        try Validate.required(request.code, "code")
        try Validate.length(request.state, "state", max: 200)
        try Validate.length(request.code, "code", max: 4096)
        let takenAt = env.clock.now()
        let secrets = env.secrets
        let state = request.state
        let pending: OAuthStateStore.Pending
        let provider: MailProvider
        // Only the user who started the sign-in completes it (or someone who may act for the
        // mailbox's user: an administrator); checked before the state is used up, so a refused
        // caller cannot spoil the real user's sign-in.
        let mayActOnOthers = context.method.mayActOnOthers(role: caller.role)
        let authorize: @Sendable (String, String) throws -> Void = { startedBy, userID in
            guard caller.userID == startedBy || mayActOnOthers else {
                throw RPCError(.permissionDenied, "this sign-in was started by another user; only they, or an administrator, can complete it")
            }
            if userID != caller.userID, !mayActOnOthers {
                throw RPCError(.permissionDenied, "you may connect only your own mailbox")
            }
        }
        switch try await env.write(tenant, "the sign-in's state", { db in
            try OAuthStateStore.take(db, state: state, now: takenAt, secrets: secrets, tenant: tenant, authorize: authorize)
        }) {
        case .success(let entry):
            pending = entry
            provider = MailProvider(entry.provider)
        case .failure(.unknown):
            throw RPCError(.failedPrecondition, "state is unknown or was already used; start the sign-in again with StartOAuthConnection")
        case .failure(.expired):
            throw RPCError(.failedPrecondition, "the sign-in expired (more than 10 minutes passed since StartOAuthConnection); start it again")
        }
        try context.requireAccess(toUser: pending.userID)
        let (preset, client) = try oauthSetup(provider)
        guard let providerPreset = env.providers.preset(provider), let imap = providerPreset.imap else {
            throw RPCError(.internal, "no IMAP server is known for \(providerPreset(provider))")
        }

        let tokens: OAuthTokenResponse
        do {
            tokens = try await OAuthTokenClient.requestToken(
                endpoint: preset.tokenEndpoint,
                grant: .authorizationCode(code: request.code, redirectURI: pending.redirectURI, codeVerifier: pending.codeVerifier),
                client: client, timeout: Self.exchangeTimeout, caFile: env.providers.tokenCAFile, policy: env.outbound)
        } catch {
            throw refusedExchange(OAuthAccess.diagnosis(error), tenant: tenant, provider: provider, context: context)
        }
        let email = try await signedInAddress(tokens, preset: preset, tenant: tenant, provider: provider, context: context)
        if tokens.refreshToken == nil {
            env.logger.notice("oauth: sign-in without a refresh token; the mailbox must sign in again when the access token expires", metadata: [
                "company": "\(tenant)", "provider": "\(providerPreset.shortName)",
            ])
        }
        let now = env.clock.now().microsecondsSinceEpoch
        let credentials = OAuthCredentials(
            accessToken: tokens.accessToken, refreshToken: tokens.refreshToken,
            expiresAt: now + Int64(tokens.expiresIn ?? Int(OAuthCredentials.defaultLifetime)) * 1_000_000, scope: tokens.scope)
        let mailbox = try await connect(
            tenant: tenant, userID: pending.userID, provider: provider, email: email, imap: imap,
            smtp: providerPreset.smtp ?? ServerEndpoint(), credentials: credentials, now: now)
        env.syncRequests.scheduleChanged(tenant)
        var response = CompleteOAuthConnectionResponse()
        response.mailbox = mailbox
        return response
    }

    // MARK: - Steps

    /// The address that signed in: the ID token's, else the provider's userinfo endpoint's
    /// (verified addresses only).
    ///
    /// - Throws: `internal` when neither names one (the operators' scopes or endpoints are
    ///   wrong); `unavailable` when the userinfo endpoint cannot be reached (try again).
    private func signedInAddress(
        _ tokens: OAuthTokenResponse, preset: OAuthPreset, tenant: TenantID, provider: MailProvider, context: ServerContext
    ) async throws -> String {
        if let claimed = tokens.idToken.flatMap(IDTokenClaims.init)?.address {
            return try Validate.email(claimed, "the ID token's email")
        }
        let metadata: Logger.Metadata = [
            "company": "\(tenant)", "provider": "\(providerPreset(provider))", "request": "\(context.requestID)",
        ]
        guard let endpoint = preset.userinfoEndpoint else {
            env.logger.error("oauth: no address in the token answer and no userinfo endpoint", metadata: metadata)
            throw RPCError(.internal, "the provider did not say which address signed in (no email in its ID token, and no userinfo endpoint is configured); the operators must include the openid and email scopes")
        }
        let userinfo: OAuthUserinfoClient.Userinfo
        do {
            userinfo = try await OAuthUserinfoClient.userinfo(
                endpoint: endpoint, accessToken: tokens.accessToken, timeout: Self.exchangeTimeout, caFile: env.providers.tokenCAFile,
                policy: env.outbound)
        } catch {
            let diagnosis = OAuthAccess.diagnosis(error)
            env.logger.error("oauth: the userinfo endpoint failed", metadata: metadata.merging(["reason": "\(diagnosis.serverText)"]) { $1 })
            if case .connection = error.failure {
                throw RPCError(.unavailable, "the provider's userinfo endpoint could not be reached (\(diagnosis.serverText)); start the sign-in again in a moment")
            }
            throw RPCError(.internal, "the provider's userinfo endpoint refused to name the signed-in address (\(diagnosis.serverText)); the operators must check the email scope and the userinfo endpoint")
        }
        guard let address = userinfo.verifiedEmail else {
            env.logger.error("oauth: the userinfo answer has no verified email", metadata: metadata)
            throw RPCError(.internal, "the provider did not name a verified address for this sign-in (userinfo has no verified email); the operators must include the email scope")
        }
        return try Validate.email(address, "the userinfo email")
    }

    /// The provider's OAuth endpoints and the server's client there.
    private func oauthSetup(_ provider: MailProvider) throws -> (OAuthPreset, OAuthTokenClient.Client) {
        guard Self.oauthProviders.contains(provider) else {
            throw RPCError(.invalidArgument, "provider must be \(Self.oauthProviderNames) to sign in with OAuth, got \(provider.name ?? String(provider.rawValue)); connect other mailboxes with CreateMailboxConnection")
        }
        guard let setup = env.providers.oauth(provider) else {
            throw RPCError(.failedPrecondition, "this server has no OAuth client for \(providerPreset(provider)); ask its operators to configure one, or connect with an app password (CreateMailboxConnection)")
        }
        return setup
    }

    private func providerPreset(_ provider: MailProvider) -> String {
        (provider.name ?? String(provider.rawValue)).replacingOccurrences(of: "MAIL_PROVIDER_", with: "")
    }

    /// Creates the user's mailbox, or reconnects their mailbox with the same address, in one
    /// transaction with its events; the tokens are sealed to the mailbox's id.
    private func connect(
        tenant: TenantID, userID: String, provider: MailProvider, email: String, imap: ServerEndpoint, smtp: ServerEndpoint,
        credentials: OAuthCredentials, now: Int64
    ) async throws -> Mailbox {
        let limit = try await env.mailboxSyncLimit(tenant)
        let existing = try await env.read(tenant, "the mailbox") { try MailboxRecords.active($0, userID: userID) }
        if let existing, existing.emailAddress.lowercased() != email.lowercased() {
            throw RPCError(.alreadyExists, "user '\(userID)' already has a mailbox (\(existing.emailAddress), \(existing.id)) and signed in as \(email); disable it before connecting another")
        }
        let mailboxID = existing?.id ?? RowID.make()
        let sealed = credentials.seal(env.secrets, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: mailboxID))
        guard let storedProvider = MailboxRecord.Provider(provider) else {
            throw RPCError(.internal, "no mailbox can be stored for \(providerPreset(provider))")
        }
        let (imapAddress, smtpAddress) = (ServerAddress(imap), ServerAddress(smtp))
        return Mailbox(try await env.write(tenant, "the mailbox") { db in
            try MailboxHandlers.requireActiveUser(db, userID)
            let current = try MailboxRecords.active(db, userID: userID)
            guard current?.id == existing?.id else {
                throw RPCError(.aborted, "user '\(userID)''s mailbox changed while signing in; start the sign-in again")
            }
            if let current {
                try MailboxRecords.updateOAuth(
                    db, id: current.id, provider: storedProvider, username: email, imap: imapAddress, smtp: smtpAddress, sealedSecret: sealed)
                var status = current.status
                switch current.status {
                case .error: status = .enabled
                case .connectionIssue: status = try MailboxRecords.admissionStatus(db, limit: limit)
                default: break
                }
                try SyncEventRecords.insert(
                    db, kind: .connected, mailboxID: current.id, userID: userID, status: status,
                    detail: "\(email) reconnected with OAuth", now: now)
                if status != current.status {
                    try MailboxRecords.setStatus(db, id: current.id, status, now: now)
                    try SyncEventRecords.insert(
                        db, kind: .statusChanged, mailboxID: current.id, userID: userID, status: status,
                        detail: "signed in again; " + (status == .enabled ? "trying again" : "waiting for the company's mailbox sync limit"),
                        now: now)
                }
                if status == .enabled || status == .error { try MailboxRecords.schedule(db, id: current.id, at: now, freshStart: true) }
                return try MailboxRecords.require(db, id: current.id)
            }
            // `admit` sets the status (ENABLED, or PENDING at the company's limit).
            return try MailboxRecords.admit(db, MailboxRecords.NewMailbox(
                id: mailboxID, userID: userID, emailAddress: email, provider: storedProvider, authMethod: .oauth,
                imap: imapAddress, smtp: smtpAddress, username: email, sealedSecret: sealed, status: .pending, now: now),
                limit: limit, how: "with OAuth")
        })
    }

    /// The status for a code the token endpoint would not trade; logged (operators are told
    /// what to fix for their own configuration).
    private func refusedExchange(_ diagnosis: Diagnosis, tenant: TenantID, provider: MailProvider, context: ServerContext) -> RPCError {
        var metadata: Logger.Metadata = [
            "company": "\(tenant)", "provider": "\(providerPreset(provider))", "class": "\(diagnosis.errorClass)",
            "rule": "\(diagnosis.rule)", "server-text": "\(diagnosis.serverText.prefix(300))", "request": "\(context.requestID)",
        ]
        switch diagnosis.errorClass {
        case .temporary:
            env.logger.notice("oauth: code exchange failed", metadata: metadata)
            return RPCError(.unavailable, "the provider's sign-in service could not complete the sign-in (\(diagnosis.serverText.prefix(300))); start the sign-in again in a moment")
        case .operator:
            metadata["note"] = "\(diagnosis.operatorNote ?? "")"
            env.logger.error("oauth: the provider refused our OAuth request", metadata: metadata)
            return RPCError(.internal, "the sign-in failed because of a problem on the Mail Sync server, not with your account; the operators have been told, and there is nothing for you to do")
        default:
            env.logger.notice("oauth: code exchange refused", metadata: metadata)
            return RPCError(.failedPrecondition, "the provider refused the sign-in (\(diagnosis.serverText.prefix(300))): the code may have expired or been used already; start the sign-in again")
        }
    }
}

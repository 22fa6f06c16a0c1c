import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncMailTransport
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData
import MailSyncEngine

/// Connecting, updating, listing and disabling mailboxes.
///
/// The router has checked the caller's role; these handlers check whose mailbox a request names
/// (`context.requireAccess(toUser:)`: the caller's own, or anyone's for the method's
/// `manage_others` roles), validate, and write. Every status change is saved together with its
/// sync event in one transaction.
///
/// Statuses set here (the sync engine sets `ERROR` and `CONNECTION_ISSUE`):
/// - A new or retried mailbox is `ENABLED` — "accepted and scheduled to sync" — while fewer
///   mailboxes than the company's `mailbox_sync_limit` are `ENABLED` or `ERROR`; otherwise it is
///   `PENDING` (the seeds' meaning: waiting for the limit). The sync engine moves an `ENABLED`
///   mailbox to `ERROR` when a sync fails.
/// - Disabling a mailbox frees its place: the oldest `PENDING` mailboxes become `ENABLED`, in the
///   same transaction.
/// - Secrets are sealed with `SecretBox` under `tenant/<tenant>/mailbox/<id>/secret`, never
///   logged, never returned, and wiped when the mailbox is disabled.
struct MailboxHandlers: MailSync.MailboxesHandler {
    let env: ServiceEnvironment

    static let maxSecretLength = 1024

    /// Connects a mailbox with a password or app password.
    ///
    /// The user must exist, be active and have no other mailbox that is not disabled
    /// (`already exists` otherwise). Starts `ENABLED`, or `PENDING` at the company's mailbox sync
    /// limit, with a `CONNECTED` and a `STATUS_CHANGED` event.
    func createMailboxConnection(_ request: CreateMailboxConnectionRequest, context: ServerContext) async throws -> Mailbox {
        let (_, tenant) = try context.tenant()
        let userID = try context.subjectUser(request.userId)
        let email = try Validate.email(request.emailAddress, "email_address")
        guard let provider = MailboxRecord.Provider(request.provider), let preset = env.providers.preset(request.provider) else {
            throw RPCError(.invalidArgument, "provider must be one of \(ProviderPreset.names), got \(request.provider.name ?? String(request.provider.rawValue))")
        }
        let imap: ServerEndpoint
        if let requested = request.imap {
            try Self.validate(requested, "imap", policy: env.outbound)
            imap = requested
        } else if let preset = preset.imap {
            imap = preset
        } else {
            throw RPCError(.invalidArgument, "imap is required for CUSTOM_IMAP: the IMAP server's host, port and security")
        }
        var smtp = ServerEndpoint()
        if let requested = request.smtp {
            try Self.validate(requested, "smtp", policy: env.outbound)
            smtp = requested
        } else if let preset = preset.smtp {
            smtp = preset
        }
        let username = try Self.username(request.username, default: email)
        try Self.validateSecret(request.secret)

        let limit = try await env.mailboxSyncLimit(tenant)
        let mailboxID = RowID.make()
        let sealed = env.secrets.seal(request.secret, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: mailboxID))
        let now = env.clock.now().microsecondsSinceEpoch
        let (imapAddress, smtpAddress) = (ServerAddress(imap), ServerAddress(smtp))
        let key = try IdempotentRequests.key(request.idempotencyKey)
        var vouched = request
        vouched.idempotencyKey = ""
        let scope = IdempotentRequests.scope(method: "CreateMailboxConnection", keyID: try context.caller().keyID)
        let mailbox = try await env.idempotentWrite(tenant, "the mailbox", scope: scope, key: key, request: vouched) { db in
            try Self.requireActiveUser(db, userID)
            if let existing = try MailboxRecords.active(db, userID: userID) {
                throw RPCError(.alreadyExists, "user '\(userID)' already has a mailbox (\(existing.emailAddress), \(existing.id)); disable it before connecting another")
            }
            // `admit` sets the status (ENABLED, or PENDING at the company's limit).
            return Mailbox(try MailboxRecords.admit(db, MailboxRecords.NewMailbox(
                id: mailboxID, userID: userID, emailAddress: email, provider: provider, authMethod: .password,
                imap: imapAddress, smtp: smtpAddress, username: username, sealedSecret: sealed, status: .pending, now: now),
                limit: limit, how: "with a password"))
        }
        env.syncRequests.scheduleChanged(tenant)
        return mailbox
    }

    /// Replaces the secret and optionally the login name and server settings, and tries again:
    /// an `ERROR` or `CONNECTION_ISSUE` mailbox goes back to `ENABLED` (or `PENDING` when a
    /// `CONNECTION_ISSUE` one finds the company at its limit), with a `STATUS_CHANGED` event.
    ///
    /// An empty `secret` keeps the stored one; at least one field must change. A disabled mailbox
    /// is `failed precondition` (connect a new one), as is a new password for an OAuth mailbox.
    func updateMailboxCredentials(_ request: UpdateMailboxCredentialsRequest, context: ServerContext) async throws -> Mailbox {
        let (_, tenant) = try context.tenant()
        try Validate.required(request.mailboxId, "mailbox_id")
        if let imap = request.imap { try Self.validate(imap, "imap", policy: env.outbound) }
        if let smtp = request.smtp { try Self.validate(smtp, "smtp", policy: env.outbound) }
        let newUsername: String? = try request.username.isEmpty ? nil : Self.username(request.username, default: "")
        let newSecret = request.secret.isEmpty ? nil : request.secret
        if let newSecret { try Self.validateSecret(newSecret) }
        guard newSecret != nil || newUsername != nil || request.imap != nil || request.smtp != nil else {
            throw RPCError(.invalidArgument, "secret is required (or a new username, imap or smtp)")
        }
        let mailbox = try await accessibleMailbox(request.mailboxId, tenant: tenant, context: context)
        guard mailbox.status != .disabled else {
            throw RPCError(.failedPrecondition, "mailbox \(mailbox.id) is disabled; connect the mailbox again instead")
        }
        if newSecret != nil, mailbox.authMethod == .oauth {
            throw RPCError(.failedPrecondition, "mailbox \(mailbox.id) signs in with OAuth; reconnect it with StartOAuthConnection")
        }
        let sealed = newSecret.map {
            env.secrets.seal($0, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: mailbox.id))
        }
        let limit = try await env.mailboxSyncLimit(tenant)
        let now = env.clock.now().microsecondsSinceEpoch
        let imap = request.imap.map(ServerAddress.init) ?? mailbox.imap
        let smtp = request.smtp.map(ServerAddress.init) ?? mailbox.smtp
        let username = newUsername ?? mailbox.username
        let updated = try await env.write(tenant, "the credentials") { db in
            let current = try MailboxRecords.require(db, id: mailbox.id)
            guard current.status != .disabled else {
                throw RPCError(.failedPrecondition, "mailbox \(mailbox.id) is disabled; connect the mailbox again instead")
            }
            try MailboxRecords.updateCredentials(db, id: mailbox.id, username: username, imap: imap, smtp: smtp, sealedSecret: sealed)
            let retry: MailboxRecord.Status?
            switch current.status {
            case .error: retry = .enabled  // already holds a place under the limit
            case .connectionIssue: retry = try MailboxRecords.admissionStatus(db, limit: limit)
            default: retry = nil
            }
            if let retry {
                try MailboxRecords.setStatus(db, id: mailbox.id, retry, now: now)
                try SyncEventRecords.insert(
                    db, kind: .statusChanged, mailboxID: mailbox.id, userID: mailbox.userId, status: retry,
                    detail: "credentials updated; " + (retry == .enabled ? "trying again" : "waiting for the company's mailbox sync limit"),
                    now: now)
            }
            let status = retry ?? current.status
            if status == .enabled || status == .error {
                try MailboxRecords.schedule(db, id: mailbox.id, at: now, freshStart: true)
            }
            return try MailboxRecords.require(db, id: mailbox.id)
        }
        env.syncRequests.scheduleChanged(tenant)
        return Mailbox(updated)
    }

    /// A mailbox with its most recent error when it is failing (`ERROR` or `CONNECTION_ISSUE`).
    func getMailboxStatus(_ request: GetMailboxStatusRequest, context: ServerContext) async throws -> MailboxStatusResponse {
        let (_, tenant) = try context.tenant()
        try Validate.required(request.mailboxId, "mailbox_id")
        let mailbox = try await accessibleMailbox(request.mailboxId, tenant: tenant, context: context)
        var response = MailboxStatusResponse()
        response.mailbox = Mailbox(mailbox)
        if mailbox.status == .error || mailbox.status == .connectionIssue {
            let id = mailbox.id
            response.lastError = try await env.read(tenant, "the error log") { try ErrorLogRecords.latest($0, mailboxID: id) }
                .map(ErrorLogEntry.init)
        }
        return response
    }

    /// The company's mailboxes (disabled ones included), oldest first, filtered by status and
    /// user. A caller whose role may not act on others lists only their own.
    func listMailboxes(_ request: ListMailboxesRequest, context: ServerContext) async throws -> ListMailboxesResponse {
        let (caller, tenant) = try context.tenant()
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "mailboxes")
        var userID: String?
        if !request.userId.isEmpty {
            userID = try context.subjectUser(request.userId)
        } else if !context.method.mayActOnOthers(role: caller.role) {
            userID = caller.userID
        }
        var response = ListMailboxesResponse()
        // A status no stored mailbox can have (NOT_CONFIGURED, or a number this build does not
        // know) lists none.
        let status: MailboxRecord.Status?? = request.status.map { MailboxRecord.Status($0) }
        if case .some(.none) = status { return response }
        let (subject, wanted) = (userID, status ?? nil)
        let rows = try await env.read(tenant, "the mailboxes") { db in
            try MailboxRecords.list(db, userID: subject, status: wanted, limit: page.limitPlusOne, offset: Int64(page.offset))
        }
        response.mailboxes = rows.prefix(page.size).map(Mailbox.init)
        response.nextPageToken = page.nextToken(found: rows.count)
        return response
    }

    /// Disables a mailbox: status `DISABLED`, secret wiped, a `DISABLED` event; with `REMOVE`, its
    /// timeline entries (and their participants and opportunity links) are deleted too. The freed
    /// place goes to the oldest `PENDING` mailbox, all in one transaction.
    ///
    /// Repeating the call on a disabled mailbox changes nothing more (a repeated `REMOVE` removes
    /// whatever of the mailbox's entries remain, normally none).
    func disableMailbox(_ request: DisableMailboxRequest, context: ServerContext) async throws -> DisableMailboxResponse {
        let (_, tenant) = try context.tenant()
        try Validate.required(request.mailboxId, "mailbox_id")
        let previous = request.previousCommunication
        guard previous == .keep || previous == .remove else {
            throw RPCError(.invalidArgument, "previous_communication is required: KEEP or REMOVE what the mailbox synced so far")
        }
        let mailbox = try await accessibleMailbox(request.mailboxId, tenant: tenant, context: context)
        let limit = try await env.mailboxSyncLimit(tenant)
        let now = env.clock.now().microsecondsSinceEpoch
        let id = mailbox.id
        let response = try await env.write(tenant, "the disabling") { db in
            let current = try MailboxRecords.require(db, id: id)
            let removed = try previous == .remove ? MailboxRecords.removeTimelineEntries(db, mailboxID: id) : 0
            if current.status != .disabled {
                try MailboxRecords.disable(db, id: id, now: now)
                try SyncEventRecords.insert(
                    db, kind: .disabled, mailboxID: id, userID: current.userId, status: .disabled,
                    detail: previous == .remove
                        ? "disabled; \(removed) synced timeline entr\(removed == 1 ? "y" : "ies") removed"
                        : "disabled; synced communication kept",
                    now: now)
                try MailboxRecords.promotePending(db, limit: limit, now: now)
            }
            var response = DisableMailboxResponse()
            response.mailbox = Mailbox(try MailboxRecords.require(db, id: id))
            response.removedTimelineEntries = UInt64(removed)
            return response
        }
        env.syncRequests.scheduleChanged(tenant)
        return response
    }

    /// Asks for a sync as soon as the company's (and the provider's) minimum poll interval allows
    /// after the last one, and answers when that is.
    ///
    /// A mailbox in `ERROR` is tried again even when its retries were used up (the user asked);
    /// one in `CONNECTION_ISSUE` needs new credentials or a `Resync` (`failed precondition`).
    func syncNow(_ request: SyncNowRequest, context: ServerContext) async throws -> SyncNowResponse {
        let (_, tenant) = try context.tenant()
        try Validate.required(request.mailboxId, "mailbox_id")
        let mailbox = try await syncableMailbox(request.mailboxId, tenant: tenant, context: context)
        guard mailbox.status != .connectionIssue else {
            throw RPCError(.failedPrecondition, "mailbox \(mailbox.id) stopped trying after two days of failures; update its credentials or ask for a resync")
        }
        let at = try await earliestSync(mailbox, tenant: tenant)
        let id = mailbox.id
        try await env.write(tenant, "the sync request") { db in
            try MailboxRecords.requestSync(db, id: id, at: at.microsecondsSinceEpoch)
        }
        env.syncRequests.scheduleChanged(tenant)
        var response = SyncNowResponse()
        response.scheduledAt = at
        return response
    }

    /// Syncs the mailbox again from `since` (from where its first sync started when unset), now:
    /// the folder cursors are dropped, so every folder is searched again; mail already recorded is
    /// recognised (by Message-ID, or a header fingerprint) and not recorded twice.
    ///
    /// Also the way out of `CONNECTION_ISSUE`: the failure streak ends and the mailbox goes back to
    /// `ENABLED` (or `PENDING` at the company's mailbox sync limit).
    func resync(_ request: ResyncRequest, context: ServerContext) async throws -> ResyncResponse {
        let (_, tenant) = try context.tenant()
        try Validate.required(request.mailboxId, "mailbox_id")
        let now = env.clock.now()
        if let since = request.since, now < since {
            throw RPCError(.invalidArgument, "since must not be in the future")
        }
        let mailbox = try await syncableMailbox(request.mailboxId, tenant: tenant, context: context)
        let limit = try await env.mailboxSyncLimit(tenant)
        let since = request.since?.microsecondsSinceEpoch
        let time = now.microsecondsSinceEpoch
        let id = mailbox.id
        try await env.write(tenant, "the resync") { db in
            let current = try MailboxRecords.require(db, id: id)
            guard current.status != .disabled && current.status != .pending else {
                throw RPCError(.failedPrecondition, "mailbox \(id) is \(current.status == .disabled ? "disabled" : "waiting for the company's mailbox sync limit")")
            }
            try MailboxRecords.restartFolders(db, id: id, backfillSince: since)
            var status = current.status
            if status == .connectionIssue {
                status = try MailboxRecords.admissionStatus(db, limit: limit)
                try MailboxRecords.setStatus(db, id: id, status, now: time)
                try SyncEventRecords.insert(
                    db, kind: .statusChanged, mailboxID: id, userID: current.userId, status: status,
                    detail: "resync asked; " + (status == .enabled ? "trying again" : "waiting for the company's mailbox sync limit"),
                    now: time)
            }
            try MailboxRecords.schedule(db, id: id, at: status == .pending ? nil : time, freshStart: true)
            try SyncEventRecords.insert(
                db, kind: .syncStarted, mailboxID: id, userID: current.userId, status: status,
                detail: "resync asked" + (since.map { " from \(SyncRunner.dayText($0))" } ?? " from the first sync's start"), now: time)
        }
        env.syncRequests.scheduleChanged(tenant)
        var response = ResyncResponse()
        response.scheduledAt = now
        return response
    }

    /// Active users without a mailbox that is not disabled, by id. `mailbox_status` is
    /// `DISABLED` for users whose last mailbox was disabled, `NOT_CONFIGURED` otherwise.
    func listUnconfiguredUsers(_ request: ListUnconfiguredUsersRequest, context: ServerContext) async throws -> ListUnconfiguredUsersResponse {
        let (_, tenant) = try context.tenant()
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "unconfigured-users")
        let rows = try await env.read(tenant, "the users") { db in
            try UserRecords.unconfigured(db, limit: page.limitPlusOne, offset: Int64(page.offset))
        }
        var response = ListUnconfiguredUsersResponse()
        response.users = rows.prefix(page.size).map { row in
            var user = User(row.user)
            user.mailboxStatus = row.hadMailbox ? .disabled : .notConfigured
            return user
        }
        response.nextPageToken = page.nextToken(found: rows.count)
        return response
    }

    // MARK: - Helpers

    /// The mailbox, if the caller may act on its owner's mailboxes through this method: `not
    /// found` when there is none, `permission denied` when it is someone else's and the caller's
    /// role may act only on their own.
    private func accessibleMailbox(_ id: String, tenant: TenantID, context: ServerContext) async throws -> MailboxRecord {
        let mailbox = try await env.read(tenant, "the mailbox") { try MailboxRecords.require($0, id: id) }
        try context.requireAccess(toUser: mailbox.userId)
        return mailbox
    }

    /// An accessible mailbox that can sync now: not disabled, not waiting for the limit.
    private func syncableMailbox(_ id: String, tenant: TenantID, context: ServerContext) async throws -> MailboxRecord {
        let mailbox = try await accessibleMailbox(id, tenant: tenant, context: context)
        switch mailbox.status {
        case .disabled:
            throw RPCError(.failedPrecondition, "mailbox \(mailbox.id) is disabled; connect it again to sync")
        case .pending:
            throw RPCError(.failedPrecondition, "mailbox \(mailbox.id) is waiting for a place under the company's mailbox sync limit")
        default:
            return mailbox
        }
    }

    /// Now, or the last sync plus the longer of the company's and the provider's poll interval.
    private func earliestSync(_ mailbox: MailboxRecord, tenant: TenantID) async throws -> Timestamp {
        let now = env.clock.now()
        guard let last = mailbox.lastSyncedAt else { return now }
        let id = tenant.description
        let company = try await env.controlRead("the company") { try CompanyRecords.require($0, id: id) }
        let floor = env.providers.preset(stored: mailbox.provider)?.minimumPollIntervalSeconds ?? 0
        let interval = Int64(max(company.limits.minimumPollIntervalSeconds, floor)) * 1_000_000
        let earliest = Timestamp(microsecondsSinceEpoch: last.microsecondsSinceEpoch + interval)
        return now < earliest ? earliest : now
    }

    static func requireActiveUser(_ db: SQLiteConnection, _ userID: String) throws {
        guard let user = try UserRecords.find(db, id: userID) else {
            throw RPCError(.notFound, "no user '\(userID.prefix(128))' in this company")
        }
        guard user.active else {
            throw RPCError(.failedPrecondition, "user '\(userID)' is deactivated; reactivate them before connecting a mailbox")
        }
    }


    /// Host syntax, port range, a known security, and what the outbound policy can refuse before
    /// any DNS look-up (``Validate/destination(_:_:policy:)``).
    static func validate(_ endpoint: ServerEndpoint, _ field: String, policy: OutboundPolicy) throws {
        try Validate.hostName(endpoint.host, "\(field).host")
        try Validate.port(endpoint.port, "\(field).port")
        guard endpoint.security != .unspecified, ConnectionSecurity.allKnown.contains(endpoint.security) else {
            throw RPCError(.invalidArgument, "\(field).security must be NONE, STARTTLS or TLS")
        }
        try Validate.destination(endpoint, field, policy: policy)
    }

    /// The login name, or `fallback` when empty: 1–320 characters without control characters.
    static func username(_ value: String, default fallback: String) throws -> String {
        let username = value.trimmingCharacters(in: .whitespaces).isEmpty ? fallback : value
        try Validate.length(username, "username", max: 320, min: 1)
        return username
    }

    /// 1–1024 characters, no control characters (CR LF would end IMAP `LOGIN` or SMTP `AUTH` and
    /// start another command). The message never quotes the value.
    static func validateSecret(_ secret: String) throws {
        guard !secret.isEmpty else { throw RPCError(.invalidArgument, "secret is required: the password or app password") }
        guard secret.count <= maxSecretLength else {
            throw RPCError(.invalidArgument, "secret must have at most \(maxSecretLength) characters")
        }
        try Validate.noControlCharacters(secret, "secret")
    }
}

import Foundation
import Logging
import MailSyncClient
import MailSyncCoding
import MailSyncErrors
import MailSyncMailTransport
import MailSyncMatching
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData
import MailSyncEngine

/// Smart Mail: an email sent from the CRM through the caller's own mailbox (SMTP) and recorded on
/// the lead's timeline as sent.
///
/// Every caller sends only as themself: the request names no mailbox or user, so the mailbox is
/// always the caller's own active one. The steps:
///
/// 1. Check the request (`invalid argument` naming the field), the lead (`not found`), the
///    optional opportunity (`not found`; `failed precondition` if it is another lead's) and the
///    caller's mailbox (`failed precondition` saying what to do: none connected, pending,
///    connection issue, no SMTP server).
/// 2. Build the MIME message (``MIMEMessage``: From is the user's name and the mailbox address,
///    To the request's `to` or the lead's first address, `Message-ID` `<uuid@sender-domain>`).
/// 3. Wait for a slot: at most `smartMailWorkers` sends run on the server (16), `smartMailPerCompany`
///    per company (8) and `smartMailPerUser` per user (2); a send over a limit waits up to
///    `smartMailQueueWaitSeconds` (5 s), first come first served, then is refused with
///    `resource exhausted` and "retry in N s". A caller that goes away while waiting leaves the
///    queue and nothing is sent; a send in progress is not interrupted (bounded by its timeout).
/// 4. Send it with ``SMTPSender`` on the server's send threads to the mailbox's SMTP server,
///    logging in with its stored password, or with XOAUTH2 and an access token (refreshed first
///    when it expires within five minutes) for an OAuth mailbox. Defaults: 30 s to connect, 120 s
///    for the whole send. A server that offers no `AUTH` is refused before `MAIL FROM`
///    (`failed precondition`, logged like a refusal), unless the operator listed it in
///    `smtpRelaysWithoutAuth`.
/// 5. Sent: record it in one write transaction (``SmartMailRecords/record(_:_:now:)``), with a
///    `SMART_MAIL_SENT` event. Refused or unreachable: nothing goes on the timeline; the error log
///    gets the server's words and the fix (as a sync error would), plus an `ERROR` event; the
///    caller gets `failed precondition` (authentication or configuration: the user must change
///    something), `unavailable` (temporary: try later) or `internal` (our side), with the server's
///    words and the fix. The mailbox's sync status does not change.
///
/// Passwords are opened only for the send and never logged.
struct SmartMailHandlers: MailSync.SmartMailHandler {
    let env: ServiceEnvironment

    static let maxSubjectLength = 998
    /// Text and HTML together, in UTF-8 bytes.
    static let maxBodyBytes = 2 << 20
    /// To and Cc together.
    static let maxRecipients = 50
    static let connectTimeout: Duration = .seconds(30)
    static let sendTimeout: Duration = .seconds(120)

    func sendSmartMail(_ request: SendSmartMailRequest, context: ServerContext) async throws -> SendSmartMailResponse {
        let (caller, tenant) = try context.tenant()
        try Self.validate(request)
        let userID = caller.userID
        let leadID = request.leadId
        let opportunityID = request.opportunityId
        let plan = try await env.read(tenant, "the Smart Mail's lead and mailbox") { db in
            try db.transaction(immediate: false) {
                try SmartMailRecords.plan(db, userID: userID, leadID: leadID, opportunityID: opportunityID)
            }
        }
        var to = try request.to.enumerated().map { try Self.recipient($1, field: "to[\($0)]") }
        let cc = try request.cc.enumerated().map { try Self.recipient($1, field: "cc[\($0)]") }
        if to.isEmpty {
            guard let leadAddress = plan.leadAddress else {
                throw RPCError(.failedPrecondition, "lead '\(leadID)' has no email address; give the recipients in to")
            }
            to = [try Self.recipient(leadAddress, field: "the lead's address")]
        }
        let key = request.idempotencyKey
        if !key.isEmpty {
            if let earlier = try await claim(key, request: request, userID: userID, tenant: tenant) { return earlier }
        }
        do {
            return try await send(request, plan: plan, to: to, cc: cc, key: key, tenant: tenant, context: context)
        } catch let error as Unsent {
            if !key.isEmpty {
                do {
                    try await env.write(tenant, "the Smart Mail's idempotency key") { db in
                        try SmartMailSends.release(db, userID: userID, key: key)
                    }
                } catch {
                    env.logger.error("Smart Mail idempotency key not released", metadata: [
                        "company": "\(tenant)", "reason": "\(error)", "request": "\(context.requestID)",
                    ])
                }
            }
            throw error.status
        }
    }

    /// A failure before the mail went out: its key (if any) is released, so a retry may send.
    private struct Unsent: Error {
        var status: any Error
    }

    /// Claims `key` for this request; returns the earlier answer when the key already sent this
    /// mail, throws when it cannot be used now.
    private func claim(_ key: String, request: SendSmartMailRequest, userID: String, tenant: TenantID) async throws -> SendSmartMailResponse? {
        try Validate.length(key, "idempotency_key", max: 128)
        guard key.utf8.allSatisfy({ byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "-_.:".utf8.contains(byte)
        }) else {
            throw RPCError(.invalidArgument, "idempotency_key may hold only letters, digits, '-', '_', '.' and ':' (a UUID fits)")
        }
        let hash = SmartMailSends.requestHash(request)
        let now = env.clock.now().microsecondsSinceEpoch
        let claim = try await env.write(tenant, "the Smart Mail's idempotency key") { db in
            try SmartMailSends.claim(db, userID: userID, key: key, requestHash: hash, now: now)
        }
        switch claim {
        case .claimed:
            return nil
        case .done(let answer):
            var response = SendSmartMailResponse()
            response.messageId = answer.messageId
            response.sentAt = answer.sentAt
            response.timelineEntryId = answer.timelineEntryId
            return response
        case .sending:
            throw RPCError(.aborted, "a Smart Mail with this idempotency_key is being sent right now; retry in a few seconds to get its answer")
        case .interrupted:
            throw RPCError(.failedPrecondition, "the Smart Mail with this idempotency_key was being sent when the server stopped, so it may have gone out; look in your Sent folder, and send again with a new idempotency_key if it is not there")
        case .otherRequest:
            throw RPCError(.invalidArgument, "idempotency_key was used for a different Smart Mail in the last 24 hours; use a new key for a new mail")
        }
    }

    /// Waits for a slot (``SmartMailOutbox``), then builds, sends and records the mail. Failures
    /// before the mail went out are ``Unsent``: over a limit for longer than the queue wait,
    /// `resource exhausted` with "retry in N s"; the caller gone while waiting, cancelled (nothing
    /// sent).
    private func send(
        _ request: SendSmartMailRequest, plan: SmartMailRecords.Plan, to: [String], cc: [String], key: String,
        tenant: TenantID, context: ServerContext
    ) async throws -> SendSmartMailResponse {
        let sender = SendQueue.Sender(company: tenant.description, user: plan.mailbox.userId)
        do {
            return try await env.smartMail.gate.withSlot(for: sender) {
                try await sendAdmitted(request, plan: plan, to: to, cc: cc, key: key, tenant: tenant, context: context)
            }
        } catch SendGate.NotAdmitted.refused(let refusal) {
            throw Unsent(status: Self.busy(refusal))
        } catch SendGate.NotAdmitted.cancelled {
            throw Unsent(status: CancellationError())
        }
    }

    /// `resource exhausted`: which limit, and when to retry.
    static func busy(_ refusal: SendGate.Refusal) -> RPCError {
        let who = switch refusal.limit {
        case .user: "you are already sending \(refusal.allowed) Smart Mails, the most one user may send at once"
        case .company: "your company is already sending \(refusal.allowed) Smart Mails, the most one company may send at once"
        case .server: "the server is already sending \(refusal.allowed) Smart Mails, the most it sends at once"
        }
        return RPCError(
            .resourceExhausted, "the Smart Mail was not sent: \(who); retry in \(refusal.retryAfterSeconds) s",
            trailers: [Metadata.retryAfterKey: String(refusal.retryAfterSeconds * 1000)])
    }

    /// ``send(_:plan:to:cc:key:tenant:context:)`` once the send has its slot.
    private func sendAdmitted(
        _ request: SendSmartMailRequest, plan: SmartMailRecords.Plan, to: [String], cc: [String], key: String,
        tenant: TenantID, context: ServerContext
    ) async throws -> SendSmartMailResponse {
        let mailbox = plan.mailbox
        let userID = mailbox.userId
        try await checkDailySends(mailbox, tenant: tenant)
        let credentials: SMTPSender.Credentials
        do {
            credentials = try await self.credentials(plan, subject: request.subject, tenant: tenant, context: context)
        } catch {
            throw Unsent(status: error)
        }

        let sentAt = env.clock.now()
        let message = MIMEMessage(
            from: MIMEMessage.Address(mailbox.emailAddress, name: plan.senderName),
            to: to.map { MIMEMessage.Address($0) }, cc: cc.map { MIMEMessage.Address($0) },
            subject: request.subject,
            textBody: request.textBody.isEmpty ? nil : request.textBody,
            htmlBody: request.htmlBody.isEmpty ? nil : request.htmlBody,
            date: Date(timeIntervalSince1970: Double(sentAt.microsecondsSinceEpoch) / 1e6))
        let bytes: [UInt8]
        let envelope: SMTPEnvelope
        do {
            bytes = try message.build()
            envelope = try SMTPEnvelope(from: mailbox.emailAddress, recipients: message.recipients)
        } catch let error as MIMEMessageError {
            throw Unsent(status: RPCError(.invalidArgument, error.description))
        } catch {
            throw Unsent(status: RPCError(.failedPrecondition, "your mailbox's address cannot send: \(error)"))
        }

        let host = mailbox.smtp.host
        let port = Int(mailbox.smtp.port)
        let server = SMTPSender.Server(
            host: host, port: port, security: Self.security(mailbox.smtp.security),
            username: mailbox.username, credentials: credentials,
            requiresAuthentication: !env.smartMail.settings.allowsRelayWithoutAuth(host: host, port: port), policy: env.outbound)
        do {
            _ = try await SMTPSender.send(bytes, envelope: envelope, server: server,
                                          connectTimeout: Self.connectTimeout, timeout: Self.sendTimeout,
                                          workers: env.smartMail.workers)
        } catch {
            if let refusal = error.policyRefusal {
                env.logger.warning("outbound policy refused a mailbox's SMTP server", metadata: [
                    "tenant": "\(tenant)", "mailbox": "\(mailbox.id)", "refusal": "\(refusal)"])
            }
            throw Unsent(status: await refused(error, mailbox: mailbox, subject: request.subject, tenant: tenant, context: context))
        }

        let now = sentAt.microsecondsSinceEpoch
        let sent = SmartMailRecords.Sent(
            key: "mid:" + message.messageID, mailbox: mailbox, leadID: request.leadId, opportunityID: request.opportunityId,
            subject: String(request.subject.prefix(1000)), date: now,
            participants: Self.participants(message),
            recipients: message.recipients.compactMap(EmailAddress.normalize),
            bodyText: TimelineBodies.compress(MailBodyText.extract(bytes)), raw: TimelineBodies.compress(bytes: bytes),
            size: Int64(bytes.count))
        var response = SendSmartMailResponse()
        response.messageId = message.messageIDHeader
        response.sentAt = sentAt
        do {
            response = try await env.write(tenant, "the Smart Mail's timeline entry") { [response] db in
                var answer = response
                answer.timelineEntryId = try SmartMailRecords.record(db, sent, now: now) ?? ""
                try MailboxRecords.addUsage(db, mailboxID: mailbox.id, day: ProviderBudget.utcDay(now), sends: 1)
                if !key.isEmpty { try SmartMailSends.complete(db, userID: userID, key: key, response: Self.answer(answer)) }
                return answer
            }
        } catch {
            env.logger.error("Smart Mail sent but not recorded", metadata: [
                "company": "\(tenant)", "mailbox": "\(mailbox.id)", "message-id": "\(message.messageIDHeader)",
                "reason": "\(error)", "request": "\(context.requestID)",
            ])
            if !key.isEmpty {
                // The key must not send it again, whatever happened to the timeline entry.
                try? await env.write(tenant, "the Smart Mail's idempotency key") { [response] db in
                    try SmartMailSends.complete(db, userID: userID, key: key, response: Self.answer(response))
                }
            }
            throw RPCError(.internal, "the Smart Mail was sent (Message-ID \(message.messageIDHeader)) but could not be recorded on the timeline; do not send it again: it is recorded when your Sent folder syncs, if your provider keeps sent mail there")
        }
        return response
    }

    // MARK: - Steps

    /// Refuses (`resource exhausted`, retry after the next UTC midnight) a send past 90% of the
    /// provider's daily sending limit for the mailbox (``ProviderBudget/sendRefusal(sent:)``).
    private func checkDailySends(_ mailbox: MailboxRecord, tenant: TenantID) async throws {
        guard let budget = env.providers.preset(stored: mailbox.provider)?.budget, budget.dailySends != nil else { return }
        let now = env.clock.now().microsecondsSinceEpoch
        let today = ProviderBudget.utcDay(now)
        let id = mailbox.id
        let sent = try await env.read(tenant, "the mailbox's sends today") { db in
            try MailboxRecords.sends(db, id: id, day: today) ?? 0
        }
        guard let why = budget.sendRefusal(sent: sent) else { return }
        let wait = ProviderBudget.startOfNextUTCDay(after: now) - now
        throw Unsent(status: RPCError(
            .resourceExhausted, "the Smart Mail was not sent: \(why); send it after midnight UTC, or from another mailbox",
            trailers: [Metadata.retryAfterKey: String(max(1, wait / 1000))]))
    }

    /// What a retry under the same key gets back.
    static func answer(_ response: SendSmartMailResponse) -> SmartMailSends.Answer {
        SmartMailSends.Answer(messageId: response.messageId, sentAt: response.sentAt, timelineEntryId: response.timelineEntryId)
    }

    static func validate(_ request: SendSmartMailRequest) throws {
        try Validate.identifier(request.leadId, "lead_id")
        if !request.opportunityId.isEmpty { try Validate.identifier(request.opportunityId, "opportunity_id") }
        try Validate.length(request.subject, "subject", max: maxSubjectLength)
        guard !request.textBody.isEmpty || !request.htmlBody.isEmpty else {
            throw RPCError(.invalidArgument, "text_body or html_body is required (or both)")
        }
        let bodyBytes = request.textBody.utf8.count + request.htmlBody.utf8.count
        guard bodyBytes <= maxBodyBytes else {
            throw RPCError(.invalidArgument, "text_body and html_body must have at most \(maxBodyBytes) bytes together, got \(bodyBytes)")
        }
        guard request.to.count + request.cc.count <= maxRecipients else {
            throw RPCError(.invalidArgument, "to and cc must have at most \(maxRecipients) addresses together, got \(request.to.count + request.cc.count)")
        }
    }

    /// A recipient as sent: checked like every address the service takes, and plain ASCII.
    static func recipient(_ value: String, field: String) throws -> String {
        let address = try Validate.email(value, field)
        guard (try? SMTPEnvelope(from: address, recipients: [address])) != nil else {
            throw RPCError(.invalidArgument, "\(field) must be a plain ASCII address like name@example.com (international addresses cannot be sent yet), got '\(value.prefix(80))'")
        }
        return address
    }

    /// The stored password, or for an OAuth mailbox an access token (refreshed when it expires
    /// within five minutes; XOAUTH2). A token that cannot be had is logged like a refused send
    /// (the mailbox's error log and an `ERROR` event) and is `failed precondition` (reconnect),
    /// `unavailable` (the sign-in service is unreachable: try later) or `internal`.
    private func credentials(
        _ plan: SmartMailRecords.Plan, subject: String, tenant: TenantID, context: ServerContext
    ) async throws -> SMTPSender.Credentials {
        guard plan.mailbox.authMethod == .oauth else { return .password(try openPassword(plan, tenant: tenant)) }
        do {
            return .oauthBearer(try await OAuthAccess(env: env).accessToken(tenant: tenant, mailbox: plan.mailbox, sealed: plan.sealedSecret))
        } catch {
            let diagnosis = error.diagnosis
            await logRefusal(diagnosis, mailbox: plan.mailbox, subject: subject, tenant: tenant, context: context, curlCode: nil)
            throw RPCError(Self.statusCode(diagnosis), "the Smart Mail was not sent: your mailbox's sign-in could not be renewed (\(diagnosis.serverText.prefix(300))). \(diagnosis.hint)")
        }
    }

    private func openPassword(_ plan: SmartMailRecords.Plan, tenant: TenantID) throws -> String {
        guard let sealed = plan.sealedSecret else {
            throw RPCError(.failedPrecondition, "your mailbox \(plan.mailbox.emailAddress) has no stored password; enter it again with UpdateMailboxCredentials")
        }
        do {
            return try env.secrets.open(sealed, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: plan.mailbox.id))
        } catch {
            throw RPCError(.failedPrecondition, "the stored password of your mailbox \(plan.mailbox.emailAddress) can no longer be read; enter it again with UpdateMailboxCredentials")
        }
    }

    /// Logs a refused send and returns the status for the caller.
    private func refused(_ error: SMTPError, mailbox: MailboxRecord, subject: String, tenant: TenantID, context: ServerContext) async -> RPCError {
        let diagnosis = error.diagnosis
        await logRefusal(diagnosis, mailbox: mailbox, subject: subject, tenant: tenant, context: context, curlCode: error.curlCode)
        if error.stop != nil {
            // Mail Sync stopped it, not the server: the fix says why.
            return RPCError(Self.statusCode(diagnosis), "the Smart Mail was not sent. \(diagnosis.hint)")
        }
        return RPCError(Self.statusCode(diagnosis), "the Smart Mail was not sent: the mail server said “\(diagnosis.serverText.prefix(1000))”. \(diagnosis.hint)")
    }

    /// `unavailable` for a temporary failure (try later), `internal` for ours, else `failed precondition`.
    static func statusCode(_ diagnosis: Diagnosis) -> StatusCode {
        switch diagnosis.errorClass {
        case .temporary: .unavailable
        case .operator: .internal
        default: .failedPrecondition
        }
    }

    /// Writes why a Smart Mail was not sent to the mailbox's error log with an `ERROR` event (one
    /// transaction). A failure to log is itself only logged: the caller learns why the mail was not
    /// sent either way.
    private func logRefusal(
        _ diagnosis: Diagnosis, mailbox: MailboxRecord, subject: String, tenant: TenantID, context: ServerContext, curlCode: Int?
    ) async {
        let now = env.clock.now().microsecondsSinceEpoch
        env.logger.notice("Smart Mail not sent", metadata: [
            "company": "\(tenant)", "mailbox": "\(mailbox.id)", "class": "\(diagnosis.errorClass)", "rule": "\(diagnosis.rule)",
            "curl": "\(curlCode.map(String.init) ?? "-")", "request": "\(context.requestID)",
        ])
        do {
            let mailboxID = mailbox.id
            let detail = "Smart Mail “\(subject.prefix(120))” not sent: \(diagnosis.serverText.prefix(500)) — \(diagnosis.hint)"
            try await env.write(tenant, "the error log") { db in
                guard let current = try MailboxRecords.find(db, id: mailboxID) else { return }
                try SyncOutcomeStore.logError(db, mailbox: current, diagnosis, now: now)
                try SyncEventRecords.insert(db, kind: .error, mailboxID: current.id, userID: current.userId,
                                            status: current.status, detail: detail, now: now)
            }
        } catch {
            env.logger.error("Smart Mail failure not logged", metadata: [
                "company": "\(tenant)", "mailbox": "\(mailbox.id)", "reason": "\(error)", "request": "\(context.requestID)",
            ])
        }
    }

    static func participants(_ message: MIMEMessage) -> [MailParticipant] {
        var participants: [MailParticipant] = []
        func add(_ kind: MailParticipant.Kind, _ addresses: [MIMEMessage.Address]) {
            for address in addresses {
                guard let normalized = EmailAddress.normalize(address.address),
                    !participants.contains(where: { $0.kind == kind && $0.address == normalized })
                else { continue }
                participants.append(MailParticipant(kind: kind, address: normalized, displayName: address.name))
            }
        }
        add(.from, [message.from])
        add(.to, message.to)
        add(.cc, message.cc)
        return participants
    }

    static func security(_ security: ServerAddress.Security) -> SMTPSender.Security {
        switch security {
        case .none: .none
        case .starttls: .starttls
        default: .tls
        }
    }
}

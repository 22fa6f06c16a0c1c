import MailSyncErrors
import MailSyncMailTransport
import MailSyncStorage
import MailSyncTenantData

extension MailboxSync {
    /// How the run logs in: the stored password, or for an OAuth mailbox an access token
    /// (refreshed first when it expires within five minutes, or when the server has just refused
    /// `refusedToken`).
    ///
    /// - Throws: ``SyncFailure`` with what to do: no or unreadable credentials (configuration
    ///   for passwords, reconnect for OAuth), or the token endpoint's classified failure.
    package func credentials(tenant: TenantID, target: SyncTarget, refusedToken: String? = nil) async throws(SyncFailure) -> IMAPConnection.Credentials {
        let mailbox = target.mailbox
        if mailbox.authMethod == .oauth {
            do {
                let token = try await OAuthAccess(env: env).accessToken(
                    tenant: tenant, mailbox: mailbox, sealed: target.sealedSecret, refused: refusedToken)
                return .oauthBearer(token)
            } catch {
                throw SyncFailure(diagnosis: error.diagnosis)
            }
        }
        guard let sealed = target.sealedSecret else {
            throw SyncFailure(.configuration, text: "no stored credentials", hint: "Enter the mailbox's password again.", rule: "local.noSecret")
        }
        do {
            return .password(try env.secrets.open(sealed, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: mailbox.id)))
        } catch {
            throw SyncFailure(
                .configuration, text: "the stored credentials cannot be read",
                hint: "Enter the mailbox's password again: the server can no longer read the stored one.", rule: "local.secretUnreadable")
        }
    }

    /// Connects and logs in. An OAuth mailbox whose token the server refuses gets one forced
    /// refresh and one more try (the token may have been revoked or expired early); a second
    /// refusal is the failure.
    package func login(tenant: TenantID, target: SyncTarget) async throws(SyncFailure) -> IMAPConnection {
        let mailbox = target.mailbox
        var credentials = try await credentials(tenant: tenant, target: target)
        var retried = false
        while true {
            do {
                return try await IMAPConnection.connect(
                    host: mailbox.imap.host, port: Int(mailbox.imap.port), security: Self.security(mailbox.imap.security),
                    username: mailbox.username, credentials: credentials, timeout: settings.connectTimeout,
                    commandTimeout: settings.commandTimeout, tls: IMAPConnection.TLSOptions(caFile: settings.caFile),
                    policy: env.outbound)
            } catch {
                if let refusal = error.policyRefusal {
                    env.logger.warning("outbound policy refused a mailbox's IMAP server", metadata: [
                        "tenant": "\(tenant)", "mailbox": "\(mailbox.id)", "refusal": "\(refusal)"])
                }
                guard mailbox.authMethod == .oauth, !retried, error.diagnosis.errorClass == .authentication else {
                    throw SyncFailure(error)
                }
                retried = true
                guard case .oauthBearer(let refused) = credentials else { throw SyncFailure(error) }
                credentials = try await self.credentials(tenant: tenant, target: target, refusedToken: refused)
            }
        }
    }
}

extension SyncFailure {
    package init(diagnosis: Diagnosis) {
        self.diagnosis = diagnosis
    }
}

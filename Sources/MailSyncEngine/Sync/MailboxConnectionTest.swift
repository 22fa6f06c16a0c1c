import Foundation
import MailSyncErrors
import MailSyncMailTransport
import MailSyncStorage
import MailSyncTenantData
import Synchronization

/// Runs a mailbox's connection test (`TestMailboxConnection`): connect and log in exactly as a
/// sync does (same credentials path, outbound policy, certificate checks and timeouts), then
/// `LIST` and `EXAMINE` the INBOX (read-only: no flag changes), and reports each step
/// (``ConnectionTestSteps``). It writes nothing: not the mailbox's status, not the error log.
///
/// Limits: one test per mailbox at a time (``InFlight``); connecting is bounded by the sync
/// engine's connect timeout, LIST and EXAMINE each by the command timeout capped at 30 s.
package struct MailboxConnectionTest: Sendable {
    package let env: any SyncEnvironment
    package let settings: SyncSettings

    package init(env: any SyncEnvironment, settings: SyncSettings) {
        self.env = env
        self.settings = settings
    }

    /// The longest LIST or EXAMINE of a test. Default 30 s (or the sync's command timeout when shorter).
    package static let commandCap: Duration = .seconds(30)

    package func run(tenant: TenantID, target: SyncTarget) async -> ConnectionTestSteps {
        let mailbox = target.mailbox
        let usesTLS = mailbox.imap.security != .none
        let sync = MailboxSync(env: env, settings: settings)
        var credentials: IMAPConnection.Credentials
        do {
            credentials = try await sync.credentials(tenant: tenant, target: target)
        } catch {
            return ConnectionTestSteps(usesTLS: usesTLS, failure: .connect(error.diagnosis, nil, nil), timings: nil)
        }
        var imap: IMAPConnection?
        var retried = false
        while imap == nil {
            do {
                imap = try await IMAPConnection.connect(
                    host: mailbox.imap.host, port: Int(mailbox.imap.port), security: MailboxSync.security(mailbox.imap.security),
                    username: mailbox.username, credentials: credentials, timeout: settings.connectTimeout,
                    commandTimeout: min(settings.commandTimeout, Self.commandCap), tls: IMAPConnection.TLSOptions(caFile: settings.caFile),
                    policy: env.outbound)
            } catch {
                if let refusal = error.policyRefusal {
                    env.logger.warning("outbound policy refused a mailbox's IMAP server (connection test)", metadata: [
                        "tenant": "\(tenant)", "mailbox": "\(mailbox.id)", "refusal": "\(refusal)"])
                }
                // As a sync does: a refused OAuth token gets one forced refresh and one more try.
                guard mailbox.authMethod == .oauth, !retried, error.diagnosis.errorClass == .authentication,
                      case .oauthBearer(let refused) = credentials else {
                    return ConnectionTestSteps(usesTLS: usesTLS, failure: .connect(error.diagnosis, error.failure, error.timings), timings: nil)
                }
                retried = true
                do {
                    credentials = try await sync.credentials(tenant: tenant, target: target, refusedToken: refused)
                } catch let failure {
                    return ConnectionTestSteps(usesTLS: usesTLS, failure: .connect(failure.diagnosis, nil, nil), timings: nil)
                }
            }
        }
        guard let imap else { return ConnectionTestSteps(usesTLS: usesTLS, failure: nil, timings: nil) }
        let timings = imap.connectTimings
        let clock = ContinuousClock()
        var started = clock.now
        let folders: SyncFolders
        do {
            folders = try await imap.syncFolders()
        } catch {
            await imap.close()
            return ConnectionTestSteps(usesTLS: usesTLS, failure: .list(error.diagnosis), timings: timings)
        }
        let list = (clock.now - started, "INBOX found; sent folder: \(folders.sent.map { "“\($0.name)”" } ?? "none found (sent mail will not be recorded)")")
        started = clock.now
        let inbox: FolderState
        do {
            inbox = try await imap.examine(folders.inbox)
        } catch {
            await imap.close()
            return ConnectionTestSteps(usesTLS: usesTLS, failure: .selectInbox(error.diagnosis), timings: timings, list: list)
        }
        let select = (clock.now - started, "\(inbox.messages) message\(inbox.messages == 1 ? "" : "s") in the INBOX")
        await imap.close()
        return ConnectionTestSteps(usesTLS: usesTLS, failure: nil, timings: timings, list: list, selectInbox: select)
    }

    /// The mailboxes being tested now, so a caller cannot open connection after connection to a
    /// mail server by repeating the call.
    package final class InFlight: Sendable {
        private let running = Mutex<Set<String>>([])

        package init() {}

        /// Claims `key`; false when a test of it is already running.
        package func claim(_ key: String) -> Bool { running.withLock { $0.insert(key).inserted } }
        package func release(_ key: String) { _ = running.withLock { $0.remove(key) } }
    }
}

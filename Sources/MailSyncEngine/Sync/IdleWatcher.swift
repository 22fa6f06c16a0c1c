import Logging
import MailSyncErrors
import MailSyncMailTransport
import MailSyncStorage
import MailSyncTenantData

/// One mailbox's IMAP IDLE on its INBOX: connects with the mailbox's credentials
/// (``MailboxSync/login(tenant:target:)``), checks that the server advertises `IDLE`, `EXAMINE`s
/// the INBOX, asks for a run once (mail may have come since the last poll), then idles,
/// re-issuing the IDLE every ``SyncSettings/idleRenewal`` and asking for a run whenever the
/// server reports a change (at most one per ``SyncSettings/idleMinimumWakeInterval``). Nothing
/// is recorded here: the run is the scheduler's normal one.
///
/// Ends (for good; the mailbox keeps polling) when its task is cancelled, when the mailbox is no
/// longer enabled, when the server does not offer IDLE or refuses it, or on a login the server
/// refuses (the poll will report it). Any other failure (a broken connection, a timeout, a `BYE`,
/// a reply over budget) closes the connection and connects again after a backoff of 1 s doubling
/// to ``SyncSettings/idleMaxBackoff``; a connection that idled successfully resets it.
package struct IdleWatcher: Sendable {
    package let env: any SyncEnvironment
    package let settings: SyncSettings
    package let logger: Logger
    package let tenant: TenantID
    package let mailboxID: String
    /// Asks the scheduler to run the mailbox now.
    package let wake: @Sendable () async -> Void
    /// Called with true while a connection idles, false when it stops (the idling gauge).
    package let idling: @Sendable (Bool) async -> Void

    package enum SessionEnd: Sendable, Equatable {
        /// Do not connect again.
        case stop
        /// The server does not offer IDLE, or refused it: do not connect again.
        case unsupported
        /// Connect again after the backoff; `healthy` when the connection had idled.
        case retry(healthy: Bool)
    }

    /// Returns true when it ended because the server does not offer IDLE or refused it.
    package func run() async -> Bool {
        var failures = 0
        while !Task.isCancelled {
            switch await session() {
            case .stop:
                return false
            case .unsupported:
                return true
            case .retry(let healthy):
                failures = healthy ? 1 : failures + 1
                do {
                    try await Task.sleep(for: backoff(failures: failures))
                } catch {
                    return false  // cancelled
                }
            }
        }
        return false
    }

    /// 1 s, 2 s, 4 s, … up to ``SyncSettings/idleMaxBackoff``.
    package func backoff(failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 20)
        return min(.seconds(1 << exponent), settings.idleMaxBackoff)
    }

    /// One connection, from login to its end.
    package func session() async -> SessionEnd {
        let target: SyncTarget?
        do {
            target = try await env.read(tenant, "the mailbox", { try SyncStore.target($0, mailboxID: mailboxID) })
        } catch {
            return .retry(healthy: false)
        }
        guard let target, target.mailbox.status == .enabled, !target.retry.exhausted else { return .stop }
        let imap: IMAPConnection
        do {
            imap = try await MailboxSync(env: env, settings: settings).login(tenant: tenant, target: target)
        } catch {
            let errorClass = error.diagnosis.errorClass
            note("IDLE: cannot log in", error.diagnosis.serverText)
            return errorClass == .authentication || errorClass == .configuration ? .stop : .retry(healthy: false)
        }
        let end = await watch(imap)
        await idling(false)
        await imap.close()
        return end
    }

    private func watch(_ imap: IMAPConnection) async -> SessionEnd {
        var idled = false
        do throws(IMAPConnectionError) {
            guard try await imap.capabilities().contains("IDLE") else {
                logger.info("IDLE: the server does not offer it; the mailbox keeps polling", metadata: metadata)
                return .unsupported
            }
            _ = try await imap.examine(.inbox)
            await wake()
            var lastWake = ContinuousClock.now
            await idling(true)
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let result = try await imap.idle(for: settings.idleRenewal)
                idled = true
                switch result.end {
                case .timedOut where ContinuousClock.now - started < settings.idleRenewal / 2:
                    // The server ended the IDLE long before its time: connecting again after a
                    // backoff, not re-issuing at once (a server doing it every time would spin us).
                    logger.info("IDLE: the server ended it early; connecting again after a backoff", metadata: metadata)
                    return .retry(healthy: false)
                case .changed:
                    // A server reporting changes without pause gets a run per interval, not a
                    // run per report; what came meanwhile is reported when the IDLE resumes.
                    let next = lastWake + settings.idleMinimumWakeInterval
                    if next > ContinuousClock.now {
                        do { try await Task.sleep(until: next, clock: .continuous) } catch { return .stop }
                    }
                    lastWake = ContinuousClock.now
                    await wake()
                case .timedOut: continue
                case .cancelled: return .stop
                }
            }
            return .stop
        } catch {
            if case .imap(let response) = error.failure, response.phase == .idle, response.status != .bye {
                note("IDLE: the server refused it; the mailbox keeps polling", error.serverText)
                return .unsupported
            }
            note("IDLE: the connection failed; connecting again after a backoff", error.serverText)
            return Task.isCancelled ? .stop : .retry(healthy: idled)
        }
    }

    private var metadata: Logger.Metadata { ["tenant": "\(tenant)", "mailbox": "\(mailboxID)"] }

    private func note(_ message: Logger.Message, _ serverText: String) {
        var metadata = self.metadata
        metadata["server"] = "\(serverText)"
        logger.info(message, metadata: metadata)
    }
}

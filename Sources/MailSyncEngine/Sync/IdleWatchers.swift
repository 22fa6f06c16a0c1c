import Foundation
import Logging
import MailSyncStorage
import MailSyncTenantData

/// The IMAP IDLE watchers of the whole server (``IdleWatcher``), held within ``IdleBounds``.
///
/// The scheduler calls ``ensure(tenant:mailboxID:)`` for each `ENABLED` mailbox when it reads a
/// company's schedule (at start and on every change) and after each successful run that did not
/// reach the daily cap, ``stop(tenant:mailboxID:)`` after any other outcome, and
/// ``retain(tenant:mailboxIDs:)`` when a company's schedule is reread (disabled or deleted
/// mailboxes lose their watcher). A mailbox past a bound keeps polling and is considered again
/// after its next successful run. A watcher stays counted until its connection is closed.
package actor IdleWatchers {
    private struct Entry {
        let id: UUID
        let host: String
        let task: Task<Void, Never>
        var cancelled = false
    }

    private struct Key: Hashable {
        let tenant: TenantID
        let mailboxID: String
    }

    private let env: any SyncEnvironment
    private let settings: SyncSettings
    private let logger: Logger
    private let bounds: IdleBounds
    /// Set by ``attach(wake:)``; no watcher starts before.
    private var wake: (@Sendable (TenantID, String) async -> Void)?
    private var entries: [Key: Entry] = [:]
    private var idlingNow: Set<Key> = []
    /// Mailboxes whose server does not offer IDLE (or refused it), by the host it was: not tried
    /// again while the mailbox's server stays the same (until the server restarts).
    private var unsupported: [Key: String] = [:]
    private var stopped = false

    package init(env: any SyncEnvironment, settings: SyncSettings, logger: Logger) {
        self.env = env
        self.settings = settings
        self.logger = logger
        self.bounds = IdleBounds(settings)
    }

    /// What a watcher calls when it sees new mail (the scheduler's `wake`).
    package func attach(wake: @escaping @Sendable (TenantID, String) async -> Void) {
        self.wake = wake
    }

    /// Watchers running (connecting, idling or waiting to reconnect), each counted against the bounds.
    package var count: Int { entries.count }
    /// Watchers whose connection idles now.
    package var idlingCount: Int { idlingNow.count }

    /// Whether `mailboxID` of `tenant` has a watcher.
    package func watches(tenant: TenantID, mailboxID: String) -> Bool { entries[Key(tenant: tenant, mailboxID: mailboxID)] != nil }

    /// Starts a watcher for the mailbox unless it has one, IDLE is off, or a bound refuses it.
    package func ensure(tenant: TenantID, mailboxID: String) async {
        let key = Key(tenant: tenant, mailboxID: mailboxID)
        guard settings.idleEnabled, !stopped, entries[key] == nil, entries.count < bounds.maxTotal, let wake else { return }
        let host: String
        do {
            guard let target = try await env.read(tenant, "the mailbox", { try SyncStore.target($0, mailboxID: mailboxID) }),
                  target.mailbox.status == .enabled else { return }
            host = target.mailbox.imap.host
        } catch {
            return
        }
        // Checked again after the read: another call may have started it meanwhile.
        guard !stopped, entries[key] == nil, unsupported[key] != host.lowercased() else { return }
        let held = entries.map { (company: $0.key.tenant, host: $0.value.host) }
        if let bound = bounds.refusal(company: tenant, host: host, held: held) {
            logger.debug("IDLE: bound reached; the mailbox keeps polling", metadata: [
                "tenant": "\(tenant)", "mailbox": "\(mailboxID)", "bound": "\(bound)"])
            return
        }
        let id = UUID()
        let watcher = IdleWatcher(
            env: env, settings: settings, logger: logger, tenant: tenant, mailboxID: mailboxID,
            wake: { await wake(tenant, mailboxID) },
            idling: { [weak self] on in await self?.setIdling(key, on) })
        let task = Task { [weak self] in
            let unsupported = await watcher.run()
            await self?.ended(key, id, unsupported: unsupported)
        }
        entries[key] = Entry(id: id, host: host, task: task)
        env.syncMetrics.setIdleWatchers(entries.count)
    }

    /// Ends the mailbox's watcher, if any (its connection sends `DONE` and `LOGOUT`; it is
    /// counted until then).
    package func stop(tenant: TenantID, mailboxID: String) {
        cancel(Key(tenant: tenant, mailboxID: mailboxID))
    }

    /// Ends the watchers of `tenant` whose mailbox is not in `mailboxIDs` (the ones on its schedule).
    package func retain(tenant: TenantID, mailboxIDs: Set<String>) {
        for key in entries.keys where key.tenant == tenant && !mailboxIDs.contains(key.mailboxID) { cancel(key) }
    }

    /// Ends every watcher and waits until their connections are closed; none starts afterwards.
    package func stopAll() async {
        stopped = true
        let tasks = entries.values.map(\.task)
        for key in entries.keys { cancel(key) }
        for task in tasks { await task.value }
    }

    private func cancel(_ key: Key) {
        guard var entry = entries[key], !entry.cancelled else { return }
        entry.cancelled = true
        entry.task.cancel()
        entries[key] = entry
    }

    private func ended(_ key: Key, _ id: UUID, unsupported: Bool) {
        guard let entry = entries[key], entry.id == id else { return }
        if unsupported { self.unsupported[key] = entry.host.lowercased() }
        entries[key] = nil
        idlingNow.remove(key)
        env.syncMetrics.setIdleWatchers(entries.count)
    }

    private func setIdling(_ key: Key, _ on: Bool) {
        if on { idlingNow.insert(key) } else { idlingNow.remove(key) }
    }
}

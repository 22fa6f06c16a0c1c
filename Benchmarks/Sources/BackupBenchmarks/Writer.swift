import Foundation
import MailSyncStorage
import Synchronization

/// The server's writes while backups run: one transaction per recorded mail, through the tenant
/// pool like the sync engine (`withTenant` + `lease.write`): the mail's rows (``Directory/record``),
/// the mailbox's `synced_today`, its folder cursor, the day's count, and an update of a random
/// older timeline entry (a Smart Mail flag). Counts commits and the longest commit (which shows
/// how long a restore keeps the tenant offline).
final class Writer: Sendable {
    private let commits = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let longest = Mutex<Duration>(.zero)
    private let failure = Mutex<String?>(nil)

    var commitCount: Int { commits.load(ordering: .relaxed) }

    /// The longest commit since the last call, then starts over.
    func takeLongestCommit() -> Duration { longest.withLock { value in defer { value = .zero }; return value } }
    var error: String? { failure.withLock { $0 } }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func start(pool: TenantPool, tenant: TenantID, directory: Directory, pauseMs: Int) -> Task<Void, Never> {
        var factory = MailFactory(seed: 99)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        // Mails without attachments (about 5 KB of zlib each), so the file grows slowly.
        var mails: [SyntheticMail] = []
        while mails.count < 64 {
            let mail = factory.mail(leads: directory.leads.count, date: now)
            if mail.rawZlib.count < 12_000 { mails.append(mail) }
        }
        let nonce = UUID().uuidString.prefix(8).lowercased()
        return Task.detached { [self] in
            var n = 0
            var random = Generator(state: 5)
            while !stopped.load(ordering: .relaxed) {
                n += 1
                var mail = mails[n % mails.count]
                mail.key += ".w\(nonce).\(n)"
                mail.leadIndex = random.below(directory.leads.count)
                let mailboxIndex = n % directory.mailboxes.count
                let touch = Int64(1 + random.below(50_000))
                let uid = Int64(50_000_000 + n)
                let start = ContinuousClock.now
                do {
                    try await pool.withTenant(tenant) { lease in
                        try await lease.write { [mail] db in
                            let time = Int64(Date().timeIntervalSince1970 * 1_000_000)
                            try directory.record(db, mail, mailboxIndex: mailboxIndex, uid: uid, now: time)
                            let mailbox = directory.mailboxes[mailboxIndex]
                            try db.run("UPDATE mailboxes SET synced_today = synced_today + 1, last_synced_at = ? WHERE id = ?", [.integer(time), .text(mailbox)])
                            try db.run("""
                                INSERT INTO folder_cursors(mailbox_id, folder, uid_validity, highest_uid, updated_at) VALUES (?, 'INBOX', 1, ?, ?)
                                ON CONFLICT(mailbox_id, folder) DO UPDATE SET highest_uid = excluded.highest_uid, updated_at = excluded.updated_at
                                """, [.text(mailbox), .integer(uid), .integer(time)])
                            try db.run("""
                                INSERT INTO daily_counts(user_id, day, recorded) VALUES (?, '2026-11-23', 1)
                                ON CONFLICT(user_id, day) DO UPDATE SET recorded = recorded + 1
                                """, [.text(directory.users[mailboxIndex])])
                            try db.run("UPDATE timeline_entries SET smart_mail = 1 - smart_mail WHERE rowid = ?", [.integer(touch)])
                        }
                    }
                } catch {
                    failure.withLock { $0 = "\(error)" }
                    return
                }
                let elapsed = ContinuousClock.now - start
                longest.withLock { $0 = max($0, elapsed) }
                commits.add(1, ordering: .relaxed)
                if pauseMs > 0 { try? await Task.sleep(for: .milliseconds(pauseMs)) }
            }
        }
    }
}

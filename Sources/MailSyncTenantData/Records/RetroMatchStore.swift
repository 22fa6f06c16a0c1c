import MailSyncStorage

/// Retro-match's queue in a company's database: lead addresses added since (a new lead, or an
/// address added to one), in order, and how far each mailbox has searched its past mail for them.
///
/// A new mailbox starts at the queue's head: its first sync reads the whole backfill window with
/// every lead known then. Rows every active mailbox has handled are deleted; their numbers are
/// never reused (`AUTOINCREMENT`). Every function runs inside the caller's transaction.
package enum RetroMatchStore {
    /// One queued address.
    package struct Entry: Sendable, Hashable {
        package var seq: Int64
        package var address: String
    }

    /// Queues `addresses` (lower-cased, as leads store them) for every mailbox to search. Nothing
    /// is queued while the company has no active mailbox: a mailbox connected later starts at the
    /// head, its first sync covering them.
    package static func enqueue(_ db: SQLiteConnection, _ addresses: [String], now: Int64) throws {
        guard !addresses.isEmpty,
              try db.scalar("SELECT 1 FROM mailboxes WHERE disabled_at IS NULL LIMIT 1") != nil else { return }
        try db.withStatement("INSERT INTO retro_queue(address, queued_at) VALUES (?, ?)") { insert in
            for address in addresses {
                try insert.bind(address, at: 0)
                try insert.bind(now, at: 1)
                while try insert.step() {}
                insert.reset()
            }
        }
    }

    /// Queues every lead address that is in-house under the company's current settings (a user's
    /// address, or on one of its domains): call it before a change that makes less mail in-house,
    /// so the mail skipped as in-house before is searched again.
    package static func enqueueInHouse(_ db: SQLiteConnection, now: Int64) throws {
        let addresses = try db.query("""
            SELECT DISTINCT la.address FROM lead_addresses la
            WHERE la.address IN (SELECT lower(email) FROM users)
               OR EXISTS (SELECT 1 FROM email_domains d WHERE la.address LIKE '%@' || d.domain)
            ORDER BY la.address
            """).map { try RowReader($0, table: "lead_addresses").string("address") }
        try enqueue(db, addresses, now: now)
    }

    /// The last sequence number ever given (0 before the first).
    package static func head(_ db: SQLiteConnection) throws -> Int64 {
        try db.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'retro_queue'")?.int64 ?? 0
    }

    /// Marks everything queued so far handled for the mailbox (a new mailbox, or a sync that reads
    /// every folder from the backfill point with today's leads).
    package static func startAtHead(_ db: SQLiteConnection, mailboxID: String) throws {
        try setHandled(db, mailboxID: mailboxID, try head(db))
    }

    /// The mailbox's handled sequence number.
    package static func handled(_ db: SQLiteConnection, mailboxID: String) throws -> Int64 {
        try db.scalar("SELECT retro_handled FROM mailboxes WHERE id = ?", [.text(mailboxID)])?.int64 ?? 0
    }

    /// Moves the mailbox's handled sequence number forward to `seq` (never back), then deletes
    /// the rows every active mailbox has handled.
    package static func setHandled(_ db: SQLiteConnection, mailboxID: String, _ seq: Int64) throws {
        try db.run("UPDATE mailboxes SET retro_handled = max(retro_handled, ?) WHERE id = ?", [.integer(seq), .text(mailboxID)])
        try db.run("""
            DELETE FROM retro_queue WHERE seq <= (SELECT min(retro_handled) FROM mailboxes WHERE disabled_at IS NULL)
            """)
    }

    /// Up to `limit` entries after `seq`, oldest first.
    package static func pending(_ db: SQLiteConnection, after seq: Int64, limit: Int) throws -> [Entry] {
        try db.query("SELECT seq, address FROM retro_queue WHERE seq > ? ORDER BY seq LIMIT ?",
                     [.integer(seq), .integer(Int64(max(0, limit)))]).map {
            let r = RowReader($0, table: "retro_queue")
            return Entry(seq: try r.int64("seq"), address: try r.string("address"))
        }
    }

    /// How many entries follow `seq`.
    package static func count(_ db: SQLiteConnection, after seq: Int64) throws -> Int {
        Int(try db.scalar("SELECT count(*) FROM retro_queue WHERE seq > ?", [.integer(seq)])?.int64 ?? 0)
    }
}

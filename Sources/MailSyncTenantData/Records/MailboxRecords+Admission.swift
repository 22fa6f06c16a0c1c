import MailSyncStorage

extension MailboxRecords {
    /// Stores a newly connected mailbox: `ENABLED` and scheduled to sync now while the company is
    /// below `limit`, `PENDING` at it (`new.status` is replaced), with a `CONNECTED` event saying
    /// `how` it connected and a `STATUS_CHANGED` event. In the caller's transaction; tell the
    /// engine afterwards (`env.syncRequests.scheduleChanged`).
    package static func admit(_ db: SQLiteConnection, _ new: NewMailbox, limit: UInt32, how: String) throws -> MailboxRecord {
        var new = new
        new.status = try admissionStatus(db, limit: limit)
        try insert(db, new)
        try SyncEventRecords.insert(
            db, kind: .connected, mailboxID: new.id, userID: new.userID, status: new.status,
            detail: "\(new.emailAddress) connected \(how)", now: new.now)
        try SyncEventRecords.insert(
            db, kind: .statusChanged, mailboxID: new.id, userID: new.userID, status: new.status,
            detail: new.status == .pending
                ? "waiting for a place under the company's mailbox sync limit"
                : "enabled; the first sync is scheduled",
            now: new.now)
        if new.status == .enabled { try schedule(db, id: new.id, at: new.now) }
        return try require(db, id: new.id)
    }
}

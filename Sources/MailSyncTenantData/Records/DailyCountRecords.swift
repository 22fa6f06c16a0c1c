import MailSyncStorage

/// The `daily_counts` table: how many emails each user's mailboxes recorded on a day (the plan's
/// daily cap counts these). Every function runs inside the caller's transaction.
package enum DailyCountRecords {
    /// The user's count for `day` (`yyyy-MM-dd`); 0 when no row exists. A stored value that is
    /// not an integer is a ``TenantDataError/Kind/corruptRow``.
    package static func recorded(_ db: SQLiteConnection, userID: String, day: String) throws -> Int {
        guard let row = try db.query("SELECT recorded FROM daily_counts WHERE user_id = ? AND day = ?", [.text(userID), .text(day)]).first
        else { return 0 }
        return try RowReader(row, table: "daily_counts").integer("recorded")
    }

    /// Sets the user's count for `day`.
    package static func setRecorded(_ db: SQLiteConnection, userID: String, day: String, _ count: Int) throws {
        try db.run("""
            INSERT INTO daily_counts(user_id, day, recorded) VALUES (?, ?, ?)
            ON CONFLICT(user_id, day) DO UPDATE SET recorded = excluded.recorded
            """, [.text(userID), .text(day), .integer(Int64(count))])
    }
}

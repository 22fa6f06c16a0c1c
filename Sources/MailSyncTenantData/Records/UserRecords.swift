import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage

/// Reading users out of a company's database, each with the status of their active mailbox.
enum UserRecords {
    /// A user joined with their active (not disabled) mailbox; there is at most one
    /// (`mailboxes_one_active_per_user`).
    static let select = """
        SELECT u.id, u.name, u.email, u.role, u.active, u.created_at, m.id, m.status
        FROM users u LEFT JOIN mailboxes m ON m.user_id = u.id AND m.disabled_at IS NULL
        """

    static func user(_ row: Row) -> User {
        var user = User()
        user.id = row[0].string ?? ""
        user.name = row[1].string ?? ""
        user.email = row[2].string ?? ""
        user.role = UserRole(rawValue: Int32(row[3].int64 ?? 0))
        user.active = row[4].int64 == 1
        user.createdAt = Timestamp(microsecondsSinceEpoch: row[5].int64 ?? 0)
        if let mailboxID = row[6].string {
            user.mailboxId = mailboxID
            user.mailboxStatus = MailboxStatus(rawValue: Int32(row[7].int64 ?? 0))
        } else {
            user.mailboxStatus = .notConfigured
        }
        return user
    }

    static func find(_ db: SQLiteConnection, id: String) throws -> User? {
        try db.query("\(select) WHERE u.id = ?", [.text(id)]).first.map(user)
    }

    static func require(_ db: SQLiteConnection, id: String) throws -> User {
        guard let user = try find(db, id: id) else { throw RPCError(.notFound, "no user '\(id)'") }
        return user
    }

    /// How many active administrators the company has.
    static func activeAdministrators(_ db: SQLiteConnection) throws -> Int64 {
        try db.scalar("SELECT count(*) FROM users WHERE role = ? AND active = 1",
                      [.integer(Int64(UserRole.administrator.rawValue))])?.int64 ?? 0
    }

    /// Refuses a change that would leave the company with no active administrator (only an
    /// operator could then manage its users).
    static func requireAnotherAdministrator(_ db: SQLiteConnection, besides user: User, doing what: String) throws {
        guard user.role == .administrator, user.active else { return }
        guard try activeAdministrators(db) > 1 else {
            throw RPCError(.failedPrecondition, "'\(user.id)' is the company's last active administrator; make another user an administrator before \(what)")
        }
    }
}

import MailSyncStorage

/// Reading users out of a company's database, each with the status of their active mailbox.
package enum UserRecords {
    /// A user joined with their active (not disabled) mailbox; there is at most one
    /// (`mailboxes_one_active_per_user`).
    package static let select = """
        SELECT u.id AS id, u.name AS name, u.email AS email, u.role AS role, u.active AS active, u.created_at AS created_at,
            m.id AS mailbox_id, m.status AS mailbox_status
        FROM users u LEFT JOIN mailboxes m ON m.user_id = u.id AND m.disabled_at IS NULL
        """

    /// Decodes a row selected with ``select``; a bad value is a ``TenantDataError`` naming it.
    package static func user(_ row: Row) throws -> UserRecord {
        let r = RowReader(row, table: "users")
        var user = UserRecord(
            id: try r.string("id"), name: try r.string("name"), email: try r.string("email"), role: try r.value("role"),
            active: try r.bool("active"), createdAt: try r.timestamp("created_at"))
        if let mailboxID = try r.optionalString("mailbox_id") {
            user.mailbox = (mailboxID, try r.value("mailbox_status"))
        }
        return user
    }

    package static func find(_ db: SQLiteConnection, id: String) throws -> UserRecord? {
        try db.query("\(select) WHERE u.id = ?", [.text(id)]).first.map(user)
    }

    package static func require(_ db: SQLiteConnection, id: String) throws -> UserRecord {
        guard let user = try find(db, id: id) else { throw TenantDataError.notFound("no user '\(id)'") }
        return user
    }

    /// How many active administrators the company has.
    package static func activeAdministrators(_ db: SQLiteConnection) throws -> Int64 {
        try db.scalar("SELECT count(*) FROM users WHERE role = ? AND active = 1",
                      [.text(UserRecord.Role.administrator.stored)])?.int64 ?? 0
    }

    /// Refuses a change that would leave the company with no active administrator (only an
    /// operator could then manage its users).
    package static func requireAnotherAdministrator(_ db: SQLiteConnection, besides user: UserRecord, doing what: String) throws {
        guard user.role == .administrator, user.active else { return }
        guard try activeAdministrators(db) > 1 else {
            throw TenantDataError.failedPrecondition("'\(user.id)' is the company's last active administrator; make another user an administrator before \(what)")
        }
    }
}

extension UserRecords {
    /// Whether a user with this id exists (active or not).
    package static func exists(_ db: SQLiteConnection, id: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM users WHERE id = ?", [.text(id)]) != nil
    }

    /// Adds an active user.
    package static func insert(
        _ db: SQLiteConnection, id: String, name: String, email: String, role: UserRecord.Role, now: Int64
    ) throws {
        try db.run("INSERT INTO users(id, name, email, role, active, created_at) VALUES (?, ?, ?, ?, 1, ?)",
                   [.text(id), .text(name), .text(email), .text(role.stored), .integer(now)])
    }

    package static func setRole(_ db: SQLiteConnection, id: String, _ role: UserRecord.Role) throws {
        try db.run("UPDATE users SET role = ? WHERE id = ?", [.text(role.stored), .text(id)])
    }

    package static func deactivate(_ db: SQLiteConnection, id: String) throws {
        try db.run("UPDATE users SET active = 0 WHERE id = ?", [.text(id)])
    }

    /// The user's name, or nil when there is no such user (the From header of a Smart Mail).
    package static func name(_ db: SQLiteConnection, id: String) throws -> String? {
        try db.query("SELECT id, name FROM users WHERE id = ?", [.text(id)]).first
            .map { try RowReader($0, table: "users").string("name") }
    }

    /// Users by creation time: only active ones unless `includeInactive`, only of `role` when
    /// given, at most `limit` from `offset`.
    package static func list(
        _ db: SQLiteConnection, role: UserRecord.Role?, includeInactive: Bool, limit: Int64, offset: Int64
    ) throws -> [UserRecord] {
        var conditions: [String] = []
        var arguments: [SQLiteValue] = []
        if !includeInactive { conditions.append("u.active = 1") }
        if let role {
            conditions.append("u.role = ?")
            arguments.append(.text(role.stored))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments += [.integer(limit), .integer(offset)]
        return try db.query("\(select)\(filter) ORDER BY u.created_at, u.id LIMIT ? OFFSET ?", arguments).map(user)
    }
}

extension UserRecords {
    /// Active users without a mailbox that is not disabled, by id, each with whether they had one
    /// (since disabled); at most `limit` from `offset`.
    package static func unconfigured(_ db: SQLiteConnection, limit: Int64, offset: Int64) throws -> [(user: UserRecord, hadMailbox: Bool)] {
        try db.query("""
            SELECT u.id AS id, u.name AS name, u.email AS email, u.role AS role, u.active AS active, u.created_at AS created_at,
                   EXISTS (SELECT 1 FROM mailboxes m WHERE m.user_id = u.id) AS had_mailbox
            FROM users u
            WHERE u.active = 1 AND NOT EXISTS (SELECT 1 FROM mailboxes m WHERE m.user_id = u.id AND m.disabled_at IS NULL)
            ORDER BY u.id LIMIT ? OFFSET ?
            """, [.integer(limit), .integer(offset)]
        ).map { row in
            let r = RowReader(row, table: "users")
            let user = UserRecord(
                id: try r.string("id"), name: try r.string("name"), email: try r.string("email"), role: try r.value("role"),
                active: try r.bool("active"), createdAt: try r.timestamp("created_at"))
            return (user, try r.bool("had_mailbox"))
        }
    }

    /// Every user's email address (active or not), in no particular order.
    package static func emails(_ db: SQLiteConnection) throws -> [String] {
        try db.query("SELECT email FROM users").map { try RowReader($0, table: "users").string("email") }
    }

    /// The user's email address, or nil when there is no such user.
    package static func email(_ db: SQLiteConnection, id: String) throws -> String? {
        guard let row = try db.query("SELECT email FROM users WHERE id = ?", [.text(id)]).first else { return nil }
        return try RowReader(row, table: "users").string("email")
    }
}

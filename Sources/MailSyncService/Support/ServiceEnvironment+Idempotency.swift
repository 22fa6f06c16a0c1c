import MailSyncCoding
import MailSyncSecurity
import MailSyncStorage
import MailSyncTenantData

extension ServiceEnvironment {
    /// `create` in one write transaction of the company's database, under the request's
    /// idempotency key (``IdempotentRequests``): with a key seen before, the first answer comes
    /// back and `create` does not run. `request` is what the key vouches for, with the key itself
    /// cleared. Without a key: a plain ``write(_:_:_:)``.
    func idempotentWrite<Response: Message>(
        _ tenant: TenantID, _ what: String, scope: String, key: String?, request: some Message,
        _ create: @escaping @Sendable (SQLiteConnection) throws -> Response
    ) async throws -> Response {
        guard let key else { return try await write(tenant, what, create) }
        let (mac, secrets, now) = (IdempotentRequests.mac(request, secrets: secrets), secrets, clock.now().microsecondsSinceEpoch)
        return try await write(tenant, what) { db in
            try Self.once(db, scope: scope, key: key, mac: mac, secrets: secrets, now: now, create)
        }
    }

    /// The same in the control database (operator calls).
    func idempotentControlWrite<Response: Message>(
        _ what: String, scope: String, key: String?, request: some Message,
        _ create: @escaping @Sendable (SQLiteConnection) throws -> Response
    ) async throws -> Response {
        guard let key else { return try await controlWrite(what, create) }
        let (mac, secrets, now) = (IdempotentRequests.mac(request, secrets: secrets), secrets, clock.now().microsecondsSinceEpoch)
        return try await controlWrite(what) { db in
            try Self.once(db, scope: scope, key: key, mac: mac, secrets: secrets, now: now, create)
        }
    }

    private static func once<Response: Message>(
        _ db: SQLiteConnection, scope: String, key: String, mac: [UInt8], secrets: SecretBox, now: Int64,
        _ create: (SQLiteConnection) throws -> Response
    ) throws -> Response {
        if case .replay(let earlier) = try IdempotentRequests.find(db, scope: scope, key: key, mac: mac, secrets: secrets, now: now, as: Response.self) {
            return earlier
        }
        let response = try create(db)
        try IdempotentRequests.record(db, scope: scope, key: key, mac: mac, response: response, secrets: secrets, now: now)
        return response
    }
}

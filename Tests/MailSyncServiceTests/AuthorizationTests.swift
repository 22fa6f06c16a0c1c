import MailSyncClient
import MailSyncService
import MailSyncStorage
import Testing

/// For every RPC in the schema and every role: allowed or refused exactly as the schema says.
///
/// The table comes from the generated `MailSync.methods` (so from the schema): a new RPC is covered
/// without touching this test.
@Suite("Authorization, from the schema")
struct AuthorizationTests {
    static let userRoles: [(String, UserRole)] = [
        ("administrator", .administrator), ("company_manager", .companyManager),
        ("marketing_manager", .marketingManager), ("sales_manager", .salesManager),
        ("salesperson", .salesperson), ("junior_salesperson", .juniorSalesperson),
    ]

    @Test("every method × every role: permitted roles pass the role check, others get permission denied")
    func everyMethodEveryRole() async throws {
        let harness = try await ServiceHarness.start()
        let probe = try SchemaProbe()
        let company = try await harness.makeCompany(name: "Roles Inc")
        var keys: [String: String] = ["operator": harness.operatorKey]
        let tenant = TenantID(validating: company.id)!
        for (name, role) in Self.userRoles {
            let userID = "user-\(name)"
            let now = harness.clock.now().microsecondsSinceEpoch
            try await harness.server.environment!.tenants.withTenant(tenant) { lease in
                try await lease.write { db in
                    _ = try db.run("INSERT INTO users VALUES (?, ?, ?, ?, 1, ?)",
                                   [.text(userID), .text(name), .text("\(name)@roles.example"), .integer(Int64(role.rawValue)), .integer(now)])
                }
            }
            keys[name] = try await harness.key(company: company.id, user: userID)
        }
        #expect(Set(keys.keys) == Set(probe.roles), "the test must cover every role the schema declares")

        let transport = TCPClientTransport(host: "127.0.0.1", port: harness.port)
        var checked = 0
        for method in MailSync.methods {
            let request = probe.request(for: method, ids: ["*": "x"])
            for role in probe.roles {
                let outcome = await RawCall.call(method, request: request, transport: transport, key: keys[role])
                let refusedForRole = outcome.code == .permissionDenied && outcome.message.contains("may not call")
                let allowed = method.allowedRoles.contains(role) || method.allowedRoles == ["anyone"]
                #expect(refusedForRole == !allowed, "\(method) as \(role): \(outcome.code) \(outcome.message)")
                checked += 1
            }
            // No credentials: only `anyone` methods get past authentication.
            let anonymous = await RawCall.call(method, request: request, transport: transport, key: nil)
            #expect((anonymous.code == .unauthenticated) == (method.allowedRoles != ["anyone"]), "\(method) without a key: \(anonymous.code)")
        }
        #expect(checked == MailSync.methods.count * probe.roles.count)
        transport.close()
        await harness.stop()
    }
}

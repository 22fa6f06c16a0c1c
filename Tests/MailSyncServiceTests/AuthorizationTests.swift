import MailSyncClient
import MailSyncRPC
import MailSyncService
import MailSyncStorage
import Testing

/// For every RPC in the schema and every role: allowed, own-only or refused exactly as the
/// hand-written policy in `docs/authorization-policy.md` says — checked against the running server
/// and against the schema, so a change of roles needs two deliberate edits (the oracle is not the
/// generated table the router enforces).
@Suite("Authorization, against the written policy", .timeLimit(.minutes(5)))
struct AuthorizationTests {
    static let userRoles: [(String, UserRole)] = [
        ("administrator", .administrator), ("company_manager", .companyManager),
        ("marketing_manager", .marketingManager), ("sales_manager", .salesManager),
        ("salesperson", .salesperson), ("junior_salesperson", .juniorSalesperson),
    ]

    /// The policy table: rpc → role → `all`, `own` or `no`.
    static func policy() throws -> (roles: [String], rows: [String: [String: String]]) {
        let path = SchemaProbe.repoRoot.appendingPathComponent("docs/authorization-policy.md").path
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("| ") }
        let cells = lines.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let header = cells.first, header.first == "rpc", header.last == "why" else { throw PolicyError.noTable }
        let roles = Array(header.dropFirst().dropLast())
        var rows: [String: [String: String]] = [:]
        for row in cells.dropFirst(2) {
            guard row.count == header.count else { throw PolicyError.badRow(row.joined(separator: "|")) }
            rows[row[0]] = Dictionary(uniqueKeysWithValues: zip(roles, row.dropFirst().dropLast()))
        }
        return (roles, rows)
    }

    enum PolicyError: Error { case noTable, badRow(String) }

    @Test("the written policy and the schema agree, row by row (a role granted in one only is a failure)")
    func policyMatchesSchema() throws {
        let probe = try SchemaProbe()
        let (roles, rows) = try Self.policy()
        #expect(roles == probe.roles, "the policy's columns must be the schema's roles, in order")
        #expect(Set(rows.keys) == Set(MailSync.methods.map(\.method)), "every rpc has one row")
        for method in MailSync.methods {
            guard let row = rows[method.method] else { continue }
            let anyone = method.allowedRoles == [MethodDescriptor.anyoneRole]
            for role in roles {
                let cell = row[role] ?? "?"
                #expect(["all", "own", "no"].contains(cell), "\(method.method) \(role): '\(cell)'")
                let granted = anyone || method.allowedRoles.contains(role)
                #expect(granted == (cell != "no"), "\(method.method) as \(role): the policy says \(cell), the schema \(granted ? "grants" : "refuses")")
                if granted, !anyone, !method.othersRoles.isEmpty {
                    #expect(method.mayActOnOthers(role: role) == (cell == "all"), "\(method.method) as \(role): policy \(cell)")
                } else if granted {
                    #expect(cell == "all", "\(method.method) as \(role): 'own' needs manage_others in the schema")
                }
            }
        }
    }

    @Test("every method × every role against the running server: the policy's `no` is permission denied, the rest pass the role check")
    func everyMethodEveryRole() async throws {
        let harness = try await ServiceHarness.start()
        let probe = try SchemaProbe()
        let (_, rows) = try Self.policy()
        let company = try await harness.makeCompany(name: "Roles Inc")
        var keys: [String: String] = ["operator": harness.operatorKey]
        for (name, role) in Self.userRoles {
            let userID = "user-\(name)"
            var request = CreateUserRequest()
            request.id = userID
            request.name = name
            request.email = "\(name)@roles.example"
            request.role = role
            _ = try await company.admin.createUser(request)
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
                let expected = rows[method.method]?[role] ?? "?"
                #expect(refusedForRole == (expected == "no"), "\(method) as \(role): \(outcome.code) \(outcome.message); policy: \(expected)")
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

import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncService
import Testing

/// Idempotency keys on the create calls: a retry after a timeout gets the first answer and
/// creates nothing more.
@Suite("Idempotency keys of CreateCompany, CreateApiKey, CreateUser, CreateMailboxConnection", .timeLimit(.minutes(2)))
struct IdempotencyTests {
    static func companyRequest(_ name: String, key: String) -> CreateCompanyRequest {
        var request = CreateCompanyRequest()
        request.name = name
        request.plan = .essential
        request.administrator.id = "boss"
        request.administrator.name = "Boss"
        request.administrator.email = "boss@\(name.lowercased()).example"
        request.idempotencyKey = key
        return request
    }

    @Test("CreateCompany: a repeat gets the same company, also when the repeats race; another request under the key is refused; 24 hours later the key is free")
    func createCompany() async throws {
        let harness = try await ServiceHarness.start()
        let client = harness.operatorClient
        let first = try await client.createCompany(Self.companyRequest("Acme", key: "k-1"))
        let again = try await client.createCompany(Self.companyRequest("Acme", key: "k-1"))
        #expect(again == first)
        await #expect { _ = try await client.createCompany(Self.companyRequest("Other", key: "k-1")) } throws: { error in
            (error as? RPCError).map { $0.code == .invalidArgument && $0.message.contains("different request") } ?? false
        }
        let racing = try await withThrowingTaskGroup(of: Company.self) { group in
            for _ in 0..<6 { group.addTask { try await client.createCompany(Self.companyRequest("Race", key: "k-race")) } }
            return try await group.reduce(into: [Company]()) { $0.append($1) }
        }
        #expect(Set(racing.map(\.id)).count == 1)
        let listed = try await client.listCompanies(ListCompaniesRequest()).companies
        #expect(listed.count == 2, "\(listed.map(\.name))")
        // Only the racing winner's files are left.
        let directories = try FileManager.default.contentsOfDirectory(atPath: harness.dataDirectory + "/tenants")
        #expect(Set(directories) == Set(listed.map(\.id)))

        harness.clock.advance(seconds: 24 * 3600 + 1)
        let later = try await client.createCompany(Self.companyRequest("Acme", key: "k-1"))
        #expect(later.id != first.id)
        await #expect { _ = try await client.createCompany(Self.companyRequest("Bad", key: "no spaces")) } throws: {
            ($0 as? RPCError)?.code == .invalidArgument
        }
        await harness.stop()
    }

    @Test("CreateApiKey: a repeat gets the same key and secret, kept sealed: the secret is nowhere in the control database file")
    func createApiKey() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = CreateApiKeyRequest()
        request.companyId = company.id
        request.userId = company.adminUserID
        request.label = "crm"
        request.idempotencyKey = "key-req-1"
        let first = try await harness.operatorClient.createApiKey(request)
        let again = try await harness.operatorClient.createApiKey(request)
        #expect(again.key.id == first.key.id && again.secret == first.secret)
        _ = try await harness.client(key: again.secret).listUsers(ListUsersRequest())
        let keys = try await harness.operatorClient.listApiKeys({ var r = ListApiKeysRequest(); r.companyId = company.id; return r }())
        #expect(keys.keys.filter { $0.label == "crm" }.count == 1)
        await harness.stop(keepData: true)
        let secretPart = try #require(first.secret.split(separator: "_").last.map(String.init))
        for suffix in ["", "-wal"] {
            let bytes = FileManager.default.contents(atPath: harness.dataDirectory + "/control.sqlite" + suffix) ?? Data()
            #expect(bytes.range(of: Data(secretPart.utf8)) == nil, "the secret is stored in clear in control.sqlite\(suffix)")
        }
        try? FileManager.default.removeItem(atPath: harness.dataDirectory)
    }

    @Test("CreateUser without an id: a repeat gets the same server-made id; CreateMailboxConnection: a repeat gets the same mailbox instead of 'already exists'")
    func tenantCalls() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var user = CreateUserRequest()
        user.name = "Sam"
        user.email = "sam@acme.example"
        user.role = .salesperson
        user.idempotencyKey = "u-1"
        let first = try await company.admin.createUser(user)
        #expect(try await company.admin.createUser(user).id == first.id)
        #expect(try await company.admin.listUsers(ListUsersRequest()).users.count == 2)

        var mailbox = MailboxFixtures.request(email: "sam@acme.example")
        mailbox.userId = first.id
        mailbox.idempotencyKey = "m-1"
        let connected = try await company.admin.createMailboxConnection(mailbox)
        #expect(try await company.admin.createMailboxConnection(mailbox).id == connected.id)
        mailbox.idempotencyKey = ""
        await #expect { _ = try await company.admin.createMailboxConnection(mailbox) } throws: { ($0 as? RPCError)?.code == .alreadyExists }
        // The same key with another request (a new password) is refused, not replayed.
        mailbox.idempotencyKey = "m-1"
        mailbox.secret = "another-password"
        await #expect { _ = try await company.admin.createMailboxConnection(mailbox) } throws: { error in
            (error as? RPCError)?.message.contains("different request") == true
        }
        await harness.stop()
    }
}

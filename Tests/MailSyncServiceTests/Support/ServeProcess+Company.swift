import Foundation
import MailSyncClient
import MailSyncStorage
import Testing

extension SyncCrashTests.ServeProcess {
    /// An operator key for `dataDirectory`, made with `mailsync keys create-operator` (the server
    /// need not run).
    static func operatorKey(dataDirectory: String) async throws -> String {
        let (_, output, _) = try await CommandRunner.run(["keys", "create-operator", "--data-dir", dataDirectory, "--json"])
        return try #require((try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])?["secret"])
    }

    /// Creating a company on Essential named `name`, its administrator `alice` (alice@acme.example).
    static func companyRequest(_ name: String) -> CreateCompanyRequest {
        var create = CreateCompanyRequest()
        create.name = name
        create.plan = .essential
        create.administrator.id = "alice"
        create.administrator.name = "Alice"
        create.administrator.email = "alice@acme.example"
        return create
    }

    /// A company on Essential named `name`, its administrator `alice` (alice@acme.example), made
    /// through this server's API with `operatorKey`, with the lead `jane` (jane@client.example):
    /// the company with a client for its administrator, and its database's path.
    func makeCompany(_ name: String, operatorKey: String, dataDirectory: String) async throws -> (company: ServiceHarness.Company, tenantPath: String) {
        let operatorClient = MailSync.connect(host: "127.0.0.1", port: port, apiKey: operatorKey).0
        let company = try await operatorClient.createCompany(Self.companyRequest(name))
        var keyRequest = CreateApiKeyRequest()
        keyRequest.companyId = company.id
        keyRequest.userId = "alice"
        let admin = MailSync.connect(host: "127.0.0.1", port: port, apiKey: try await operatorClient.createApiKey(keyRequest).secret).0
        let handle = ServiceHarness.Company(id: company.id, adminUserID: "alice", adminKey: "", admin: admin)
        try await SyncFixture.upsertLeads(handle, [(id: "jane", address: "jane@client.example")])
        return (handle, DataDirectory(dataDirectory).tenantDatabasePath(TenantID(validating: company.id)!))
    }
}

import Foundation
import Testing

@testable import SchemaCompiler

/// The repository root, from this file's path (Tests/SchemaCompilerTests/<file>).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func schemaSource(_ relativePath: String) throws -> SchemaSource {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
    return SchemaSource(path: relativePath, text: text)
}

@Suite("Accepted schemas")
struct AcceptedSchemaTests {
    @Test("The product and test schemas check without errors", arguments: ["Schema/mailsync.msrpc", "Tests/TestSupport/Schema/test.msrpc"])
    func checks(path: String) throws {
        let (file, diagnostics) = Generator.check(try schemaSource(path))
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.description).joined(separator: "\n"))")
        #expect(!file.services.isEmpty)
        for rpc in file.services.flatMap(\.rpcs) {
            #expect(rpc.roles?.isEmpty == false, "\(rpc.name) has no roles")
        }
    }

    @Test("The product schema declares the API's methods")
    func productSurface() throws {
        let file = Generator.check(try schemaSource("Schema/mailsync.msrpc")).file
        #expect(file.package == "mailsync.v1")
        let rpcs = Set(file.services.flatMap(\.rpcs).map(\.name))
        let expected: Set<String> = [
            "CreateCompany", "GetCompany", "ListCompanies", "SuspendCompany", "ChangePlan", "ListPlans",
            "UpdatePlanCaps", "GetCompanySettings", "UpdateCompanySettings", "SetCompanyLimits", "CreateApiKey",
            "ListApiKeys", "RevokeApiKey", "CreateUser", "ChangeUserRole", "DeactivateUser", "ListUsers",
            "UpsertLeads", "UpsertOpportunities", "DeleteLead", "CreateMailboxConnection",
            "UpdateMailboxCredentials", "GetMailboxStatus", "ListMailboxes", "DisableMailbox", "SyncNow", "Resync",
            "ListUnconfiguredUsers", "ListSyncEvents", "ListErrorLog", "WatchSyncEvents", "ListLeadTimeline",
            "GetBillingReport", "StartOAuthConnection", "CompleteOAuthConnection", "SendSmartMail", "BackupTenant",
            "RestoreTenant", "VerifyBackup", "ListBackups", "GetServerInfo",
        ]
        #expect(expected.subtracting(rpcs).isEmpty, "missing: \(expected.subtracting(rpcs).sorted())")
        #expect(Set(file.roles.map(\.name)) == [
            "operator", "administrator", "company_manager", "marketing_manager", "sales_manager", "salesperson",
            "junior_salesperson",
        ])
    }

    @Test("The product schema limits every user role but administrators and company managers to their own mailbox")
    func ownVersusOthers() throws {
        let file = Generator.check(try schemaSource("Schema/mailsync.msrpc")).file
        let rpcs = file.services.flatMap(\.rpcs)
        let scoped = Set(rpcs.filter { $0.manageOthers != nil }.map(\.name))
        #expect(scoped == [
            "CreateMailboxConnection", "UpdateMailboxCredentials", "GetMailboxStatus", "ListMailboxes", "DisableMailbox",
            "SyncNow", "Resync", "StartOAuthConnection", "CompleteOAuthConnection", "ListSyncEvents", "WatchSyncEvents",
            "ListErrorLog", "ListLeadTimeline", "TestMailboxConnection",
        ])
        for rpc in rpcs where rpc.manageOthers != nil {
            #expect(rpc.manageOthers?.map(\.name) == ["administrator", "company_manager"], "\(rpc.name)")
        }
        let limits = try #require(rpcs.first { $0.name == "SetCompanyLimits" })
        #expect(limits.roles?.map(\.name) == ["operator", "administrator", "company_manager"])
    }

    @Test("No response message of the product schema can carry a secret")
    func secretsAreWriteOnly() throws {
        let file = Generator.check(try schemaSource("Schema/mailsync.msrpc")).file
        let messages = Dictionary(uniqueKeysWithValues: file.messages.map { ($0.name, $0) })
        // Everything reachable from a response type.
        var reachable: Set<String> = []
        var queue = file.services.flatMap(\.rpcs).map(\.response)
        while let name = queue.popLast() {
            guard reachable.insert(name).inserted, let message = messages[name] else { continue }
            for field in message.fields {
                switch field.type {
                case .named(let n, _), .map(_, .named(let n, _), _): queue.append(n)
                default: break
                }
            }
        }
        for name in reachable.sorted() {
            for field in messages[name]?.fields ?? [] where ["secret", "password", "access_token", "refresh_token"].contains(field.name) {
                // The one deliberate exception: the API key secret, returned once at creation.
                #expect(name == "CreateApiKeyResponse", "\(name).\(field.name) would send a secret")
            }
        }
    }
}

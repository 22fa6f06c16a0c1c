import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncService
import Testing

/// What one company or one key may make the server spend, refused with `resource exhausted`.
@Suite("Quotas: request rate per key, storage per plan, leads per company", .timeLimit(.minutes(2)))
struct QuotaTests {
    static func lead(_ id: String, padding: Int = 0, addresses: Int = 1) -> Lead {
        var lead = Lead()
        lead.id = id
        // A big lead (padding > 0): names near their 200-character limit and many addresses.
        lead.name = "Lead " + id + String(repeating: "x", count: min(padding, 150))
        lead.companyName = String(repeating: "c", count: min(padding, 190))
        let count = padding > 0 ? 20 : addresses
        lead.emailAddresses = (0..<count).map { "\(id)-\($0)-\(String(repeating: "a", count: min(padding, 30)))@client.example" }
        return lead
    }

    static func leadCount(_ harness: ServiceHarness, _ company: ServiceHarness.Company) async throws -> Int64 {
        try await MailboxFixtures.tenantRead(harness, company) { try $0.scalar("SELECT COUNT(*) FROM leads")?.int64 ?? -1 }
    }

    @Test("a tenant key over its rate gets resource exhausted with when to retry; other keys and operators are not held back")
    func rate() async throws {
        let harness = try await ServiceHarness.start(configure: {
            $0.keyRequestsPerSecond = 0.001  // one call refilled every 1,000 s: only the burst counts here
            $0.keyRequestBurst = 5
        })
        do {
            let company = try await harness.makeCompany()
            for _ in 0..<5 { _ = try await company.admin.listUsers(ListUsersRequest()) }
            let refused = await #expect(throws: RPCError.self) { _ = try await company.admin.listUsers(ListUsersRequest()) }
            #expect(refused?.code == .resourceExhausted)
            #expect(refused?.message.contains("retry in") == true, "\(String(describing: refused))")
            // The hint for programs, in the STATUS's trailing metadata (with the request id).
            let wait = refused?.trailers[Metadata.retryAfterKey].flatMap(Int.init) ?? 0
            #expect(wait > 900_000 && wait <= 1_000_000, "\(String(describing: refused?.trailers))")
            #expect(refused?.trailers[Metadata.requestIDKey] != nil)
            // Another key of the same company has its own budget; operators have none.
            let other = harness.client(key: try await harness.key(company: company.id, user: company.adminUserID))
            _ = try await other.listUsers(ListUsersRequest())
            for _ in 0..<20 { _ = try await harness.operatorClient.listCompanies(ListCompaniesRequest()) }
        } catch {
            Issue.record(error)
        }
        await harness.stop()
    }

    @Test("a company's database stops at its plan's quota: the batch that would pass it is refused whole; a bigger plan lets it grow")
    func storage() async throws {
        let harness = try await ServiceHarness.start(configure: { $0.planDatabaseMaxMB = ["ESSENTIAL": 2] })
        do {
            let company = try await harness.makeCompany(plan: .essential)
            var refusal: RPCError?
            var batches = 0
            while refusal == nil, batches < 100 {
                let before = try await Self.leadCount(harness, company)
                do {
                    _ = try await company.admin.upsertLeads { writer in
                        for i in 0..<200 { try await writer.write(Self.lead("b\(batches)-\(i)", padding: 1_000)) }
                    }
                } catch let error as RPCError {
                    refusal = error
                    #expect(try await Self.leadCount(harness, company) == before, "the refused batch left nothing behind")
                }
                batches += 1
            }
            let error = try #require(refusal)
            #expect(error.code == .resourceExhausted)
            #expect(error.message.contains("storage quota of 2 MB"), "\(error.message)")
            #expect(batches > 1, "some batches fit before the quota")

            var change = ChangePlanRequest()
            change.companyId = company.id
            change.plan = .ultimate
            _ = try await harness.operatorClient.changePlan(change)
            _ = try await company.admin.upsertLeads { writer in
                for i in 0..<200 { try await writer.write(Self.lead("after-\(i)", padding: 1_000)) }
            }
        } catch {
            Issue.record(error)
        }
        await harness.stop()
    }

    @Test("leads and lead addresses per company: the batch over the limit is refused, earlier ones stay")
    func leads() async throws {
        let harness = try await ServiceHarness.start(configure: {
            $0.maxLeadsPerCompany = 600
            $0.maxLeadAddressesPerCompany = 1_000
        })
        do {
            let company = try await harness.makeCompany()
            await #expect {
                _ = try await company.admin.upsertLeads { writer in
                    for i in 0..<700 { try await writer.write(Self.lead("l\(i)")) }
                }
            } throws: { error in
                (error as? RPCError).map { $0.code == .resourceExhausted && $0.message.contains("at most 600 leads") } ?? false
            }
            #expect(try await Self.leadCount(harness, company) == 500, "the first batch of 500 stays")

            let other = try await harness.makeCompany(name: "Other")
            await #expect {
                _ = try await other.admin.upsertLeads { writer in
                    for i in 0..<30 { try await writer.write(Self.lead("m\(i)", addresses: 50)) }
                }
            } throws: { error in
                (error as? RPCError).map { $0.code == .resourceExhausted && $0.message.contains("lead addresses") } ?? false
            }
            #expect(try await Self.leadCount(harness, other) == 0)
        } catch {
            Issue.record(error)
        }
        await harness.stop()
    }

    @Test("a sync that meets the storage quota records what fits, and says so in the error log as the company's to fix")
    func syncMeetsStorageQuota() async throws {
        try await SyncFixture.with(
            leads: [(id: "lead-1", address: "jane@client.example")], configure: { $0.planDatabaseMaxMB = ["ESSENTIAL": 1] }
        ) { fixture in
            // Random bytes do not compress: this body cannot fit in a 1 MiB file.
            let noise = Data((0..<1_500_000).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(options: .lineLength76Characters)
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Big", body: noise, messageID: "big@c")
            await fixture.harness.runSyncs()
            let status = try await fixture.status()
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.errorClass == .configuration)
            #expect(error.serverText.contains("storage quota"), "\(error.serverText)")
            #expect(error.fixHint.contains("storage quota is full"))
        }
    }
}

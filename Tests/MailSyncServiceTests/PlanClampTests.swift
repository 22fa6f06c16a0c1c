import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncService
import Testing
import TestSupport

/// Claims about plans and sync that had no test of their own.
@Suite("Plans clamp limits; suspended companies and configuration failures do not sync", .timeLimit(.minutes(3)))
struct PlanClampTests {
    static func limits(_ harness: ServiceHarness, _ id: String) async throws -> CompanyLimits {
        try await harness.operatorClient.getCompany({ var r = GetCompanyRequest(); r.companyId = id; return r }()).limits
    }

    @Test("ChangePlan clamps the company's limits to the new plan's caps; UpdatePlanCaps clamps every company on the plan")
    func clamping() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany(plan: .ultimate)
        var set = SetCompanyLimitsRequest()
        set.companyId = company.id
        set.limits.mailboxSyncLimit = 200
        set.limits.minimumPollIntervalSeconds = 60
        _ = try await harness.operatorClient.setCompanyLimits(set)
        #expect(try await Self.limits(harness, company.id).mailboxSyncLimit == 200)

        var change = ChangePlanRequest()
        change.companyId = company.id
        change.plan = .crmFree  // caps: 2 mailboxes, 100 emails a day, polls no more often than 600 s
        let changed = try await harness.operatorClient.changePlan(change)
        #expect(changed.limits.mailboxSyncLimit == 2)
        #expect(changed.limits.syncedEmailsPerUserPerDay == 100, "an unset daily limit takes the plan's cap")
        #expect(changed.limits.minimumPollIntervalSeconds == 600)

        var caps = UpdatePlanCapsRequest()
        caps.plan = .crmFree
        caps.caps.mailboxSyncLimit = 1
        caps.caps.syncedEmailsPerUserPerDay = 50
        caps.caps.minimumPollIntervalSeconds = 900
        _ = try await harness.operatorClient.updatePlanCaps(caps)
        let clamped = try await Self.limits(harness, company.id)
        #expect(clamped.mailboxSyncLimit == 1 && clamped.syncedEmailsPerUserPerDay == 50 && clamped.minimumPollIntervalSeconds == 900)
        await harness.stop()
    }

    @Test("a suspended company's mailboxes are not synced (no login at the server); resumed, they are")
    func suspendedDoesNotSync() async throws {
        let imap = try HostileIMAPServer.start(mode: .wellBehaved)
        let harness = try await ServiceHarness.start()
        do {
            let company = try await harness.makeCompany()
            _ = try await company.admin.createMailboxConnection(SyncFixture.connectRequest(
                email: "admin@acme.example", username: "admin", port: imap.port, secret: "pw"))
            var suspend = SuspendCompanyRequest()
            suspend.companyId = company.id
            suspend.reason = "test"
            _ = try await harness.operatorClient.suspendCompany(suspend)
            await harness.runSyncs()
            #expect(imap.connectionsAccepted == 0)
            var resume = ResumeCompanyRequest()
            resume.companyId = company.id
            _ = try await harness.operatorClient.resumeCompany(resume)
            harness.clock.advance(seconds: 3600)
            await harness.runSyncs()
            #expect(imap.logins >= 1)
        } catch {
            Issue.record(error)
        }
        await harness.stop()
        imap.stop()
    }

    @Test("a configuration failure (TLS against a plain-text server) is not retried: a day later the server saw no new connection")
    func configurationNotRetried() async throws {
        let imap = try HostileIMAPServer.start(mode: .wellBehaved)
        let harness = try await ServiceHarness.start()
        do {
            let company = try await harness.makeCompany()
            var request = SyncFixture.connectRequest(email: "admin@acme.example", username: "admin", port: imap.port, secret: "pw")
            request.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(imap.port), .tls)
            let mailbox = try await company.admin.createMailboxConnection(request)
            await harness.runSyncs()
            let status = try await company.admin.getMailboxStatus(MailboxFixtures.get(mailbox.id))
            #expect(status.mailbox.status == .error)
            #expect(status.lastError?.errorClass == .configuration, "\(String(describing: status.lastError))")
            let attempts = imap.connectionsAccepted
            #expect(attempts >= 1)
            for _ in 0..<24 {
                harness.clock.advance(seconds: 3600)
                await harness.runSyncs()
            }
            #expect(imap.connectionsAccepted == attempts)
        } catch {
            Issue.record(error)
        }
        await harness.stop()
        imap.stop()
    }

    @Test("which plans take new companies is the operator's setting: CRM Free is open by default, CRM Pro closed; opened by the setting")
    func plansOpenToNewCompanies() async throws {
        let harness = try await ServiceHarness.start()
        let free = try await harness.makeCompany(name: "Free", plan: .crmFree)
        #expect(try await Self.limits(harness, free.id).syncedEmailsPerUserPerDay == 100)
        await #expect { _ = try await harness.makeCompany(name: "Pro", plan: .crmPro) } throws: { error in
            (error as? RPCError).map { $0.code == .failedPrecondition && $0.message.contains("closed to new companies") } ?? false
        }
        await harness.stop()
        let open = try await ServiceHarness.start(configure: { $0.plansClosedToNewCompanies = [] })
        _ = try await open.makeCompany(name: "Pro", plan: .crmPro)
        await open.stop()
    }
}

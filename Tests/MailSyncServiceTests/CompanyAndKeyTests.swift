import Foundation
import MailSyncClient
import MailSyncService
import Testing

/// Companies, plans, limits and API keys through the generated client against a real server.
@Suite("Companies, plans and keys", .timeLimit(.minutes(5)))
struct CompanyAndKeyTests {
    @Test("an operator creates a company at its plan's caps; its admin's key works; revocation takes effect at once")
    func lifecycle() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany(name: "Acme", plan: .essential, domains: ["acme.example"])
        let fetched = try await harness.operatorClient.getCompany({ var r = GetCompanyRequest(); r.companyId = company.id; return r }())
        #expect(fetched.name == "Acme")
        #expect(fetched.state == .active)
        #expect(fetched.limits.mailboxSyncLimit == 10)
        let plans = try await company.admin.listPlans(ListPlansRequest())
        #expect(plans.plans.first { $0.plan == .crmFree }?.caps.syncedEmailsPerUserPerDay == 100)

        var keys = ListApiKeysRequest()
        keys.companyId = company.id
        let listed = try await harness.operatorClient.listApiKeys(keys)
        #expect(listed.keys.count == 1)
        #expect(listed.keys[0].role == "administrator")
        #expect(company.adminKey.contains(listed.keys[0].id), "the key's public id is part of its secret")
        #expect(listed.keys[0].secretPrefix.count == 12 && company.adminKey.hasPrefix(listed.keys[0].secretPrefix))
        // Stored only as a hash: the secret's random part is nowhere in the control database.
        let random = try #require(company.adminKey.split(separator: "_", maxSplits: 2).last.map(String.init))
        for suffix in ["", "-wal"] {
            let bytes = FileManager.default.contents(atPath: harness.dataDirectory + "/control.sqlite" + suffix) ?? Data()
            #expect(bytes.range(of: Data(random.utf8)) == nil, "an API key's secret is stored in control.sqlite\(suffix)")
        }

        var revoke = RevokeApiKeyRequest()
        revoke.keyId = listed.keys[0].id
        _ = try await harness.operatorClient.revokeApiKey(revoke)
        await #expect { _ = try await company.admin.listPlans(ListPlansRequest()) } throws: { ($0 as? RPCError)?.code == .unauthenticated }
        await harness.stop()
    }

    @Test("limits: within the plan's caps they apply; above, failed precondition naming the cap")
    func limits() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany(plan: .essential)
        var request = SetCompanyLimitsRequest()
        request.limits.mailboxSyncLimit = 3
        request.limits.minimumPollIntervalSeconds = 900
        let updated = try await company.admin.setCompanyLimits(request)
        #expect(updated.limits.mailboxSyncLimit == 3)
        request.limits.mailboxSyncLimit = 11
        await #expect { _ = try await company.admin.setCompanyLimits(request) } throws: { error in
            guard let rpc = error as? RPCError else { return false }
            return rpc.code == .failedPrecondition && rpc.message.contains("cap of 10")
        }
        await harness.stop()
    }

    @Test("a suspended company's keys are refused with the reason; resuming lets them in again")
    func suspension() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var suspend = SuspendCompanyRequest()
        suspend.companyId = company.id
        suspend.reason = "unpaid invoice"
        _ = try await harness.operatorClient.suspendCompany(suspend)
        await #expect { _ = try await company.admin.listPlans(ListPlansRequest()) } throws: { error in
            (error as? RPCError)?.code == .permissionDenied && "\(error)".contains("unpaid invoice")
        }
        var resume = ResumeCompanyRequest()
        resume.companyId = company.id
        _ = try await harness.operatorClient.resumeCompany(resume)
        #expect(try await company.admin.listPlans(ListPlansRequest()).plans.count == 8)
        await harness.stop()
    }

    @Test("bad input is invalid argument naming the field, and nothing is created", arguments: [
        ("", "name"), ("x", "time_zone"), ("x", "email_domains[0]"), ("x", "plan"), ("x", "administrator.email"),
        ("x", "administrator.id"),
    ])
    func badCompany(value: String, field: String) async throws {
        let harness = try await ServiceHarness.start()
        var request = CreateCompanyRequest()
        request.name = field == "name" ? value : "Fine"
        request.administrator.id = field == "administrator.id" ? "bad id!" : "first-admin"
        request.administrator.name = "First Admin"
        request.administrator.email = field == "administrator.email" ? "not-an-address" : "first@fine.example"
        request.plan = field == "plan" ? .unspecified : .trial
        if field == "time_zone" { request.timeZone = "Mars/Olympus" }
        if field == "email_domains[0]" { request.emailDomains = ["not a domain"] }
        await #expect { _ = try await harness.operatorClient.createCompany(request) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.contains(field) == true
        }
        #expect(try await harness.operatorClient.listCompanies(ListCompaniesRequest()).companies.isEmpty)
        await harness.stop()
    }
}

@Suite("Raising the mailbox sync limit", .timeLimit(.minutes(5)))
struct LimitPromotionTests {
    @Test("a mailbox waiting as PENDING starts once an administrator raises the company's limit")
    func raiseLimitPromotes() async throws {
        let harness = try await ServiceHarness.start()
        let (company, created) = try await companyAtSyncLimitOne(harness, users: ["first", "second"])
        let statuses = created.map(\.status)
        var limit = SetCompanyLimitsRequest()
        limit.limits.minimumPollIntervalSeconds = 300
        #expect(statuses == [.enabled, .pending])
        limit.limits.mailboxSyncLimit = 2
        _ = try await company.admin.setCompanyLimits(limit)
        var list = ListMailboxesRequest()
        list.userId = "second"
        let second = try await company.admin.listMailboxes(list).mailboxes.first
        #expect(second?.status == .enabled)
        await harness.stop()
    }
}

@Suite("Deactivating a user with a mailbox", .timeLimit(.minutes(5)))
struct DeactivationMailboxTests {
    @Test("the mailbox is disabled with a DISABLED event, and a waiting mailbox takes its place")
    func deactivationFreesThePlace() async throws {
        let harness = try await ServiceHarness.start()
        let (company, created) = try await companyAtSyncLimitOne(harness, users: ["leaver", "waiter"])
        let mailboxIDs = created.map(\.id)
        var deactivate = DeactivateUserRequest()
        deactivate.userId = "leaver"
        deactivate.previousCommunication = .keep
        _ = try await company.admin.deactivateUser(deactivate)

        var status = GetMailboxStatusRequest()
        status.mailboxId = mailboxIDs[0]
        #expect(try await company.admin.getMailboxStatus(status).mailbox.status == .disabled)
        status.mailboxId = mailboxIDs[1]
        #expect(try await company.admin.getMailboxStatus(status).mailbox.status == .enabled)
        var events = ListSyncEventsRequest()
        events.mailboxId = mailboxIDs[0]
        events.kinds = [.disabled]
        #expect(try await company.admin.listSyncEvents(events).events.count == 1)
        await harness.stop()
    }
}

/// A company with a mailbox sync limit of 1 and one salesperson with a Gmail mailbox per name, in
/// order; returns each mailbox as created.
func companyAtSyncLimitOne(_ harness: ServiceHarness, users names: [String]) async throws -> (ServiceHarness.Company, [Mailbox]) {
    let company = try await harness.makeCompany(plan: .essential)
    var limit = SetCompanyLimitsRequest()
    limit.limits.mailboxSyncLimit = 1
    limit.limits.minimumPollIntervalSeconds = 300
    _ = try await company.admin.setCompanyLimits(limit)
    var mailboxes: [Mailbox] = []
    for name in names {
        var user = CreateUserRequest()
        user.id = name
        user.name = name
        user.email = "\(name)@acme.example"
        user.role = .salesperson
        _ = try await company.admin.createUser(user)
        var mailbox = CreateMailboxConnectionRequest()
        mailbox.userId = name
        mailbox.emailAddress = "\(name)@acme.example"
        mailbox.provider = .gmail
        mailbox.secret = "app-password-\(name)"
        mailboxes.append(try await company.admin.createMailboxConnection(mailbox))
    }
    return (company, mailboxes)
}

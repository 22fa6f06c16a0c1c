import Foundation
import MailSyncClient
import MailSyncService
import MailSyncStorage
import Testing

/// Company settings and users through the generated client against a real server.
@Suite("Company settings and users", .timeLimit(.minutes(5)))
struct UserAndSettingsTests {
    // MARK: Settings

    @Test("settings: defaults with plan and limits; each field changes only when set; domains are replaced whole")
    func settings() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany(plan: .essential, domains: ["acme.example"])
        let initial = try await company.admin.getCompanySettings(GetCompanySettingsRequest())
        #expect(initial.preventInternalEmailSync)
        #expect(initial.timeZone == "UTC")
        #expect(initial.emailDomains == ["acme.example"])
        #expect(initial.plan == .essential)
        #expect(initial.limits.mailboxSyncLimit == 10)

        var update = UpdateCompanySettingsRequest()
        update.timeZone = "Europe/Berlin"
        var changed = try await company.admin.updateCompanySettings(update)
        #expect(changed.timeZone == "Europe/Berlin")
        #expect(changed.emailDomains == ["acme.example"])
        #expect(changed.preventInternalEmailSync)
        #expect(changed.plan == .essential)

        update = UpdateCompanySettingsRequest()
        update.preventInternalEmailSync = false
        update.emailDomains = EmailDomains()
        update.emailDomains?.domains = ["B.example", "a.example", "b.example"]
        changed = try await company.admin.updateCompanySettings(update)
        #expect(!changed.preventInternalEmailSync)
        #expect(changed.emailDomains == ["a.example", "b.example"])
        #expect(changed.timeZone == "Europe/Berlin")

        update = UpdateCompanySettingsRequest()
        update.emailDomains = EmailDomains()
        changed = try await company.admin.updateCompanySettings(update)
        #expect(changed.emailDomains.isEmpty)
        #expect(try await company.admin.getCompanySettings(GetCompanySettingsRequest()) == changed)
        await harness.stop()
    }

    @Test("settings: a bad field is invalid argument naming it, and nothing changes", arguments: [
        "time_zone", "email_domains.domains[1]",
    ])
    func badSettings(field: String) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany(domains: ["acme.example"])
        var update = UpdateCompanySettingsRequest()
        update.preventInternalEmailSync = false
        if field == "time_zone" { update.timeZone = "Mars/Olympus" }
        if field.hasPrefix("email_domains") {
            update.emailDomains = EmailDomains()
            update.emailDomains?.domains = ["ok.example", "not a domain"]
        }
        await #expect { _ = try await company.admin.updateCompanySettings(update) } throws: { isInvalidArgument($0, naming: field) }
        let settings = try await company.admin.getCompanySettings(GetCompanySettingsRequest())
        #expect(settings.preventInternalEmailSync)
        #expect(settings.emailDomains == ["acme.example"])
        await harness.stop()
    }

    // MARK: Users

    @Test("CreateUser: with the CRM's id or a server-made one; a repeated id is already exists")
    func createUser() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = CreateUserRequest()
        request.id = "crm-42"
        request.name = "  Ada Lovelace "
        request.email = "Ada@Example.COM"
        request.role = .salesManager
        let user = try await company.admin.createUser(request)
        #expect(user.id == "crm-42")
        #expect(user.name == "Ada Lovelace")
        #expect(user.email == "Ada@example.com")
        #expect(user.role == .salesManager)
        #expect(user.active)
        #expect(user.mailboxStatus == .notConfigured)
        #expect(user.mailboxId.isEmpty)
        #expect(user.createdAt == harness.clock.now())

        await #expect { _ = try await company.admin.createUser(request) } throws: { ($0 as? RPCError)?.code == .alreadyExists }

        request.id = ""
        let generated = try await company.admin.createUser(request)
        #expect(UUID(uuidString: generated.id) != nil)
        #expect(try await company.admin.listUsers(ListUsersRequest()).users.count == 3)
        await harness.stop()
    }

    @Test("CreateUser: a bad field is invalid argument naming it, and no user is created", arguments: [
        ("id", "bad id!"), ("name", ""), ("name", String(repeating: "n", count: 201)), ("email", "not-an-address"),
        ("email", "a@b"), ("role", "0"), ("role", "99"),
    ])
    func badUser(field: String, value: String) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = CreateUserRequest()
        request.id = field == "id" ? value : "u1"
        request.name = field == "name" ? value : "Fine Name"
        request.email = field == "email" ? value : "fine@example.com"
        request.role = field == "role" ? UserRole(rawValue: Int32(value)!) : .salesperson
        await #expect { _ = try await company.admin.createUser(request) } throws: { isInvalidArgument($0, naming: field) }
        #expect(try await company.admin.listUsers(ListUsersRequest()).users.map(\.id) == [company.adminUserID])
        await harness.stop()
    }

    @Test("ChangeUserRole changes what the user's key may call")
    func changeRole() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let (_, seller) = try await harness.addUser(company, id: "seller", role: .salesperson)
        await #expect { _ = try await seller.getCompanySettings(GetCompanySettingsRequest()) } throws: {
            ($0 as? RPCError)?.code == .permissionDenied
        }
        var change = ChangeUserRoleRequest()
        change.userId = "seller"
        change.role = .companyManager
        let promoted = try await company.admin.changeUserRole(change)
        #expect(promoted.role == .companyManager)
        #expect(try await seller.getCompanySettings(GetCompanySettingsRequest()).plan == .essential)
        var keys = ListApiKeysRequest()
        keys.companyId = company.id
        #expect(try await harness.operatorClient.listApiKeys(keys).keys.first { $0.userId == "seller" }?.role == "company_manager")

        // A company manager may not make administrators, themselves included.
        change.role = .administrator
        await #expect { _ = try await seller.changeUserRole(change) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        // The last administrator cannot step down.
        change.userId = company.adminUserID
        change.role = .salesperson
        await #expect { _ = try await company.admin.changeUserRole(change) } throws: { error in
            (error as? RPCError)?.code == .failedPrecondition && "\(error)".contains("last active administrator")
        }
        change.userId = "nobody"
        await #expect { _ = try await company.admin.changeUserRole(change) } throws: { ($0 as? RPCError)?.code == .notFound }
        await harness.stop()
    }

    @Test("ChangeUserRole: a bad field is invalid argument naming it", arguments: [("user_id", ""), ("role", "0"), ("role", "7")])
    func badRoleChange(field: String, value: String) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        _ = try await harness.addUser(company, id: "seller", role: .salesperson)
        var change = ChangeUserRoleRequest()
        change.userId = field == "user_id" ? value : "seller"
        change.role = field == "role" ? UserRole(rawValue: Int32(value)!) : .salesManager
        await #expect { _ = try await company.admin.changeUserRole(change) } throws: { isInvalidArgument($0, naming: field) }
        #expect(try await company.admin.listUsers(ListUsersRequest()).users.first { $0.id == "seller" }?.role == .salesperson)
        await harness.stop()
    }

    @Test("DeactivateUser revokes the user's keys and disables the mailbox; REMOVE deletes its timeline, KEEP keeps it",
          arguments: [PreviousCommunication.keep, .remove])
    func deactivate(previous: PreviousCommunication) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let (_, seller) = try await harness.addUser(company, id: "seller", role: .salesperson)
        _ = try await harness.addUser(company, id: "other", role: .salesperson)
        try await harness.insertMailbox(company, id: "mb-seller", user: "seller", status: .enabled)
        try await harness.insertMailbox(company, id: "mb-other", user: "other", status: .enabled)
        try await harness.upsertLeads(company, ["lead-1"])
        for i in 0..<3 {
            try await harness.insertEntry(company, id: "s\(i)", lead: "lead-1", mailbox: "mb-seller", user: "seller", date: Double(i), body: "mine \(i)")
        }
        try await harness.insertEntry(company, id: "o1", lead: "lead-1", mailbox: "mb-other", user: "other", date: 10, body: "theirs")
        _ = try await seller.listLeadTimeline(timelineRequest("lead-1"))

        var request = DeactivateUserRequest()
        request.userId = "seller"
        request.previousCommunication = previous
        let user = try await company.admin.deactivateUser(request)
        #expect(!user.active)
        #expect(user.mailboxStatus == .notConfigured)
        await #expect { _ = try await seller.listLeadTimeline(timelineRequest("lead-1")) } throws: {
            ($0 as? RPCError)?.code == .unauthenticated
        }

        let state = try await harness.withTenantDatabase(company) { db in
            let mailbox = try db.query("SELECT status, disabled_at, secret FROM mailboxes WHERE id = 'mb-seller'")[0]
            let entries = try db.query("SELECT id FROM timeline_entries ORDER BY id").compactMap { $0[0].string }
            let participants = try db.scalar("SELECT count(*) FROM timeline_participants")?.int64 ?? -1
            let messages = try db.scalar("SELECT count(*) FROM messages")?.int64 ?? -1
            return (mailbox, entries, participants, messages)
        }
        #expect(state.0[0].string == "disabled")
        #expect(state.0[1].int64 == harness.clock.now().microsecondsSinceEpoch)
        #expect(state.0[2].isNull)
        if previous == .remove {
            #expect(state.1 == ["o1"])
            #expect(state.2 == 2)
            #expect(state.3 == 1)
        } else {
            #expect(state.1 == ["o1", "s0", "s1", "s2"])
            #expect(state.2 == 8)
            #expect(state.3 == 4)
        }
        // The other user's mailbox is untouched; the deactivated user is listed only with include_inactive.
        var list = ListUsersRequest()
        #expect(try await company.admin.listUsers(list).users.map(\.id).sorted() == [company.adminUserID, "other"].sorted())
        list.includeInactive = true
        let all = try await company.admin.listUsers(list).users
        #expect(all.first { $0.id == "other" }?.mailboxStatus == .enabled)
        #expect(all.first { $0.id == "seller" }?.active == false)
        var keys = ListApiKeysRequest()
        keys.companyId = company.id
        keys.includeRevoked = true
        #expect(try await harness.operatorClient.listApiKeys(keys).keys.filter { $0.userId == "seller" }.allSatisfy(\.revoked))
        await harness.stop()
    }

    @Test("DeactivateUser: previous_communication is required; unknown users are not found; the last admin stays")
    func badDeactivation() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        _ = try await harness.addUser(company, id: "seller", role: .salesperson)
        var request = DeactivateUserRequest()
        request.userId = "seller"
        await #expect { _ = try await company.admin.deactivateUser(request) } throws: { isInvalidArgument($0, naming: "previous_communication") }
        request.previousCommunication = PreviousCommunication(rawValue: 9)
        await #expect { _ = try await company.admin.deactivateUser(request) } throws: { isInvalidArgument($0, naming: "previous_communication") }
        request.previousCommunication = .keep
        request.userId = ""
        await #expect { _ = try await company.admin.deactivateUser(request) } throws: { isInvalidArgument($0, naming: "user_id") }
        request.userId = "ghost"
        await #expect { _ = try await company.admin.deactivateUser(request) } throws: { ($0 as? RPCError)?.code == .notFound }
        request.userId = company.adminUserID
        await #expect { _ = try await company.admin.deactivateUser(request) } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        #expect(try await company.admin.listUsers(ListUsersRequest()).users.count == 2)
        await harness.stop()
    }

    @Test("ListUsers pages through every user in order, with each one's mailbox status, and filters by role")
    func listUsers() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        for i in 1...7 {
            _ = try await harness.addUser(company, id: "user-\(i)", role: i <= 4 ? .salesperson : .marketingManager, withKey: false)
        }
        try await harness.insertMailbox(company, id: "mb-1", user: "user-1", status: .enabled)
        try await harness.insertMailbox(company, id: "mb-2", user: "user-2", status: .pending)
        try await harness.insertMailbox(company, id: "mb-3", user: "user-3", status: .disabled, disabled: true)
        try await harness.insertMailbox(company, id: "mb-4", user: "user-4", status: .connectionIssue)

        var request = ListUsersRequest()
        request.pageSize = 3
        var pages: [[User]] = []
        repeat {
            let page = try await company.admin.listUsers(request)
            pages.append(page.users)
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty && pages.count < 5
        #expect(pages.map(\.count) == [3, 3, 2])
        let users = pages.flatMap { $0 }
        #expect(users.map(\.id) == ([company.adminUserID] + (1...7).map { "user-\($0)" }).sorted())
        let byID = Dictionary(uniqueKeysWithValues: users.map { ($0.id, $0) })
        #expect(byID["user-1"]?.mailboxStatus == .enabled)
        #expect(byID["user-1"]?.mailboxId == "mb-1")
        #expect(byID["user-2"]?.mailboxStatus == .pending)
        #expect(byID["user-3"]?.mailboxStatus == .notConfigured)
        #expect(byID["user-3"]?.mailboxId == "")
        #expect(byID["user-4"]?.mailboxStatus == .connectionIssue)
        #expect(byID["user-5"]?.mailboxStatus == .notConfigured)

        var filtered = ListUsersRequest()
        filtered.role = .marketingManager
        #expect(try await company.admin.listUsers(filtered).users.map(\.id) == ["user-5", "user-6", "user-7"])
        await harness.stop()
    }

    @Test("ListUsers: bad paging or role is invalid argument naming the field", arguments: ["page_size", "page_token", "role"])
    func badListUsers(field: String) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = ListUsersRequest()
        switch field {
        case "page_size": request.pageSize = -1
        case "page_token": request.pageToken = "bm90LW91cnM"
        default: request.role = .unspecified
        }
        await #expect { _ = try await company.admin.listUsers(request) } throws: { isInvalidArgument($0, naming: field) }
        await harness.stop()
    }
}

/// Whether `error` is `invalid argument` and its message names `field`.
func isInvalidArgument(_ error: any Error, naming field: String) -> Bool {
    guard let rpc = error as? RPCError, rpc.code == .invalidArgument, rpc.message.contains(field) else {
        Issue.record("expected invalid argument naming \(field), got \(error)")
        return false
    }
    return true
}

func timelineRequest(_ lead: String, pageSize: Int32 = 0, token: String = "") -> ListLeadTimelineRequest {
    var request = ListLeadTimelineRequest()
    request.leadId = lead
    request.pageSize = pageSize
    request.pageToken = token
    return request
}

import Foundation
import MailSyncClient
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// Mailboxes through the generated client against a real server: presets, validation, own versus
/// others, the sealed secret, the mailbox sync limit, and disabling with keep or remove.
@Suite("Mailboxes", .timeLimit(.minutes(5)))
struct MailboxTests {
    @Test("each provider preset fills in its servers; the mailbox starts ENABLED with the address as login",
          arguments: [MailProvider.gmail, .microsoft365, .godaddy])
    func preset(provider: MailProvider) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let mailbox = try await company.admin.createMailboxConnection(
            MailboxFixtures.request(email: "Ann@Example.COM", provider: provider))
        let preset = try #require(ProviderPreset.forProvider(provider))
        #expect(mailbox.imap == preset.imap)
        #expect(mailbox.smtp == preset.smtp)
        #expect(mailbox.emailAddress == "Ann@example.com")
        #expect(mailbox.username == "Ann@example.com")
        #expect(mailbox.userId == company.adminUserID)
        #expect(mailbox.authMethod == .password)
        #expect(mailbox.status == .enabled)
        #expect(mailbox.createdAt == harness.clock.now())
        await harness.stop()
    }

    @Test("the presets hold the providers' published servers and Gmail's ten-minute poll floor")
    func presetTable() {
        let gmail = ProviderPreset.forProvider(.gmail)
        #expect(gmail?.imap?.host == "imap.gmail.com" && gmail?.smtp?.port == 465 && gmail?.minimumPollIntervalSeconds == 600)
        let microsoft = ProviderPreset.forProvider(.microsoft365)
        #expect(microsoft?.smtp?.host == "smtp.office365.com" && microsoft?.smtp?.port == 587 && microsoft?.smtp?.security == .starttls)
        #expect(ProviderPreset.forProvider(.godaddy)?.imap?.host == "imap.secureserver.net")
        #expect(ProviderPreset.forProvider(.customImap)?.imap == nil)
        #expect(ProviderPreset.forProvider(.unspecified) == nil)
    }

    @Test("a custom IMAP mailbox takes its servers from the request; SMTP is optional")
    func custom() async throws {
        // An on-premises server in 10.0.0.0/8, allowed by the operator (private addresses are
        // refused otherwise: OutboundPolicyServiceTests).
        let harness = try await ServiceHarness.start(outboundAllow: ServiceHarness.loopbackAllowed + ["10.0.0.0/8"])
        let company = try await harness.makeCompany()
        let user = try await MailboxFixtures.makeUser(harness, company, id: "bob", role: .salesperson)
        var request = MailboxFixtures.request(email: "bob@corp.example", provider: .customImap)
        request.imap = MailboxFixtures.endpoint("mail.corp.example", 143, .starttls)
        request.username = "bob.login"
        let withoutSMTP = try await user.client.createMailboxConnection(request)
        #expect(withoutSMTP.imap == MailboxFixtures.endpoint("mail.corp.example", 143, .starttls))
        #expect(withoutSMTP.smtp == ServerEndpoint())
        #expect(withoutSMTP.username == "bob.login")

        var second = MailboxFixtures.request(email: "admin@corp.example", provider: .customImap)
        second.imap = MailboxFixtures.endpoint("10.0.0.7", 993, .tls)
        second.smtp = MailboxFixtures.endpoint("smtp.corp.example", 587, .starttls)
        let withSMTP = try await company.admin.createMailboxConnection(second)
        #expect(withSMTP.smtp.host == "smtp.corp.example")
        await harness.stop()
    }

    @Test("bad input is invalid argument naming the field, and nothing is created", arguments: [
        "email_address", "provider:unknown", "provider:unspecified", "imap", "imap.host", "imap.port:0",
        "imap.port:70000", "imap.security", "smtp.host", "secret", "secret:long", "username",
    ])
    func validation(caseName: String) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = MailboxFixtures.request(email: "ann@example.com", provider: .customImap)
        request.imap = MailboxFixtures.endpoint("imap.example.com", 993, .tls)
        switch caseName {
        case "email_address": request.emailAddress = "not an address"
        case "provider:unknown": request.provider = MailProvider(rawValue: 99)
        case "provider:unspecified": request.provider = .unspecified
        case "imap": request.imap = nil
        case "imap.host": request.imap?.host = "bad host!"
        case "imap.port:0": request.imap?.port = 0
        case "imap.port:70000": request.imap?.port = 70000
        case "imap.security": request.imap?.security = .unspecified
        case "smtp.host": request.smtp = MailboxFixtures.endpoint("", 465, .tls)
        case "secret": request.secret = ""
        case "secret:long": request.secret = String(repeating: "x", count: 1025)
        case "username": request.username = "bad\u{1}name"
        default: Issue.record("unknown case \(caseName)")
        }
        let field = String(caseName.split(separator: ":")[0])
        await #expect { _ = try await company.admin.createMailboxConnection(request) } throws: { error in
            guard let rpc = error as? RPCError else { return false }
            return rpc.code == .invalidArgument && rpc.message.hasPrefix(field)
        }
        #expect(try await company.admin.listMailboxes(ListMailboxesRequest()).mailboxes.isEmpty)
        await harness.stop()
    }

    @Test("a user has one active mailbox: a second is already exists; after disabling, a new one connects")
    func onePerUser() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let first = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        await #expect { _ = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "b@example.com")) } throws: { error in
            guard let rpc = error as? RPCError else { return false }
            return rpc.code == .alreadyExists && rpc.message.contains("already has a mailbox") && rpc.message.contains(first.id)
        }
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(first.id, .keep))
        harness.clock.advance(seconds: 1)
        let second = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "b@example.com"))
        #expect(second.status == .enabled)
        #expect(try await company.admin.listMailboxes(ListMailboxesRequest()).mailboxes.map(\.id) == [first.id, second.id])
        await harness.stop()
    }

    @Test("the user must exist and be active")
    func unknownUser() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = MailboxFixtures.request(email: "ghost@example.com")
        request.userId = "ghost"
        await #expect { _ = try await company.admin.createMailboxConnection(request) } throws: { ($0 as? RPCError)?.code == .notFound }
        _ = try await MailboxFixtures.makeUser(harness, company, id: "gone", role: .salesperson)
        try await MailboxFixtures.tenantWrite(harness, company) { db in
            try db.run("UPDATE users SET active = 0 WHERE id = 'gone'")
        }
        request.userId = "gone"
        await #expect { _ = try await company.admin.createMailboxConnection(request) } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        await harness.stop()
    }

    @Test("a salesperson manages their own mailbox and is refused on another user's; an administrator acts on anyone's")
    func ownVersusOthers() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let sales = try await MailboxFixtures.makeUser(harness, company, id: "sam", role: .salesperson)
        _ = try await MailboxFixtures.makeUser(harness, company, id: "pat", role: .salesperson)
        let denied: @Sendable (any Error) -> Bool = { ($0 as? RPCError)?.code == .permissionDenied }

        // Own: create (empty user_id and own id), get, list, sync, disable.
        let own = try await sales.client.createMailboxConnection(MailboxFixtures.request(email: "sam@example.com"))
        #expect(own.userId == "sam")
        #expect(try await sales.client.getMailboxStatus(MailboxFixtures.get(own.id)).mailbox.id == own.id)
        let adminMailbox = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "boss@example.com"))
        #expect(try await sales.client.listMailboxes(ListMailboxesRequest()).mailboxes.map(\.id) == [own.id])
        var ownList = ListMailboxesRequest()
        ownList.userId = "sam"
        #expect(try await sales.client.listMailboxes(ownList).mailboxes.map(\.id) == [own.id])
        _ = try await sales.client.syncNow({ var r = SyncNowRequest(); r.mailboxId = own.id; return r }())

        // Others': refused.
        var forPat = MailboxFixtures.request(email: "pat@example.com")
        forPat.userId = "pat"
        await #expect(performing: { _ = try await sales.client.createMailboxConnection(forPat) }, throws: denied)
        await #expect(performing: { _ = try await sales.client.getMailboxStatus(MailboxFixtures.get(adminMailbox.id)) }, throws: denied)
        var othersList = ListMailboxesRequest()
        othersList.userId = company.adminUserID
        await #expect(performing: { _ = try await sales.client.listMailboxes(othersList) }, throws: denied)
        await #expect(performing: { _ = try await sales.client.disableMailbox(MailboxFixtures.disable(adminMailbox.id, .keep)) }, throws: denied)
        var update = UpdateMailboxCredentialsRequest()
        update.mailboxId = adminMailbox.id
        update.secret = "stolen"
        await #expect(performing: { _ = try await sales.client.updateMailboxCredentials(update) }, throws: denied)
        await #expect(performing: { _ = try await sales.client.syncNow({ var r = SyncNowRequest(); r.mailboxId = adminMailbox.id; return r }()) }, throws: denied)
        await #expect(performing: { _ = try await sales.client.resync({ var r = ResyncRequest(); r.mailboxId = adminMailbox.id; return r }()) }, throws: denied)
        #expect(try await company.admin.getMailboxStatus(MailboxFixtures.get(adminMailbox.id)).mailbox.status == .enabled)

        let disabled = try await sales.client.disableMailbox(MailboxFixtures.disable(own.id, .keep))
        #expect(disabled.mailbox.status == .disabled)

        // The administrator: anyone's.
        let pats = try await company.admin.createMailboxConnection(forPat)
        #expect(pats.userId == "pat")
        #expect(try await company.admin.getMailboxStatus(MailboxFixtures.get(own.id)).mailbox.status == .disabled)
        #expect(try await company.admin.listMailboxes(ListMailboxesRequest()).mailboxes.count == 3)
        #expect(try await company.admin.listMailboxes(othersList).mailboxes.map(\.id) == [adminMailbox.id])
        var enabledOnly = ListMailboxesRequest()
        enabledOnly.status = .enabled
        #expect(Set(try await company.admin.listMailboxes(enabledOnly).mailboxes.map(\.id)) == [adminMailbox.id, pats.id])
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(pats.id, .remove))
        await harness.stop()
    }

    @Test("the secret is stored only sealed: absent from the database files, opened back with its context, wiped on disable")
    func sealedSecret() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let marker = "Tr0ub4dor&3-unique-marker"
        var request = MailboxFixtures.request(email: "ann@example.com")
        request.secret = marker
        let mailbox = try await company.admin.createMailboxConnection(request)
        let status = try await company.admin.getMailboxStatus(MailboxFixtures.get(mailbox.id))
        #expect(!String(decoding: status.serializedBytes(), as: UTF8.self).contains(marker))

        let env = try #require(harness.server.environment)
        let tenant = try #require(TenantID(validating: company.id))
        let path = env.dataDirectory.tenantDatabasePath(tenant)
        var checked = 0
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            #expect(!MailboxFixtures.contains(bytes, Array(marker.utf8)), "the secret appears in \(file)")
            checked += 1
        }
        #expect(checked >= 1)

        let id = mailbox.id
        let sealed = try #require(try await env.read(tenant, "test") { try MailboxRecords.sealedSecret($0, id: id) })
        let context = MailboxRecords.secretContext(tenant: tenant, mailboxID: mailbox.id)
        #expect(context == "tenant/\(company.id)/mailbox/\(mailbox.id)/secret")
        #expect(try env.secrets.open(sealed, context: context) == marker)
        #expect(throws: (any Error).self) { try env.secrets.open(sealed, context: "tenant/\(company.id)/mailbox/other/secret") }

        // A new password is sealed anew; disabling wipes it.
        var update = UpdateMailboxCredentialsRequest()
        update.mailboxId = mailbox.id
        update.secret = "n3w-pa55"
        _ = try await company.admin.updateMailboxCredentials(update)
        let resealed = try #require(try await env.read(tenant, "test") { try MailboxRecords.sealedSecret($0, id: id) })
        #expect(try env.secrets.open(resealed, context: context) == "n3w-pa55")
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(mailbox.id, .keep))
        #expect(try await env.read(tenant, "test") { try MailboxRecords.sealedSecret($0, id: id) } == nil)
        await harness.stop()
    }

    @Test("at the mailbox sync limit a new mailbox waits as PENDING; disabling one promotes the oldest waiting")
    func syncLimit() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        try await MailboxFixtures.setMailboxSyncLimit(harness, company, 1)
        _ = try await MailboxFixtures.makeUser(harness, company, id: "u2", role: .salesperson)
        _ = try await MailboxFixtures.makeUser(harness, company, id: "u3", role: .salesperson)
        let first = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        #expect(first.status == .enabled)
        harness.clock.advance(seconds: 60)
        var second = MailboxFixtures.request(email: "u2@example.com")
        second.userId = "u2"
        let waiting = try await company.admin.createMailboxConnection(second)
        #expect(waiting.status == .pending)
        harness.clock.advance(seconds: 60)
        var third = MailboxFixtures.request(email: "u3@example.com")
        third.userId = "u3"
        let alsoWaiting = try await company.admin.createMailboxConnection(third)
        #expect(alsoWaiting.status == .pending)

        harness.clock.advance(seconds: 60)
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(first.id, .keep))
        let promoted = try await company.admin.getMailboxStatus(MailboxFixtures.get(waiting.id)).mailbox
        #expect(promoted.status == .enabled)
        #expect(promoted.statusSince == harness.clock.now())
        #expect(try await company.admin.getMailboxStatus(MailboxFixtures.get(alsoWaiting.id)).mailbox.status == .pending)

        var events = ListSyncEventsRequest()
        events.mailboxId = waiting.id
        let listed = try await company.admin.listSyncEvents(events).events
        #expect(listed.first?.kind == .statusChanged)
        #expect(listed.first?.status == .enabled)
        #expect(listed.map(\.kind) == [.statusChanged, .statusChanged, .connected])
        #expect(listed.last?.status == .pending)
        await harness.stop()
    }

    @Test("updating credentials retries a failing mailbox: ERROR and CONNECTION_ISSUE go back to ENABLED")
    func retryAfterUpdate() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let mailbox = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        for failing in [MailboxStatus.error, .connectionIssue] {
            let id = mailbox.id
            try await MailboxFixtures.tenantWrite(harness, company) { db in
                try db.run("UPDATE mailboxes SET status = ? WHERE id = ?", [.text(MailboxRecord.Status(failing)!.stored), .text(id)])
            }
            harness.clock.advance(seconds: 10)
            var update = UpdateMailboxCredentialsRequest()
            update.mailboxId = mailbox.id
            update.secret = "fixed"
            update.imap = MailboxFixtures.endpoint("imap.gmail.com", 993, .tls)
            let updated = try await company.admin.updateMailboxCredentials(update)
            #expect(updated.status == .enabled)
            #expect(updated.statusSince == harness.clock.now())
            var events = ListSyncEventsRequest()
            events.mailboxId = mailbox.id
            let latest = try await company.admin.listSyncEvents(events).events.first
            #expect(latest?.kind == .statusChanged && latest?.status == .enabled && latest?.time == harness.clock.now())
        }
        // Nothing to change, or a bad new value, is invalid argument; a disabled mailbox is failed precondition.
        var empty = UpdateMailboxCredentialsRequest()
        empty.mailboxId = mailbox.id
        await #expect { _ = try await company.admin.updateMailboxCredentials(empty) } throws: { ($0 as? RPCError)?.code == .invalidArgument }
        empty.smtp = MailboxFixtures.endpoint("smtp.example.com", 0, .tls)
        await #expect { _ = try await company.admin.updateMailboxCredentials(empty) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.hasPrefix("smtp.port") == true
        }
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(mailbox.id, .keep))
        var late = UpdateMailboxCredentialsRequest()
        late.mailboxId = mailbox.id
        late.secret = "again"
        await #expect { _ = try await company.admin.updateMailboxCredentials(late) } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        await harness.stop()
    }

    @Test("disabling keeps or removes the mailbox's timeline entries; another user's entry for the same message survives",
          arguments: [PreviousCommunication.keep, .remove])
    func disable(previous: PreviousCommunication) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        _ = try await MailboxFixtures.makeUser(harness, company, id: "u2", role: .salesperson)
        let mine = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        var forU2 = MailboxFixtures.request(email: "u2@example.com")
        forU2.userId = "u2"
        let theirs = try await company.admin.createMailboxConnection(forU2)
        let (mineID, theirsID, adminID) = (mine.id, theirs.id, company.adminUserID)
        try await MailboxFixtures.tenantWrite(harness, company) { db in
            // m1 is held by both mailboxes (one entry, two sources); m2 only by mine.
            for (entry, mailbox, user, message) in [("e1", mineID, adminID, "m1"), ("e2", mineID, adminID, "m2")] {
                try db.run("""
                    INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, date_source)
                    VALUES (?, 'lead-1', ?, ?, ?, 'Hello', 1, 'sent', 'unspecified')
                    """, [.text(entry), .text(message), .text(mailbox), .text(user)])
                try db.run("INSERT INTO timeline_participants VALUES (?, 0, 'from', 'x@example.com', 'X')", [.text(entry)])
                try db.run("INSERT INTO opportunity_links VALUES (?, 'opp-1')", [.text(entry)])
            }
            for (entry, mailbox, user) in [("e1", mineID, adminID), ("e1", theirsID, "u2"), ("e2", mineID, adminID)] {
                try db.run("INSERT INTO timeline_sources VALUES (?, ?, ?, 'sent')", [.text(entry), .text(mailbox), .text(user)])
            }
        }
        harness.clock.advance(seconds: 5)
        // Missing previous_communication is refused first.
        await #expect { _ = try await company.admin.disableMailbox(MailboxFixtures.disable(mine.id, .unspecified)) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.hasPrefix("previous_communication") == true
        }
        let response = try await company.admin.disableMailbox(MailboxFixtures.disable(mine.id, previous))
        #expect(response.mailbox.status == .disabled)
        #expect(response.mailbox.statusSince == harness.clock.now())
        #expect(response.removedTimelineEntries == (previous == .remove ? 1 : 0))
        let counts = try await MailboxFixtures.tenantRead(harness, company) { db in
            try ["timeline_entries", "timeline_participants", "opportunity_links"].map { table in
                try db.scalar("SELECT count(*) FROM \(table)")?.int64 ?? -1
            } + [try db.scalar("SELECT count(*) FROM timeline_entries WHERE id = 'e1'")?.int64 ?? -1]
        }
        #expect(counts == (previous == .remove ? [1, 1, 1, 1] : [2, 2, 2, 1]))
        if previous == .remove {
            // The shared entry now belongs to the other user's mailbox alone.
            let owner = try await MailboxFixtures.tenantRead(harness, company) { db in
                try db.query("SELECT mailbox_id, user_id FROM timeline_entries WHERE id = 'e1'").first.map { [$0[0].string, $0[1].string] }
            }
            #expect(owner == [theirsID, "u2"])
        }

        var events = ListSyncEventsRequest()
        events.mailboxId = mine.id
        let latest = try await company.admin.listSyncEvents(events).events.first
        #expect(latest?.kind == .disabled)

        // Again: nothing more happens.
        let again = try await company.admin.disableMailbox(MailboxFixtures.disable(mine.id, previous))
        #expect(again.removedTimelineEntries == 0)
        #expect(try await company.admin.listSyncEvents(events).events.filter { $0.kind == .disabled }.count == 1)
        await harness.stop()
    }

    @Test("GetMailboxStatus gives a failing mailbox's most recent error")
    func lastError() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let mailbox = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        #expect(try await company.admin.getMailboxStatus(MailboxFixtures.get(mailbox.id)).lastError == nil)
        let id = mailbox.id
        let admin = company.adminUserID
        try await MailboxFixtures.tenantWrite(harness, company) { db in
            try MailboxFixtures.insertError(db, id: "err-old", mailboxID: id, userID: admin, text: "AUTHENTICATE failed", lastSeen: 100)
            try MailboxFixtures.insertError(db, id: "err-new", mailboxID: id, userID: admin, text: "[ALERT] Invalid credentials (Failure)", lastSeen: 200)
            try db.run("UPDATE mailboxes SET status = ? WHERE id = ?", [.text(MailboxRecord.Status.error.stored), .text(id)])
        }
        let status = try await company.admin.getMailboxStatus(MailboxFixtures.get(mailbox.id))
        #expect(status.mailbox.status == .error)
        #expect(status.lastError?.id == "err-new")
        #expect(status.lastError?.serverText == "[ALERT] Invalid credentials (Failure)")
        await #expect { _ = try await company.admin.getMailboxStatus(MailboxFixtures.get("nope")) } throws: { ($0 as? RPCError)?.code == .notFound }
        await harness.stop()
    }

    @Test("SyncNow and Resync answer now for a syncing mailbox and refuse a disabled or pending one")
    func syncRequests() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let mailbox = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        var syncNow = SyncNowRequest()
        syncNow.mailboxId = mailbox.id
        #expect(try await company.admin.syncNow(syncNow).scheduledAt == harness.clock.now())
        var resync = ResyncRequest()
        resync.mailboxId = mailbox.id
        resync.since = Timestamp(secondsSinceEpoch: 1_700_000_000)
        #expect(try await company.admin.resync(resync).scheduledAt == harness.clock.now())
        resync.since = Timestamp(secondsSinceEpoch: 1_900_000_000)
        await #expect { _ = try await company.admin.resync(resync) } throws: { ($0 as? RPCError)?.code == .invalidArgument }

        // Gmail's floor: ten minutes after the last sync.
        let id = mailbox.id
        let last = harness.clock.now().microsecondsSinceEpoch - 60_000_000
        try await MailboxFixtures.tenantWrite(harness, company) { db in
            try db.run("UPDATE mailboxes SET last_synced_at = ? WHERE id = ?", [.integer(last), .text(id)])
        }
        #expect(try await company.admin.syncNow(syncNow).scheduledAt.microsecondsSinceEpoch == last + 600_000_000)

        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(mailbox.id, .keep))
        await #expect { _ = try await company.admin.syncNow(syncNow) } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        await harness.stop()
    }

    @Test("ListUnconfiguredUsers lists active users without an active mailbox, paged")
    func unconfigured() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        for id in ["u1", "u2", "u3", "u4"] { _ = try await MailboxFixtures.makeUser(harness, company, id: id, role: .salesperson) }
        try await MailboxFixtures.tenantWrite(harness, company) { db in try db.run("UPDATE users SET active = 0 WHERE id = 'u4'") }
        var forU1 = MailboxFixtures.request(email: "u1@example.com")
        forU1.userId = "u1"
        _ = try await company.admin.createMailboxConnection(forU1)
        var forU2 = MailboxFixtures.request(email: "u2@example.com")
        forU2.userId = "u2"
        let u2Mailbox = try await company.admin.createMailboxConnection(forU2)
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(u2Mailbox.id, .keep))

        var request = ListUnconfiguredUsersRequest()
        request.pageSize = 1
        var seen: [User] = []
        repeat {
            let page = try await company.admin.listUnconfiguredUsers(request)
            #expect(page.users.count <= 1)
            seen += page.users
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        #expect(seen.map(\.id) == [company.adminUserID, "u2", "u3"].sorted())
        #expect(seen.first { $0.id == "u2" }?.mailboxStatus == .disabled)
        #expect(seen.first { $0.id == "u3" }?.mailboxStatus == .notConfigured)
        await harness.stop()
    }
}

/// Shared by the mailbox and event tests: users, requests, and direct access to a tenant's
/// database for rows the API does not write (timeline entries, errors).
enum MailboxFixtures {
    struct TestUser: Sendable {
        let id: String
        let client: MailSync.Client
    }

    /// A user made through CreateUser, with a key and a client. A refused CreateUser fails the
    /// test that called it.
    static func makeUser(_ harness: ServiceHarness, _ company: ServiceHarness.Company, id: String, role: UserRole) async throws -> TestUser {
        var request = CreateUserRequest()
        request.id = id
        request.name = "User \(id)"
        request.email = "\(id)@staff.example"
        request.role = role
        _ = try await company.admin.createUser(request)
        let key = try await harness.key(company: company.id, user: id)
        return TestUser(id: id, client: harness.client(key: key))
    }

    static func request(email: String, provider: MailProvider = .gmail, secret: String = "app-password-1") -> CreateMailboxConnectionRequest {
        var request = CreateMailboxConnectionRequest()
        request.emailAddress = email
        request.provider = provider
        request.secret = secret
        return request
    }

    static func endpoint(_ host: String, _ port: UInt32, _ security: ConnectionSecurity) -> ServerEndpoint {
        var endpoint = ServerEndpoint()
        endpoint.host = host
        endpoint.port = port
        endpoint.security = security
        return endpoint
    }

    static func get(_ id: String) -> GetMailboxStatusRequest {
        var request = GetMailboxStatusRequest()
        request.mailboxId = id
        return request
    }

    static func disable(_ id: String, _ previous: PreviousCommunication) -> DisableMailboxRequest {
        var request = DisableMailboxRequest()
        request.mailboxId = id
        request.previousCommunication = previous
        return request
    }

    static func setMailboxSyncLimit(_ harness: ServiceHarness, _ company: ServiceHarness.Company, _ limit: UInt32) async throws {
        var get = GetCompanyRequest()
        get.companyId = company.id
        var request = SetCompanyLimitsRequest()
        request.limits = try await harness.operatorClient.getCompany(get).limits
        request.limits.mailboxSyncLimit = limit
        _ = try await company.admin.setCompanyLimits(request)
    }

    static func tenantWrite(_ harness: ServiceHarness, _ company: ServiceHarness.Company,
                            _ body: @escaping @Sendable (SQLiteConnection) throws -> Void) async throws {
        let tenant = TenantID(validating: company.id)!
        try await harness.server.environment!.tenants.withTenant(tenant) { lease in try await lease.write(body) }
    }

    static func tenantRead<T: Sendable>(_ harness: ServiceHarness, _ company: ServiceHarness.Company,
                                        _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let tenant = TenantID(validating: company.id)!
        return try await harness.server.environment!.tenants.withTenant(tenant) { lease in try await lease.read(body) }
    }

    /// An error log row as the sync engine will write it.
    static func insertError(_ db: SQLiteConnection, id: String, mailboxID: String, userID: String, text: String,
                            lastSeen: Int64, errorClass: ErrorLogRecord.ErrorClass = .authentication) throws {
        try db.run("""
            INSERT INTO error_log(id, mailbox_id, user_id, email_address, error_class, server_text, fix_hint, first_seen, last_seen, count)
            VALUES (?, ?, ?, 'a@example.com', ?, ?, 'Check the password', ?, ?, 1)
            """,
            [.text(id), .text(mailboxID), .text(userID), .text(errorClass.stored), .text(text),
             .integer(lastSeen - 10), .integer(lastSeen)])
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}

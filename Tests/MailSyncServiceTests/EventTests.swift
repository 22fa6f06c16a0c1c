import Foundation
import MailSyncClient
@testable import MailSyncService
import MailSyncStorage
import Testing

/// Sync events and the error log: order, filters, paging, and who sees what.
@Suite("Sync events and the error log", .timeLimit(.minutes(5)))
struct EventTests {
    @Test("events are newest first, filtered by mailbox and kinds, and scoped to the caller's own mailbox")
    func events() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let sales = try await MailboxFixtures.makeUser(harness, company, id: "sam", role: .salesperson)
        let own = try await sales.client.createMailboxConnection(MailboxFixtures.request(email: "sam@example.com"))
        harness.clock.advance(seconds: 1)
        let admins = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "boss@example.com"))
        harness.clock.advance(seconds: 1)
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(admins.id, .keep))

        let all = try await company.admin.listSyncEvents(ListSyncEventsRequest()).events
        #expect(all.map(\.kind) == [.disabled, .statusChanged, .connected, .statusChanged, .connected])
        #expect(all.map(\.mailboxId) == [admins.id, admins.id, admins.id, own.id, own.id])
        #expect(all.first?.time == harness.clock.now())
        #expect(all.last?.userId == "sam")
        #expect(all.last?.status == .enabled)
        #expect(Set(all.map(\.id)).count == 5)

        var kinds = ListSyncEventsRequest()
        kinds.kinds = [.connected, .disabled]
        #expect(try await company.admin.listSyncEvents(kinds).events.map(\.kind) == [.disabled, .connected, .connected])
        var oneMailbox = ListSyncEventsRequest()
        oneMailbox.mailboxId = own.id
        #expect(try await company.admin.listSyncEvents(oneMailbox).events.allSatisfy { $0.mailboxId == own.id })

        // The salesperson: only their own mailbox's events; another's mailbox is refused.
        let theirs = try await sales.client.listSyncEvents(ListSyncEventsRequest()).events
        #expect(theirs.map(\.mailboxId) == [own.id, own.id])
        #expect(try await sales.client.listSyncEvents(oneMailbox).events.count == 2)
        var othersMailbox = ListSyncEventsRequest()
        othersMailbox.mailboxId = admins.id
        await #expect { _ = try await sales.client.listSyncEvents(othersMailbox) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        othersMailbox.mailboxId = "no-such-mailbox"
        await #expect { _ = try await company.admin.listSyncEvents(othersMailbox) } throws: { ($0 as? RPCError)?.code == .notFound }

        var badKind = ListSyncEventsRequest()
        badKind.kinds = [.unspecified]
        await #expect { _ = try await company.admin.listSyncEvents(badKind) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.hasPrefix("kinds[0]") == true
        }
        await harness.stop()
    }

    @Test("paging through events neither repeats nor skips when new events arrive between pages")
    func eventPaging() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        _ = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        for id in ["u1", "u2"] {
            _ = try await MailboxFixtures.makeUser(harness, company, id: id, role: .salesperson)
            var request = MailboxFixtures.request(email: "\(id)@example.com")
            request.userId = id
            _ = try await company.admin.createMailboxConnection(request)
        }
        let before = try await company.admin.listSyncEvents(ListSyncEventsRequest()).events
        #expect(before.count == 6)

        var request = ListSyncEventsRequest()
        request.pageSize = 4
        let first = try await company.admin.listSyncEvents(request)
        #expect(first.events.map(\.id) == before.prefix(4).map(\.id))
        #expect(!first.nextPageToken.isEmpty)
        // A newer event arrives before the next page is read.
        _ = try await MailboxFixtures.makeUser(harness, company, id: "u3", role: .salesperson)
        var late = MailboxFixtures.request(email: "u3@example.com")
        late.userId = "u3"
        _ = try await company.admin.createMailboxConnection(late)
        request.pageToken = first.nextPageToken
        let second = try await company.admin.listSyncEvents(request)
        #expect(second.events.map(\.id) == before.suffix(2).map(\.id))
        #expect(second.nextPageToken.isEmpty)

        request.pageToken = "bm9wZTox"
        await #expect { _ = try await company.admin.listSyncEvents(request) } throws: { ($0 as? RPCError)?.code == .invalidArgument }
        await harness.stop()
    }

    @Test("the error log is most recently seen first, filtered by mailbox, paged, and scoped to the caller's own")
    func errorLog() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let sales = try await MailboxFixtures.makeUser(harness, company, id: "sam", role: .juniorSalesperson)
        let own = try await sales.client.createMailboxConnection(MailboxFixtures.request(email: "sam@example.com"))
        let admins = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "boss@example.com"))
        let (ownID, adminsID, adminID) = (own.id, admins.id, company.adminUserID)
        try await MailboxFixtures.tenantWrite(harness, company) { db in
            try MailboxFixtures.insertError(db, id: "s1", mailboxID: ownID, userID: "sam", text: "AUTHENTICATE failed", lastSeen: 300)
            try MailboxFixtures.insertError(db, id: "a1", mailboxID: adminsID, userID: adminID, text: "[OVERQUOTA]", lastSeen: 500, errorClass: .temporary)
            try MailboxFixtures.insertError(db, id: "s2", mailboxID: ownID, userID: "sam", text: "[ALERT] Please log in via your web browser", lastSeen: 400, errorClass: .configuration)
            try MailboxFixtures.insertError(db, id: "a2", mailboxID: adminsID, userID: adminID, text: "Too many simultaneous connections", lastSeen: 100)
        }

        let all = try await company.admin.listErrorLog(ListErrorLogRequest()).entries
        #expect(all.map(\.id) == ["a1", "s2", "s1", "a2"])
        #expect(all[0].errorClass == .temporary)
        #expect(all[0].serverText == "[OVERQUOTA]")
        #expect(all[0].lastSeen.microsecondsSinceEpoch == 500)
        #expect(all[0].firstSeen.microsecondsSinceEpoch == 490)
        #expect(all[0].count == 1)
        #expect(all[0].fixHint == "Check the password")

        var paged = ListErrorLogRequest()
        paged.pageSize = 3
        let first = try await company.admin.listErrorLog(paged)
        #expect(first.entries.map(\.id) == ["a1", "s2", "s1"])
        paged.pageToken = first.nextPageToken
        let second = try await company.admin.listErrorLog(paged)
        #expect(second.entries.map(\.id) == ["a2"])
        #expect(second.nextPageToken.isEmpty)

        var oneMailbox = ListErrorLogRequest()
        oneMailbox.mailboxId = adminsID
        #expect(try await company.admin.listErrorLog(oneMailbox).entries.map(\.id) == ["a1", "a2"])

        #expect(try await sales.client.listErrorLog(ListErrorLogRequest()).entries.map(\.id) == ["s2", "s1"])
        await #expect { _ = try await sales.client.listErrorLog(oneMailbox) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        await harness.stop()
    }
}

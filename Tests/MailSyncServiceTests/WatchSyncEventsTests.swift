import Foundation
import MailSyncClient
@testable import MailSyncEngine
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// WatchSyncEvents end to end over TCP: live events in order, filters and scoping, isolation
/// between companies, cancellation and shutdown, and nothing lost when writes race the reads.
@Suite("Watching sync events", .timeLimit(.minutes(5)))
struct WatchSyncEventsTests {
    /// Every watch gets a deadline, so a test that waits for an event that never comes fails
    /// (with `deadline exceeded`) instead of hanging.
    static let options = CallOptions(timeout: .seconds(30))

    @Test("a watcher sees a new mailbox's CONNECTED and STATUS_CHANGED, then DISABLED, in order; not the history")
    func lifecycle() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let before = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "old@example.com"))
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(before.id, .keep))
        let stream = try await Self.watch(harness, company.admin, WatchSyncEventsRequest())

        harness.clock.advance(seconds: 5)
        let mailbox = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "ann@example.com"))
        harness.clock.advance(seconds: 5)
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(mailbox.id, .keep))

        let events = try await Self.take(3, from: stream)
        #expect(events.map(\.kind) == [.connected, .statusChanged, .disabled])
        #expect(events.allSatisfy { $0.mailboxId == mailbox.id && $0.userId == company.adminUserID })
        #expect(events.map(\.status) == [.enabled, .enabled, .disabled])
        #expect(events.last?.time == harness.clock.now())
        var list = ListSyncEventsRequest()
        list.mailboxId = mailbox.id
        #expect(try await company.admin.listSyncEvents(list).events.reversed().map(\.id) == events.map(\.id))
        stream.cancel()
        await harness.stop()
    }

    @Test("kinds and mailbox_id filter what is sent; an unknown kind or mailbox is refused")
    func filters() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let other = try await MailboxFixtures.makeUser(harness, company, id: "olga", role: .salesperson)
        var onlyDisabled = WatchSyncEventsRequest()
        onlyDisabled.kinds = [.disabled]
        let disabledStream = try await Self.watch(harness, company.admin, onlyDisabled)

        let first = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "first@example.com"))
        var second = MailboxFixtures.request(email: "olga@example.com")
        second.userId = other.id
        let olgas = try await company.admin.createMailboxConnection(second)
        var oneMailbox = WatchSyncEventsRequest()
        oneMailbox.mailboxId = olgas.id
        let mailboxStream = try await Self.watch(harness, company.admin, oneMailbox, waiters: 2)
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(first.id, .keep))
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(olgas.id, .keep))

        let disabled = try await Self.take(2, from: disabledStream)
        #expect(disabled.map(\.kind) == [.disabled, .disabled])
        #expect(disabled.map(\.mailboxId) == [first.id, olgas.id])
        // The first mailbox's DISABLED came before Olga's, but only Olga's is sent.
        let olgasEvents = try await Self.take(1, from: mailboxStream)
        #expect(olgasEvents.map(\.kind) == [.disabled])
        #expect(olgasEvents.map(\.mailboxId) == [olgas.id])
        disabledStream.cancel()
        mailboxStream.cancel()

        var badKind = WatchSyncEventsRequest()
        badKind.kinds = [.connected, SyncEventKind(rawValue: 99)]
        await #expect { _ = try await Self.take(1, from: company.admin.watchSyncEvents(badKind, options: Self.options)) } throws: { error in
            (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.hasPrefix("kinds[1]") == true
        }
        var unknown = WatchSyncEventsRequest()
        unknown.mailboxId = "no-such-mailbox"
        await #expect { _ = try await Self.take(1, from: company.admin.watchSyncEvents(unknown, options: Self.options)) } throws: {
            ($0 as? RPCError)?.code == .notFound
        }
        await harness.stop()
    }

    @Test("a salesperson sees only their own mailbox's events, and naming another user's mailbox is permission denied")
    func salespersonScope() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let sales = try await MailboxFixtures.makeUser(harness, company, id: "sam", role: .salesperson)
        let stream = try await Self.watch(harness, sales.client, WatchSyncEventsRequest())

        let admins = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "boss@example.com"))
        let own = try await sales.client.createMailboxConnection(MailboxFixtures.request(email: "sam@example.com"))
        _ = try await company.admin.disableMailbox(MailboxFixtures.disable(admins.id, .keep))
        _ = try await sales.client.disableMailbox(MailboxFixtures.disable(own.id, .keep))

        // The administrator's events came first; the salesperson's stream starts with their own.
        let events = try await Self.take(3, from: stream)
        #expect(events.map(\.kind) == [.connected, .statusChanged, .disabled])
        #expect(events.allSatisfy { $0.mailboxId == own.id && $0.userId == "sam" })
        stream.cancel()

        var others = WatchSyncEventsRequest()
        others.mailboxId = admins.id
        await #expect { _ = try await Self.take(1, from: sales.client.watchSyncEvents(others, options: Self.options)) } throws: {
            ($0 as? RPCError)?.code == .permissionDenied
        }
        await harness.stop()
    }

    @Test("another company's events never reach a watcher")
    func isolation() async throws {
        let harness = try await ServiceHarness.start()
        let acme = try await harness.makeCompany(name: "Acme")
        let globex = try await harness.makeCompany(name: "Globex")
        let stream = try await Self.watch(harness, acme.admin, WatchSyncEventsRequest())

        let theirs = try await globex.admin.createMailboxConnection(MailboxFixtures.request(email: "g@globex.example"))
        _ = try await globex.admin.disableMailbox(MailboxFixtures.disable(theirs.id, .keep))
        let ours = try await acme.admin.createMailboxConnection(MailboxFixtures.request(email: "a@acme.example"))

        let events = try await Self.take(2, from: stream)
        #expect(events.map(\.mailboxId) == [ours.id, ours.id])
        stream.cancel()
        await harness.stop()
    }

    @Test("cancelling a watch ends its stream and leaves no waiter behind")
    func cancellation() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let bus = try #require(harness.server.environment).syncEvents
        let first = try await Self.watch(harness, company.admin, WatchSyncEventsRequest())
        let second = try await Self.watch(harness, company.admin, WatchSyncEventsRequest(), waiters: 2)
        #expect(bus.waiterCount == 2)

        first.cancel()
        try await Self.waitFor(waiters: 1, on: bus)
        var ended = first.makeAsyncIterator()
        #expect(((try? await ended.next()) ?? nil) == nil, "a cancelled watch sends nothing more")
        second.cancel()
        try await Self.waitFor(waiters: 0, on: bus)
        await harness.stop()
    }

    @Test("a server shutting down ends its watches normally, without waiting out the grace period")
    func shutdown() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let stream = try await Self.watch(harness, company.admin, WatchSyncEventsRequest())
        let started = ContinuousClock.now
        async let stopped: Void = harness.stop()
        var iterator = stream.makeAsyncIterator()
        let next = try await iterator.next()
        await stopped
        #expect(next == nil)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("events written while the watcher reads are not lost: many mailboxes at once arrive exactly once, in seq order")
    func concurrentWrites() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let users = (1...20).map { "u\($0)" }
        for id in users { _ = try await MailboxFixtures.makeUser(harness, company, id: id, role: .salesperson) }
        let stream = try await Self.watch(harness, company.admin, WatchSyncEventsRequest())

        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in users {
                group.addTask {
                    var request = MailboxFixtures.request(email: "\(id)@example.com")
                    request.userId = id
                    _ = try await company.admin.createMailboxConnection(request)
                }
            }
            try await group.waitForAll()
        }
        let events = try await Self.take(2 * users.count, from: stream)
        var list = ListSyncEventsRequest()
        list.pageSize = 100
        let listed = try await company.admin.listSyncEvents(list).events
        #expect(listed.count == 2 * users.count)
        #expect(events.map(\.id) == listed.reversed().map(\.id))
        #expect(Set(events.map(\.mailboxId)).count == users.count)
        stream.cancel()
        await harness.stop()
    }

    @Test("more than a page of events behind: all are sent, in order")
    func pages() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let stream = try await Self.watch(harness, company.admin, WatchSyncEventsRequest())
        let count = Int(EventHandlers.watchPageSize) + 100
        let adminID = company.adminUserID
        // Written behind the bus's back (no signal), then a served write wakes the watcher.
        try await MailboxFixtures.tenantWrite(harness, company) { db in
            for i in 0..<count {
                try SyncEventRecords.insert(db, kind: .syncCompleted, mailboxID: "m", userID: adminID, emailsSynced: UInt32(i), detail: "batch", now: 1)
            }
        }
        let mailbox = try await company.admin.createMailboxConnection(MailboxFixtures.request(email: "a@example.com"))
        let events = try await Self.take(count + 2, from: stream)
        #expect(events.prefix(count).map(\.emailsSynced) == (0..<count).map(UInt32.init))
        #expect(events.suffix(2).map(\.mailboxId) == [mailbox.id, mailbox.id])
        stream.cancel()
        await harness.stop()
    }

    // MARK: - Helpers

    /// Starts a watch and returns once its handler waits on the bus (so it has taken its starting
    /// point): `waiters` is how many watches of the server should then be waiting.
    static func watch(
        _ harness: ServiceHarness, _ client: MailSync.Client, _ request: WatchSyncEventsRequest, waiters: Int = 1
    ) async throws -> ResponseStream<SyncEvent> {
        let stream = try await client.watchSyncEvents(request, options: options)
        try await waitFor(waiters: waiters, on: try #require(harness.server.environment).syncEvents)
        return stream
    }

    static func waitFor(waiters: Int, on bus: SyncEventBus) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while bus.waiterCount != waiters {
            guard ContinuousClock.now < deadline else {
                Issue.record("the bus has \(bus.waiterCount) waiters, expected \(waiters)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next `count` events; fails if the stream ends first.
    static func take(_ count: Int, from stream: ResponseStream<SyncEvent>) async throws -> [SyncEvent] {
        var iterator = stream.makeAsyncIterator()
        var events: [SyncEvent] = []
        while events.count < count {
            guard let event = try await iterator.next() else {
                Issue.record("the stream ended after \(events.count) of \(count) events")
                break
            }
            events.append(event)
        }
        return events
    }
}

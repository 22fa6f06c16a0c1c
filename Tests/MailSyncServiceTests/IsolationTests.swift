import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncService
import MailSyncStorage
import Testing

/// Company A's keys against company B's data (``IsolationFixture``): every RPC of the schema,
/// called by A's administrator and A's salesperson with B's real ids in every id field, answers
/// the status the hand-written table below names — the same answer, word for word, as for ids
/// nobody has — sends nothing of B's (no marker in any case, no id or secret of B's the request did
/// not name, in any byte the server sent: messages, status texts, details, trailers), and leaves
/// B's database and B's control rows exactly as they were.
@Suite("Tenant isolation", .timeLimit(.minutes(5)))
struct IsolationTests {
    /// What A's callers get when a request names B's things, by rpc.
    struct Expected {
        let administrator: StatusCode
        let salesperson: StatusCode
        /// Why, for a reviewer.
        let why: String
        /// Fills the request's other fields so that it passes validation (never an id field).
        var complete: (@Sendable ([UInt8]) throws -> [UInt8])? = nil
        /// Creates something in A's own company under one of B's ids: called after every other
        /// rpc, so that no other call finds it.
        var createsInA = false
        /// More to check on an ok answer (its response messages); returns what is wrong.
        var check: (@Sendable ([[UInt8]]) throws -> String?)? = nil

        init(_ administrator: StatusCode, _ salesperson: StatusCode, _ why: String,
             complete: (@Sendable ([UInt8]) throws -> [UInt8])? = nil, createsInA: Bool = false,
             check: (@Sendable ([[UInt8]]) throws -> String?)? = nil) {
            self.administrator = administrator
            self.salesperson = salesperson
            self.why = why
            self.complete = complete
            self.createsInA = createsInA
            self.check = check
        }
    }

    /// The table, written by hand: a new rpc fails the test until it has a row.
    static func table(_ fixture: IsolationFixture) -> [String: Expected] {
        let caps = fixture.essentialCaps
        let role = "operator only: the role check refuses it before any id is read"
        return [
            "GetServerInfo": Expected(.ok, .ok, "names no company: the server's version only"),
            "CreateCompany": Expected(.permissionDenied, .permissionDenied, role),
            "GetCompany": Expected(.permissionDenied, .permissionDenied, role),
            "ListCompanies": Expected(.permissionDenied, .permissionDenied, role),
            "SuspendCompany": Expected(.permissionDenied, .permissionDenied, role),
            "ResumeCompany": Expected(.permissionDenied, .permissionDenied, role),
            "ChangePlan": Expected(.permissionDenied, .permissionDenied, role),
            "SetCompanyLimits": Expected(
                .notFound, .permissionDenied,
                "an administrator naming another company gets 'not found' (its existence is not revealed); salespeople may not call it",
                complete: patch(SetCompanyLimitsRequest.self) {
                    $0.limits.mailboxSyncLimit = caps.mailboxSyncLimit
                    $0.limits.syncedEmailsPerUserPerDay = caps.syncedEmailsPerUserPerDay
                    $0.limits.minimumPollIntervalSeconds = caps.minimumPollIntervalSeconds
                }),
            "ListPlans": Expected(.ok, .ok, "the plan catalogue: no company's data"),
            "UpdatePlanCaps": Expected(.permissionDenied, .permissionDenied, role),
            "GetCompanySettings": Expected(.ok, .permissionDenied, "no id field: A's own settings; salespeople may not call it"),
            "UpdateCompanySettings": Expected(
                .ok, .permissionDenied, "no id field: changes A's own settings; salespeople may not call it",
                complete: patch(UpdateCompanySettingsRequest.self) {
                    $0.preventInternalEmailSync = true
                    $0.emailDomains = nil
                }),
            "CreateApiKey": Expected(.permissionDenied, .permissionDenied, role),
            "ListApiKeys": Expected(.permissionDenied, .permissionDenied, role),
            "RevokeApiKey": Expected(.permissionDenied, .permissionDenied, role),
            "CreateUser": Expected(
                .ok, .permissionDenied,
                "user ids are per company: A's administrator creates A's own user under the same id; salespeople may not call it",
                complete: patch(CreateUserRequest.self) {
                    $0.name = "Alpha's namesake"
                    $0.email = "namesake@alpha.example"
                    $0.role = .salesperson
                },
                createsInA: true,
                check: { responses in
                    let user = try User(serializedBytes: responses.first ?? [])
                    return user.name == "Alpha's namesake" && user.email == "namesake@alpha.example" ? nil : "answered \(user)"
                }),
            "ChangeUserRole": Expected(.notFound, .permissionDenied, "B's user is no user of A; salespeople may not call it"),
            "DeactivateUser": Expected(.notFound, .permissionDenied, "B's user is no user of A; salespeople may not call it"),
            "ListUsers": Expected(.ok, .permissionDenied, "no id field: A's own users; salespeople may not call it"),
            "UpsertLeads": Expected(
                .ok, .ok, "lead ids are per company: the lead is written in A (created, or updated on the second call)",
                complete: patch(Lead.self) {
                    $0.name = "Alpha's lead"
                    $0.emailAddresses = ["namesake@alpha-client.example"]
                },
                createsInA: true,
                check: { responses in
                    let answer = try UpsertLeadsResponse(serializedBytes: responses.first ?? [])
                    return answer.created + answer.updated == 1 && answer.rejections.isEmpty ? nil : "answered \(answer)"
                }),
            "UpsertOpportunities": Expected(
                .ok, .ok, "B's lead is no lead of A: the opportunity is rejected as 'no lead', nothing is written",
                complete: patch(UpsertOpportunitiesRequest.self) {
                    for i in $0.opportunities.indices { $0.opportunities[i].name = "Alpha's deal" }
                },
                check: { responses in
                    let answer = try UpsertOpportunitiesResponse(serializedBytes: responses.first ?? [])
                    let rejected = answer.rejections.count == 1 && answer.rejections[0].reason.hasPrefix("no lead '")
                    return answer.created == 0 && answer.updated == 0 && rejected ? nil : "answered \(answer)"
                }),
            "DeleteLead": Expected(.notFound, .permissionDenied, "B's lead is no lead of A; salespeople may not delete leads"),
            "CreateMailboxConnection": Expected(
                .notFound, .permissionDenied,
                "an administrator naming B's user: no such user in A; a salesperson may connect only their own mailbox",
                complete: patch(CreateMailboxConnectionRequest.self) {
                    $0.emailAddress = "namesake@alpha.example"
                    $0.provider = .customImap
                    $0.imap = IsolationFixture.endpoint("imap.alpha.example", 993)
                    $0.smtp = IsolationFixture.endpoint("smtp.alpha.example", 465)
                    $0.secret = "alpha-password"
                }),
            "UpdateMailboxCredentials": Expected(
                .notFound, .notFound, "B's mailbox is no mailbox of A (looked up before whose it is)",
                complete: patch(UpdateMailboxCredentialsRequest.self) {
                    $0.secret = "alpha-password-2"
                    $0.imap = nil  // the probe sends empty endpoints: left unchanged instead
                    $0.smtp = nil
                }),
            "GetMailboxStatus": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A"),
            "TestMailboxConnection": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A: nothing is connected to"),
            "ListMailboxes": Expected(
                .ok, .permissionDenied,
                "an administrator filtering by B's user lists A's mailboxes of that user: none; a salesperson may name only themself",
                check: { responses in
                    let answer = try ListMailboxesResponse(serializedBytes: responses.first ?? [])
                    return answer.mailboxes.isEmpty ? nil : "listed \(answer.mailboxes.count) mailboxes"
                }),
            "DisableMailbox": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A"),
            "SyncNow": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A"),
            "Resync": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A"),
            "ListUnconfiguredUsers": Expected(.ok, .permissionDenied, "no id field: A's own users; salespeople may not call it"),
            "StartOAuthConnection": Expected(
                .notFound, .permissionDenied,
                "an administrator naming B's user: no such user in A; a salesperson may connect only their own mailbox",
                complete: patch(StartOAuthConnectionRequest.self) {
                    $0.provider = .gmail
                    $0.redirectUri = "https://crm.alpha.example/callback"
                }),
            "CompleteOAuthConnection": Expected(
                .failedPrecondition, .failedPrecondition,
                "B's state is unknown to A: 'state is unknown or was already used', the handler's answer to any state it has not issued",
                complete: patch(CompleteOAuthConnectionRequest.self) { $0.code = "alpha-code" }),
            "ListSyncEvents": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A"),
            "WatchSyncEvents": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A: refused before the stream starts"),
            "ListErrorLog": Expected(.notFound, .notFound, "B's mailbox is no mailbox of A"),
            "ListLeadTimeline": Expected(.notFound, .notFound, "B's lead is no lead of A"),
            "SendSmartMail": Expected(
                .notFound, .notFound, "B's lead is no lead of A (checked before the opportunity and the sender's mailbox)",
                complete: patch(SendSmartMailRequest.self) {
                    $0.subject = "Hello from Alpha"
                    $0.textBody = "Hello"
                }),
            "GetBillingReport": Expected(.permissionDenied, .permissionDenied, role),
            "BackupTenant": Expected(.permissionDenied, .permissionDenied, role),
            "RestoreTenant": Expected(.permissionDenied, .permissionDenied, role),
            "VerifyBackup": Expected(.permissionDenied, .permissionDenied, role),
            "ListBackups": Expected(.permissionDenied, .permissionDenied, role),
        ]
    }

    /// Decodes a request, lets `edit` fill fields validation needs, encodes it again.
    static func patch<M: Message>(_: M.Type, _ edit: @escaping @Sendable (inout M) -> Void) -> @Sendable ([UInt8]) throws -> [UInt8] {
        { bytes in
            var message = try M(serializedBytes: bytes)
            edit(&message)
            return message.serializedBytes()
        }
    }

    @Test("every rpc, called by A's administrator and salesperson with B's real ids, answers the table's status, sends nothing of B and leaves B unchanged")
    func everyMethod() async throws {
        try await IsolationFixture.with { fixture, recorder in
            let transport = TCPClientTransport(host: "127.0.0.1", port: recorder.port)
            defer { transport.close() }
            try await Self.everyMethod(fixture, recorder, transport)
        }
    }

    static func everyMethod(_ fixture: IsolationFixture, _ recorder: WireRecorder, _ transport: TCPClientTransport) async throws {
        let probe = try SchemaProbe()
        let table = table(fixture)
        let environment = try #require(fixture.harness.server.environment)
        #expect(Set(table.keys) == Set(MailSync.methods.map(\.method)), "the table needs one row per rpc of the schema, no more")

        // Every id field of every request gets one of B's real ids.
        let real = fixture.bIDs
        for method in MailSync.methods {
            for field in probe.idFields(of: method) where real[field.qualified] == nil && real[field.name] == nil {
                Issue.record("\(method.method): no id of B's for \(field); add one to IsolationFixture.bIDs")
            }
        }
        // The same requests with ids nobody has, for comparison: one made-up id per distinct id of
        // B's (a company id is a UUID, as tenant ids are; a state has the real one's length).
        let distinct = Array(Set(real.values)).sorted()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        let fakes: [String] = distinct.map { value in
            if value == fixture.b.id { return UUID().uuidString.lowercased() }
            if value == fixture.b.oauthState { return String((0..<value.count).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] }) }
            return String(value.prefix(7)) + UUID().uuidString.lowercased()
        }
        let madeUp = real.mapValues { fakes[distinct.firstIndex(of: $0)!] }

        var baseline = try await TenantDump.dump(environment, company: fixture.b.id)
        let callers = [("administrator", fixture.a.adminKey), ("salesperson", fixture.a.sellerKey)]
        var calls = 0
        for createsInA in [false, true] {
            for (roleName, key) in callers {
                for method in MailSync.methods {
                    guard let expected = table[method.method], expected.createsInA == createsInA else { continue }
                    let status = roleName == "administrator" ? expected.administrator : expected.salesperson
                    let name = "\(method.method) as A's \(roleName)"
                    var outcomes: [RawCall.Outcome] = []
                    // With B's ids; and, except where it would create something, with made-up ids.
                    for ids in createsInA ? [real] : [real, madeUp] {
                        let values = Set(probe.idFields(of: method).compactMap { ids[$0.qualified] ?? ids[$0.name] })
                        var request = probe.request(for: method, ids: ids)
                        if let complete = expected.complete { request = try complete(request) }
                        for value in values {
                            #expect(Self.contains(request, value), "\(name): completing the request lost the id \(value)")
                        }
                        _ = recorder.take()
                        let outcome = await RawCall.call(method, request: request, transport: transport, key: key, streamTimeout: .seconds(10))
                        let wire = recorder.take()
                        calls += 1
                        outcomes.append(outcome)
                        #expect(outcome.code == status, "\(name): expected \(status), got \(outcome.code) '\(outcome.message)' (\(expected.why))")
                        #expect(!wire.isEmpty, "\(name): the recorder saw no answer")
                        for leak in Self.leaks(in: [wire, Array(outcome.text.utf8)], fixture: fixture, sent: values) {
                            Issue.record("\(name) sent company B's \(leak): \(outcome.code) '\(outcome.message.prefix(200))' \(outcome.text.prefix(300))")
                        }
                        if outcome.code == .ok, ids == real, let check = expected.check {
                            if let wrong = try check(outcome.responses) { Issue.record("\(name): \(wrong)") }
                        }
                        let after = try await TenantDump.dump(environment, company: fixture.b.id)
                        if after != baseline {
                            Issue.record("\(name) changed company B: \(TenantDump.difference(baseline, after))")
                            baseline = after  // so that only the call that changed it is named
                        }
                    }
                    if outcomes.count == 2 {
                        let (withReal, withMadeUp) = (outcomes[0], outcomes[1])
                        #expect(withReal.code == withMadeUp.code, "\(name): B's ids answer \(withReal.code), made-up ones \(withMadeUp.code)")
                        #expect(Self.normalized(withReal.message, distinct) == Self.normalized(withMadeUp.message, fakes),
                                "\(name): B's ids answer '\(withReal.message)', made-up ones '\(withMadeUp.message)'")
                    }
                }
            }
        }
        #expect(calls == MailSync.methods.count * 2 * 2 - table.values.filter(\.createsInA).count * 2)

        // The detector sees B's data where B may see it: the markers (both cases) are real.
        try await expectVisibleToB(fixture, recorder: recorder)
    }

    /// A's watchers, held open while B writes real events, receive A's events in order and nothing
    /// of B's.
    @Test("WatchSyncEvents opened with A's keys stays live across B's events and delivers none of them")
    func watchAcrossCompanies() async throws {
        try await IsolationFixture.with { fixture, recorder in
            let transport = TCPClientTransport(host: "127.0.0.1", port: recorder.port)
            defer { transport.close() }
            try await Self.watchAcrossCompanies(fixture, recorder, transport)
        }
    }

    static func watchAcrossCompanies(_ fixture: IsolationFixture, _ recorder: WireRecorder, _ transport: TCPClientTransport) async throws {
        let seller = fixture.harness.client(key: fixture.a.sellerKey)
        var opened: [(String, EventCollector)] = []
        for (roleName, key) in [("administrator", fixture.a.adminKey), ("salesperson", fixture.a.sellerKey)] {
            var options = CallOptions(timeout: .seconds(90))
            options.metadata.add(Metadata.authorizationKey, key)
            let call = try await transport.openCall(MailSync.Method.watchSyncEvents, options: options)
            try await call.send(WatchSyncEventsRequest().serializedBytes())
            try await call.finishSending()
            opened.append((roleName, EventCollector(call)))
        }
        let watchers = opened
        defer { for (_, watcher) in watchers { watcher.cancel() } }

        /// An event of A's own (a resync of the salesperson's mailbox), by id.
        @Sendable func eventOfA() async throws -> String {
            _ = try await seller.resync({ var r = ResyncRequest(); r.mailboxId = fixture.a.sellerMailboxID; return r }())
            let newest = try await seller.listSyncEvents({ var r = ListSyncEventsRequest(); r.pageSize = 1; return r }())
            return try #require(newest.events.first?.id)
        }

        // Live: A writes until both watchers have received something. A watch starts from the
        // newest event when the server begins it, which the client cannot observe; each attempt
        // waits up to a second before writing again (the pace of retries, not an outcome).
        var live = false
        for _ in 0..<30 where !live {
            _ = try await eventOfA()
            live = await EventCollector.waitUntil(.seconds(1)) { watchers.allSatisfy { !$0.1.events.isEmpty } }
        }
        try #require(live, "A's watchers received none of A's events within 30 attempts")
        let fence = try await eventOfA()
        for (roleName, watcher) in watchers {
            let seen = await EventCollector.waitUntil(.seconds(20)) { watcher.events.contains { $0.id == fence } }
            try #require(seen, "A's \(roleName) watcher did not receive A's event \(fence): \(watcher.failure ?? "no error")")
        }

        // B writes real events of its own: a resync, then disabling the mailbox.
        var resync = ResyncRequest()
        resync.mailboxId = fixture.b.mailboxID
        _ = try await fixture.b.admin.resync(resync)
        var disable = DisableMailboxRequest()
        disable.mailboxId = fixture.b.mailboxID
        disable.previousCommunication = .keep
        let disabled = try await fixture.b.admin.disableMailbox(disable)
        #expect(disabled.mailbox.status == .disabled)
        var listB = ListSyncEventsRequest()
        listB.pageSize = 2
        let written = try await fixture.b.admin.listSyncEvents(listB).events
        #expect(written.map(\.kind) == [.disabled, .syncStarted], "B's own events were written: \(written)")

        // Then A writes two more; each watcher gets exactly those after the fence, in order.
        let after = [try await eventOfA(), try await eventOfA()]
        for (roleName, watcher) in watchers {
            let seen = await EventCollector.waitUntil(.seconds(20)) { watcher.events.contains { $0.id == after[1] } }
            #expect(seen, "A's \(roleName) watcher did not receive A's event \(after[1]): \(watcher.failure ?? "no error")")
            let events = watcher.events
            let tail = Array(events.drop(while: { $0.id != fence }).dropFirst().map(\.id))
            #expect(tail == after, "A's \(roleName) watcher after A's fence: \(tail), expected only A's \(after)")
            for event in events {
                #expect(event.mailboxId == fixture.a.sellerMailboxID, "A's \(roleName) watcher received another mailbox's event: \(event)")
            }
        }
        let bEvents = written.map(\.id)
        let wire = recorder.take()
        for leak in leaks(in: [wire], fixture: fixture, sent: [], extra: bEvents) {
            Issue.record("A's watchers were sent company B's \(leak)")
        }
    }
}

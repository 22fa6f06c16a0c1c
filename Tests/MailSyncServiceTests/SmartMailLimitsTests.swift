import Foundation
import MailSyncClient
import MailSyncRPC
@testable import MailSyncService
import Testing
import TestSupport

/// Smart Mail under load and against hostile SMTP servers, end to end through the generated
/// client: sends run on a bounded pool with per-user and per-company limits, callers that go away
/// while waiting never send, and a server that offers no authentication is refused unless the
/// operator allowed it as a relay.
@Suite("Smart Mail limits and SMTP authentication", .timeLimit(.minutes(5)))
struct SmartMailLimitsTests {
    /// The process's thread count (`Threads:` in /proc/self/status).
    static func threadCount() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }),
            let count = Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces))
        else { return -1 }
        return count
    }

    /// Points the fixture mailbox's SMTP side at `port` (plain text) through UpdateMailboxCredentials.
    static func sendThrough(_ fixture: SmartMailFixture, port: Int) async throws {
        var request = UpdateMailboxCredentialsRequest()
        request.mailboxId = fixture.mailboxID
        request.smtp = MailboxFixtures.endpoint("127.0.0.1", UInt32(port), .none)
        _ = try await fixture.company.admin.updateMailboxCredentials(request)
    }

    /// Polls `condition` every 10 ms; false when `timeout` passes first.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    @Test("120 concurrent sends of one user to a tarpit SMTP server: 4 (the user's limit) reach it, the other 116 get resource exhausted with a retry hint, and the process gains at most those 4 send threads (plus noise)")
    func boundedUnderTarpit() async throws {
        let workers = 4
        try await TarpitServer.with { tarpit in
            try await SmartMailFixture.with(settings: { settings, _ in
                settings.smartMailWorkers = 8
                settings.smartMailPerCompany = 8
                settings.smartMailPerUser = workers
                settings.smartMailQueueWaitSeconds = 0.2
            }) { fixture in
                try await Self.sendThrough(fixture, port: tarpit.port)
                let outbox = fixture.harness.server.environment!.smartMail
                let before = Self.threadCount()
                let peak = Peak()
                let sampler = Task {
                    while !Task.isCancelled {
                        peak.record(Self.threadCount())
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
                // Two connections: the transport allows 100 calls in flight per connection.
                let clients = [fixture.company.admin, fixture.harness.client(key: fixture.company.adminKey)]
                let calls = 120
                try await withThrowingTaskGroup(of: RPCError?.self) { group in
                    for i in 0..<calls {
                        let client = clients[i % clients.count]
                        group.addTask {
                            do {
                                _ = try await client.sendSmartMail(SmartMailFixture.request(subject: "Offer \(i)"))
                                return nil
                            } catch let error as RPCError {
                                return error
                            }
                        }
                    }
                    var refused: [RPCError] = []
                    while refused.count < calls - workers, let result = try await group.next() {
                        let error = try #require(result, "a send to the tarpit cannot succeed")
                        #expect(error.code == .resourceExhausted, "\(error)")
                        refused.append(error)
                    }
                    #expect(refused.count == calls - workers)
                    #expect(await Self.eventually { tarpit.accepted == workers })
                    peak.record(Self.threadCount())
                    sampler.cancel()
                    #expect(tarpit.accepted == workers)
                    #expect(outbox.workers.threadCount <= workers)
                    #expect(outbox.gate.load == .init(running: workers, waiting: 0))
                    let message = try #require(refused.first?.message)
                    #expect(message.contains("the most one user may send at once"))
                    #expect(message.range(of: #"retry in \d+ s$"#, options: .regularExpression) != nil, "\(message)")
                    // Without the pool: one thread per send, +120. Other suites run beside this one,
                    // so allow some noise.
                    #expect(peak.value - before <= workers + 24, "threads went from \(before) to \(peak.value)")

                    // The sends in progress end when the server hangs up (bounded by the send timeout
                    // otherwise), with a temporary error, not a refusal.
                    await tarpit.closeAll()
                    while let result = try await group.next() {
                        let error = try #require(result)
                        #expect(error.code == .unavailable, "\(error)")
                    }
                }
                #expect(outbox.gate.load == .init(running: 0, waiting: 0))
                #expect(try fixture.smtp.messages().isEmpty)
            }
        }
    }

    @Test("a caller that goes away while its send waits for a slot (deadline or cancel) never reaches the SMTP server")
    func cancelledWaiterNeverSends() async throws {
        try await TarpitServer.with { tarpit in
            try await SmartMailFixture.with(settings: { settings, _ in
                settings.smartMailPerUser = 1
                settings.smartMailQueueWaitSeconds = 30
            }) { fixture in
                try await Self.sendThrough(fixture, port: tarpit.port)
                let gate = fixture.harness.server.environment!.smartMail.gate
                let admin = fixture.company.admin
                let holder = Task { try await admin.sendSmartMail(SmartMailFixture.request(subject: "holder")) }
                #expect(await Self.eventually { tarpit.accepted == 1 })

                // A deadline that passes while waiting.
                await #expect {
                    _ = try await admin.sendSmartMail(
                        SmartMailFixture.request(subject: "deadline"), options: CallOptions(timeout: .milliseconds(300)))
                } throws: { ($0 as? RPCError)?.code == .deadlineExceeded }
                #expect(await Self.eventually { gate.load == .init(running: 1, waiting: 0) })
                // A caller that cancels while waiting.
                let cancelled = Task { try await admin.sendSmartMail(SmartMailFixture.request(subject: "cancelled")) }
                #expect(await Self.eventually { gate.load.waiting == 1 })
                cancelled.cancel()
                _ = await cancelled.result
                #expect(await Self.eventually { gate.load == .init(running: 1, waiting: 0) })

                // The holder's slot frees when the server hangs up. Had a waiter stayed queued, it
                // would take the slot now and connect (and hang there, so the gate would not empty).
                await tarpit.closeAll()
                await #expect { _ = try await holder.value } throws: { ($0 as? RPCError)?.code == .unavailable }
                #expect(await Self.eventually { gate.load == .init(running: 0, waiting: 0) })
                #expect(tarpit.accepted == 1)
            }
        }
    }

    @Test("per-company limit: a second user of the same company waits behind the company's limit and is refused; another company is not held up")
    func perCompanyLimit() async throws {
        try await TarpitServer.with { tarpit in
            try await SmartMailFixture.with(settings: { settings, _ in
                settings.smartMailPerCompany = 1
                settings.smartMailPerUser = 1
                settings.smartMailQueueWaitSeconds = 0
            }) { fixture in
                try await Self.sendThrough(fixture, port: tarpit.port)
                let admin = fixture.company.admin
                let holder = Task { try await admin.sendSmartMail(SmartMailFixture.request(subject: "holder")) }
                #expect(await Self.eventually { tarpit.accepted == 1 })

                // Bob, same company, with his own mailbox on the tarpit: the company's one slot is taken.
                let bob = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "bob", role: .salesperson)
                var connect = SmartMailFixture.connectRequest(
                    email: "bob@acme.example", username: "bob", smtpPort: tarpit.port, secret: "pw")
                connect.userId = "bob"
                _ = try await admin.createMailboxConnection(connect)
                await #expect {
                    _ = try await bob.client.sendSmartMail(SmartMailFixture.request(subject: "bob"))
                } throws: { error in
                    guard let error = error as? RPCError else { return false }
                    return error.code == .resourceExhausted && error.message.contains("your company is already sending 1 Smart Mails")
                }

                // Another company's user is not held up: its send reaches its own SMTP server.
                let other = try await fixture.harness.makeCompany(name: "Globex", domains: ["globex.example"])
                var otherConnect = SmartMailFixture.connectRequest(
                    email: "carol@globex.example", username: "alice", smtpPort: fixture.smtp.port, secret: SmartMailFixture.password)
                otherConnect.userId = other.adminUserID
                _ = try await other.admin.createMailboxConnection(otherConnect)
                try await SyncFixture.upsertLeads(other, [(id: "lead-1", address: SmartMailFixture.leadAddress)])
                _ = try await other.admin.sendSmartMail(SmartMailFixture.request())
                #expect(try fixture.smtp.messages().count == 1)
                #expect(tarpit.accepted == 1)

                await tarpit.closeAll()
                _ = await holder.result
            }
        }
    }

    // MARK: - Authentication

    /// (After STARTTLS: SMTPSenderTests, which trusts the test server's certificate.)
    @Test("an SMTP server that offers no AUTH: failed precondition saying so, logged like a refusal, nothing sent")
    func noAuthOffered() async throws {
        try await SmartMailFixture.with(smtp: SMTPServer.Options(offersAuth: false)) { fixture in
            await #expect {
                _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request())
            } throws: { error in
                guard let error = error as? RPCError else { return false }
                return error.code == .failedPrecondition
                    && error.message.contains("The SMTP server 127.0.0.1 (port \(fixture.smtp.port)) offered no authentication; Mail Sync only sends through servers that check the sender's login")
                    && error.message.contains("smtpRelaysWithoutAuth")
            }
            #expect(try fixture.smtp.messages().isEmpty)
            #expect(try await fixture.timeline("lead-1").isEmpty)
            let log = try await fixture.errorLog()
            try #require(log.count == 1)
            #expect(log[0].errorClass == .configuration)
            #expect(log[0].fixHint.contains("offered no authentication"))
            #expect(log[0].serverText.contains("mailsync-test-smtp"))  // the server's EHLO reply
            #expect(!log[0].serverText.contains("AUTH"))
        }
    }

    @Test("a relay the operator allowed (smtpRelaysWithoutAuth) is sent through without a login; another port of the same host is not")
    func allowedRelay() async throws {
        try await SmartMailFixture.with(smtp: SMTPServer.Options(offersAuth: false), settings: { settings, port in
            settings.smtpRelaysWithoutAuth = ["127.0.0.1:\(port)"]
        }) { fixture in
            _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request())
            let received = try fixture.smtp.messages()
            try #require(received.count == 1)
            #expect(received[0].login == nil)
            #expect(received[0].mailFrom == SmartMailFixture.owner)
        }
        try await SmartMailFixture.with(smtp: SMTPServer.Options(offersAuth: false), settings: { settings, port in
            settings.smtpRelaysWithoutAuth = ["127.0.0.1:\(port + 1)"]
        }) { fixture in
            await #expect {
                _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request())
            } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
            let received = try fixture.smtp.messages()
            #expect(received.isEmpty)
        }
    }

    @Test("Smart Mail settings: defaults, ranges and relays are checked")
    func settings() throws {
        let defaults = try ServerSettings().smartMailSettings()
        #expect(defaults.workers == 16 && defaults.perCompany == 8 && defaults.perUser == 2 && defaults.queueWait == .seconds(5))
        #expect(defaults.relaysWithoutAuth.isEmpty)
        var settings = ServerSettings()
        settings.smtpRelaysWithoutAuth = ["Relay.Example.com:25", "[::1]:2525"]
        settings.smartMailQueueWaitSeconds = 0
        let parsed = try settings.smartMailSettings()
        #expect(parsed.allowsRelayWithoutAuth(host: "relay.example.com", port: 25))
        #expect(parsed.allowsRelayWithoutAuth(host: "::1", port: 2525))
        #expect(!parsed.allowsRelayWithoutAuth(host: "relay.example.com", port: 587))
        #expect(parsed.queueWait == .zero)
        for bad in [{ (s: inout ServerSettings) in s.smartMailWorkers = 0 }, { $0.smartMailPerUser = 5000 },
                    { $0.smartMailQueueWaitSeconds = -1 }, { $0.smtpRelaysWithoutAuth = ["relay.example.com"] },
                    { $0.smtpRelaysWithoutAuth = ["relay.example.com:0"] }] {
            var settings = ServerSettings()
            bad(&settings)
            #expect(throws: SettingsError.self) { try settings.smartMailSettings() }
        }
        var file = ServerSettings()
        file.smartMailPerUser = 3
        var flags = ServerSettings()
        flags.smtpRelaysWithoutAuth = ["a.example:25"]
        let merged = file.overridden(by: flags)
        #expect(merged.smartMailPerUser == 3 && merged.smtpRelaysWithoutAuth == ["a.example:25"])
    }
}

/// The highest value recorded, from any task.
private final class Peak: @unchecked Sendable {
    private let lock = NSLock()
    private var highest = 0
    func record(_ value: Int) { lock.withLock { highest = max(highest, value) } }
    var value: Int { lock.withLock { highest } }
}

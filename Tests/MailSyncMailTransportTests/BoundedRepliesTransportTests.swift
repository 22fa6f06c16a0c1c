import MailSyncErrors
import MailSyncIMAP
@testable import MailSyncMailTransport
import Testing
import TestSupport

/// Reply budgets at the connection: which responses a command asked for, how many of the others
/// are kept, counted or refused, and the error's words; against the suite's hostile IMAP server.
@Suite("Bounded replies at the IMAP connection", .timeLimit(.minutes(5)))
struct BoundedRepliesTransportTests {
    static func connect(_ server: HostileIMAPServer, commandTimeout: Duration = .seconds(10)) async throws -> IMAPConnection {
        try await IMAPConnection.connect(
            host: "127.0.0.1", port: server.port, security: .none, username: "alice", password: "any",
            timeout: .seconds(10), commandTimeout: commandTimeout, policy: .testLoopback)
    }

    static func withServer(
        _ mode: HostileIMAPServer.Mode, messages: [HostileIMAPServer.Message] = [],
        _ body: (HostileIMAPServer) async throws -> Void
    ) async throws {
        let server = try HostileIMAPServer.start(mode: mode, messages: messages)
        defer { server.stop() }
        try await body(server)
    }

    struct ExpectationCase: Sendable, CustomTestStringConvertible {
        var commands: [String]
        var response: UntaggedResponse
        var fetchUIDs: Set<UInt32>?
        var asked: Bool
        var testDescription: String { "\(commands) ← \(response): \(asked)" }
    }

    static let expectationCases: [ExpectationCase] = [
        .init(commands: ["EXAMINE \"INBOX\""], response: .exists(3), asked: true),
        .init(commands: ["EXAMINE \"INBOX\""], response: .status(StatusResponse(condition: .ok, code: .uidValidity(7), text: "")), asked: true),
        .init(commands: ["EXAMINE \"INBOX\""], response: .status(StatusResponse(condition: .ok, text: "x")), asked: false),
        .init(commands: ["EXAMINE \"INBOX\""], response: .status(StatusResponse(condition: .no, code: .alert, text: "x")), asked: false),
        .init(commands: ["UID FETCH 1:5 (FLAGS)"], response: .exists(3), asked: false),
        .init(commands: ["UID FETCH 1:5 (FLAGS)"], response: .expunge(3), asked: false),
        .init(commands: ["UID FETCH 1:5 (FLAGS)"], response: .fetch(sequenceNumber: 1, attributes: [.uid(9)]), asked: true),
        .init(commands: ["UID FETCH 1:5 (FLAGS)"], response: .fetch(sequenceNumber: 1, attributes: [.uid(9)]), fetchUIDs: [1, 2], asked: false),
        .init(commands: ["UID FETCH 1:5 (FLAGS)"], response: .fetch(sequenceNumber: 1, attributes: [.flags([]), .uid(2)]), fetchUIDs: [1, 2], asked: true),
        .init(commands: ["UID FETCH 1:5 (FLAGS)"], response: .fetch(sequenceNumber: 1, attributes: [.flags([])]), fetchUIDs: [1, 2], asked: false),
        .init(commands: ["LIST \"\" \"*\""], response: .fetch(sequenceNumber: 1, attributes: [.uid(1)]), asked: false),
        .init(commands: ["uid search UID 1:*"], response: .search([1, 2]), asked: true),
        .init(commands: ["STATUS \"INBOX\" (UIDNEXT)"], response: .other(keyword: "STATUS", text: "INBOX (UIDNEXT 3)"), asked: true),
        .init(commands: ["NOOP"], response: .other(keyword: "STATUS", text: "INBOX (UIDNEXT 3)"), asked: false),
        .init(commands: ["NOOP", "STATUS \"INBOX\" (UIDNEXT)"], response: .other(keyword: "STATUS", text: "x"), asked: true),
        .init(commands: ["CAPABILITY"], response: .capability(["IMAP4rev1"]), asked: true),
        .init(commands: ["NOOP"], response: .capability(["IMAP4rev1"]), asked: false),
        .init(commands: ["NOOP"], response: .other(keyword: "XWHATEVER", text: ""), asked: false),
    ]

    @Test("which untagged responses a command asked for", arguments: expectationCases)
    func expectation(_ testCase: ExpectationCase) {
        #expect(ReplyExpectation(commands: testCase.commands, fetchUIDs: testCase.fetchUIDs).asked(testCase.response) == testCase.asked)
    }

    @Test("numbers in the error's words, and the body allowances")
    func wordsAndAllowances() {
        #expect(ReplyOverLimit.grouped(0) == "0")
        #expect(ReplyOverLimit.grouped(999) == "999")
        #expect(ReplyOverLimit.grouped(1000) == "1,000")
        #expect(ReplyOverLimit.grouped(52_428_800) == "52,428,800")
        #expect(ReplyOverLimit.grouped(UInt64.max) == "18,446,744,073,709,551,615")
        #expect(ReplyOverLimit.grouped(-1234) == "-1,234")
        #expect(ReplyOverLimit.counted(1, "message") == "1 message")
        #expect(ReplyOverLimit.counted(2000, "message") == "2,000 messages")
        #expect(IMAPReplyBudget.bodyAllowance(announced: 2000) == 2000 + 200 + 65536)
        #expect(IMAPReplyBudget.bodyAllowance(announced: 0) == 50 << 20)  // not announced
        #expect(IMAPReplyBudget.bodyAllowance(announced: .max) == .max)

        let bodies = IMAPReplyBudget.bodies(announced: [1: 2000, 2: 10_000, 3: 0])
        #expect(bodies.maxLiteralSize == 50 << 20)
        #expect(bodies.maxBytes == (1 << 20) + (2000 + 200 + 65536) + (10_000 + 1000 + 65536) + (50 << 20))
        #expect(bodies.fetchUIDs == [1, 2, 3])
        #expect(bodies.announcedLargest == 10_000)
        #expect(bodies.purpose == "the bodies of 3 messages (12,000 bytes announced)")
        #expect(IMAPReplyBudget.bodies(announced: [1: .max, 2: .max]).maxBytes == .max)
        let headers = IMAPReplyBudget.headers(uids: [1, 2])
        #expect(headers.maxBytes == 2 * 65536 + (1 << 20))
        #expect(headers.purpose == "the headers of 2 messages")
    }

    @Test("responses nobody asked for: 1,000 kept, the rest counted and dropped; 100,000 pass, 100,001 fail the command")
    func unsolicitedBounds() async throws {
        try await Self.withServer(.untaggedFlood(lines: 5000, during: "NOOP")) { server in
            let imap = try await Self.connect(server)
            let responses = try await imap.command("NOOP")
            #expect(responses.count == 1001, "1,000 kept and the tagged OK")
            #expect(try await imap.command("NOOP").count == 1001)  // still in step and usable
            server.mode = .untaggedFlood(lines: 100_000, during: "NOOP")
            #expect(try await imap.command("NOOP").count == 1001)
            server.mode = .untaggedFlood(lines: 100_001, during: "NOOP")
            do throws(IMAPConnectionError) {
                _ = try await imap.command("NOOP")
                Issue.record("100,001 responses nobody asked for were accepted")
            } catch {
                #expect(error.diagnosis.errorClass == .temporary)
                #expect(error.diagnosis.rule == "connection.replyOverLimit")
                #expect(error.serverText.contains("The IMAP server 127.0.0.1 sent more than 100,000 responses nobody asked for while answering NOOP"), "\(error.serverText)")
            }
            // The connection is unusable afterwards.
            await #expect(throws: IMAPConnectionError.self) { try await imap.command("NOOP") }
            await imap.close()
        }
    }

    @Test("a body larger than its own message's announced size is refused once read, naming the UID")
    func bodyOverItsAnnouncedSize() async throws {
        let messages = [
            HostileIMAPServer.Message(uid: 1, from: "a@b.example", to: "c@d.example", subject: "one"),
            HostileIMAPServer.Message(uid: 2, from: "a@b.example", to: "c@d.example", subject: "two"),
        ]
        try await Self.withServer(.oversizedBody(sentSize: 150_000), messages: messages) { server in
            let imap = try await Self.connect(server)
            _ = try await imap.examine(.inbox)
            // UID 1 is allowed 175,536 bytes, so no literal is refused from its header; UID 2 only 65,547.
            do throws(IMAPConnectionError) {
                _ = try await imap.fetchBodies(announced: [1: 100_000, 2: 10])
                Issue.record("accepted")
            } catch {
                #expect(error.serverText.contains("The IMAP server 127.0.0.1 sent a 150,000-byte message (UID 2) where it had announced 10 bytes"), "\(error.serverText)")
            }
            await imap.close()
        }
    }

    @Test("a literal over the announced size is refused from its header: the server's bytes are never all read")
    func refusedFromTheHeader() async throws {
        let message = HostileIMAPServer.Message(uid: 1, from: "a@b.example", to: "c@d.example", subject: "one")
        try await Self.withServer(.oversizedBody(sentSize: 50 << 20), messages: [message]) { server in
            let imap = try await Self.connect(server)
            _ = try await imap.examine(.inbox)
            do throws(IMAPConnectionError) {
                _ = try await imap.fetchBodies(announced: [1: 2000])
                Issue.record("accepted")
            } catch {
                #expect(error.serverText.hasPrefix("The IMAP server 127.0.0.1 sent a 52,428,800-byte message where it had announced 2,000 bytes"), "\(error.serverText)")
            }
            await imap.close()
            #expect(server.bytesSent < 25 << 20, "\(server.bytesSent) bytes sent")
        }
    }

    @Test("slow drip: login at once, then one byte per interval and never a completion; stop ends it; connections counted")
    func slowDrip() async throws {
        let server = try HostileIMAPServer.start(mode: .slowDrip(interval: .milliseconds(20)))
        let imap = try await Self.connect(server)
        #expect(server.connectionsAccepted == 1)
        #expect(server.logins == 1)
        let sentAtLogin = server.bytesSent
        let list = Task { try await imap.command("LIST \"\" \"*\"") }
        // Room for a loaded machine: 20 bytes take 0.4 s here, but a starved thread may wait.
        let deadline = ContinuousClock.now + .seconds(60)
        while server.bytesSent < sentAtLogin + 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.bytesSent >= sentAtLogin + 20, "the drip stopped")
        await server.stopAndWait()
        await #expect(throws: IMAPConnectionError.self) { try await list.value }
        await imap.close()
        #expect(server.connectionsAccepted == 1)
        #expect(server.openConnections == 0)
    }
}

import Foundation
import MailSyncErrors
import MailSyncIMAP
import MailSyncMailTransport
import Testing
import TestSupport

/// ``IMAPConnection/idle(for:budget:)`` against a real Dovecot (which offers IDLE) and a hostile
/// server of the suite's own.
@Suite("IMAP IDLE", .timeLimit(.minutes(3)))
struct IMAPIdleTests {
    /// Dovecot notices new maildir files through inotify; the check interval is the fallback.
    static let options = DovecotServer.Options(extraConfig: "mailbox_idle_check_interval = 1 secs\n")

    static func connect(_ dovecot: DovecotServer) async throws -> IMAPConnection {
        let imap = try await IMAPIdleTests.connectOnly(dovecot)
        _ = try await imap.examine(.inbox)
        return imap
    }

    static func connectOnly(_ dovecot: DovecotServer) async throws -> IMAPConnection {
        try await IMAPConnection.connect(
            host: "127.0.0.1", port: dovecot.port, security: .none, username: "alice", password: "s3cret",
            timeout: .seconds(10), commandTimeout: .seconds(10), policy: .testLoopback)
    }

    static func append(_ dovecot: DovecotServer, _ subject: String) async throws {
        try await dovecot.append(user: "alice", message: "From: lead@example.com\r\nTo: alice@example.com\r\nSubject: \(subject)\r\n\r\nHi.\r\n")
    }

    @Test("Dovecot advertises IDLE after login")
    func advertised() async throws {
        try await DovecotServer.withServer(users: [("alice", "s3cret")], options: Self.options) { dovecot in
            let imap = try await Self.connectOnly(dovecot)
            #expect(try await imap.capabilities().contains("IDLE"))
            await imap.close()
        }
    }

    @Test("a message delivered while idling ends the wait with its EXISTS, long before the duration")
    func existsWakes() async throws {
        try await DovecotServer.withServer(users: [("alice", "s3cret")], options: Self.options) { dovecot in
            let imap = try await Self.connect(dovecot)
            let started = ContinuousClock.now
            let idle = Task { try await imap.idle(for: .seconds(60)) }
            try await Self.append(dovecot, "new")
            let result = try await idle.value
            #expect(result.end == .changed)
            #expect(result.changes.contains(.untagged(.exists(1))), "\(result.changes)")
            #expect(ContinuousClock.now - started < .seconds(15))
            // DONE was sent and the IDLE completed: the connection is in step.
            let noop = try await imap.command("NOOP")
            guard case .tagged(_, let status) = noop.last else { Issue.record("no completion: \(noop)"); return }
            #expect(status.condition == .ok)
            await imap.close()
        }
    }

    @Test("with nothing new, the wait ends when the duration passes and the connection stays usable")
    func timeoutReturns() async throws {
        try await DovecotServer.withServer(users: [("alice", "s3cret")], options: Self.options) { dovecot in
            let imap = try await Self.connect(dovecot)
            let started = ContinuousClock.now
            let result = try await imap.idle(for: .milliseconds(700))
            let elapsed = ContinuousClock.now - started
            #expect(result.end == .timedOut)
            #expect(result.changes.isEmpty)
            #expect(elapsed >= .milliseconds(700) && elapsed < .seconds(8), "\(elapsed)")
            // Re-issued at once: a second IDLE on the same connection sees new mail.
            let again = Task { try await imap.idle(for: .seconds(60)) }
            try await Self.append(dovecot, "later")
            #expect(try await again.value.end == .changed)
            await imap.close()
        }
    }

    @Test("cancelling the waiting task ends a long IDLE promptly, with DONE sent")
    func cancellationReturnsPromptly() async throws {
        try await DovecotServer.withServer(users: [("alice", "s3cret")], options: Self.options) { dovecot in
            let imap = try await Self.connect(dovecot)
            let idle = Task { try await imap.idle(for: .seconds(600)) }
            // Cancel once the server idles (its `+` came); before or after, the outcome must be the same.
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = ContinuousClock.now
            idle.cancel()
            let result = try await idle.value
            #expect(result.end == .cancelled)
            #expect(ContinuousClock.now - cancelled < .seconds(20), "promptly: far from the 600 s duration")
            let noop = try await imap.command("NOOP")
            guard case .tagged(_, let status) = noop.last else { Issue.record("no completion: \(noop)"); return }
            #expect(status.condition == .ok)
            await imap.close()
        }
    }

    @Test("closing the connection ends an IDLE in progress promptly")
    func closeEndsIdle() async throws {
        try await DovecotServer.withServer(users: [("alice", "s3cret")], options: Self.options) { dovecot in
            let imap = try await Self.connect(dovecot)
            let idle = Task { try await imap.idle(for: .seconds(600)) }
            try await Task.sleep(for: .milliseconds(300))
            let closing = ContinuousClock.now
            await imap.close()
            _ = try? await idle.value
            #expect(ContinuousClock.now - closing < .seconds(20), "promptly: far from the 600 s duration")
        }
    }

    @Test("a server flooding an IDLE with responses that report nothing fails it within the budget")
    func floodIsBounded() async throws {
        let server = try HostileIMAPServer.start(mode: .untaggedFlood(lines: 50_000, during: "IDLE"))
        defer { server.stop() }
        let imap = try await IMAPConnection.connect(
            host: "127.0.0.1", port: server.port, security: .none, username: "alice", password: "any",
            timeout: .seconds(10), commandTimeout: .seconds(10), policy: .testLoopback)
        do throws(IMAPConnectionError) {
            _ = try await imap.idle(for: .seconds(30))
            Issue.record("accepted")
        } catch {
            #expect(error.diagnosis.errorClass == .temporary)
            #expect(error.serverText.contains("IDLE"), "\(error.serverText)")
        }
        await imap.close()
    }

    @Test("a server that completes IDLE at once, without the +: refused as IDLE, the connection stays in step")
    func completionWithoutContinuationIsRefused() async throws {
        // The suite's server answers every command it does not know with `OK done`.
        let server = try HostileIMAPServer.start(mode: .wellBehaved)
        defer { server.stop() }
        let imap = try await IMAPConnection.connect(
            host: "127.0.0.1", port: server.port, security: .none, username: "alice", password: "any",
            timeout: .seconds(10), commandTimeout: .seconds(30), policy: .testLoopback)
        let started = ContinuousClock.now
        do throws(IMAPConnectionError) {
            _ = try await imap.idle(for: .seconds(60))
            Issue.record("accepted")
        } catch {
            guard case .imap(let response) = error.failure else { Issue.record("\(error)"); return }
            #expect(response.phase == .idle)
            #expect(response.text.contains("without idling"), "\(response.text)")
        }
        // At once: well under the 30 s command timeout and the 60 s duration (the wrong outcomes).
        #expect(ContinuousClock.now - started < .seconds(20))
        let noop = try await imap.command("NOOP")
        guard case .tagged(_, let status) = noop.last else { Issue.record("no completion: \(noop)"); return }
        #expect(status.condition == .ok)
        await imap.close()
    }

    @Test("Dovecot shutting down during an IDLE: the wait ends with an error at once, and the connection is unusable")
    func serverShutdownEndsIdle() async throws {
        let dovecot = try await DovecotServer.start(users: [("alice", "s3cret")], options: Self.options)
        let imap = try await Self.connect(dovecot)
        let idle = Task { () async -> Result<IdleResult, IMAPConnectionError> in
            do throws(IMAPConnectionError) { return .success(try await imap.idle(for: .seconds(600))) } catch { return .failure(error) }
        }
        try await Task.sleep(for: .milliseconds(300))
        let stopping = ContinuousClock.now
        await dovecot.stop()
        let result = await idle.value
        #expect(ContinuousClock.now - stopping < .seconds(10))
        guard case .failure(let error) = result else { Issue.record("no error: \(result)"); await imap.close(); return }
        #expect(error.diagnosis.errorClass == .temporary, "\(error)")
        do throws(IMAPConnectionError) {
            _ = try await imap.command("NOOP")
            Issue.record("usable after the server went away")
        } catch {}
        await imap.close()
    }

    /// A command timeout of 30 s: the "at once" bounds (20 s) stay clear of it on a loaded machine.
    static func connect(_ server: HostileIMAPServer) async throws -> IMAPConnection {
        try await IMAPConnection.connect(
            host: "127.0.0.1", port: server.port, security: .none, username: "alice", password: "any",
            timeout: .seconds(10), commandTimeout: .seconds(30), policy: .testLoopback)
    }

    @Test("a BYE while idling ends the wait at once with the server's words; the connection is unusable")
    func byeEndsIdle() async throws {
        let server = try HostileIMAPServer.start(mode: .idleAnswer("* BYE going away for maintenance\r\n"))
        defer { server.stop() }
        let imap = try await Self.connect(server)
        let started = ContinuousClock.now
        do throws(IMAPConnectionError) {
            _ = try await imap.idle(for: .seconds(60))
            Issue.record("no error")
        } catch {
            guard case .imap(let response) = error.failure else { Issue.record("\(error)"); return }
            #expect(response.status == .bye && response.phase == .idle)
            #expect(response.text.contains("going away for maintenance"), "\(response.text)")
        }
        // At once: well under the 30 s command timeout and the 60 s duration (the wrong outcomes).
        #expect(ContinuousClock.now - started < .seconds(20))
        do throws(IMAPConnectionError) {
            _ = try await imap.command("NOOP")
            Issue.record("usable after BYE")
        } catch {}
        await imap.close()
    }

    @Test("changes reported in a flood: the first wakes the wait, at most 1,000 are kept, DONE completes it")
    func changeFloodIsKeptBounded() async throws {
        let server = try HostileIMAPServer.start(mode: .idleAnswer(String(repeating: "* 7 EXISTS\r\n", count: 5000)))
        defer { server.stop() }
        let imap = try await Self.connect(server)
        let result = try await imap.idle(for: .seconds(60))
        #expect(result.end == .changed)
        #expect(!result.changes.isEmpty && result.changes.count <= IMAPReplyBudget.idle.maxUnsolicitedKept, "\(result.changes.count)")
        let noop = try await imap.command("NOOP")
        guard case .tagged(_, let status) = noop.last else { Issue.record("no completion: \(noop)"); return }
        #expect(status.condition == .ok)
        await imap.close()
    }
}

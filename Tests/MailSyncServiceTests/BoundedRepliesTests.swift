import Foundation
import MailSyncClient
import MailSyncService
import Testing
import TestSupport

/// A mail server's reply cannot grow the process: syncs against the suite's own hostile IMAP
/// server (TestSupport/HostileIMAPServer.swift) through the real service fail that run with a
/// temporary error naming the server and what was exceeded, drop the connection, keep what was
/// committed, retry with backoff, and the process's peak resident size stays within a bound far
/// below what the server offered.
@Suite("Bounded replies from hostile IMAP servers", .serialized, .timeLimit(.minutes(5)))
struct BoundedRepliesTests {
    /// The bounds leave room for other suites running in the same process meanwhile. Measured
    /// here (2026-12): literal flood ~35 MB (before replies were bounded, all 419 MB offered were
    /// buffered), untagged floods < 1 MB (~370 MB before), the others < 5 MB.
    struct FloodCase: Sendable, CustomTestStringConvertible {
        var name: String
        var mode: HostileIMAPServer.Mode
        /// Parts of the error log's server text.
        var expected: [String]
        /// Bytes the server is ready to send.
        var offered: Int
        /// Most the process's resident size may rise while the sync runs.
        var maxGrowth: Int
        var testDescription: String { name }
    }

    static let mail = HostileMailboxFixture.mail(uid: 1)
    static let mailSize = ReplyWords.grouped(mail.body.count)
    static let megabyte = 1_000_000

    static let floods: [FloodCase] = [
        FloodCase(
            name: "literal flood: 16 literals of 25 MiB in one FETCH reply, the message announced at 25 MiB",
            mode: .literalFlood(literals: 16, literalSize: 25 << 20),
            expected: ["The IMAP server 127.0.0.1 sent more than ", " bytes in its reply to the bodies of 1 message (26,214,400 bytes announced)"],
            // The reply is cut at one body's allowance (~28 MiB), but this process runs every
            // other suite (and the other floods) at the same time, which a clean-clone run showed
            // adding up to 212 MB: the bound only has to stay clear of the 419 MB offered. The
            // tight figure is BoundedRepliesProcessTests', measured on a server process alone.
            offered: 16 * (25 << 20), maxGrowth: 300 * megabyte),
        FloodCase(
            name: "untagged flood: 3,000,000 `* OK x` lines during LIST",
            mode: .untaggedFlood(lines: 3_000_000, during: "LIST"),
            expected: ["The IMAP server 127.0.0.1 sent more than 100,000 responses nobody asked for while answering LIST (the last: * OK x)"],
            offered: 24_000_000, maxGrowth: 100 * megabyte),
        FloodCase(
            name: "untagged flood during a header fetch: the fetch's byte budget stops it first",
            mode: .untaggedFlood(lines: 3_000_000, during: "UID FETCH"),
            expected: ["The IMAP server 127.0.0.1 sent more than 1,114,112 bytes in its reply to the headers of 1 message"],
            offered: 24_000_000, maxGrowth: 100 * megabyte),
        FloodCase(
            name: "endless literal: 4 GiB announced for a small message, then a byte every 10 ms",
            mode: .endlessLiteral(announced: 4 << 30, trickle: .milliseconds(10)),
            expected: ["The IMAP server 127.0.0.1 announced a 4,294,967,296-byte literal in its reply to the bodies of 1 message", "Mail Sync accepts at most 52,428,800 bytes in one"],
            offered: 4 << 30, maxGrowth: 60 * megabyte),
        FloodCase(
            name: "oversized body: 50 MiB sent for a message announced at its true size",
            mode: .oversizedBody(sentSize: 50 << 20),
            expected: ["The IMAP server 127.0.0.1 sent a 52,428,800-byte message where it had announced \(mailSize) bytes"],
            offered: 50 << 20, maxGrowth: 60 * megabyte),
    ]

    /// The floods one after another (`.serialized`): each measures the process's peak growth,
    /// which the others would add to.
    @Test("a flood fails the run with a clear temporary error, drops the connection, and the process stays small", .serialized, arguments: floods)
    func flood(_ flood: FloodCase) async throws {
        try await HostileMailboxFixture.with(mode: flood.mode, messages: [Self.mail]) { fixture in
            let measured = await Self.peakGrowth { #expect(await fixture.harness.runSyncs() == 1) }
            let growth = try #require(measured, "no VmRSS/VmHWM in /proc/self/status")
            print("\(flood.name): peak resident growth \(growth / Self.megabyte) MB; server sent \(fixture.server.bytesSent / Self.megabyte) MB of \(flood.offered / Self.megabyte) MB offered")
            #expect(growth < flood.maxGrowth, "peak resident growth \(growth) bytes")

            let status = try await fixture.status()
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.errorClass == .temporary)
            for part in flood.expected { #expect(error.serverText.contains(part), "\(error.serverText)") }
            #expect(error.fixHint.contains("retries automatically"), "\(error.fixHint)")
            #expect(try await fixture.timeline(HostileMailboxFixture.lead.id).isEmpty)

            // The connection was dropped: the server sees its client go.
            #expect(await Self.eventually { fixture.server.openConnections == 0 }, "the connection stayed open")
            if case .literalFlood = flood.mode {
                #expect(fixture.server.bytesSent < flood.offered / 4, "the client read on: \(fixture.server.bytesSent) bytes")
            }
            // Retried with backoff (1 minute first), not at once.
            #expect(await fixture.advanceAndSync(seconds: 30) == 0)
            #expect(await fixture.advanceAndSync(seconds: 31) == 1)
            #expect(fixture.server.connectionsAccepted == 2)
        }
    }

    @Test("a body over its announced size fails the run; what was committed before stays, and the next try after the backoff records the rest")
    func nothingCommittedIsLost() async throws {
        try await HostileMailboxFixture.with(mode: .wellBehaved, messages: [HostileMailboxFixture.mail(uid: 1, subject: "First")]) { fixture in
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(try await fixture.status().mailbox.status == .enabled)
            #expect(try await fixture.timeline(HostileMailboxFixture.lead.id).map(\.subject) == ["First"])

            // A new message whose body comes 1 MiB larger than announced.
            fixture.server.messages.append(HostileMailboxFixture.mail(uid: 2, subject: "Second"))
            fixture.server.mode = .oversizedBody(sentSize: 1 << 20)
            #expect(await fixture.advanceAndSync(seconds: 3601) == 1)
            let status = try await fixture.status()
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.errorClass == .temporary)
            #expect(error.serverText.contains("sent a 1,048,576-byte message where it had announced"), "\(error.serverText)")
            #expect(try await fixture.timeline(HostileMailboxFixture.lead.id).map(\.subject) == ["First"])
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 1)

            // The server mends its ways; the retry a minute later records the second message.
            fixture.server.mode = .wellBehaved
            #expect(await fixture.advanceAndSync(seconds: 61) == 1)
            #expect(try await fixture.status().mailbox.status == .enabled)
            #expect(Set(try await fixture.timeline(HostileMailboxFixture.lead.id).map(\.subject)) == ["First", "Second"])
        }
    }

    @Test("an endless literal within the announced size that never finishes: the command times out, a temporary error")
    func literalThatNeverEnds() async throws {
        var sync = ServiceHarness.syncSettings()
        sync.commandTimeout = .seconds(2)
        let message = Self.mail
        try await HostileMailboxFixture.with(
            mode: .endlessLiteral(announced: message.body.count, trickle: nil), messages: [message], sync: sync
        ) { fixture in
            let started = ContinuousClock.now
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(ContinuousClock.now - started < .seconds(15))
            let error = try #require(try await fixture.status().lastError)
            #expect(error.errorClass == .temporary)
            #expect(error.serverText.contains("127.0.0.1"), "\(error.serverText)")
            #expect(await Self.eventually { fixture.server.openConnections == 0 })
        }
    }

    @Test("a batch's bodies are fetched in groups of at most maxBodyBytesPerFetch of allowances, each body stored",
          arguments: [(32 << 20, 1), (140_000, 2), (1, 3)])
    func bodyGroups(maxBytes: Int, fetches: Int) async throws {
        var sync = ServiceHarness.syncSettings()
        sync.maxBodyBytesPerFetch = maxBytes  // each ~150-byte message is allowed 65,700 bytes
        let messages = (1...3).map { HostileMailboxFixture.mail(uid: UInt32($0)) }
        try await HostileMailboxFixture.with(mode: .wellBehaved, messages: messages, sync: sync) { (fixture: HostileMailboxFixture) async throws in
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(try await fixture.status().mailbox.status == .enabled)
            #expect(fixture.server.bodyFetches == fetches)
            // Small messages: the raw message alone, its text extracted when read (TimelineBodies).
            #expect(try await fixture.count("SELECT count(*) FROM messages WHERE raw_zlib IS NOT NULL AND body_zlib IS NULL") == 3)
        }
    }

    @Test("syncBodyBytesPerFetch from the config file: default 32 MiB, 1 MiB to 1 GiB, outside refused naming the setting")
    func bodyBytesSetting() throws {
        #expect(try ServerSettings().syncSettings().maxBodyBytesPerFetch == 32 << 20)
        let file = try JSONDecoder().decode(ServerSettings.self, from: Data(#"{"syncBodyBytesPerFetch": 1048576}"#.utf8))
        #expect(try file.syncSettings().maxBodyBytesPerFetch == 1 << 20)
        var settings = ServerSettings()
        settings.syncBodyBytesPerFetch = 1 << 30
        #expect(try settings.syncSettings().maxBodyBytesPerFetch == 1 << 30)
        for bad in [(1 << 20) - 1, (1 << 30) + 1, -1] {
            settings.syncBodyBytesPerFetch = bad
            #expect { _ = try settings.syncSettings() } throws: { "\($0)".contains("syncBodyBytesPerFetch must be") }
        }
        var flags = ServerSettings()
        flags.syncBodyBytesPerFetch = 2 << 20
        #expect(file.overridden(by: flags).syncBodyBytesPerFetch == 2 << 20)
        #expect(file.overridden(by: ServerSettings()).syncBodyBytesPerFetch == 1 << 20)
    }

    // MARK: - Helpers

    /// How far the process's resident size rose above where it was while `body` ran: the peak
    /// (`VmHWM` after resetting it) where Linux allows, else sampled every 2 ms.
    /// `nil` where /proc gives no sizes.
    static func peakGrowth(_ body: () async -> Void) async -> Int? {
        let sampler = PeakSampler()
        let canReset = ProcessMemory.resetPeak()
        guard let before = ProcessMemory.resident() else { return nil }
        if !canReset { sampler.start() }
        await body()
        guard let peak = canReset ? ProcessMemory.peak() : sampler.stop() else { return nil }
        return peak - before
    }

    /// Waits up to 10 s for `condition`.
    static func eventually(_ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

/// Samples the resident size on a thread of its own until stopped; returns the highest seen.
final class PeakSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var running = false
    private var highest = 0
    private let done = DispatchSemaphore(value: 0)

    func start() {
        lock.withLock { running = true }
        Thread {
            while self.lock.withLock({ self.running }) {
                let now = ProcessMemory.resident() ?? 0
                self.lock.withLock { self.highest = max(self.highest, now) }
                usleep(2000)
            }
            self.done.signal()
        }.start()
    }

    func stop() -> Int? {
        lock.withLock { running = false }
        done.wait()
        let highest = lock.withLock { self.highest }
        return highest > 0 ? highest : nil
    }
}

/// Numbers as the error log writes them.
enum ReplyWords {
    static func grouped(_ value: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }
}

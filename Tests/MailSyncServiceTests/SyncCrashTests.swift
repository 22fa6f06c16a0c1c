import Foundation
import MailSyncClient
import MailSyncStorage
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The real `mailsync serve` process killed with SIGKILL in the middle of a sync batch, then
/// started again on the same data: every message recorded exactly once.
@Suite("Sync engine: the server killed mid-batch", .timeLimit(.minutes(5)))
struct SyncCrashTests {
    /// A `mailsync serve` child process on a free loopback port.
    final class ServeProcess: @unchecked Sendable {
        let process = Process()
        let port: Int

        /// Small batches by default: many commits, so the kill lands between two of them.
        static let defaultSettings = #"{"syncBatchSize": 25, "outboundAllow": ["127.0.0.1"]}"#

        /// `environment` adds to the test process's (the backup key, S3 credentials).
        init(dataDirectory: String, settings: String = ServeProcess.defaultSettings, environment: [String: String] = [:]) throws {
            port = try DovecotServer.freePort()
            let config = dataDirectory + "-serve.json"
            try Data(settings.utf8).write(to: URL(fileURLWithPath: config))
            process.executableURL = CommandRunner.binary
            process.arguments = ["serve", "--config", config, "--listen", "127.0.0.1:\(port)", "--data-dir", dataDirectory, "--log-level", "error"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            if !environment.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            }
            try process.run()
        }

        func waitUntilServing() async throws {
            for _ in 0..<300 {
                if DovecotServer.accepts(port: port) { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            struct NotServing: Error {}
            Issue.record("mailsync serve did not start listening on \(port)")
            throw NotServing()
        }

        func kill() {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// SIGKILL, for the end of a test (a `defer`): these tests read what is on disk, and a
        /// graceful stop can take the server's whole grace period (30 s) while this waits on a
        /// thread of the cooperative pool. `ServerProcessTests` covers SIGTERM.
        func stop() {
            if process.isRunning { kill() }
        }
    }

    /// Starts a thread of its own (not Swift's cooperative pool, which the other suites running
    /// meanwhile can keep busy for seconds while the server, another process, syncs on) that
    /// polls `condition` every millisecond and SIGKILLs `server` as soon as it holds (or after 60 s).
    /// (Not faster: each poll opens the tenant's file, and three such tests run beside the rest.)
    static func kill(_ server: ServeProcess, assoonAs condition: @escaping @Sendable () -> Bool) {
        Thread {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !condition() { usleep(1_000) }
            server.kill()
        }.start()
    }

    /// Counts in the tenant's file, read by a separate connection while the server may write.
    static func counts(_ path: String) throws -> (recorded: Int64, entries: Int64, distinctKeys: Int64) {
        let db = try SQLiteConnection(path: path, mode: .open)
        defer { db.close() }
        return (try db.scalar("SELECT count(*) FROM mailbox_messages")?.int64 ?? -1,
                try db.scalar("SELECT count(*) FROM timeline_entries")?.int64 ?? -1,
                try db.scalar("SELECT count(DISTINCT message_key) FROM timeline_entries")?.int64 ?? -1)
    }

    @Test("SIGKILL during a sync, restart: nothing lost, nothing duplicated")
    func killedMidBatch() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        try await DovecotServer.withServer(users: [(name: "alice", password: "s3cret")]) { dovecot in
            let total = 3000
            let now = Date()
            for i in 0..<total {
                let from = i % 2 == 0 ? "jane@client.example" : "other\(i)@nowhere.example"
                try await dovecot.append(
                    user: "alice",
                    message: "From: \(from)\r\nTo: alice@acme.example\r\nSubject: Mail \(i)\r\nMessage-ID: <crash\(i)@c>\r\n\r\n"
                        + String(repeating: "body line \(i)\r\n", count: 20),
                    date: now.addingTimeInterval(-3600))
            }
            let expected = Int64(total / 2)
            let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-crash-\(UUID().uuidString)").path
            defer {
                try? FileManager.default.removeItem(atPath: dataDirectory)
                try? FileManager.default.removeItem(atPath: dataDirectory + "-serve.json")
            }
            let operatorKey = try await SyncCrashTests.ServeProcess.operatorKey(dataDirectory: dataDirectory)

            var server = try ServeProcess(dataDirectory: dataDirectory)
            defer { server.stop() }
            try await server.waitUntilServing()
            let (handle, tenantPath) = try await server.makeCompany("Crash Co", operatorKey: operatorKey, dataDirectory: dataDirectory)
            let admin = handle.admin

            // The kill follows the first committed batch closely, watched from its own thread,
            // started before the mailbox is connected: the server's own loop starts the first
            // sync within a second of the connection, and this test's task may resume much later.
            let serving = server
            Self.kill(serving, assoonAs: {
                FileManager.default.fileExists(atPath: tenantPath) && ((try? Self.counts(tenantPath).recorded) ?? 0) > 0
            })
            _ = try await admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "alice@acme.example", username: "alice", port: dovecot.port, secret: "s3cret"))
            try await waitUntil(.seconds(120)) { !serving.process.isRunning }
            let afterKill = try Self.counts(tenantPath)
            #expect(afterKill.recorded > 0 && afterKill.recorded < expected, "killed at \(afterKill.recorded) of \(expected)")
            #expect(afterKill.recorded == afterKill.entries)

            server = try ServeProcess(dataDirectory: dataDirectory)
            try await server.waitUntilServing()
            var final = try Self.counts(tenantPath)
            for _ in 0..<600 where final.recorded < expected {
                try await Task.sleep(for: .milliseconds(50))
                final = try Self.counts(tenantPath)
            }
            #expect(final.recorded == expected)
            #expect(final.entries == expected)
            #expect(final.distinctKeys == expected)
        }
    }
}

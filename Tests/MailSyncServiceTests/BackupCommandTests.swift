import Foundation
import MailSyncClient
import Testing

/// `mailsync backup`, `backups`, `verify` and `restore`: the real executable against a real server.
@Suite("mailsync backup commands")
struct BackupCommandTests {
    /// The `mailsync` built beside this test bundle (whatever the scratch path), else the default.
    static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mailsync")
        return FileManager.default.isExecutableFile(atPath: beside.path) ? beside : KeysCommandTests.binary
    }()

    /// Runs the command on a thread of its own: waiting for the child blocks, and the server it
    /// calls runs in this process, on the cooperative pool this must not hold (with two cores, two
    /// such waits would starve the server until the call's deadline).
    static func run(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String, errors: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(arguments, environment: environment) }) }.start()
        }
    }

    static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("backup --all, backups, verify, restore: JSON for scripts, tables for people, exit codes for refusals")
    func endToEnd() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first (swift build)")
        let harness = try await ServiceHarness.start()
        let acme = try await harness.makeCompany(name: "Acme")
        let globex = try await harness.makeCompany(name: "Globex")
        let env = ["MAILSYNC_SERVER": "127.0.0.1:\(harness.port)", "MAILSYNC_API_KEY": harness.operatorKey]

        let all = try await Self.run(["backup", "--all", "--json"], environment: env)
        #expect(all.status == 0, "\(all.errors)")
        let backups = try #require(try Self.json(all.output) as? [[String: Any]])
        #expect(Set(backups.compactMap { $0["company_id"] as? String }) == [acme.id, globex.id])
        let acmeBackup = try #require(backups.first { $0["company_id"] as? String == acme.id }?["id"] as? String)

        let listed = try await Self.run(["backups", "--company", acme.id], environment: env)
        #expect(listed.status == 0)
        #expect(listed.output.contains(acmeBackup) && listed.output.contains("SHA-256"), "\(listed.output)")

        let verified = try await Self.run(["verify", acmeBackup], environment: env)
        #expect(verified.status == 0, "\(verified.errors)")
        #expect(verified.output.contains("yes"))

        // The wrong company: refused (failed precondition → exit 6) with the reason.
        let wrong = try await Self.run(["restore", acmeBackup, "--company", globex.id], environment: env)
        #expect(wrong.status == 6)
        #expect(wrong.errors.contains("belongs to company \(acme.id)"), "\(wrong.errors)")

        _ = try await acme.admin.upsertLeads { writer in
            var lead = Lead()
            lead.id = "after"
            lead.name = "After"
            lead.emailAddresses = ["after@example.com"]
            try await writer.write(lead)
        }
        let restored = try await Self.run(["restore", acmeBackup, "--company", acme.id, "--json"], environment: env)
        #expect(restored.status == 0, "\(restored.errors)")
        let response = try #require(try Self.json(restored.output) as? [String: Any])
        #expect((response["restored"] as? [String: Any])?["id"] as? String == acmeBackup)
        #expect(((response["previous_state"] as? [String: Any])?["id"] as? String)?.hasPrefix(acme.id + "/") == true)
        let leads = try await harness.withTenantDatabase(acme) { try $0.scalar("SELECT count(*) FROM leads")?.int64 }
        #expect(leads == 0)

        // A damaged backup: verify exits 6 and says what is wrong.
        let path = harness.dataDirectory + "/backups/" + acmeBackup + ".sqlite.z"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let damaged = try await Self.run(["verify", acmeBackup], environment: env)
        #expect(damaged.status == 6)
        #expect(damaged.errors.contains("is corrupted"), "\(damaged.errors)")

        let usage = try await Self.run(["backup"], environment: env)
        #expect(usage.status == 64)
        await harness.stop()
    }
}

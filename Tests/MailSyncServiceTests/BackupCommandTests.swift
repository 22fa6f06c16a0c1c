import Foundation
import MailSyncClient
import Testing

/// `mailsync backup`, `backups`, `verify` and `restore`: the real executable against a real server.
@Suite("mailsync backup commands", .timeLimit(.minutes(5)))
struct BackupCommandTests {
    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("backup --all, backups, verify, restore: JSON for scripts, tables for people, exit codes for refusals")
    func endToEnd() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        let harness = try await ServiceHarness.start()
        let acme = try await harness.makeCompany(name: "Acme")
        let globex = try await harness.makeCompany(name: "Globex")
        let env = ["MAILSYNC_SERVER": "127.0.0.1:\(harness.port)", "MAILSYNC_API_KEY": harness.operatorKey]

        let all = try await CommandRunner.run(["backup", "--all", "--json"], environment: env)
        #expect(all.status == 0, "\(all.errors)")
        let backups = try #require(try Self.json(all.output) as? [[String: Any]])
        #expect(Set(backups.compactMap { $0["company_id"] as? String }) == [acme.id, globex.id])
        let acmeBackup = try #require(backups.first { $0["company_id"] as? String == acme.id }?["id"] as? String)

        let listed = try await CommandRunner.run(["backups", "--company", acme.id], environment: env)
        #expect(listed.status == 0)
        #expect(listed.output.contains(acmeBackup) && listed.output.contains("SHA-256"), "\(listed.output)")

        let verified = try await CommandRunner.run(["verify", acmeBackup], environment: env)
        #expect(verified.status == 0, "\(verified.errors)")
        #expect(verified.output.contains("yes"))

        // The wrong company: refused (failed precondition → exit 6) with the reason.
        let wrong = try await CommandRunner.run(["restore", acmeBackup, "--company", globex.id], environment: env)
        #expect(wrong.status == 6)
        #expect(wrong.errors.contains("belongs to company \(acme.id)"), "\(wrong.errors)")

        _ = try await acme.admin.upsertLeads { writer in
            var lead = Lead()
            lead.id = "after"
            lead.name = "After"
            lead.emailAddresses = ["after@example.com"]
            try await writer.write(lead)
        }
        let restored = try await CommandRunner.run(["restore", acmeBackup, "--company", acme.id, "--json"], environment: env)
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
        let damaged = try await CommandRunner.run(["verify", acmeBackup], environment: env)
        #expect(damaged.status == 6)
        #expect(damaged.errors.contains("is corrupted"), "\(damaged.errors)")

        let usage = try await CommandRunner.run(["backup"], environment: env)
        #expect(usage.status == 64)
        await harness.stop()
    }
}

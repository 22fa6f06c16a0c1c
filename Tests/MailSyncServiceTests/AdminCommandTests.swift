import Foundation
import MailSyncClient
import Testing

/// The `mailsync` admin subcommands, the real executable, against a real server.
@Suite("mailsync admin commands", .timeLimit(.minutes(5)))
struct AdminCommandTests {
    @Test("--json prints valid JSON for empty lists too: [] (a script parsing it must not crash)")
    func emptyListsAreJSON() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let server = "127.0.0.1:\(harness.port)"
        let asOperator = ["MAILSYNC_SERVER": server, "MAILSYNC_API_KEY": harness.operatorKey]
        let asAdmin = ["MAILSYNC_SERVER": server, "MAILSYNC_API_KEY": company.adminKey]
        for (arguments, environment) in [
            (["backups", "--company", company.id, "--json"], asOperator),
            (["mailboxes", "list", "--json"], asAdmin),
            (["events", "--json"], asAdmin),
            (["errors", "--json"], asAdmin),
        ] {
            let run = try await CommandRunner.run(arguments, environment: environment)
            #expect(run.status == 0, "\(arguments): \(run.errors)")
            let parsed = try? JSONSerialization.jsonObject(with: Data(run.output.utf8))
            #expect((parsed as? [Any])?.isEmpty == true, "\(arguments) printed '\(run.output)'")
        }
        await harness.stop()
    }


    @Test("operators and administrators work through the CLI: JSON for scripts, tables for people, exit codes that say what failed")
    func endToEnd() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        let harness = try await ServiceHarness.start()
        let server = "127.0.0.1:\(harness.port)"
        let asOperator = ["MAILSYNC_SERVER": server, "MAILSYNC_API_KEY": harness.operatorKey]

        let created = try await CommandRunner.run(["companies", "create", "--name", "Globex", "--plan", "essential", "--admin-id", "hank",
                                    "--admin-name", "Hank", "--admin-email", "hank@globex.example", "--json"], environment: asOperator)
        #expect(created.status == 0, "\(created.errors)")
        let company = try #require(try JSONSerialization.jsonObject(with: Data(created.output.utf8)) as? [String: Any])
        let companyID = try #require(company["id"] as? String)
        #expect(company["plan"] as? String == "PLAN_ESSENTIAL")
        #expect((company["limits"] as? [String: Any])?["mailbox_sync_limit"] as? Int == 10)

        let listed = try await CommandRunner.run(["companies", "list"], environment: asOperator)
        #expect(listed.status == 0)
        #expect(listed.output.contains("Globex") && listed.output.contains("essential"), "\(listed.output)")

        let key = try await CommandRunner.run(["keys", "create", "--company", companyID, "--user", "hank", "--label", "cli", "--json"], environment: asOperator)
        let secret = try #require((try JSONSerialization.jsonObject(with: Data(key.output.utf8)) as? [String: Any])?["secret"] as? String)
        let asAdmin = ["MAILSYNC_SERVER": server, "MAILSYNC_API_KEY": secret]

        let user = try await CommandRunner.run(["users", "create", "--id", "sam", "--name", "Sam", "--email", "sam@globex.example", "--role", "sales-manager"], environment: asAdmin)
        #expect(user.status == 0, "\(user.errors)")
        let users = try await CommandRunner.run(["users", "list", "--json"], environment: asAdmin)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(users.output.utf8)) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["id"] as? String }) == ["hank", "sam"])
        #expect(rows.first { $0["id"] as? String == "sam" }?["role"] as? String == "USER_ROLE_SALES_MANAGER")

        let limits = try await CommandRunner.run(["companies", "set-limits", "--mailbox-sync-limit", "3"], environment: asAdmin)
        #expect(limits.status == 0, "\(limits.errors)")
        let settings = try await CommandRunner.run(["settings", "get"], environment: asAdmin)
        #expect(settings.output.contains("mailbox sync limit") && settings.output.contains("3"), "\(settings.output)")

        // Exit codes: not found 4, not allowed 5, bad usage 64, unreachable 7.
        let missing = try await CommandRunner.run(["mailboxes", "status", "no-such-mailbox"], environment: asAdmin)
        #expect(missing.status == 4)
        #expect(missing.errors.contains("not found"), "\(missing.errors)")
        let denied = try await CommandRunner.run(["companies", "list"], environment: asAdmin)
        #expect(denied.status == 5, "\(denied.errors)")
        let noKey = try await CommandRunner.run(["companies", "list"], environment: ["MAILSYNC_SERVER": server])
        #expect(noKey.status == 64)
        #expect(noKey.errors.contains("MAILSYNC_API_KEY"), "\(noKey.errors)")
        let badPlan = try await CommandRunner.run(["companies", "change-plan", companyID, "platinum"], environment: asOperator)
        #expect(badPlan.status == 64)
        #expect(badPlan.errors.contains("essential"), "\(badPlan.errors)")
        await harness.stop()
        let gone = try await CommandRunner.run(["companies", "list", "--timeout", "3"], environment: asOperator)
        #expect(gone.status == 7, "\(gone.errors)")
    }
}

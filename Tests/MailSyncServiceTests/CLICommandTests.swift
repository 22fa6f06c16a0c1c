import Foundation
import MailSyncClient
import TestSupport
import Testing

/// Every `mailsync` admin subcommand not covered by AdminCommandTests, BackupCommandTests or
/// KeysCommandTests: the real executable against a running server and a real Dovecot. Each
/// command's effect is checked through another command (or the API), and each failure class
/// through its exit code: 3 bad argument, 4 not found, 5 not allowed, 6 conflict or state
/// (a limit above the plan's cap is a state: failed precondition), 64 bad usage.
@Suite("mailsync: every subcommand and its exit codes", .timeLimit(.minutes(5)))
struct CLICommandTests {
    /// Runs `mailsync arguments` with `environment`; `--json` output parsed.
    struct CLI {
        let environment: [String: String]

        func run(_ arguments: [String], extra: [String: String] = [:]) async throws -> (status: Int32, output: String, errors: String) {
            try await CommandRunner.run(arguments, environment: environment.merging(extra) { $1 })
        }

        /// Runs with `--json`, expects exit 0, returns the parsed output.
        func json(_ arguments: [String], extra: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Any {
            let result = try await run(arguments + ["--json"], extra: extra)
            #expect(result.status == 0, "\(arguments): \(result.errors)", sourceLocation: sourceLocation)
            return try JSONSerialization.jsonObject(with: Data(result.output.utf8), options: [.fragmentsAllowed])
        }

        /// Runs and returns the exit status, with stderr for messages.
        func status(_ arguments: [String]) async throws -> (Int32, String) {
            let result = try await run(arguments)
            return (result.status, result.errors)
        }
    }

    @Test("companies, plans, settings, users, leads, mailboxes, timeline, events, errors, billing and keys through the CLI")
    func everySubcommand() async throws {
        try await DovecotServer.withServer(users: [(name: "alice", password: "s3cret")]) { dovecot in
            let harness = try await ServiceHarness.start()
            do {
                try await Self.scenario(harness, dovecot)
            } catch {
                await harness.stop()
                throw error
            }
            await harness.stop()
        }
    }

    static func scenario(_ harness: ServiceHarness, _ dovecot: DovecotServer) async throws {
        do {
            let company = try await harness.makeCompany(name: "Initech", domains: ["initech.example"])
            let server = "127.0.0.1:\(harness.port)"
            let op = CLI(environment: ["MAILSYNC_SERVER": server, "MAILSYNC_API_KEY": harness.operatorKey])
            let admin = CLI(environment: ["MAILSYNC_SERVER": server, "MAILSYNC_API_KEY": company.adminKey])

            // companies get
            let got = try #require(try await op.json(["companies", "get", company.id]) as? [String: Any])
            #expect(got["name"] as? String == "Initech")
            #expect(try await op.status(["companies", "get", "no-such-company"]).0 == 4)

            // plans list, plans set-caps (lowers the company's limit to fit), companies set-limits above the cap
            let plans = try #require(try await op.json(["plans", "list"]) as? [[String: Any]])
            #expect(Set(plans.compactMap { $0["plan"] as? String }).isSuperset(of: ["PLAN_CRM_FREE", "PLAN_ESSENTIAL"]), "\(plans)")
            _ = try await op.json(["plans", "set-caps", "essential", "--mailbox-sync-limit", "2"])
            let clamped = try #require(try await op.json(["companies", "get", company.id]) as? [String: Any])
            #expect((clamped["limits"] as? [String: Any])?["mailbox_sync_limit"] as? Int == 2, "\(clamped)")
            let overCap = try await admin.status(["companies", "set-limits", "--mailbox-sync-limit", "5"])
            #expect(overCap.0 == 6 && overCap.1.contains("cap of 2"), "\(overCap.1)")
            #expect(try await admin.status(["plans", "set-caps", "essential", "--mailbox-sync-limit", "9"]).0 == 5)

            // settings set / get
            _ = try await admin.json(["settings", "set", "--time-zone", "Europe/Paris", "--prevent-internal-email-sync", "false"])
            let settings = try #require(try await admin.json(["settings", "get"]) as? [String: Any])
            #expect(settings["time_zone"] as? String == "Europe/Paris", "\(settings)")
            #expect(try await admin.status(["settings", "set", "--time-zone", "Mars/Olympus"]).0 == 3)

            // users create / set-role / deactivate
            _ = try await admin.json(["users", "create", "--id", "sam", "--name", "Sam", "--email", "sam@initech.example", "--role", "salesperson"])
            _ = try await admin.json(["users", "set-role", "sam", "sales-manager"])
            let users = try #require(try await admin.json(["users", "list"]) as? [[String: Any]])
            #expect(users.first { $0["id"] as? String == "sam" }?["role"] as? String == "USER_ROLE_SALES_MANAGER", "\(users)")
            #expect(users.first { $0["id"] as? String == "sam" }?["active"] as? Bool == true, "\(users)")
            #expect(try await admin.status(["users", "set-role", "nobody", "salesperson"]).0 == 4)
            #expect(try await admin.status(["users", "create", "--id", "sam", "--name", "Sam", "--email", "sam@initech.example", "--role", "salesperson"]).0 == 6)

            // leads add (and a bad address), then mail from the lead in Dovecot
            _ = try await admin.json(["leads", "add", "--id", "lead-1", "--name", "Lead One", "--email", "lead1@client.example", "--company-name", "Client"])
            #expect(try await admin.status(["leads", "add", "--id", "lead-2", "--name", "Bad", "--email", "not an address"]).0 == 3)
            let day = Date(timeIntervalSince1970: harness.clock.now().secondsSinceEpoch - 86_400)
            try await dovecot.append(
                user: "alice",
                message: "From: lead1@client.example\r\nTo: alice@initech.example\r\nSubject: Quote via CLI\r\nMessage-ID: <cli-1@client.example>\r\n\r\nHello.\r\n",
                date: day)

            // mailboxes connect (secret from the environment), list, unconfigured; a second one conflicts
            let connectArguments = ["mailboxes", "connect", "--email", "alice@initech.example", "--provider", "custom-imap",
                                    "--username", "alice", "--imap", "127.0.0.1:\(dovecot.port)", "--imap-security", "none"]
            let mailbox = try #require(try await admin.json(connectArguments, extra: ["MAILSYNC_MAILBOX_SECRET": "s3cret"]) as? [String: Any])
            let mailboxID = try #require(mailbox["id"] as? String, "\(mailbox)")
            let listed = try #require(try await admin.json(["mailboxes", "list"]) as? [[String: Any]])
            #expect(listed.compactMap { $0["id"] as? String } == [mailboxID])
            let again = try await admin.run(connectArguments, extra: ["MAILSYNC_MAILBOX_SECRET": "s3cret"])
            #expect(again.status == 6, "\(again.errors)")
            let unconfigured = try #require(try await admin.json(["mailboxes", "unconfigured"]) as? [[String: Any]])
            #expect(unconfigured.compactMap { $0["id"] as? String } == ["sam"], "\(unconfigured)")


            // The sync records the lead's mail: timeline, events; sync-now and resync accepted
            #expect(await harness.runSyncs() == 1)
            let timeline = try #require(try await admin.json(["timeline", "lead-1"]) as? [[String: Any]])
            #expect(timeline.compactMap { $0["subject"] as? String } == ["Quote via CLI"], "\(timeline)")
            let events = try #require(try await admin.json(["events", "--mailbox", mailboxID]) as? [[String: Any]])
            #expect(!events.isEmpty)
            #expect(events.allSatisfy { $0["mailbox_id"] as? String == mailboxID }, "\(events)")
            _ = try await admin.json(["mailboxes", "sync-now", mailboxID])
            _ = try await admin.json(["mailboxes", "resync", mailboxID, "--since", "2026-09-01"])
            #expect(try await admin.status(["mailboxes", "resync", mailboxID, "--since", "yesterday"]).0 == 64)
            #expect((try await admin.json(["errors"]) as? [Any])?.isEmpty == true)

            // mailboxes test: every step passes (exit 0); a mailbox on a closed port fails at
            // CONNECT (exit 8, the table says which step and why); an unknown one is not found
            let tested = try #require(try await admin.json(["mailboxes", "test", mailboxID]) as? [String: Any])
            #expect(tested["ok"] as? Bool == true, "\(tested)")
            let closedPort = try DovecotServer.freePort()
            let samBox = try #require(try await admin.json(
                ["mailboxes", "connect", "--user", "sam", "--email", "sam@initech.example", "--provider", "custom-imap",
                 "--imap", "127.0.0.1:\(closedPort)", "--imap-security", "none"], extra: ["MAILSYNC_MAILBOX_SECRET": "x"]) as? [String: Any])
            let failing = try await admin.run(["mailboxes", "test", try #require(samBox["id"] as? String)])
            #expect(failing.status == 8, "\(failing.errors)")
            #expect(failing.output.contains("connect") && failing.output.contains("failed") && failing.output.contains("refused"), "\(failing.output)")
            #expect(try await admin.status(["mailboxes", "test", "no-such-mailbox"]).0 == 4)

            // billing (operators): the mailbox's day is billed
            let billing = try await op.json(["billing", "--from", "2026-09-01", "--to", "2026-10-01", "--company", company.id])
            #expect("\(billing)".contains(company.id), "\(billing)")
            #expect(try await admin.status(["billing", "--from", "2026-09-01", "--to", "2026-10-01"]).0 == 5)

            // keys list / revoke: a revoked key is refused at once
            let extra = try await harness.key(company: company.id, user: "sam")
            let keys = try #require(try await op.json(["keys", "list", "--company", company.id]) as? [[String: Any]])
            #expect(keys.count == 2, "\(keys)")
            #expect(!"\(keys)".contains(extra), "a key's secret was listed")
            let samKey = try #require(keys.first { $0["user_id"] as? String == "sam" }?["id"] as? String, "\(keys)")
            _ = try await op.json(["keys", "revoke", samKey])
            let revoked = CLI(environment: ["MAILSYNC_SERVER": server, "MAILSYNC_API_KEY": extra])
            #expect(try await revoked.status(["mailboxes", "list"]).0 == 5)
            #expect(try await op.status(["keys", "revoke", "no-such-key"]).0 == 4)

            // mailboxes disable (keep the mail), leads delete (its timeline goes with it)
            _ = try await admin.json(["mailboxes", "disable", mailboxID, "--previous", "keep"])
            let status = try #require(try await admin.json(["mailboxes", "status", mailboxID]) as? [String: Any])
            #expect("\(status)".contains("MAILBOX_STATUS_DISABLED"), "\(status)")
            #expect(try await admin.status(["mailboxes", "sync-now", mailboxID]).0 == 6)
            _ = try await admin.json(["leads", "delete", "lead-1"])
            #expect(try await admin.status(["timeline", "lead-1"]).0 == 4)

            // users deactivate
            _ = try await admin.json(["users", "deactivate", "sam", "--previous", "keep"])
            let active = try #require(try await admin.json(["users", "list"]) as? [[String: Any]])
            #expect(!active.contains { $0["id"] as? String == "sam" }, "\(active)")
            let after = try #require(try await admin.json(["users", "list", "--include-inactive"]) as? [[String: Any]])
            let sam = try #require(after.first { $0["id"] as? String == "sam" }, "\(after)")
            #expect(sam["active"] as? Bool != true, "\(sam)")
            #expect(try await admin.status(["users", "deactivate", "nobody", "--previous", "keep"]).0 == 4)

            // companies suspend / resume / change-plan
            _ = try await op.json(["companies", "suspend", company.id, "--reason", "unpaid invoice"])
            let suspended = try await admin.status(["users", "list"])
            #expect(suspended.0 == 5 && suspended.1.contains("unpaid invoice"), "\(suspended)")
            _ = try await op.json(["companies", "resume", company.id])
            #expect(try await admin.status(["users", "list"]).0 == 0)
            _ = try await op.json(["companies", "change-plan", company.id, "crm-free"])
            let moved = try #require(try await op.json(["companies", "get", company.id]) as? [String: Any])
            #expect(moved["plan"] as? String == "PLAN_CRM_FREE")
            #expect(try await admin.status(["companies", "change-plan", company.id, "essential"]).0 == 5)
        }
    }
}

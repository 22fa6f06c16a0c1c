import ArgumentParser
import Foundation
import MailSyncClient
import MailSyncCoding

/// `mailsync mailboxes …`: connections, statuses, sync now, resync, disable.
struct MailboxesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailboxes", abstract: "Connect, list, sync and disable mailboxes.",
        subcommands: [List.self, Status.self, Test.self, Connect.self, SyncNow.self, Resync.self, Disable.self, Unconfigured.self])

    static func table(_ mailboxes: [Mailbox]) -> Table {
        Table(["ID", "USER", "ADDRESS", "PROVIDER", "STATUS", "SINCE", "LAST SYNC", "TODAY"], mailboxes.map { mailbox in
            [mailbox.id, mailbox.userId, mailbox.emailAddress, EnumArgument.text(mailbox.provider, prefix: "MAIL_PROVIDER_"),
             EnumArgument.text(mailbox.status, prefix: "MAILBOX_STATUS_"), mailbox.statusSince.text,
             mailbox.lastSyncedAt?.text ?? "-", "\(mailbox.syncedToday)"]
        })
    }

    struct List: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "List mailboxes (yours, or everyone's for administrators).")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only this user's.") var user: String = ""
        @Option(help: "Only this status: enabled, error, pending, connection-issue, disabled.") var status: String?
        func call(_ client: MailSync.Client) async throws {
            var request = ListMailboxesRequest()
            request.userId = user
            request.pageSize = 500
            if let status {
                request.status = try EnumArgument.parse(status, MailboxStatus.allKnown, prefix: "MAILBOX_STATUS_", field: "--status")
            }
            let all = try await allPages(request, token: \.pageToken) { page in
                let response = try await client.listMailboxes(page)
                return (response.mailboxes, response.nextPageToken)
            }
            output(all, table: MailboxesCommand.table(all))
        }
    }

    struct Status: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "A mailbox's status and, when failing, its latest error and fix.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The mailbox's id.") var id: String
        func call(_ client: MailSync.Client) async throws {
            var request = GetMailboxStatusRequest()
            request.mailboxId = id
            let response = try await client.getMailboxStatus(request)
            var pairs = [
                ("address", response.mailbox.emailAddress),
                ("status", EnumArgument.text(response.mailbox.status, prefix: "MAILBOX_STATUS_")),
                ("since", response.mailbox.statusSince.text),
                ("last sync", response.mailbox.lastSyncedAt?.text ?? "-"),
                ("synced today", "\(response.mailbox.syncedToday)"),
                ("provider use (UTC day)", "\(response.mailbox.downloadedBytesToday) bytes, \(response.mailbox.commandsToday) commands, \(response.mailbox.sendsToday) sent"),
            ]
            if let until = response.mailbox.deferredUntil {
                pairs += [("held back until", until.text), ("why", response.mailbox.deferredReason)]
            }
            if let error = response.lastError {
                pairs += [("error", error.serverText), ("fix", error.fixHint), ("seen", "\(error.count)× since \(error.firstSeen.text)")]
            }
            output(response, table: .fields(pairs))
        }
    }

    struct Test: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Test a mailbox's connection step by step: resolve, connect, TLS, login, LIST, INBOX.",
            discussion: "Exits 0 when every step passed, 8 when one failed (the table says which, with the server's words and the fix).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The mailbox's id.") var id: String
        /// The exit status of a test that ran and failed at a step.
        static let stepFailed: Int32 = 8
        func call(_ client: MailSync.Client) async throws {
            var request = TestMailboxConnectionRequest()
            request.mailboxId = id
            let response = try await client.testMailboxConnection(request)
            output(response, table: Table(["STEP", "OUTCOME", "MS", "DETAIL", "FIX"], response.steps.map { step in
                [EnumArgument.text(step.name, prefix: "CONNECTION_TEST_STEP_NAME_"),
                 EnumArgument.text(step.outcome, prefix: "CONNECTION_TEST_OUTCOME_"),
                 step.outcome == .ok || step.outcome == .failed ? "\(step.durationMs)" : "", step.detail, step.hint]
            }))
            if !response.ok { throw ExitCode(Self.stepFailed) }
        }
    }

    struct Connect: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect a mailbox with a password or app password (read from $MAILSYNC_MAILBOX_SECRET or stdin).")
        @OptionGroup var options: ClientOptions
        @Option(help: "Whose mailbox (default: the key's user).") var user: String = ""
        @Option(help: "The mailbox's address.") var email: String
        @Option(help: "gmail, microsoft-365, godaddy or custom-imap.") var provider: String
        @Option(help: "The login name (default: the address).") var username: String = ""
        @Option(help: "IMAP server host:port (custom-imap).") var imap: String?
        @Option(help: "none, starttls or tls for --imap (default tls).") var imapSecurity: String = "tls"
        @Option(help: "SMTP server host:port for Smart Mail.") var smtp: String?
        @Option(help: "none, starttls or tls for --smtp (default tls).") var smtpSecurity: String = "tls"
        func call(_ client: MailSync.Client) async throws {
            var request = CreateMailboxConnectionRequest()
            request.userId = user
            request.emailAddress = email
            request.provider = try EnumArgument.parse(provider, MailProvider.allKnown, prefix: "MAIL_PROVIDER_", field: "--provider")
            request.username = username
            if let imap { request.imap = try Self.endpoint(imap, imapSecurity, "--imap") }
            if let smtp { request.smtp = try Self.endpoint(smtp, smtpSecurity, "--smtp") }
            request.secret = try Self.secret()
            let mailbox = try await client.createMailboxConnection(request)
            output(mailbox, table: MailboxesCommand.table([mailbox]))
        }

        static func endpoint(_ text: String, _ security: String, _ flag: String) throws -> ServerEndpoint {
            guard let colon = text.lastIndex(of: ":"), let port = UInt32(text[text.index(after: colon)...]) else {
                throw ValidationError("\(flag) must be host:port, got '\(text)'")
            }
            var endpoint = ServerEndpoint()
            endpoint.host = String(text[..<colon])
            endpoint.port = port
            endpoint.security = try EnumArgument.parse(security, ConnectionSecurity.allKnown, prefix: "CONNECTION_SECURITY_", field: "\(flag)-security")
            return endpoint
        }

        /// The secret never comes from a flag (process lists would show it).
        static func secret() throws -> String {
            if let secret = ProcessInfo.processInfo.environment["MAILSYNC_MAILBOX_SECRET"], !secret.isEmpty { return secret }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("the mailbox password: set MAILSYNC_MAILBOX_SECRET or pipe it on stdin")
            }
            return line
        }
    }

    struct SyncNow: AdminCommand {
        static let configuration = CommandConfiguration(commandName: "sync-now", abstract: "Sync a mailbox as soon as its poll interval allows.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The mailbox's id.") var id: String
        func call(_ client: MailSync.Client) async throws {
            var request = SyncNowRequest()
            request.mailboxId = id
            let response = try await client.syncNow(request)
            output(response, table: .fields([("scheduled at", response.scheduledAt.text)]))
        }
    }

    struct Resync: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Sync a mailbox again from a date; nothing is recorded twice.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The mailbox's id.") var id: String
        @Option(help: "Start date, YYYY-MM-DD (default: where the first sync started).") var since: String?
        func call(_ client: MailSync.Client) async throws {
            var request = ResyncRequest()
            request.mailboxId = id
            if let since {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withFullDate]
                guard let date = formatter.date(from: since) else { throw ValidationError("--since must be YYYY-MM-DD, got '\(since)'") }
                request.since = Timestamp(secondsSinceEpoch: date.timeIntervalSince1970)
            }
            let response = try await client.resync(request)
            output(response, table: .fields([("scheduled at", response.scheduledAt.text)]))
        }
    }

    struct Disable: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a mailbox; its credentials are wiped.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The mailbox's id.") var id: String
        @Option(help: "keep or remove the email it synced.") var previous: String
        func call(_ client: MailSync.Client) async throws {
            var request = DisableMailboxRequest()
            request.mailboxId = id
            request.previousCommunication = try EnumArgument.parse(
                previous, PreviousCommunication.allKnown, prefix: "PREVIOUS_COMMUNICATION_", field: "--previous")
            let response = try await client.disableMailbox(request)
            output(response, table: .fields([
                ("status", EnumArgument.text(response.mailbox.status, prefix: "MAILBOX_STATUS_")),
                ("timeline entries removed", "\(response.removedTimelineEntries)"),
            ]))
        }
    }

    struct Unconfigured: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Active users who have not connected a mailbox.")
        @OptionGroup var options: ClientOptions
        func call(_ client: MailSync.Client) async throws {
            var request = ListUnconfiguredUsersRequest()
            request.pageSize = 500
            let all = try await allPages(request, token: \.pageToken) { page in
                let response = try await client.listUnconfiguredUsers(page)
                return (response.users, response.nextPageToken)
            }
            output(all, table: UsersCommand.table(all))
        }
    }
}

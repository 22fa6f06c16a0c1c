import ArgumentParser
import Foundation
import MailSyncClient
import MailSyncCoding

/// `mailsync errors`: the error log, most recent first.
struct ErrorsCommand: AdminCommand {
    static let configuration = CommandConfiguration(commandName: "errors", abstract: "The error log: the server's words and the fix.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this mailbox's.") var mailbox: String = ""
    @Option(help: "At most this many entries.") var limit: Int = 50
    func call(_ client: MailSync.Client) async throws {
        var request = ListErrorLogRequest()
        request.mailboxId = mailbox
        request.pageSize = Int32(clamping: min(max(limit, 1), 500))
        let entries = try await client.listErrorLog(request).entries
        output(entries, table: Table(["LAST SEEN", "COUNT", "ADDRESS", "CLASS", "SERVER SAID", "FIX"], entries.map { entry in
            [entry.lastSeen.text, "\(entry.count)", entry.emailAddress, EnumArgument.text(entry.errorClass, prefix: "ERROR_CLASS_"),
             entry.serverText, entry.fixHint]
        }))
    }
}

/// `mailsync events`: sync events, newest first, or live with `--watch`.
struct EventsCommand: AdminCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Sync events; --watch follows them live.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this mailbox's.") var mailbox: String = ""
    @Option(help: "At most this many (without --watch).") var limit: Int = 50
    @Flag(help: "Print new events as they happen until interrupted.") var watch = false

    static func row(_ event: SyncEvent) -> [String] {
        [event.time.text, event.mailboxId, EnumArgument.text(event.kind, prefix: "SYNC_EVENT_KIND_"),
         event.status.rawValue == 0 ? "" : EnumArgument.text(event.status, prefix: "MAILBOX_STATUS_"), event.detail]
    }

    func call(_ client: MailSync.Client) async throws {
        if watch {
            var request = WatchSyncEventsRequest()
            request.mailboxId = mailbox
            for try await event in try await client.watchSyncEvents(request, options: .init(timeout: nil)) {
                if options.json {
                    print(JSONOutput.render(event).replacingOccurrences(of: "\n", with: ""))
                } else {
                    print(Self.row(event).joined(separator: "  "))
                }
                FileHandle.standardOutput.synchronizeFile()
            }
            return
        }
        var request = ListSyncEventsRequest()
        request.mailboxId = mailbox
        request.pageSize = Int32(clamping: min(max(limit, 1), 500))
        let events = try await client.listSyncEvents(request).events
        output(events, table: Table(["TIME", "MAILBOX", "KIND", "STATUS", "DETAIL"], events.map(Self.row)))
    }
}

/// `mailsync timeline LEAD`: a lead's emails, newest first.
struct TimelineCommand: AdminCommand {
    static let configuration = CommandConfiguration(commandName: "timeline", abstract: "A lead's emails (Life of the Lead).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The lead's id.") var lead: String
    @Option(help: "At most this many entries.") var limit: Int = 50
    func call(_ client: MailSync.Client) async throws {
        var request = ListLeadTimelineRequest()
        request.leadId = lead
        request.pageSize = Int32(clamping: min(max(limit, 1), 500))
        let entries = try await client.listLeadTimeline(request).entries
        output(entries, table: Table(["DATE", "DATE FROM", "DIRECTION", "SUBJECT", "FROM", "USERS", "OPPORTUNITIES"], entries.map { entry in
            [entry.date.text, EnumArgument.text(entry.dateSource, prefix: "TIMELINE_DATE_SOURCE_"),
             EnumArgument.text(entry.direction, prefix: "MAIL_DIRECTION_"), entry.subject,
             entry.participants.first { $0.kind == .from }?.address ?? "", entry.userIds.joined(separator: ","),
             entry.opportunityIds.joined(separator: ",")]
        }))
    }
}

/// `mailsync billing`: billable mailbox-days per company (operators).
struct BillingCommand: AdminCommand {
    static let configuration = CommandConfiguration(commandName: "billing", abstract: "Billable mailbox-days per company over a period.")
    @OptionGroup var options: ClientOptions
    @Option(help: "First day, YYYY-MM-DD (UTC midnight).") var from: String
    @Option(help: "Day after the last, YYYY-MM-DD (UTC midnight).") var to: String
    @Option(help: "Only this company.") var company: String = ""
    func call(_ client: MailSync.Client) async throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        guard let start = formatter.date(from: from), let end = formatter.date(from: to) else {
            throw ValidationError("--from and --to must be YYYY-MM-DD")
        }
        var request = GetBillingReportRequest()
        request.periodStart = Timestamp(secondsSinceEpoch: start.timeIntervalSince1970)
        request.periodEnd = Timestamp(secondsSinceEpoch: end.timeIntervalSince1970)
        request.companyId = company
        let report = try await client.getBillingReport(request)
        output(report, table: Table(["COMPANY", "NAME", "PLAN", "BILLABLE MAILBOX-DAYS"], report.companies.map { row in
            [row.companyId, row.companyName, EnumArgument.text(row.plan, prefix: "PLAN_"), "\(row.billableMailboxDays)"]
        }))
    }
}

import MailSyncClient

/// Reads every service-test fixture needs about its company's mailbox: timelines, events, the
/// error log, and counts straight from the company's database.
protocol CompanyQueries {
    var harness: ServiceHarness { get }
    var company: ServiceHarness.Company { get }
    var mailboxID: String { get }
}

extension CompanyQueries {
    func timeline(_ leadID: String) async throws -> [TimelineEntry] {
        var request = ListLeadTimelineRequest()
        request.leadId = leadID
        request.pageSize = 500
        return try await company.admin.listLeadTimeline(request).entries
    }

    /// The fixture mailbox's events, newest first (all mailboxes' with `allMailboxes`).
    func events(_ kinds: [SyncEventKind] = [], allMailboxes: Bool = false) async throws -> [SyncEvent] {
        var request = ListSyncEventsRequest()
        if !allMailboxes { request.mailboxId = mailboxID }
        request.kinds = kinds
        request.pageSize = 500
        return try await company.admin.listSyncEvents(request).events
    }

    func errorLog() async throws -> [ErrorLogEntry] {
        var request = ListErrorLogRequest()
        request.mailboxId = mailboxID
        return try await company.admin.listErrorLog(request).entries
    }

    func count(_ sql: String) async throws -> Int64 {
        try await MailboxFixtures.tenantRead(harness, company) { try $0.scalar(sql)?.int64 ?? -1 }
    }
}

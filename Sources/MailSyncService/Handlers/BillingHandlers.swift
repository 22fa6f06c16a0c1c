import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// The billing report (operators; the router enforces the role).
///
/// Billable mailbox-days are worked out from each mailbox's status events (`BillableDays` says
/// what counts), in each company's own time zone (`settings.time_zone`; UTC if the stored name is
/// unknown to this system).
struct BillingHandlers: MailSync.BillingHandler {
    let env: ServiceEnvironment

    /// The longest period a report covers.
    static let maxPeriodDays: Int64 = 366
    /// 9999-12-31T23:59:59.999999Z in µs: the latest instant a period may name.
    static let maxTimestamp: Int64 = 253_402_300_799_999_999

    /// Billable mailbox-days per company over `[period_start, period_end)`.
    ///
    /// `company_id` empty: every company in the control database (suspended ones included, those
    /// with nothing billable as 0), oldest first; otherwise that one (`not found` if unknown).
    /// Both timestamps are required, between 1970 and 9999, start before end, at most
    /// `maxPeriodDays` apart (`invalid argument` otherwise; never an arithmetic trap). A company whose database cannot be read fails the whole report.
    func getBillingReport(_ request: GetBillingReportRequest, context: ServerContext) async throws -> BillingReport {
        let (start, end) = try Self.period(request)
        let companyID = request.companyId
        let companies: [CompanyRecord] = try await env.controlRead("the companies") { db in
            if companyID.isEmpty { return try CompanyRecords.all(db) }
            return [try CompanyRecords.require(db, id: companyID)]
        }
        var report = BillingReport()
        report.periodStart = request.periodStart
        report.periodEnd = request.periodEnd
        for company in companies {
            guard let tenant = TenantID(validating: company.id) else {
                throw RPCError(.internal, "company '\(company.id)' has an id that names no database")
            }
            var row = CompanyBilling()
            row.companyId = company.id
            row.companyName = company.name
            row.plan = Plan(company.plan)
            row.billableMailboxDays = try await billableDays(tenant, start: start, end: end)
            report.companies.append(row)
        }
        return report
    }

    /// The company's billable mailbox-days in `[start, end)`.
    private func billableDays(_ tenant: TenantID, start: Int64, end: Int64) async throws -> UInt64 {
        let (zone, transitions) = try await env.read(tenant, "the billing") { db in
            (try SettingsRecords.read(db).timeZone, try SyncEventRecords.statusTransitions(db, start: start, end: end))
        }
        let days = BillableDays(start: start, end: end, timeZone: TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!)
        var total: UInt64 = 0
        var index = transitions.startIndex
        while index < transitions.endIndex {
            let mailbox = transitions[index].mailboxID
            var timeline: [BillableDays.Transition] = []
            while index < transitions.endIndex, transitions[index].mailboxID == mailbox {
                timeline.append(BillableDays.Transition(time: transitions[index].time, status: transitions[index].status))
                index += 1
            }
            total += UInt64(days.count(timeline))
        }
        return total
    }

    /// The period in microseconds, checked.
    static func period(_ request: GetBillingReportRequest) throws -> (start: Int64, end: Int64) {
        let (start, end) = (request.periodStart.microsecondsSinceEpoch, request.periodEnd.microsecondsSinceEpoch)
        guard start != 0 else { throw RPCError(.invalidArgument, "period_start is required") }
        guard end != 0 else { throw RPCError(.invalidArgument, "period_end is required") }
        guard (0...maxTimestamp).contains(start), (0...maxTimestamp).contains(end) else {
            throw RPCError(.invalidArgument, "period_start and period_end must be between 1970-01-01 and 9999-12-31")
        }
        guard start < end else { throw RPCError(.invalidArgument, "period_start must be before period_end (the end is exclusive)") }
        let (span, overflow) = end.subtractingReportingOverflow(start)
        guard !overflow, span <= maxPeriodDays * 86_400_000_000 else {
            throw RPCError(.invalidArgument, "the period may be at most \(maxPeriodDays) days long; ask for several reports")
        }
        return (start, end)
    }
}

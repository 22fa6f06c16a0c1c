import MailSyncErrors
@testable import MailSyncEngine
import MailSyncTenantData
import Testing

/// Every transition of `MailboxHealth`, the status machine of a syncing mailbox: a success, a
/// failure under each retry policy (first, repeated, past the limit, at the `CONNECTION_ISSUE`
/// age), throttling, and an exhausted streak coming due; with the status, streak and next attempt
/// each leaves. Times are µs; `connectionIssueAfter` is 2 days.
@Suite("Mailbox health state machine")
struct MailboxHealthTests {
    typealias Decision = MailboxHealth.Decision

    static let t0: Int64 = 1_700_000_000_000_000
    static let second: Int64 = 1_000_000
    static let after = Duration.seconds(2 * 86_400)
    static let giveUp = t0 + 2 * 86_400 * second
    static let failing1 = RetryState(failingSince: t0, failedAttempts: 1, exhausted: false)
    static let failing2 = RetryState(failingSince: t0, failedAttempts: 2, exhausted: false)
    static let exhausted = RetryState(failingSince: t0, failedAttempts: 3, exhausted: true)
    static let stopSoon = RetryPolicy.stopSoon(attempts: 2, interval: .seconds(900))

    enum Event: CustomStringConvertible, Sendable {
        case success(nextPoll: Int64)
        case failure(RetryPolicy, now: Int64, jitter: Duration)
        case throttled(MailboxRecord.Status, until: Int64)
        case exhaustedDue(now: Int64)

        var description: String {
            switch self {
            case .success: "success"
            case .failure(let policy, let now, _): "failure(\(policy)) at t0+\((now - MailboxHealthTests.t0) / MailboxHealthTests.second) s"
            case .throttled(let status, _): "throttled(\(status))"
            case .exhaustedDue(let now): "exhausted streak due at t0+\((now - MailboxHealthTests.t0) / MailboxHealthTests.second) s"
            }
        }
    }

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var state: RetryState
        var event: Event
        var expected: Decision
        var description: String { "\(name): \(event)" }
    }

    static let cases: [Case] = [
        // Success: ENABLED, streak cleared, from any streak.
        Case(name: "healthy", state: .healthy, event: .success(nextPoll: t0 + 300 * second),
             expected: Decision(status: .enabled, retry: .healthy, nextSyncAt: t0 + 300 * second)),
        Case(name: "failing", state: failing2, event: .success(nextPoll: t0 + 300 * second),
             expected: Decision(status: .enabled, retry: .healthy, nextSyncAt: t0 + 300 * second)),
        Case(name: "exhausted", state: exhausted, event: .success(nextPoll: t0 + 300 * second),
             expected: Decision(status: .enabled, retry: .healthy, nextSyncAt: t0 + 300 * second)),
        // Temporary failures back off exponentially (1 min, 2 min, …), jitter added.
        Case(name: "first failure", state: .healthy, event: .failure(.temporaryDefault, now: t0, jitter: .zero),
             expected: Decision(status: .error, retry: failing1, nextSyncAt: t0 + 60 * second)),
        Case(name: "second failure", state: failing1, event: .failure(.temporaryDefault, now: t0 + 60 * second, jitter: .zero),
             expected: Decision(status: .error, retry: failing2, nextSyncAt: t0 + 180 * second)),
        Case(name: "with jitter", state: .healthy, event: .failure(.temporaryDefault, now: t0, jitter: .seconds(6)),
             expected: Decision(status: .error, retry: failing1, nextSyncAt: t0 + 66 * second)),
        Case(name: "a retry past the age limit is moved to it", state: failing1,
             event: .failure(.temporaryDefault, now: giveUp - 30 * second, jitter: .zero),
             expected: Decision(status: .error, retry: failing2, nextSyncAt: giveUp)),
        // At the age limit: CONNECTION_ISSUE, no further attempt.
        Case(name: "streak 2 days old", state: failing1, event: .failure(.temporaryDefault, now: giveUp, jitter: .zero),
             expected: Decision(
                status: .connectionIssue, retry: RetryState(failingSince: t0, failedAttempts: 2, exhausted: true), nextSyncAt: nil)),
        // Authentication: a few retries, then only the age check.
        Case(name: "auth, first", state: .healthy, event: .failure(stopSoon, now: t0, jitter: .zero),
             expected: Decision(status: .error, retry: failing1, nextSyncAt: t0 + 900 * second)),
        Case(name: "auth, second", state: failing1, event: .failure(stopSoon, now: t0 + 900 * second, jitter: .zero),
             expected: Decision(status: .error, retry: failing2, nextSyncAt: t0 + 1800 * second)),
        Case(name: "auth, retries used up", state: failing2, event: .failure(stopSoon, now: t0 + 1800 * second, jitter: .zero),
             expected: Decision(status: .error, retry: exhausted, nextSyncAt: giveUp)),
        Case(name: "credential dead", state: .healthy, event: .failure(.reconnect, now: t0, jitter: .zero),
             expected: Decision(status: .error, retry: RetryState(failingSince: t0, failedAttempts: 1, exhausted: true), nextSyncAt: giveUp)),
        // Configuration and operator errors: no retry, only the age check.
        Case(name: "configuration", state: .healthy, event: .failure(.untilSettingsChange, now: t0, jitter: .zero),
             expected: Decision(status: .error, retry: RetryState(failingSince: t0, failedAttempts: 1, exhausted: true), nextSyncAt: giveUp)),
        // Throttling is not a failure: status and streak kept, next run at the provider's time.
        Case(name: "enabled", state: .healthy, event: .throttled(.enabled, until: t0 + 3600 * second),
             expected: Decision(status: .enabled, retry: .healthy, nextSyncAt: t0 + 3600 * second)),
        Case(name: "failing", state: failing2, event: .throttled(.error, until: t0 + 3600 * second),
             expected: Decision(status: .error, retry: failing2, nextSyncAt: t0 + 3600 * second)),
        // An exhausted streak comes due: the age check.
        Case(name: "young", state: exhausted, event: .exhaustedDue(now: t0 + 1800 * second),
             expected: Decision(status: .error, retry: exhausted, nextSyncAt: giveUp)),
        Case(name: "old enough", state: exhausted, event: .exhaustedDue(now: giveUp),
             expected: Decision(status: .connectionIssue, retry: exhausted, nextSyncAt: nil)),
        Case(name: "older", state: exhausted, event: .exhaustedDue(now: giveUp + 10 * second),
             expected: Decision(status: .connectionIssue, retry: exhausted, nextSyncAt: nil)),
        // Not reached by the sync runner (it asks only for exhausted streaks): a streak that never
        // began counts from now, so nothing changes for two days.
        Case(name: "no streak (precondition)", state: .healthy, event: .exhaustedDue(now: t0),
             expected: Decision(status: .error, retry: .healthy, nextSyncAt: giveUp)),
    ]

    @Test("each outcome leaves the expected status, streak and next attempt", arguments: cases)
    func transition(_ testCase: Case) {
        let decision: Decision =
            switch testCase.event {
            case .success(let nextPoll):
                MailboxHealth.afterSuccess(nextPoll: nextPoll)
            case .failure(let policy, let now, let jitter):
                MailboxHealth.afterFailure(policy, state: testCase.state, now: now, connectionIssueAfter: Self.after) { $0 + jitter }
            case .throttled(let status, let until):
                MailboxHealth.afterThrottling(status: status, state: testCase.state, until: until)
            case .exhaustedDue(let now):
                MailboxHealth.whenExhausted(state: testCase.state, now: now, connectionIssueAfter: Self.after)
            }
        #expect(decision == testCase.expected)
    }

    @Test("a failing mailbox walks ENABLED → ERROR → CONNECTION_ISSUE and back to ENABLED on success")
    func walk() {
        var state = RetryState.healthy
        var now = Self.t0
        var statuses: [MailboxRecord.Status] = []
        while true {
            let decision = MailboxHealth.afterFailure(.temporaryDefault, state: state, now: now, connectionIssueAfter: Self.after)
            statuses.append(decision.status)
            state = decision.retry
            guard let next = decision.nextSyncAt else { break }
            #expect(next > now, "each retry is later")
            now = next
        }
        #expect(statuses.last == .connectionIssue)
        #expect(statuses.dropLast().allSatisfy { $0 == .error })
        #expect(now == Self.giveUp, "the last check is exactly at the age limit")
        #expect(MailboxHealth.afterSuccess(nextPoll: now).status == .enabled)
    }
}

import MailSyncErrors
import MailSyncTenantData

/// The status machine of a syncing mailbox: what an attempt's outcome does to its status, its
/// failure streak and its next attempt.
///
/// ```
///  ENABLED ──failure──▶ ERROR ──failing ≥ connectionIssueAfter──▶ CONNECTION_ISSUE (no attempts)
///     ▲                   │
///     └─────success───────┘
/// ```
/// A failure is retried as its diagnosis says: temporary errors back off exponentially (never
/// sooner than a server's suggested backoff), authentication errors are retried a few times and
/// then left alone (repeated failed logins can lock the account), configuration and operator
/// errors are not retried. Either way the streak is checked once more when it is
/// `connectionIssueAfter` old, and if it has not ended then the mailbox becomes
/// `CONNECTION_ISSUE`, which nothing but new credentials or a resync leaves.
/// `PENDING` and `DISABLED` are set by the RPCs, not here.
///
/// As a state machine: the state is the mailbox's status and `RetryState`; the events are an
/// attempt's outcome (`afterSuccess`, `afterFailure`, `afterThrottling`) or an exhausted streak
/// coming due (`whenExhausted`); each returns a `Decision` (the status, streak and next attempt to
/// store), and nothing else changes. The sync runner raises events only for `ENABLED` and `ERROR`
/// mailboxes, and `whenExhausted` only for an exhausted streak; given a streak that never began,
/// `whenExhausted` counts it from `now`. Tested by `MailboxHealthTests`.
package enum MailboxHealth {
    package struct Decision: Sendable, Hashable {
        package var status: MailboxRecord.Status
        package var retry: RetryState
        /// When to run next (µs); nil: not until credentials are updated or a resync is asked.
        package var nextSyncAt: Int64?

        package init(status: MailboxRecord.Status, retry: RetryState, nextSyncAt: Int64?) {
            self.status = status
            self.retry = retry
            self.nextSyncAt = nextSyncAt
        }
    }

    /// After a successful sync: `ENABLED`, the streak cleared, the next poll at `nextPoll`.
    package static func afterSuccess(nextPoll: Int64) -> Decision {
        Decision(status: .enabled, retry: .healthy, nextSyncAt: nextPoll)
    }

    /// After a failed attempt at `now`.
    ///
    /// - Parameter jitter: spreads a delay (adds up to the settings' fraction); injected for tests.
    package static func afterFailure(
        _ retryPolicy: RetryPolicy, state: RetryState, now: Int64, connectionIssueAfter: Duration,
        jitter: (Duration) -> Duration = { $0 }
    ) -> Decision {
        let since = state.failingSince ?? now
        let attempts = state.failedAttempts + 1
        let giveUpAt = since + connectionIssueAfter.microseconds
        if now >= giveUpAt {
            return Decision(
                status: .connectionIssue, retry: RetryState(failingSince: since, failedAttempts: attempts, exhausted: true),
                nextSyncAt: nil)
        }
        var next: Int64?
        switch retryPolicy {
        case .backOff(let backoff):
            next = now + jitter(backoff.delay(forAttempt: attempts)).microseconds
        case .stopSoon(let retries, let interval):
            // `retries` more attempts after the first failure.
            if attempts <= retries { next = now + jitter(interval).microseconds }
        case .untilSettingsChange:
            next = nil
        }
        let exhausted = next == nil
        // The streak is judged exactly when it turns `connectionIssueAfter` old.
        let due = min(next ?? giveUpAt, giveUpAt)
        return Decision(
            status: .error, retry: RetryState(failingSince: since, failedAttempts: attempts, exhausted: exhausted), nextSyncAt: due)
    }

    /// After the provider held the mailbox back (a throttling answer, or its daily budget nearly
    /// used): not a failure. The status and the failure streak stay as they were; the next run is
    /// `until` (µs), which the caller takes from the provider's suggested wait or the next UTC day.
    package static func afterThrottling(status: MailboxRecord.Status, state: RetryState, until: Int64) -> Decision {
        Decision(status: status, retry: state, nextSyncAt: until)
    }

    /// When an exhausted streak comes due without an attempt: `CONNECTION_ISSUE` once the streak
    /// is old enough, otherwise unchanged with the check moved to that time.
    package static func whenExhausted(state: RetryState, now: Int64, connectionIssueAfter: Duration) -> Decision {
        let giveUpAt = (state.failingSince ?? now) + connectionIssueAfter.microseconds
        if now >= giveUpAt { return Decision(status: .connectionIssue, retry: state, nextSyncAt: nil) }
        return Decision(status: .error, retry: state, nextSyncAt: giveUpAt)
    }
}

extension Duration {
    /// Whole microseconds (sub-microsecond parts dropped).
    package var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

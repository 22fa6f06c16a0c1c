/// What a failure means and what to do about it: the row the error log records.
public struct Diagnosis: Sendable, Hashable {
    /// How the sync engine reacts.
    public var errorClass: ErrorClass
    /// The fix, in plain words, for the CRM user. For ``ErrorClass/operator`` it tells the user
    /// there is nothing to do; the technical part is in ``operatorNote``.
    public var hint: String
    /// When, if ever, to try again.
    public var retry: RetryPolicy
    /// The server's own words, verbatim (the error log's `server_text`).
    public var serverText: String
    /// Which rule matched (`gmail.appPasswordRequired`, `generic.imap.authenticate`, …): a stable
    /// name to group repeats of one kind of error and to count them in metrics.
    public var rule: String
    /// For operators: what in our own setup to fix. `nil` unless the class is `operator`.
    public var operatorNote: String?
    /// The provider is limiting how fast the mailbox may be read (its throttling answer): the
    /// sync waits as ``retry`` says and goes on, without counting it as a failure the user must
    /// fix. Default false.
    public var isThrottling: Bool = false

    public init(
        errorClass: ErrorClass, hint: String, retry: RetryPolicy, serverText: String, rule: String,
        operatorNote: String? = nil
    ) {
        self.errorClass = errorClass
        self.hint = hint
        self.retry = retry
        self.serverText = serverText
        self.rule = rule
        self.operatorNote = operatorNote
    }
}

/// How to react to an error.
///
/// A struct over a private enum so a class can be added without breaking callers' switches.
/// The first three are the schema's `ErrorClass`; `operator` has no schema value yet and is logged
/// for operators rather than shown to the user as something to fix.
public struct ErrorClass: Sendable, Hashable, CustomStringConvertible {
    enum Value: String, Sendable, Hashable {
        case authentication, configuration, temporary, `operator`
    }

    let value: Value

    /// Credentials were refused: retrying can lock the account, so sync stops soon.
    public static let authentication = ErrorClass(value: .authentication)
    /// The user's settings need a change (IMAP disabled, wrong server, app password needed).
    public static let configuration = ErrorClass(value: .configuration)
    /// Worth retrying later (throttling, server unavailable); backs off.
    public static let temporary = ErrorClass(value: .temporary)
    /// Our own misconfiguration or bug (e.g. OAuth `invalid_client`): reported to operators.
    public static let `operator` = ErrorClass(value: .operator)

    public var description: String { value.rawValue }
}

/// When to try a failed mailbox again.
public enum RetryPolicy: Sendable, Hashable {
    /// At most `attempts` more tries, `interval` apart, then stop until the user changes the
    /// credentials. Used for authentication: repeated failed logins can lock the account.
    case stopSoon(attempts: Int, interval: Duration)
    /// Retry on an exponential schedule; see ``Backoff``.
    case backOff(Backoff)
    /// No retry until the settings change: the user's for configuration errors, ours (or a new
    /// release) for operator errors.
    case untilSettingsChange

    /// Authentication default: 2 more attempts, 15 minutes apart.
    public static let authenticationDefault = RetryPolicy.stopSoon(attempts: 2, interval: .seconds(15 * 60))
    /// No further attempt: the credential is known dead (OAuth `invalid_grant`); the user must
    /// reconnect.
    public static let reconnect = RetryPolicy.stopSoon(attempts: 0, interval: .zero)
    /// Temporary default: ``Backoff/standard``.
    public static let temporaryDefault = RetryPolicy.backOff(.standard)

    /// The backoff, if this policy backs off.
    public var backoff: Backoff? {
        if case .backOff(let backoff) = self { return backoff }
        return nil
    }
}

/// An exponential retry schedule, optionally led by a delay the server suggested.
///
/// The delay before retry `n` (1-based) is `initial × 2^(n−1)`, capped at `maximum`, and never
/// less than `suggested` when the server asked for one (Microsoft's "Suggested Backoff Time",
/// an OAuth `Retry-After`). Jitter is the caller's: add up to 10% so mailboxes spread out.
public struct Backoff: Sendable, Hashable {
    /// The first delay.
    public var initial: Duration
    /// The cap on computed delays (a suggestion may exceed it, up to ``maximumSuggestion``).
    public var maximum: Duration
    /// The server's own suggested wait, already clamped to ``maximumSuggestion``.
    public var suggested: Duration?

    /// A suggestion longer than a day is treated as a day, so a garbled number cannot park a
    /// mailbox forever (a mailbox in trouble for two days becomes Connection Issue anyway).
    public static let maximumSuggestion: Duration = .seconds(24 * 3600)

    public init(initial: Duration, maximum: Duration, suggested: Duration? = nil) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.suggested = suggested.map { min($0, Self.maximumSuggestion) }
    }

    /// 1 minute, doubling, capped at 1 hour: server hiccups, throttling.
    public static let standard = Backoff(initial: .seconds(60), maximum: .seconds(3600))
    /// 10 minutes, doubling, capped at 2 hours: Gmail asks clients to check no more often than
    /// every 10 minutes, so anything that may come from checking too often starts there.
    public static let politeCheck = Backoff(initial: .seconds(600), maximum: .seconds(7200))
    /// 1 hour, doubling, capped at 24 hours: daily quotas (Gmail's 2.5 GB/day download, daily
    /// sending limits) that reset within a day.
    public static let dailyQuota = Backoff(initial: .seconds(3600), maximum: .seconds(24 * 3600))

    /// The same schedule, led by `suggested`.
    public func suggesting(_ suggested: Duration?) -> Backoff {
        Backoff(initial: initial, maximum: maximum, suggested: suggested ?? self.suggested)
    }

    /// The wait before retry number `attempt` (1 for the first retry).
    public func delay(forAttempt attempt: Int) -> Duration {
        var delay = initial
        var step = 1
        while step < attempt && delay < maximum {
            delay = delay * 2
            step += 1
        }
        delay = min(delay, maximum)
        if let suggested { delay = max(delay, suggested) }
        return delay
    }
}

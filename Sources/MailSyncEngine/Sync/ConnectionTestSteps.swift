import MailSyncErrors
import MailSyncMailTransport
import MailSyncTenantData

/// The steps of a connection test (``MailboxConnectionTest``) built from what happened: which
/// stage failed (if one did), how, and libcurl's phase times. A value with its own tests: the
/// mapping from a failure to the step it belongs to is the useful part of the report.
///
/// Connect-stage failures are placed by their kind: DNS failures (and a policy refusal, judged on
/// the resolved address) at RESOLVE; refused, unreachable or timed-out connections at CONNECT
/// unless the TCP connection was made; certificate and handshake failures at TLS; the server's
/// refusal, a greeting `BYE` or a credentials problem at LOGIN.
package struct ConnectionTestSteps: Equatable {
    /// Where a test stopped.
    package enum Failure: Equatable {
        /// Before LIST: connecting or logging in (or getting a token to log in with).
        case connect(Diagnosis, MailFailure?, ConnectTimings?)
        case list(Diagnosis)
        case selectInbox(Diagnosis)
    }

    /// A step of the test, in the order they run.
    package enum Name: Sendable, Hashable, CaseIterable {
        case resolve, connect, tls, login, list, selectInbox
    }

    /// How a step went: `skipped` after a failed one, `notApplicable` for TLS without TLS.
    package enum Outcome: Sendable, Hashable {
        case ok, failed, skipped, notApplicable
    }

    /// One step's result; the service answers it as the wire's `ConnectionTestStep`.
    package struct Step: Sendable, Equatable {
        package var name: Name
        package var outcome: Outcome = .skipped
        /// 0 for steps that did not run.
        package var durationMs: Int64 = 0
        /// What the server said, or what was found ("4 messages"); empty when nothing to say.
        package var detail = ""
        /// What to do about a failure; empty otherwise.
        package var hint = ""
        /// The failure's class; nil unless the step failed.
        package var errorClass: ErrorLogRecord.ErrorClass?

        package init(name: Name) { self.name = name }
    }

    package var steps: [Step]

    package var ok: Bool { steps.allSatisfy { $0.outcome == .ok || $0.outcome == .notApplicable } }

    /// - Parameters:
    ///   - usesTLS: whether the mailbox's IMAP security is TLS or STARTTLS.
    ///   - timings: the connection's phase times when it was made.
    ///   - list, selectInbox: their durations and a summary, when they ran and succeeded.
    package init(
        usesTLS: Bool, failure: Failure?, timings: ConnectTimings?,
        list: (Duration, String)? = nil, selectInbox: (Duration, String)? = nil
    ) {
        let order: [Name] = [.resolve, .connect, .tls, .login, .list, .selectInbox]
        var failedAt: Name?
        var diagnosis: Diagnosis?
        var phaseTimes = timings
        switch failure {
        case .connect(let d, let mailFailure, let t)?:
            failedAt = Self.step(of: mailFailure, timings: t, usesTLS: usesTLS)
            diagnosis = d
            phaseTimes = t
        case .list(let d)?:
            failedAt = .list
            diagnosis = d
        case .selectInbox(let d)?:
            failedAt = .selectInbox
            diagnosis = d
        case nil:
            break
        }
        let durations = Self.durations(phaseTimes, usesTLS: usesTLS)
        var steps: [Step] = []
        var stopped = false
        for name in order {
            var step = Step(name: name)
            if name == .tls, !usesTLS {
                step.outcome = .notApplicable
                step.detail = "the mailbox is set up without TLS"
                steps.append(step)
                continue
            }
            if stopped {
                step.outcome = .skipped
                steps.append(step)
                continue
            }
            let elapsed: Duration? = switch name {
            case .list: list?.0
            case .selectInbox: selectInbox?.0
            default: durations[name]
            }
            step.durationMs = Self.milliseconds(elapsed ?? .zero)
            if name == failedAt, let diagnosis {
                step.outcome = .failed
                step.detail = diagnosis.serverText
                step.hint = diagnosis.hint
                step.errorClass = SyncOutcomeStore.schemaClass(diagnosis.errorClass)
                stopped = true
            } else {
                step.outcome = .ok
                step.detail = switch name {
                case .list: list?.1 ?? ""
                case .selectInbox: selectInbox?.1 ?? ""
                default: ""
                }
            }
            steps.append(step)
        }
        self.steps = steps
    }

    /// The step a connect-stage failure belongs to.
    package static func step(of failure: MailFailure?, timings: ConnectTimings?, usesTLS: Bool) -> Name {
        let connected = timings?.connected != nil
        let tlsDone = timings?.tlsDone != nil
        guard case .connection(let connection)? = failure else {
            // The server's own words (a NO to LOGIN, a BYE greeting) or a token problem.
            return .login
        }
        switch connection.kind {
        case .hostNotFound, .dnsTemporaryFailure:
            return .resolve
        case .notAllowed:
            return connected ? .connect : .resolve
        case .tlsOnPlaintextPort, .certificateUntrusted, .certificateExpired, .certificateHostnameMismatch:
            return .tls
        case .refused:
            return .connect
        case .timeout, .resetMidSession:
            if !connected { return .connect }
            if usesTLS, !tlsDone { return .tls }
            return .login
        case .tooSlow, .replyOverLimit, .dailyLimitReached:
            return .login
        }
    }

    /// Each connect-stage step's own time from libcurl's cumulative phase times; a failed step
    /// gets the time from the previous phase's end to the end of the attempt.
    package static func durations(_ timings: ConnectTimings?, usesTLS: Bool) -> [Name: Duration] {
        guard let timings else { return [:] }
        var result: [Name: Duration] = [:]
        let resolved = timings.resolved ?? timings.total
        result[.resolve] = resolved
        let connected = timings.connected ?? timings.total
        result[.connect] = max(.zero, connected - resolved)
        var loginStart = connected
        if usesTLS {
            let tlsDone = timings.tlsDone ?? timings.total
            result[.tls] = max(.zero, tlsDone - connected)
            loginStart = tlsDone
        }
        result[.login] = max(.zero, timings.total - loginStart)
        return result
    }

    package static func milliseconds(_ duration: Duration) -> Int64 { duration.microseconds / 1000 }
}

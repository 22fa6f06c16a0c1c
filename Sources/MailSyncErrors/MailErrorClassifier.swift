/// Turns a mail server's own words into an error class, a fix in plain words and a retry policy.
///
/// Known texts are matched against ``ErrorRules/table`` (first match wins). A text no rule knows
/// keeps its words and gets a generic hint whose class follows from where it happened: a `NO` at
/// login is authentication, an SMTP 4xx temporary, an OAuth 5xx temporary, and so on (see
/// ``genericDiagnosis(for:)``). Temporary diagnoses honour a backoff the server suggested
/// ("Suggested Backoff Time: N milliseconds", OAuth `Retry-After`).
///
/// Pure and thread-safe: no state, no clock, no I/O.
public enum MailErrorClassifier {
    public static func classify(_ failure: MailFailure) -> Diagnosis {
        let serverText = serverText(of: failure)
        var diagnosis: Diagnosis
        if case .connection(let connectionFailure) = failure {
            let row = ErrorRules.connection(connectionFailure.kind)
            diagnosis = Diagnosis(
                errorClass: row.errorClass, hint: row.hint, retry: row.retry, serverText: serverText, rule: row.id)
            diagnosis.isThrottling = connectionFailure.kind == .dailyLimitReached
        } else if let rule = ErrorRules.table.first(where: { $0.matches(failure) }) {
            diagnosis = Diagnosis(
                errorClass: rule.errorClass, hint: rule.hint, retry: rule.retry, serverText: serverText,
                rule: rule.id, operatorNote: rule.operatorNote)
            diagnosis.isThrottling = rule.throttling
        } else {
            diagnosis = genericDiagnosis(for: failure, serverText: serverText)
        }
        if let backoff = diagnosis.retry.backoff, let suggested = suggestedBackoff(of: failure) {
            diagnosis.retry = .backOff(backoff.suggesting(suggested))
        }
        return diagnosis
    }

    /// The words the error log shows, verbatim: an IMAP resp-text, an SMTP reply as received, an
    /// OAuth `error: error_description`, or the system's words for a connection failure.
    static func serverText(of failure: MailFailure) -> String {
        switch failure {
        case .imap(let response): response.text
        case .smtp(let reply): reply.raw
        case .oauth(let error): error.serverText
        case .connection(let connectionFailure): connectionFailure.serverText
        }
    }

    static func suggestedBackoff(of failure: MailFailure) -> Duration? {
        switch failure {
        case .imap(let response): SuggestedBackoff.parse(response.text)
        case .smtp(let reply): SuggestedBackoff.parse(reply.text)
        case .oauth(let error): error.retryAfter
        case .connection: nil
        }
    }

    /// The diagnosis of a text no rule knows, by where it happened.
    ///
    /// IMAP: any failure while logging in is authentication; `BYE` in the greeting and `BYE` or
    /// `NO` later are temporary; `NO` to `SELECT` is configuration (the folder); `BAD` after login
    /// means our command was malformed (RFC 9051), so it goes to operators. SMTP: 4xx temporary,
    /// 535 authentication, other 5xx configuration. OAuth: 429 and 5xx temporary, other errors
    /// operator (our request).
    static func genericDiagnosis(for failure: MailFailure, serverText: String) -> Diagnosis {
        let (errorClass, rule): (ErrorClass, String) =
            switch failure {
            case .imap(let response):
                switch (response.phase, response.status) {
                case (.authenticate, _): (.authentication, "generic.imap.authenticate")
                case (.greeting, _): (.temporary, "generic.imap.greeting")
                case (.select, .no): (.configuration, "generic.imap.select")
                case (_, .bad): (.operator, "generic.imap.bad")
                case (_, .bye): (.temporary, "generic.imap.bye")
                case (_, .no): (.temporary, "generic.imap.no")
                }
            case .smtp(let reply):
                switch reply.code {
                case 400..<500: (.temporary, "generic.smtp.transient")
                case 535: (.authentication, "generic.smtp.authentication")
                default: (.configuration, "generic.smtp.permanent")
                }
            case .oauth(let error):
                error.httpStatus == 429 || error.httpStatus >= 500
                    ? (.temporary, "generic.oauth.unavailable") : (.operator, "generic.oauth.request")
            case .connection:
                (.temporary, "generic.connection")  // unreachable: every kind has a row
            }
        var hint = GenericHints.hint(for: errorClass)
        if case .imap(let response) = failure, response.phase == .select, errorClass == .configuration {
            hint = Hints.folderNotReadable
        }
        return Diagnosis(
            errorClass: errorClass, hint: hint, retry: GenericHints.retry(for: errorClass), serverText: serverText,
            rule: rule,
            operatorNote: errorClass == .operator ? "Unrecognized server text; see server_text." : nil)
    }
}

/// Hints and retry policies for texts no rule knows, one per class.
enum GenericHints {
    static func hint(for errorClass: ErrorClass) -> String {
        switch errorClass.value {
        case .authentication:
            "The mail server refused the login. Check the login name and password (with two-step verification, use an app password, or sign in with your provider), then disconnect and reconnect Mail Sync. The server's own message above may say more."
        case .configuration:
            "The mail server rejected Mail Sync's settings. Check that IMAP is enabled for your mailbox and that the server name, port and security (SSL/TLS) match your email provider's instructions, then disconnect and reconnect Mail Sync."
        case .temporary:
            "The mail server reported a temporary problem. Mail Sync retries automatically; nothing to do unless the error keeps coming back."
        case .operator:
            Hints.operatorSide
        }
    }

    static func retry(for errorClass: ErrorClass) -> RetryPolicy {
        switch errorClass.value {
        case .authentication: .authenticationDefault
        case .temporary: .temporaryDefault
        case .configuration, .operator: .untilSettingsChange
        }
    }
}

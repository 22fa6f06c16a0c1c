/// One row of ``ErrorRules/table``: a pattern and what a match means.
struct ErrorRule: Sendable {
    /// What a rule looks for. All comparisons ignore case.
    enum Pattern: Sendable {
        /// A substring of an IMAP resp-text or an SMTP reply's text.
        case text(String)
        /// An IMAP bracketed response code (`OVERQUOTA` matches `[OVERQUOTA] …`). Arguments are
        /// ignored and so are spaces inside the code, so the help article's `[AUTHENTICATION
        /// FAILED]` matches `AUTHENTICATIONFAILED`.
        case responseCode(String)
        /// An SMTP enhanced status code (`5.7.9`), compared whole.
        case smtpStatus(String)
        /// An OAuth token endpoint's `error` field (`invalid_grant`), compared whole.
        case oauthError(String)
    }

    /// A stable name, `provider.what` (`gmail.imapDisabled`), recorded in ``Diagnosis/rule``.
    var id: String
    var pattern: Pattern
    var errorClass: ErrorClass
    /// For the CRM user, in plain words.
    var hint: String
    var retry: RetryPolicy
    /// For operators, when the class is `operator`.
    var operatorNote: String? = nil
    /// A provider's throttling answer (``Diagnosis/isThrottling``).
    var throttling: Bool = false

    func matches(_ failure: MailFailure) -> Bool {
        switch (pattern, failure) {
        case (.text(let needle), .imap(let response)):
            return Self.contains(response.text, needle)
        case (.text(let needle), .smtp(let reply)):
            return Self.contains(reply.text, needle)
        case (.responseCode(let code), .imap(let response)):
            guard let found = response.responseCode else { return false }
            let wanted = code.uppercased()
            let atom = found.prefix { $0 != " " }
            return atom == wanted || found.filter { $0 != " " } == wanted
        case (.smtpStatus(let status), .smtp(let reply)):
            return reply.enhancedStatus == status
        case (.oauthError(let error), .oauth(let tokenError)):
            return tokenError.error.lowercased() == error.lowercased()
        default:
            return false
        }
    }

    private static func contains(_ haystack: String, _ needle: String) -> Bool {
        haystack.lowercased().contains(needle.lowercased())
    }
}

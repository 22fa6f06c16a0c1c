/// A failure seen while talking to a mailbox's servers, as the sync engine captured it.
///
/// Each case keeps the peer's own words so the error log can show them verbatim; the classifier
/// never rewrites them.
public enum MailFailure: Sendable, Hashable {
    /// A tagged or untagged `NO`, `BAD` or `BYE` from an IMAP server.
    case imap(IMAPResponse)
    /// A 4xx or 5xx reply from an SMTP server (Smart Mails).
    case smtp(SMTPReply)
    /// An error object from an OAuth 2.0 token endpoint (RFC 6749 §5.2).
    case oauth(OAuthTokenError)
    /// The connection could not be made or kept: no server text exists.
    case connection(ConnectionFailure)
}

/// One failed IMAP response.
public struct IMAPResponse: Sendable, Hashable {
    /// The response's status word.
    public enum Status: String, Sendable, Hashable {
        case no = "NO"
        case bad = "BAD"
        case bye = "BYE"
    }

    /// What the client was doing when the response came; it decides the class of unknown texts.
    public enum Phase: Sendable, Hashable {
        /// The server's first line, before any command.
        case greeting
        /// `LOGIN` or `AUTHENTICATE` (including XOAUTH2 / OAUTHBEARER).
        case authenticate
        /// `SELECT` or `EXAMINE`.
        case select
        /// `FETCH`, `UID FETCH`, `SEARCH` and other reads of a selected mailbox.
        case fetch
        /// `IDLE`.
        case idle
        /// Any other command (`APPEND`, `STORE`, `LIST`, `LOGOUT`, …).
        case other
    }

    public var status: Status
    /// The resp-text after the status word, verbatim: `[ALERT] Invalid credentials (Failure)`.
    public var text: String
    public var phase: Phase
    /// The command tag, or `nil` for an untagged (`*`) response.
    public var tag: String?

    public init(status: Status, text: String, phase: Phase, tag: String? = nil) {
        self.status = status
        self.text = text
        self.phase = phase
        self.tag = tag
    }

    /// Parses one response line such as `a1 NO [AUTHENTICATIONFAILED] Authentication failed.`.
    ///
    /// Returns `nil` for a line that is not a `NO`, `BAD` or `BYE` response. A trailing CRLF is
    /// dropped; the text after the status word is kept exactly as sent.
    public init?(line: String, phase: Phase) {
        var rest = Substring(line)
        while let last = rest.last, last.isNewline { rest.removeLast() }
        guard let tagEnd = rest.firstIndex(of: " ") else { return nil }
        let tag = rest[..<tagEnd]
        rest = rest[rest.index(after: tagEnd)...]
        let statusEnd = rest.firstIndex(of: " ") ?? rest.endIndex
        guard let status = Status(rawValue: rest[..<statusEnd].uppercased()) else { return nil }
        let text = statusEnd == rest.endIndex ? "" : rest[rest.index(after: statusEnd)...]
        self.init(status: status, text: String(text), phase: phase, tag: tag == "*" ? nil : String(tag))
    }

    /// The bracketed response code at the start of the text (`ALERT`, `AUTHENTICATIONFAILED`, …),
    /// uppercased, with its arguments (`[WEBALERT https://…]`) dropped.
    var responseCode: String? {
        guard text.first == "[", let close = text.firstIndex(of: "]") else { return nil }
        return String(text[text.index(after: text.startIndex)..<close]).uppercased()
    }
}

/// One SMTP reply, possibly multi-line (`534-5.7.9 …` then `534 5.7.9 …`).
public struct SMTPReply: Sendable, Hashable {
    /// The three-digit reply code, e.g. 535.
    public var code: Int
    /// The RFC 3463 enhanced status code, e.g. `5.7.8`, when the server sent one.
    public var enhancedStatus: String?
    /// The human text of every line, joined by a space, without codes.
    public var text: String
    /// The reply as received (lines joined by `\n`, no CRLF), for the error log.
    public var raw: String

    public init(code: Int, enhancedStatus: String? = nil, text: String) {
        self.code = code
        self.enhancedStatus = enhancedStatus
        self.text = text
        self.raw = [String(code), enhancedStatus, text].compactMap { $0 }.joined(separator: " ")
    }

    /// Parses a reply as received, one line or several: `535-5.7.8 Username and Password not
    /// accepted.\r\n535 5.7.8 https://support.google.com/…`.
    ///
    /// Returns `nil` when the first line does not start with a three-digit code.
    public init?(reply: String) {
        let lines = reply.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        guard let first = lines.first, first.count >= 3,
            first.prefix(3).allSatisfy({ $0.isASCII && $0.isNumber }), let code = Int(first.prefix(3))
        else { return nil }
        var enhanced: String?
        var texts: [Substring] = []
        for line in lines {
            var body = line.dropFirst(3)
            if let separator = body.first, separator == "-" || separator == " " { body = body.dropFirst() }
            let firstWordEnd = body.firstIndex(of: " ") ?? body.endIndex
            let firstWord = body[..<firstWordEnd]
            if Self.isEnhancedStatus(firstWord) {
                enhanced = enhanced ?? String(firstWord)
                body = body[firstWordEnd...].drop { $0 == " " }
            }
            if !body.isEmpty { texts.append(body) }
        }
        self.code = code
        self.enhancedStatus = enhanced
        self.text = texts.joined(separator: " ")
        self.raw = lines.joined(separator: "\n")
    }

    /// `class.subject.detail` with 1–3 digits each (RFC 3463).
    private static func isEnhancedStatus(_ word: Substring) -> Bool {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }
}

/// An error returned by an OAuth 2.0 token endpoint while refreshing or exchanging a token.
public struct OAuthTokenError: Sendable, Hashable {
    /// The `error` field: `invalid_grant`, `invalid_client`, `temporarily_unavailable`, …
    public var error: String
    /// The `error_description` field, if any.
    public var errorDescription: String?
    /// The HTTP status of the response (400, 401, 429, 503, …).
    public var httpStatus: Int
    /// A `Retry-After` the endpoint sent, honoured as a suggested backoff.
    public var retryAfter: Duration?

    public init(error: String, errorDescription: String? = nil, httpStatus: Int, retryAfter: Duration? = nil) {
        self.error = error
        self.errorDescription = errorDescription
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    /// `error: error_description`, both verbatim.
    var serverText: String {
        guard let errorDescription, !errorDescription.isEmpty else { return error }
        return "\(error): \(errorDescription)"
    }
}

/// A connection that failed before or without a server reply.
public struct ConnectionFailure: Sendable, Hashable {
    public enum Kind: Sendable, Hashable, CaseIterable {
        /// The host answered with a reset to the SYN: nothing listens on that port.
        case refused
        /// The name does not exist (NXDOMAIN): the server name is wrong.
        case hostNotFound
        /// The resolver could not answer now (SERVFAIL, timeout, `EAI_AGAIN`).
        case dnsTemporaryFailure
        /// No answer within the connect or read deadline.
        case timeout
        /// TLS was started against a port that speaks plain text (e.g. SSL/TLS on 143 or 587), or
        /// STARTTLS was required and the server does not offer it (or refused it).
        case tlsOnPlaintextPort
        /// The certificate does not chain to a trusted root (self-signed, private CA).
        case certificateUntrusted
        /// The certificate has expired (or is not yet valid).
        case certificateExpired
        /// The certificate was issued for another host name.
        case certificateHostnameMismatch
        /// The connection was reset or closed in the middle of a session.
        case resetMidSession
        /// This server's outbound policy refused the destination before connecting (a private,
        /// loopback or link-local address, a port outside the mail ports, plain text). The detail
        /// for callers never says which rule or which address: the error log must not map the
        /// network behind the server; the operator's log has both.
        case notAllowed
        /// The server answered, but so slowly that the sync run's time budget ran out (a server
        /// that trickles bytes must not hold a sync slot for ever). What was read before is kept.
        case tooSlow
        /// The server's reply went over a limit (more bytes than announced or allowed, too many
        /// responses nobody asked for), so the connection was dropped. The detail says what.
        case replyOverLimit
        /// The sync stopped itself: the mailbox's daily download (or command) budget for its
        /// provider is nearly used. Not the server's failure; what was read before is kept and
        /// the sync continues the next day.
        case dailyLimitReached
    }

    public var kind: Kind
    public var host: String
    public var port: Int?
    /// The system's or TLS library's own words (`Connection refused`), shown as the server text.
    public var detail: String?

    public init(_ kind: Kind, host: String, port: Int? = nil, detail: String? = nil) {
        self.kind = kind
        self.host = host
        self.port = port
        self.detail = detail
    }

    var serverText: String {
        let address = port.map { "\(host):\($0)" } ?? host
        let words = detail ?? Self.defaultDetail[kind] ?? "Connection failed"
        return "\(words) (\(address))"
    }

    private static let defaultDetail: [Kind: String] = [
        .refused: "Connection refused",
        .hostNotFound: "Host not found",
        .dnsTemporaryFailure: "Temporary failure in name resolution",
        .timeout: "Connection timed out",
        .tlsOnPlaintextPort: "TLS handshake failed: the server did not speak TLS",
        .certificateUntrusted: "Certificate not trusted",
        .certificateExpired: "Certificate expired",
        .certificateHostnameMismatch: "Certificate host name mismatch",
        .resetMidSession: "Connection reset by peer",
        .notAllowed: "Not allowed by this server's policy",
        .tooSlow: "The server answered too slowly",
        .replyOverLimit: "The server's reply went over a limit",
    ]
}

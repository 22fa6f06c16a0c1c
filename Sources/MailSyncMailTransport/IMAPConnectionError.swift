import MailSyncIMAP
import MailSyncErrors

/// Why an IMAP connection could not be made, or a command failed.
///
/// `failure` keeps the server's own words (a tagged `NO`/`BAD` line, a `BYE`, or the system's words
/// for a connection failure) for the error log; `diagnosis` classifies it with `MailErrorClassifier`.
public struct IMAPConnectionError: Error, Sendable, CustomStringConvertible {
    public var failure: MailFailure
    /// libcurl's result code when libcurl reported the failure (67 = CURLE_LOGIN_DENIED, 7 =
    /// CURLE_COULDNT_CONNECT, …), `nil` for failures seen in our own IMAP exchange.
    public var curlCode: Int?
    /// libcurl's own message (CURLOPT_ERRORBUFFER), if any.
    public var curlMessage: String?
    /// The server's response lines libcurl saw while connecting (greeting, CAPABILITY, the
    /// tagged login reply), captured with CURLOPT_DEBUGFUNCTION. Our own commands are never kept
    /// (LOGIN carries the password).
    public var transcript: [String]
    /// For a command that completed with `NO` or `BAD`: everything the server sent for it,
    /// the tagged completion last.
    public var responses: [MailSyncIMAP.IMAPResponse]
    /// When the outbound policy refused the destination (``ConnectionFailure/Kind/notAllowed``):
    /// which address and why, for the operator's log only (callers see the kind, never this).
    public var policyRefusal: OutboundPolicy.Refusal?
    /// For a failed connect or login: how far it got and when (nil for failures after login).
    public var timings: ConnectTimings?
    /// The last lines of the exchange before the failure, redacted (``IMAPExchangeLog``): no
    /// credentials, tokens, message bodies or headers. Empty when nothing was exchanged.
    public var exchange: [String] = []

    init(
        _ failure: MailFailure, curlCode: Int? = nil, curlMessage: String? = nil, transcript: [String] = [],
        responses: [MailSyncIMAP.IMAPResponse] = [], policyRefusal: OutboundPolicy.Refusal? = nil
    ) {
        self.policyRefusal = policyRefusal
        self.failure = failure
        self.curlCode = curlCode
        self.curlMessage = curlMessage
        self.transcript = transcript
        self.responses = responses
    }

    public var diagnosis: Diagnosis { MailErrorClassifier.classify(failure) }

    /// The server's words (or the system's, for a connection failure), verbatim.
    public var serverText: String { diagnosis.serverText }

    public var description: String {
        var text = "IMAP \(diagnosis.errorClass): \(serverText)"
        if let curlCode { text += " (curl \(curlCode)\(curlMessage.map { ": " + $0 } ?? ""))" }
        return text
    }
}

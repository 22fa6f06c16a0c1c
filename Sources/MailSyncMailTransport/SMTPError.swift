import MailSyncErrors

/// Why a message could not be sent.
///
/// `failure` keeps the server's own words — the 4xx/5xx reply it gave (to the greeting, `AUTH`,
/// `MAIL FROM`, `RCPT TO` or the message), multi-line replies whole — or the system's words for a
/// connection failure; `diagnosis` classifies it with `MailErrorClassifier` (class, fix, retry).
/// When this is thrown, the server did not accept the message: nothing was sent.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public var failure: MailFailure
    /// libcurl's result code (67 = CURLE_LOGIN_DENIED, 55 = CURLE_SEND_ERROR after a refused
    /// `MAIL`/`RCPT`, 7 = CURLE_COULDNT_CONNECT, 28 = CURLE_OPERATION_TIMEDOUT, …), if any.
    public var curlCode: Int?
    /// libcurl's own message (CURLOPT_ERRORBUFFER), if any.
    public var curlMessage: String?
    /// Every reply line the server sent (captured with CURLOPT_DEBUGFUNCTION). Our own commands
    /// are never kept: `AUTH` carries the password.
    public var transcript: [String]
    /// When the outbound policy refused the destination: which address and why, for the
    /// operator's log only (callers see ``ConnectionFailure/Kind/notAllowed``, never this).
    public var policyRefusal: OutboundPolicy.Refusal?

    init(_ failure: MailFailure, curlCode: Int? = nil, curlMessage: String? = nil, transcript: [String] = [], policyRefusal: OutboundPolicy.Refusal? = nil) {
        self.policyRefusal = policyRefusal
        self.failure = failure
        self.curlCode = curlCode
        self.curlMessage = curlMessage
        self.transcript = transcript
    }

    public var diagnosis: Diagnosis { MailErrorClassifier.classify(failure) }

    /// The server's words (or the system's, for a connection failure), verbatim.
    public var serverText: String { diagnosis.serverText }

    public var description: String {
        var text = "SMTP \(diagnosis.errorClass): \(serverText)"
        if let curlCode { text += " (curl \(curlCode)\(curlMessage.map { ": " + $0 } ?? ""))" }
        return text
    }
}

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
    /// Set when Mail Sync itself stopped the send before `MAIL FROM`, not the server.
    public var stop: Stop?

    /// Why Mail Sync stopped a send before `MAIL FROM`.
    public enum Stop: Sendable, Hashable {
        /// The server offered no `AUTH` (after STARTTLS, when used) and the send requires a
        /// login: `failure` is the server's last `EHLO` reply.
        case noAuthenticationOffered(host: String, port: Int)
        /// The login name or secret holds a control character; nothing was connected.
        case controlCharacters(field: String)
    }

    init(_ failure: MailFailure, curlCode: Int? = nil, curlMessage: String? = nil, transcript: [String] = [], policyRefusal: OutboundPolicy.Refusal? = nil) {
        self.policyRefusal = policyRefusal
        self.failure = failure
        self.curlCode = curlCode
        self.curlMessage = curlMessage
        self.transcript = transcript
    }

    init(stop: Stop, host: String, port: Int, transcript: [String] = [], curlCode: Int? = nil) {
        let ehlo = SMTPTranscript.replies(transcript).last { $0.code == 250 }
        let reply = ehlo ?? SMTPReply(code: 250, text: "(no EHLO reply)")
        self.init(.smtp(reply), curlCode: curlCode, transcript: transcript)
        self.stop = stop
    }

    /// The class and fix: the classifier's for what the server said; configuration (change the
    /// settings) when Mail Sync stopped the send itself.
    public var diagnosis: Diagnosis {
        switch stop {
        case nil:
            return MailErrorClassifier.classify(failure)
        case .noAuthenticationOffered(let host, let port):
            return Diagnosis(
                errorClass: .configuration, hint: Self.noAuthenticationHint(host: host, port: port), retry: .untilSettingsChange,
                serverText: MailErrorClassifier.classify(failure).serverText, rule: "smtp.noAuthenticationOffered")
        case .controlCharacters(let field):
            return Diagnosis(
                errorClass: .configuration,
                hint: "The stored \(field) holds a control character (such as a line break), which cannot be sent to a mail server safely. Enter it again with UpdateMailboxCredentials.",
                retry: .untilSettingsChange, serverText: "(not sent: the \(field) holds a control character)", rule: "smtp.controlCharacters")
        }
    }

    /// What the user reads when the server offered no authentication.
    public static func noAuthenticationHint(host: String, port: Int) -> String {
        "The SMTP server \(host) (port \(port)) offered no authentication; Mail Sync only sends through servers that check the sender's login. Check the SMTP server, port and security in the mailbox's settings: your provider's submission server (usually port 587 with STARTTLS, or 465 with SSL/TLS) asks for the login. If this server is a relay your organisation trusts, ask the Mail Sync operator to allow it (smtpRelaysWithoutAuth)."
    }

    /// The server's words (or the system's, for a connection failure), verbatim.
    public var serverText: String { diagnosis.serverText }

    public var description: String {
        var text = "SMTP \(diagnosis.errorClass): \(serverText)"
        if let curlCode { text += " (curl \(curlCode)\(curlMessage.map { ": " + $0 } ?? ""))" }
        return text
    }
}

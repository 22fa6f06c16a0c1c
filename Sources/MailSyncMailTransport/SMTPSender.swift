import CCurl
import Foundation
import MailSyncErrors

/// Sends one message through a mail server's SMTP submission port with libcurl.
///
/// libcurl does the connection, TLS (implicit `smtps://`, or STARTTLS required with
/// `CURLUSESSL_ALL`), `EHLO`, authentication (PLAIN or LOGIN with a password; XOAUTH2 or
/// OAUTHBEARER with ``Credentials/oauthBearer(_:)``), `MAIL FROM`, one `RCPT TO` per recipient
/// (any refused recipient fails the whole send), `DATA` with dot-stuffing and the final `.`, and
/// `QUIT`. The message is uploaded as given: it must already use CRLF line ends and end in
/// CRLF (``MIMEMessage/build()`` makes such bytes), or libcurl adds a CRLF before the final dot.
///
/// Each send runs on a thread of a ``CurlWorkerPool`` (a fixed number of threads), never on
/// Swift's cooperative pool. One connection per message: no connection reuse. Cancelling the
/// calling task does not interrupt a send in progress (stopping in the middle of `DATA` could
/// leave it unknown whether the mail went out); `timeout` bounds it.
///
/// Authentication is required by default: when the server offered no `AUTH` (after STARTTLS,
/// when used), libcurl would skip the login and send anyway; the send stops before `MAIL FROM`
/// instead and throws ``SMTPError`` with ``SMTPError/Stop/noAuthenticationOffered``. A server
/// trusted to relay without a login (``Server/requiresAuthentication`` false) is the exception.
/// Credentials holding control characters (CR, LF, NUL, …) are refused before connecting: they
/// could end the `AUTH` command line and start another.
///
/// XOAUTH2: passed to libcurl as `CURLOPT_XOAUTH2_BEARER`, the same path the IMAP connection
/// uses; not yet tested against a server here (the OAuth work will).
public enum SMTPSender {
    public enum Security: Sendable, Hashable {
        /// Plain text (`smtp://`, no TLS at all): only when the mailbox says so. Tests and trusted
        /// networks only.
        case none
        /// `smtp://` then STARTTLS, required (usually port 587): no login without TLS.
        case starttls
        /// Implicit TLS (`smtps://`, usually port 465).
        case tls
    }

    public typealias Credentials = IMAPConnection.Credentials
    public typealias TLSOptions = IMAPConnection.TLSOptions

    /// Where and as whom to send.
    public struct Server: Sendable {
        public var host: String
        public var port: Int
        public var security: Security
        public var username: String
        public var credentials: Credentials
        public var tls: TLSOptions
        /// Forces a mechanism (`"AUTH=PLAIN"`, `"AUTH=XOAUTH2"`; CURLOPT_LOGIN_OPTIONS).
        public var loginOptions: String?
        /// Where the connection may go (default ``OutboundPolicy/standard``); a refusal is
        /// ``ConnectionFailure/Kind/notAllowed`` before any socket is opened.
        public var policy: OutboundPolicy
        /// Whether the send must log in. Default true: a server that offers no `AUTH` is refused
        /// before `MAIL FROM`. False only for a relay the operator trusts to send without a login.
        public var requiresAuthentication: Bool

        public init(
            host: String, port: Int, security: Security, username: String, credentials: Credentials,
            tls: TLSOptions = TLSOptions(), loginOptions: String? = nil, requiresAuthentication: Bool = true,
            policy: OutboundPolicy = .standard
        ) {
            self.policy = policy
            self.requiresAuthentication = requiresAuthentication
            self.host = host
            self.port = port
            self.security = security
            self.username = username
            self.credentials = credentials
            self.tls = tls
            self.loginOptions = loginOptions
        }
    }

    /// Sends `message` to `envelope`'s recipients.
    ///
    /// - Parameters:
    ///   - connectTimeout: TCP connect (and, for implicit TLS, the handshake). Default 30 s.
    ///   - timeout: the whole transaction, from connect to the server's answer to the message.
    ///     Default 120 s.
    ///   - workers: the threads the send runs on. Default ``CurlWorkerPool/sharedSMTP``; a send
    ///     finding every worker busy waits in the pool's queue.
    /// - Returns: the server's answer to the message (`250 2.0.0 OK … queued as …`).
    /// - Throws: ``SMTPError`` when the server refused (its reply, classified), could not be
    ///   reached, offered no authentication, or the credentials hold control characters; then the
    ///   message was not accepted.
    public static func send(
        _ message: [UInt8], envelope: SMTPEnvelope, server: Server,
        connectTimeout: Duration = .seconds(30), timeout: Duration = .seconds(120), workers: CurlWorkerPool = .sharedSMTP
    ) async throws(SMTPError) -> SMTPReceipt {
        if let field = LoginText.fieldWithControlCharacters(username: server.username, credentials: server.credentials) {
            throw SMTPError(stop: .controlCharacters(field: field), host: server.host, port: server.port)
        }
        let parameters = CurlSMTPTransfer.Parameters(
            server: server, envelope: envelope, message: message, connectTimeout: connectTimeout, timeout: timeout)
        let result: Result<SMTPReceipt, SMTPError> = await withCheckedContinuation { continuation in
            let queued = workers.submit {
                continuation.resume(returning: CurlSMTPTransfer.perform(parameters))
            }
            if !queued {
                continuation.resume(returning: .failure(SMTPError(.connection(ConnectionFailure(
                    .resetMidSession, host: server.host, port: server.port, detail: "the server is shutting down; the message was not sent")))))
            }
        }
        return try result.get()
    }
}

/// What the server said when it accepted a message.
public struct SMTPReceipt: Sendable {
    /// The reply to the message's final `.` (`250 2.0.0 OK … queued as …`), if it could be read.
    public var reply: SMTPReply?
    /// Every reply line of the session.
    public var transcript: [String]
}

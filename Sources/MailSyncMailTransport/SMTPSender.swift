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
/// Each send runs on its own ``CurlThread``, never on Swift's cooperative pool, and ends it when
/// done. One connection per message: no connection reuse. Cancelling the calling task does not
/// interrupt a send in progress (stopping in the middle of `DATA` could leave it unknown whether
/// the mail went out); `timeout` bounds it.
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

        public init(
            host: String, port: Int, security: Security, username: String, credentials: Credentials,
            tls: TLSOptions = TLSOptions(), loginOptions: String? = nil, policy: OutboundPolicy = .standard
        ) {
            self.policy = policy
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
    /// - Returns: the server's answer to the message (`250 2.0.0 OK … queued as …`).
    /// - Throws: ``SMTPError`` when the server refused (its reply, classified) or could not be
    ///   reached; then the message was not accepted.
    public static func send(
        _ message: [UInt8], envelope: SMTPEnvelope, server: Server,
        connectTimeout: Duration = .seconds(30), timeout: Duration = .seconds(120)
    ) async throws(SMTPError) -> SMTPReceipt {
        let parameters = CurlSMTPTransfer.Parameters(
            server: server, envelope: envelope, message: message, connectTimeout: connectTimeout, timeout: timeout)
        let thread = CurlThread(name: "smtp \(server.host)")
        let result: Result<SMTPReceipt, SMTPError> = await withCheckedContinuation { continuation in
            thread.finish {
                continuation.resume(returning: CurlSMTPTransfer.perform(parameters))
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

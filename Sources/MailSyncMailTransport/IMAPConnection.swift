import CCurl
import Foundation
import Synchronization
import MailSyncErrors
import MailSyncIMAP

#if canImport(Glibc)
import Glibc
#endif

/// A logged-in IMAP connection: libcurl connects, does TLS (implicit or STARTTLS), reads the
/// greeting and logs in (`CURLOPT_CONNECT_ONLY`); then this type speaks IMAP itself over
/// `curl_easy_send` / `curl_easy_recv`, so literals (8-bit subjects, message bodies) arrive intact
/// and are parsed by `IMAPResponseDecoder`.
///
/// Every libcurl call runs on the connection's own thread (``CurlThread``); the async API waits
/// with continuations, so the cooperative pool never blocks. Commands run one at a time, in the
/// order they were called. A connection that failed (reset, timeout, garbage from the server)
/// stays failed: later commands throw the same error at once; open a new one. A connection must
/// be closed (``close()``): its thread and curl handle live until then.
///
/// ```swift
/// let imap = try await IMAPConnection.connect(host: "imap.example.com", port: 993, security: .tls,
///                                             username: "alice", password: "secret")
/// let select = try await imap.command("SELECT INBOX")
/// await imap.close()
/// ```
public final class IMAPConnection: @unchecked Sendable {
    public enum Security: Sendable, Hashable {
        /// Plain text (`imap://`, no TLS at all). Tests and trusted networks only.
        case none
        /// `imap://` then STARTTLS, required (`CURLUSESSL_ALL`): no login without TLS.
        case starttls
        /// Implicit TLS (`imaps://`, usually port 993).
        case tls
    }

    public enum Credentials: Sendable {
        /// LOGIN or AUTHENTICATE PLAIN/LOGIN, as the server offers.
        case password(String)
        /// An OAuth 2.0 access token (`CURLOPT_XOAUTH2_BEARER`), sent as XOAUTH2 or OAUTHBEARER.
        case oauthBearer(String)
    }

    /// Certificate checks for `.starttls` and `.tls`.
    public struct TLSOptions: Sendable {
        /// A PEM bundle to trust instead of the system's (e.g. a test server's self-signed cert).
        public var caFile: String?
        public var verifyPeer: Bool
        public var verifyHost: Bool

        public init(caFile: String? = nil, verifyPeer: Bool = true, verifyHost: Bool = true) {
            self.caFile = caFile
            self.verifyPeer = verifyPeer
            self.verifyHost = verifyHost
        }
    }

    public let host: String
    public let port: Int
    /// The server's response lines during connect and login (greeting, capabilities, the tagged OK).
    public let loginTranscript: [String]
    /// How long resolving, connecting, TLS and the login took.
    public let connectTimings: ConnectTimings
    /// How long a command (or pipelined batch) may take in all, from sending to its completion,
    /// before the connection is given up: a deadline that bytes trickling in do not extend.
    public let commandTimeout: Duration

    let thread: CurlThread
    /// Touched only on `thread` (``roundTrips`` excepted: an atomic).
    let session: CurlIMAPSession
    /// The capabilities after login, once known (``capabilities()``).
    let capabilityCache = Mutex<Set<String>?>(nil)
    private let deadlineBox = Mutex<ContinuousClock.Instant?>(nil)
    private let downloadLimitBox = Mutex<Int64?>(nil)

    /// How many bytes (``bytesReceived``) this connection may receive in all: once reached, the
    /// next command is not sent but fails with ``ConnectionFailure/Kind/dailyLimitReached`` and
    /// the connection is unusable (a sync's share of the provider's daily download limit). A
    /// reply already asked for completes, so the limit can be passed by up to one command's reply
    /// (bounded by its ``IMAPReplyBudget``). Default nil: none.
    public var downloadLimit: Int64? {
        get { downloadLimitBox.withLock { $0 } }
        set { downloadLimitBox.withLock { $0 = newValue } }
    }
    /// The wake-up of the IDLE in progress, if any: ``close()`` signals it so the thread is free.
    let idleWakeup = Mutex<IdleWakeup?>(nil)

    /// When every command must have completed, whatever its own timeout: the caller's budget for
    /// all its work on this connection (a sync run's). A command still waiting then fails with
    /// ``ConnectionFailure/Kind/tooSlow`` and the connection is unusable. Default nil: none.
    public var runDeadline: ContinuousClock.Instant? {
        get { deadlineBox.withLock { $0 } }
        set { deadlineBox.withLock { $0 = newValue } }
    }

    private init(
        host: String, port: Int, transcript: [String], timings: ConnectTimings, commandTimeout: Duration, thread: CurlThread,
        session: CurlIMAPSession
    ) {
        self.host = host
        self.port = port
        self.loginTranscript = transcript
        self.connectTimings = timings
        self.commandTimeout = commandTimeout
        self.thread = thread
        self.session = session
    }

    /// Connects and logs in with a password. See ``connect(host:port:security:username:credentials:timeout:commandTimeout:tls:loginOptions:)``.
    public static func connect(
        host: String, port: Int, security: Security, username: String, password: String,
        timeout: Duration = .seconds(30), commandTimeout: Duration = .seconds(120), tls: TLSOptions = TLSOptions(),
        policy: OutboundPolicy = .standard
    ) async throws(IMAPConnectionError) -> IMAPConnection {
        try await connect(
            host: host, port: port, security: security, username: username, credentials: .password(password),
            timeout: timeout, commandTimeout: commandTimeout, tls: tls, policy: policy)
    }

    /// Connects, does TLS as `security` says, reads the greeting and logs in, all within `timeout`.
    ///
    /// `policy` decides where the connection may go (default ``OutboundPolicy/standard``: public
    /// addresses, TLS): judged on the host as given and then on every address it resolves to,
    /// before a socket is opened. A refusal throws ``ConnectionFailure/Kind/notAllowed`` with
    /// the details in ``IMAPConnectionError/policyRefusal``.
    ///
    /// `loginOptions` forces a mechanism (`"AUTH=XOAUTH2"`, `"AUTH=PLAIN"`; CURLOPT_LOGIN_OPTIONS).
    /// Throws ``IMAPConnectionError``: a refused login carries the server's tagged `NO` line
    /// (phase `.authenticate`); a failed connection carries the system's words (phase-less
    /// `.connection`). A login name or credential holding a control character (CR, LF, NUL, …) is
    /// refused before connecting, as an authentication failure.
    public static func connect(
        host: String, port: Int, security: Security, username: String, credentials: Credentials,
        timeout: Duration = .seconds(30), commandTimeout: Duration = .seconds(120), tls: TLSOptions = TLSOptions(),
        loginOptions: String? = nil, policy: OutboundPolicy = .standard
    ) async throws(IMAPConnectionError) -> IMAPConnection {
        try await connect(
            host: host, port: port, security: security, username: username, credentials: credentials, timeout: timeout,
            commandTimeout: commandTimeout, tls: tls, loginOptions: loginOptions, policy: policy, dnsAnswers: [])
    }

    /// ``connect(host:port:security:username:credentials:timeout:commandTimeout:tls:loginOptions:policy:)``
    /// with DNS answers of the caller's (`host:port:address`, `CURLOPT_RESOLVE`): tests play a
    /// hostile resolver with it.
    static func connect(
        host: String, port: Int, security: Security, username: String, credentials: Credentials, timeout: Duration,
        commandTimeout: Duration, tls: TLSOptions, loginOptions: String?, policy: OutboundPolicy, dnsAnswers: [String]
    ) async throws(IMAPConnectionError) -> IMAPConnection {
        if let field = LoginText.fieldWithControlCharacters(username: username, credentials: credentials) {
            // Never sent: a CR LF in LOGIN's arguments would start a second command.
            throw IMAPConnectionError(.imap(MailSyncErrors.IMAPResponse(
                status: .no, text: "(not sent) the \(field) holds a control character such as a line break; enter it again",
                phase: .authenticate)))
        }
        let thread = CurlThread(name: "imap \(host)")
        let parameters = CurlIMAPSession.Parameters(
            host: host, port: port, security: security, username: username, credentials: credentials,
            timeout: timeout, tls: tls, loginOptions: loginOptions, policy: policy, dnsAnswers: dnsAnswers)
        let result: Result<(CurlIMAPSession, [String], ConnectTimings), IMAPConnectionError> = await withCheckedContinuation { continuation in
            thread.submit {
                continuation.resume(returning: CurlIMAPSession.open(parameters))
            }
        }
        switch result {
        case .success(let (session, transcript, timings)):
            return IMAPConnection(
                host: host, port: port, transcript: transcript, timings: timings, commandTimeout: commandTimeout, thread: thread,
                session: session)
        case .failure(let error):
            thread.finish(with: {})
            throw error
        }
    }

    /// Sends `tagN text` and returns every response up to and including its tagged completion.
    ///
    /// `text` is one command line without CRLF (no literals from our side yet). Throws
    /// ``IMAPConnectionError`` for a tagged `NO`/`BAD` (with the responses), and for a connection
    /// that broke, timed out (`timeout`, default ``commandTimeout``: the whole command, however
    /// slowly the server sends; or ``runDeadline``), sent what the decoder refuses or more than
    /// `budget` allows (``pipeline(_:timeout:budget:)``); after those the connection is unusable.
    public func command(
        _ text: String, timeout: Duration? = nil, budget: IMAPReplyBudget = .standard
    ) async throws(IMAPConnectionError) -> [MailSyncIMAP.IMAPResponse] {
        try await pipeline([text], timeout: timeout, budget: budget)[0]
    }

    /// Sends `LOGOUT` (briefly, errors ignored) unless the connection already failed, frees the
    /// curl handle and ends the thread. Idempotent; commands afterwards throw. An ``idle(for:budget:)``
    /// in progress is ended first (it sends `DONE`).
    public func close() async {
        idleWakeup.withLock { $0?.signal() }
        let session = self.session
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queued = thread.finish {
                session.close()
                continuation.resume()
            }
            // A second close: the first one already ended (or will end) the session.
            if !queued { continuation.resume() }
        }
    }
}

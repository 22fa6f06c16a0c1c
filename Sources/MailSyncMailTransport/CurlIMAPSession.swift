import CCurl
import Foundation
import Synchronization
import MailSyncErrors
import MailSyncIMAP

#if canImport(Glibc)
import Glibc
#endif

/// The server lines libcurl saw, from CURLOPT_DEBUGFUNCTION (`CURLINFO_HEADER_IN` only: what the
/// server sent; `HEADER_OUT` would include our LOGIN and its password).
final class CurlTranscript {
    var lines: [String] = []
    private var partial: [UInt8] = []

    func received(_ bytes: UnsafeBufferPointer<UInt8>) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
                lines.append(String(decoding: partial, as: UTF8.self))
                partial.removeAll(keepingCapacity: true)
            } else {
                partial.append(byte)
            }
        }
    }
}

private let debugCallback: ccurl_debug_callback = { _, type, data, size, userdata in
    guard type == CURLINFO_HEADER_IN, let data, let userdata else { return 0 }
    let transcript = Unmanaged<CurlTranscript>.fromOpaque(userdata).takeUnretainedValue()
    data.withMemoryRebound(to: UInt8.self, capacity: size) {
        transcript.received(UnsafeBufferPointer(start: $0, count: size))
    }
    return 0
}

/// A curl easy handle in CONNECT_ONLY mode and our IMAP exchange over it. Thread-confined: every
/// method runs on the owning ``CurlThread``.
final class CurlIMAPSession: @unchecked Sendable {
    struct Parameters: Sendable {
        var host: String
        var port: Int
        var security: IMAPConnection.Security
        var username: String
        var credentials: IMAPConnection.Credentials
        var timeout: Duration
        var tls: IMAPConnection.TLSOptions
        var loginOptions: String?
        var policy: OutboundPolicy
        var dnsAnswers: [String] = []
    }

    var handle: UnsafeMutableRawPointer?
    let socket: curl_socket_t
    let host: String
    let port: Int
    var decoder = IMAPResponseDecoder()
    var nextTag = 1
    /// Set once the connection is unusable; every later command throws it.
    var failed: IMAPConnectionError?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The budget of the command running and what it asks for; bounds what may wait unframed
    /// in the decoder.
    var replyBudget = (budget: IMAPReplyBudget.standard, what: "")
    /// Bytes read from the server and commands sent since connect (after login); read from any thread.
    let bytesReceived = Atomic<Int64>(0)
    let commandsSent = Atomic<Int>(0)
    /// The redacted exchange so far, for the error of a failure (``IMAPExchangeLog``).
    var exchange = IMAPExchangeLog()
    /// Read from any thread (``IMAPConnection/roundTrips``); written on the session's thread.
    let roundTripCount = Atomic<Int>(0)

    private init(handle: UnsafeMutableRawPointer, socket: curl_socket_t, host: String, port: Int) {
        self.handle = handle
        self.socket = socket
        self.host = host
        self.port = port
    }

    // MARK: - Connect and login

    static func open(_ p: Parameters) -> Result<(CurlIMAPSession, [String], ConnectTimings), IMAPConnectionError> {
        guard CurlGlobal.initialized, let handle = curl_easy_init() else {
            return .failure(IMAPConnectionError(.connection(ConnectionFailure(.resetMidSession, host: p.host, port: p.port, detail: "libcurl could not be initialized"))))
        }
        let transcript = CurlTranscript()
        let transcriptPointer = Unmanaged.passRetained(transcript)
        defer { transcriptPointer.release() }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }

        let login = CurlLogin(
            scheme: p.security == .tls ? "imaps" : "imap", host: p.host, port: p.port, path: "/", username: p.username,
            credentials: p.credentials, loginOptions: p.loginOptions, requiresTLS: p.security != .none, tls: p.tls,
            policy: p.policy, dnsAnswers: p.dnsAnswers)
        if let refusal = login.refusalBeforeResolving() {
            curl_easy_cleanup(handle)
            return .failure(IMAPConnectionError(.connection(ConnectionFailure(.notAllowed, host: p.host, port: p.port)), policyRefusal: refusal))
        }
        let gate = login.makeGate()
        login.apply(to: handle, errorBuffer: errorBuffer, gate: gate)
        _ = ccurl_setopt_connect_only(handle, 1)
        let milliseconds = max(1, Int(p.timeout.components.seconds * 1000 + p.timeout.components.attoseconds / 1_000_000_000_000_000))
        _ = ccurl_setopt_connecttimeout_ms(handle, milliseconds)
        _ = ccurl_setopt_timeout_ms(handle, milliseconds)  // connect + TLS + greeting + login
        _ = ccurl_setopt_debugfunction(handle, debugCallback)
        _ = ccurl_setopt_debugdata(handle, transcriptPointer.toOpaque())
        _ = ccurl_setopt_verbose(handle, 1)

        let code = withExtendedLifetime(gate) { curl_easy_perform(handle) }
        // Connected (or not): no new socket may be opened through a gate that goes away.
        OutboundGate.uninstall(from: handle)
        // The debug callback only runs with VERBOSE; stop it before the transcript goes away.
        _ = ccurl_setopt_verbose(handle, 0)
        _ = ccurl_setopt_debugfunction(handle, nil)
        _ = ccurl_setopt_debugdata(handle, nil)
        // The timeout must not apply to the session that follows.
        _ = ccurl_setopt_timeout_ms(handle, 0)
        // curl keeps the error buffer pointer and writes to it on later calls (send, recv,
        // cleanup): it must not outlive this function's buffer (a use-after-free corrupted the
        // heap before this line existed).
        let message = String(cString: errorBuffer)
        _ = ccurl_setopt_errorbuffer(handle, nil)

        let lines = transcript.lines
        let timings = ConnectTimings.read(handle)
        if code != CURLE_OK, let refusal = gate.refusal, gate.connects == 0 {
            curl_easy_cleanup(handle)
            var error = IMAPConnectionError(.connection(ConnectionFailure(.notAllowed, host: p.host, port: p.port)), policyRefusal: refusal)
            error.timings = timings
            return .failure(error)
        }
        guard code == CURLE_OK else {
            var osErrno = 0
            _ = ccurl_getinfo_os_errno(handle, &osErrno)
            let curlMessage = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
            curl_easy_cleanup(handle)
            let failure = classify(code: code, osErrno: Int32(osErrno), message: curlMessage, transcript: lines, host: p.host, port: p.port)
            var error = IMAPConnectionError(failure, curlCode: Int(code.rawValue), curlMessage: curlMessage, transcript: lines)
            error.timings = timings
            error.exchange = IMAPExchangeLog(loginTranscript: lines).lines
            return .failure(error)
        }
        var socket: curl_socket_t = -1
        guard ccurl_getinfo_activesocket(handle, &socket) == CURLE_OK, socket >= 0 else {
            curl_easy_cleanup(handle)
            return .failure(IMAPConnectionError(.connection(ConnectionFailure(.resetMidSession, host: p.host, port: p.port, detail: "libcurl gave no socket after login")), transcript: lines))
        }
        let session = CurlIMAPSession(handle: handle, socket: socket, host: p.host, port: p.port)
        session.exchange = IMAPExchangeLog(loginTranscript: lines)
        return .success((session, lines, timings))
    }

    /// A failed curl_easy_perform as a `MailFailure`: the server's own line when it sent one
    /// (tagged `NO`/`BAD` to the login, `BYE` in the greeting), otherwise the connection failure.
    static func classify(code: CURLcode, osErrno: Int32, message: String, transcript: [String], host: String, port: Int) -> MailFailure {
        // The greeting refused us (`* BYE Too many connections`): the server's words, phase greeting.
        if let first = transcript.first, let bye = MailSyncErrors.IMAPResponse(line: first, phase: .greeting), bye.status == .bye {
            return .imap(bye)
        }
        // A tagged NO/BAD during login (CURLE_LOGIN_DENIED, or another code after a BAD).
        if let line = transcript.last(where: { line in MailSyncErrors.IMAPResponse(line: line, phase: .authenticate).map { $0.tag != nil } ?? false }),
            let response = MailSyncErrors.IMAPResponse(line: line, phase: .authenticate)
        {
            return .imap(response)
        }
        if code == CURLE_LOGIN_DENIED {
            return .imap(MailSyncErrors.IMAPResponse(status: .no, text: message, phase: .authenticate))
        }
        let kind = CurlFailureKind.of(code: code, osErrno: osErrno, message: message)
        // The system's words ("Connection refused") read better in the error log than curl's.
        let detail = code == CURLE_COULDNT_CONNECT && osErrno != 0 ? String(cString: strerror(osErrno)) : message
        return .connection(ConnectionFailure(kind, host: host, port: port, detail: detail))
    }

    // MARK: - Commands

    func closedError() -> IMAPConnectionError {
        failed ?? IMAPConnectionError(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: "the connection was closed")))
    }

    func run(
        _ text: String, timeout: Duration, runDeadline: ContinuousClock.Instant? = nil, budget: IMAPReplyBudget = .standard
    ) -> Result<[MailSyncIMAP.IMAPResponse], IMAPConnectionError> {
        run([text], timeout: timeout, runDeadline: runDeadline, budget: budget).map { $0[0] }
    }

    /// Sends every command line at once (tags `aN` in order: one round trip), then reads until
    /// each has its tagged completion. Untagged responses go to the first command not yet
    /// completed: the one the server was working on when they came (unsolicited EXISTS/EXPUNGE/
    /// FETCH included). A tagged response with an unknown tag goes there too.
    ///
    /// The replies are held to `budget` (``IMAPReplyBudget``): bytes charged as they are framed,
    /// responses nobody asked for (``ReplyExpectation``) kept up to its bound, then dropped, and
    /// past its larger bound the call fails; any excess leaves the connection failed.
    ///
    /// A `NO`/`BAD` to any command fails the whole call, but only after every completion was read,
    /// so the connection stays in step and usable; the first failing command's responses go with
    /// the error.
    /// `timeout` is absolute: the whole batch, from sending to its last completion, however the
    /// server trickles its bytes; `runDeadline`, when earlier, cuts it (the caller's run budget).
    func run(
        _ texts: [String], timeout: Duration, runDeadline: ContinuousClock.Instant? = nil, downloadLimit: Int64? = nil,
        budget: IMAPReplyBudget = .standard
    ) -> Result<[[MailSyncIMAP.IMAPResponse]], IMAPConnectionError> {
        if let failed { return .failure(failed) }
        // Checked before sending: a reply already asked for completes (so a batch in progress can
        // commit), and the next command is not sent.
        if let downloadLimit, bytesReceived.load(ordering: .relaxed) >= downloadLimit {
            return .failure(broken(.connection(ConnectionFailure(
                .dailyLimitReached, host: host, port: port, detail: "the mailbox's daily download budget for its provider is nearly used"))))
        }
        let deadline = CommandDeadline(timeout: timeout, runDeadline: runDeadline)
        guard handle != nil else { return .failure(closedError()) }
        guard !texts.isEmpty else { return .success([]) }
        var tags: [String] = []
        var bytes: [UInt8] = []
        for text in texts {
            let tag = "a\(nextTag)"
            nextTag += 1
            tags.append(tag)
            bytes.append(contentsOf: "\(tag) \(text)\r\n".utf8)
            exchange.command("\(tag) \(text)")
        }
        let indexByTag = Dictionary(uniqueKeysWithValues: tags.enumerated().map { ($1, $0) })
        roundTripCount.wrappingAdd(1, ordering: .relaxed)
        commandsSent.wrappingAdd(texts.count, ordering: .relaxed)
        decoder.budget = IMAPByteBudget(maxBytes: budget.maxBytes, maxLiteralSize: budget.maxLiteralSize)
        let expectation = ReplyExpectation(commands: texts, fetchUIDs: budget.fetchUIDs)
        let what = budget.purpose ?? ReplyExpectation.name(of: texts[0])
        replyBudget = (budget, what)
        var unsolicited = 0
        do throws(IMAPConnectionError) {
            try send(bytes, deadline: deadline)
            var buckets = [[MailSyncIMAP.IMAPResponse]](repeating: [], count: texts.count)
            var completed = [Bool](repeating: false, count: texts.count)
            var current = 0  // the first command not yet completed
            var failure: (index: Int, status: StatusResponse)?
            var bye: StatusResponse?
            while current < texts.count {
                guard let response = try nextResponse(budget: budget, what: what) else {
                    try receive(deadline: deadline, bye: bye, phase: Self.phase(of: texts[current]))
                    continue
                }
                exchange.response(response)
                if case .tagged(let tag, let status) = response, let index = indexByTag[tag], !completed[index] {
                    buckets[index].append(response)
                    completed[index] = true
                    if failure == nil, status.condition == .no || status.condition == .bad { failure = (index, status) }
                    while current < texts.count && completed[current] { current += 1 }
                    continue
                }
                switch response {
                case .untagged(.status(let status)) where status.condition == .bye && bye == nil:
                    bye = status
                    buckets[current].append(response)
                case .untagged(let untagged) where expectation.asked(untagged):
                    buckets[current].append(response)
                default:
                    // Nobody asked for it: kept while few, then only counted.
                    unsolicited += 1
                    if unsolicited > budget.maxUnsolicited {
                        throw broken(ReplyOverLimit.unsolicited(
                            limit: budget.maxUnsolicited, what: what, last: ReplyOverLimit.quote(response), host: host, port: port))
                    }
                    if unsolicited <= budget.maxUnsolicitedKept { buckets[current].append(response) }
                }
            }
            if let failure {
                let imap = MailSyncErrors.IMAPResponse(
                    status: failure.status.condition == .no ? .no : .bad, text: Self.respText(failure.status),
                    phase: Self.phase(of: texts[failure.index]), tag: tags[failure.index])
                var error = IMAPConnectionError(.imap(imap), responses: buckets[failure.index])
                error.exchange = exchange.lines
                return .failure(error)
            }
            return .success(buckets)
        } catch {
            return .failure(error)
        }
    }

    /// Commands sent in batches since connect (each batch is one wait for the server).
    var roundTrips: Int { roundTripCount.load(ordering: .relaxed) }

    func nextResponse(budget: IMAPReplyBudget, what: String) throws(IMAPConnectionError) -> MailSyncIMAP.IMAPResponse? {
        do {
            return try decoder.next()
        } catch {
            if let overLimit = ReplyOverLimit.failure(error, budget: budget, what: what, host: host, port: port) {
                throw broken(overLimit)
            }
            throw broken(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: "unreadable server response: \(error.detail)")))
        }
    }

    /// Marks the connection unusable with `failure` and returns the error to throw.
    func broken(_ failure: MailFailure, curlCode: CURLcode? = nil) -> IMAPConnectionError {
        var error = IMAPConnectionError(failure, curlCode: curlCode.map { Int($0.rawValue) }, curlMessage: curlCode.map { String(cString: curl_easy_strerror($0)) })
        error.exchange = exchange.lines
        failed = error
        return error
    }

    func send(_ bytes: [UInt8], deadline: CommandDeadline) throws(IMAPConnectionError) {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = bytes.withUnsafeBytes { raw in
                curl_easy_send(handle, raw.baseAddress! + offset, raw.count - offset, &sent)
            }
            if code == CURLE_OK {
                offset += sent
            } else if code == CURLE_AGAIN {
                // While the server cannot take more, read what it sends (a long pipeline's first
                // answers): otherwise both sides could wait on full socket buffers forever.
                let events = try wait(for: Int16(POLLOUT) | Int16(POLLIN), until: deadline)
                if events & Int16(POLLIN) != 0 { _ = try readAvailable(bye: nil, phase: .other) }
            } else {
                throw broken(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: String(cString: curl_easy_strerror(code)))), curlCode: code)
            }
        }
    }

    /// Reads what is available (waiting until `deadline` for something) into the decoder.
    func receive(deadline: CommandDeadline, bye: StatusResponse?, phase: MailSyncErrors.IMAPResponse.Phase) throws(IMAPConnectionError) {
        while try !readAvailable(bye: bye, phase: phase) {
            try wait(for: Int16(POLLIN), until: deadline)
        }
    }

    /// One non-blocking read into the decoder: true if bytes came, false if none are there yet.
    /// Throws (and marks the connection failed) when the server closed it or the read failed; a
    /// `BYE` the server sent first is given as the reason.
    func readAvailable(bye: StatusResponse?, phase: MailSyncErrors.IMAPResponse.Phase) throws(IMAPConnectionError) -> Bool {
        var received = 0
        let code = buffer.withUnsafeMutableBytes { raw in
            curl_easy_recv(handle, raw.baseAddress!, raw.count, &received)
        }
        if code == CURLE_OK && received > 0 {
            decoder.append(buffer[0..<received])
            bytesReceived.wrappingAdd(Int64(received), ordering: .relaxed)
            // Bytes read while our commands are still being sent are framed (and charged) only
            // later: never let them pile up past what the command may receive at all.
            let limit = replyBudget.budget.maxBytes
            if decoder.bufferedByteCount > limit.saturatingAdd(buffer.count) {
                throw broken(.connection(ConnectionFailure(
                    .replyOverLimit, host: host, port: port,
                    detail: "The IMAP server \(host) sent more than \(ReplyOverLimit.grouped(limit)) bytes in its reply to \(replyBudget.what)")))
            }
            return true
        }
        if code == CURLE_AGAIN { return false }
        if let bye {
            throw broken(.imap(MailSyncErrors.IMAPResponse(status: .bye, text: Self.respText(bye), phase: phase)))
        }
        let detail = code == CURLE_OK ? "the server closed the connection" : String(cString: curl_easy_strerror(code))
        throw broken(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: detail)), curlCode: code == CURLE_OK ? nil : code)
    }

    /// Polls the socket for `events`; returns the events that occurred (HUP/ERR included: the
    /// next curl call says which). Throws at `deadline`: a timeout, or the run's budget spent.
    @discardableResult
    func wait(for events: Int16, until deadline: CommandDeadline) throws(IMAPConnectionError) -> Int16 {
        while true {
            let left = deadline.instant - ContinuousClock.now
            guard left > .zero else {
                if deadline.isRunBudget {
                    throw broken(.connection(ConnectionFailure(.tooSlow, host: host, port: port, detail: "the sync's time budget ran out while the server was still answering")))
                }
                throw broken(.connection(ConnectionFailure(.timeout, host: host, port: port, detail: "no complete answer from the server within \(deadline.timeout)")))
            }
            let milliseconds = Int32(min(Int64(Int32.max), left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1))
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return descriptor.revents }
            if ready < 0 && errno != EINTR {
                throw broken(.connection(ConnectionFailure(.resetMidSession, host: host, port: port, detail: "poll: \(String(cString: strerror(errno)))")))
            }
        }
    }

    func close() {
        guard let handle else { return }
        if failed == nil {
            _ = run("LOGOUT", timeout: .seconds(2))
        }
        curl_easy_cleanup(handle)
        self.handle = nil
        if failed == nil { failed = closedError() }
    }

    // MARK: - Helpers

    /// When a command batch must have completed: `timeout` after it started, or the run's
    /// deadline when that comes first.
    struct CommandDeadline {
        let instant: ContinuousClock.Instant
        let timeout: Duration
        /// The run's deadline, not the command's timeout, is what ends the wait.
        let isRunBudget: Bool

        init(timeout: Duration, runDeadline: ContinuousClock.Instant?, now: ContinuousClock.Instant = .now) {
            let own = now + timeout
            self.timeout = timeout
            if let runDeadline, runDeadline < own {
                instant = runDeadline
                isRunBudget = true
            } else {
                instant = own
                isRunBudget = false
            }
        }
    }

    /// The phase a command's failure is classified under (`MailErrorClassifier`).
    static func phase(of command: String) -> MailSyncErrors.IMAPResponse.Phase {
        var words = command.split(separator: " ", maxSplits: 2).map { $0.uppercased() }
        if words.first == "UID" { words.removeFirst() }
        switch words.first ?? "" {
        case "LOGIN", "AUTHENTICATE": return .authenticate
        case "SELECT", "EXAMINE": return .select
        case "FETCH", "SEARCH", "STATUS", "THREAD", "SORT", "ESEARCH": return .fetch
        case "IDLE": return .idle
        default: return .other
        }
    }

    /// The resp-text as the server sent it: `[CODE args] text` (the code rebuilt from its parsed form).
    static func respText(_ status: StatusResponse) -> String {
        guard let code = status.code else { return status.text }
        let codeText: String
        switch code {
        case .alert: codeText = "ALERT"
        case .authenticationFailed: codeText = "AUTHENTICATIONFAILED"
        case .capability(let capabilities): codeText = (["CAPABILITY"] + capabilities).joined(separator: " ")
        case .uidValidity(let value): codeText = "UIDVALIDITY \(value)"
        case .uidNext(let value): codeText = "UIDNEXT \(value)"
        case .unseen(let value): codeText = "UNSEEN \(value)"
        case .permanentFlags(let flags): codeText = "PERMANENTFLAGS (\(flags.joined(separator: " ")))"
        case .readOnly: codeText = "READ-ONLY"
        case .readWrite: codeText = "READ-WRITE"
        case .tryCreate: codeText = "TRYCREATE"
        case .other(let name, let arguments): codeText = arguments.map { "\(name) \($0)" } ?? name
        }
        return status.text.isEmpty ? "[\(codeText)]" : "[\(codeText)] \(status.text)"
    }
}

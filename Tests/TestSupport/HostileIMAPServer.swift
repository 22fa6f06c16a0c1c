import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small IMAP server on 127.0.0.1 that misbehaves on purpose, for tests of what a mail server
/// can make the sync engine do.
///
/// It speaks just enough IMAP for libcurl's connect and login (greeting with `AUTH=PLAIN`,
/// `CAPABILITY`, `LOGIN` and `AUTHENTICATE PLAIN` accept any credentials) and for one sync of one
/// INBOX holding ``Message``s (`LIST`, `STATUS`, `EXAMINE`/`SELECT`, `UID SEARCH`, `UID FETCH` of
/// headers and of `BODY.PEEK[]`, `NOOP`, `LOGOUT`). ``Mode`` decides how it misbehaves.
///
/// Plain blocking sockets, one thread per connection; flood data is sent from one reused 64 KiB
/// chunk, so the server itself holds almost no memory whatever it sends. It counts connections
/// accepted and logins. Writes never raise SIGPIPE (`MSG_NOSIGNAL`): a client that hangs up just
/// ends its connection's thread. The test that starts it must call ``stop()``, which shuts every
/// connection down at once and lets a thread of its own wait (up to 10 s) for their threads.
///
/// ```swift
/// let server = try HostileIMAPServer.start(mode: .untaggedFlood(lines: 3_000_000, during: "LIST"))
/// defer { server.stop() }
/// // … a mailbox on 127.0.0.1:server.port, security none …
/// ```
public final class HostileIMAPServer: Sendable {
    /// How the server misbehaves.
    public enum Mode: Sendable, Hashable {
        /// Answers everything correctly.
        case wellBehaved
        /// Headers announce `literalSize` bytes per message; the reply to the body fetch is one
        /// FETCH response with `literals` literals of `literalSize` bytes each (`BODY[]`,
        /// `BODY[1]`, …), then the tagged OK.
        case literalFlood(literals: Int, literalSize: Int)
        /// Before answering the command named `during` (`LIST`, `EXAMINE`, `FETCH`, …; `UID` is
        /// ignored), sends `lines` lines of `* OK x`.
        case untaggedFlood(lines: Int, during: String)
        /// Headers tell the truth; the reply to the body fetch announces a literal of `announced`
        /// bytes, then sends one byte every `trickle` forever, or, with `trickle` nil, nothing
        /// more (the connection stays open).
        case endlessLiteral(announced: Int, trickle: Duration?)
        /// Headers tell the messages' true sizes; each body literal is `sentSize` bytes instead.
        case oversizedBody(sentSize: Int)
        /// Logs in at once, then answers the first command after login with `* OK still
        /// working` lines forever, one byte every `interval`: a tarpit that never completes a
        /// command and never goes quiet.
        case slowDrip(interval: Duration)
        /// Answers the command named `during` (as in `untaggedFlood`) with `tag NO <text>`, as a
        /// throttling provider does (`[THROTTLED] …`, `Request is throttled. Suggested Backoff
        /// Time: 120000 milliseconds`); everything else correctly.
        case refuse(during: String, text: String)
        /// Answers `IDLE` with `+ idling` and then `text` at once; `DONE` completes it with OK.
        /// When `text` holds a `* BYE`, the connection is closed after it.
        case idleAnswer(String)
    }

    /// One message of the INBOX.
    public struct Message: Sendable, Hashable {
        public var uid: UInt32
        public var from: String
        public var to: String
        public var subject: String
        public var messageID: String
        /// INTERNALDATE as IMAP writes it, `20-Sep-2026 10:00:00 +0000`.
        public var internalDate: String
        public var body: [UInt8]

        public init(
            uid: UInt32, from: String, to: String, subject: String, messageID: String? = nil,
            internalDate: String = "20-Sep-2026 10:00:00 +0000", text: String = "Hello.\r\n"
        ) {
            self.uid = uid
            self.from = from
            self.to = to
            self.subject = subject
            self.messageID = messageID ?? "hostile-\(uid)@test.example"
            self.internalDate = internalDate
            self.body = Array(("From: \(from)\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: <\(self.messageID)>\r\n"
                + "Date: Sun, 20 Sep 2026 10:00:00 +0000\r\n\r\n\(text)").utf8)
        }
    }

    struct State {
        var mode: Mode
        var messages: [Message]
        var connectionsAccepted = 0
        var logins = 0
        var bytesSent = 0
        var bodyFetches = 0
        var open: Set<Int32> = []
        /// Open connections this side has hung up on (``hangUpOne()``), not yet closed.
        var hungUp: Set<Int32> = []
        /// The most connections live at once (open and not hung up on).
        var peakLive = 0
        var stopping = false
    }

    public let port: Int
    let state: Mutex<State>
    private let listener: Int32
    private let threads = DispatchGroup()

    /// How the server behaves; a change applies to commands that arrive afterwards.
    public var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// The INBOX, by UID; a change applies to commands that arrive afterwards.
    public var messages: [Message] {
        get { state.withLock { $0.messages } }
        set { state.withLock { $0.messages = newValue.sorted { $0.uid < $1.uid } } }
    }

    /// Connections accepted since start.
    public var connectionsAccepted: Int { state.withLock { $0.connectionsAccepted } }
    /// Successful `LOGIN`/`AUTHENTICATE` commands since start.
    public var logins: Int { state.withLock { $0.logins } }
    /// `UID FETCH … BODY…` commands received since start.
    public var bodyFetches: Int { state.withLock { $0.bodyFetches } }
    /// Bytes written to clients since start.
    public var bytesSent: Int { state.withLock { $0.bytesSent } }
    /// Connections currently open.
    public var openConnections: Int { state.withLock { $0.open.count } }
    /// The most connections live at once since start: counted as each is accepted, leaving out
    /// those ``hangUpOne()`` already hung up on (their threads may not have closed them yet).
    public var peakLiveConnections: Int { state.withLock { $0.peakLive } }

    /// Listens on a free port of 127.0.0.1 and serves until ``stop()``.
    public static func start(mode: Mode, messages: [Message] = []) throws -> HostileIMAPServer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ServerError("bind/listen on 127.0.0.1: \(message)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let server = HostileIMAPServer(listener: fd, port: Int(UInt16(bigEndian: address.sin_port)), mode: mode, messages: messages)
        server.threads.enter()
        let thread = Thread { [server] in
            server.acceptLoop()
            server.threads.leave()
        }
        thread.name = "hostile-imap-accept"
        thread.start()
        return server
    }

    private init(listener: Int32, port: Int, mode: Mode, messages: [Message]) {
        self.listener = listener
        self.port = port
        self.state = Mutex(State(mode: mode, messages: messages.sorted { $0.uid < $1.uid }))
    }

    /// Stops accepting and shuts every connection down at once; a thread of its own then waits up
    /// to 10 s for the sessions' threads and closes the listener (a test's `defer` must not block
    /// the cooperative pool, see ``OffPool``). Idempotent.
    public func stop() {
        _ = stopAccepting()
    }

    /// ``stop()``, then waits (up to 10 s, off the cooperative pool) until every session's thread
    /// has ended and closed its connection.
    public func stopAndWait() async {
        guard let (threads, _) = stopAccepting(closingLater: false) else { return }
        let listener = self.listener
        await OffPool.run {
            _ = threads.wait(timeout: .now() + 10)
            close(listener)
        }
    }

    /// Returns nil when already stopped; otherwise, with `closingLater`, a thread of its own waits
    /// for the sessions and closes the listener.
    private func stopAccepting(closingLater: Bool = true) -> (DispatchGroup, Int32)? {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            for fd in state.open { shutdown(fd, Int32(SHUT_RDWR)) }
            return !state.stopping
        }
        guard first else { return nil }
        let (threads, listener) = (self.threads, self.listener)
        if closingLater {
            Thread {
                _ = threads.wait(timeout: .now() + 10)
                close(listener)
            }.start()
        }
        return (threads, listener)
    }

    /// Hangs up on one live connection (`shutdown`: the client sees it closed at once; its
    /// session ends within 100 ms) and returns true; false when none is live. Which one is
    /// unspecified.
    @discardableResult
    public func hangUpOne() -> Bool {
        state.withLock { state in
            guard let fd = state.open.subtracting(state.hungUp).first else { return false }
            shutdown(fd, Int32(SHUT_RDWR))
            state.hungUp.insert(fd)
            return true
        }
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    private func acceptLoop() {
        while !isStopping {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let admitted = state.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.connectionsAccepted += 1
                state.open.insert(client)
                state.peakLive = max(state.peakLive, state.open.count - state.hungUp.count)
                return true
            }
            guard admitted else {
                close(client)
                continue
            }
            threads.enter()
            let thread = Thread { [self] in
                var session = HostileIMAPSession(server: self, fd: client)
                session.serve()
                state.withLock {
                    $0.open.remove(client)
                    $0.hungUp.remove(client)
                }
                close(client)
                threads.leave()
            }
            thread.name = "hostile-imap-\(client)"
            thread.start()
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The floor: the least a client can do to get the same data from the same server. A blocking
/// POSIX socket on 127.0.0.1, commands written as canned text, responses not parsed: it only
/// counts bytes and watches for the tagged completion of the last command sent.
final class RawIMAP {
    private let fd: Int32
    /// Bytes received so far (greeting included).
    private(set) var received = 0
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    /// The last bytes of the stream, to find the last line without keeping the stream.
    private var tail: [UInt8] = []

    /// Connects (TCP_NODELAY, 60 s receive timeout) and reads the greeting.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchmarkFailure("socket(): errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            Glibc.close(fd)
            throw BenchmarkFailure("connect(127.0.0.1:\(port)): errno \(error)")
        }
        try readUntil(lineStartingWith: "* ")
    }

    deinit { Glibc.close(fd) }

    /// Sends `commands` in one write (pipelined), then reads until `tag`'s tagged response.
    func run(_ commands: String, until tag: String) throws {
        try send(commands)
        try readUntil(lineStartingWith: tag + " ")
        let line = lastLine()
        guard line.hasPrefix(tag + " OK") else { throw BenchmarkFailure("raw client: \(line)") }
    }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw BenchmarkFailure("write: errno \(errno)") }
            offset += written
        }
        bytes.removeAll()
    }

    /// Reads until the stream ends in CRLF and its last line starts with `prefix`.
    private func readUntil(lineStartingWith prefix: String) throws {
        let prefix = Array(prefix.utf8)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            guard count > 0 else { throw BenchmarkFailure(count == 0 ? "raw client: connection closed" : "read: errno \(errno)") }
            received += count
            if count >= 1024 {
                tail = Array(buffer[(count - 1024)..<count])
            } else {
                tail.append(contentsOf: buffer[0..<count])
                if tail.count > 2048 { tail.removeFirst(tail.count - 1024) }
            }
            guard tail.count >= 2, tail[tail.count - 2] == 13, tail[tail.count - 1] == 10 else { continue }
            if lastLineBytes().starts(with: prefix) { return }
        }
    }

    private func lastLineBytes() -> ArraySlice<UInt8> {
        var start = tail.count - 2
        while start >= 2, !(tail[start - 2] == 13 && tail[start - 1] == 10) { start -= 1 }
        if start < 2 { start = 0 }
        return tail[start..<(tail.count - 2)]
    }

    private func lastLine() -> String { String(decoding: lastLineBytes(), as: UTF8.self) }
}

extension RawIMAP {
    /// LOGIN, EXAMINE INBOX, `UID FETCH 1:* (UID INTERNALDATE RFC822.SIZE ENVELOPE)`, LOGOUT, one
    /// command at a time; returns the bytes received.
    static func fetchAllHeaders(port: Int, user: String, password: String) throws -> Int {
        let client = try RawIMAP(port: port)
        try client.run("a1 LOGIN \(user) \(password)\r\n", until: "a1")
        try client.run("a2 EXAMINE INBOX\r\n", until: "a2")
        try client.run("a3 UID FETCH 1:* (UID INTERNALDATE RFC822.SIZE ENVELOPE)\r\n", until: "a3")
        try client.run("a4 LOGOUT\r\n", until: "a4")
        return client.received
    }

    /// The cheapest "anything new?" poll: LOGIN, then STATUS of INBOX and Sent pipelined in one
    /// round trip (what our engine asks), then LOGOUT.
    static func poll(port: Int, user: String, password: String) throws {
        let client = try RawIMAP(port: port)
        try client.run("a1 LOGIN \(user) \(password)\r\n", until: "a1")
        try client.run(
            "a2 STATUS \"INBOX\" (UIDVALIDITY UIDNEXT MESSAGES)\r\na3 STATUS \"Sent\" (UIDVALIDITY UIDNEXT MESSAGES)\r\n", until: "a3")
        try client.run("a4 LOGOUT\r\n", until: "a4")
    }
}

/// Runs `body(i)` for i in 0..<count on that many new threads (blocking sockets stay off the
/// cooperative pool) and returns when all have finished; the first error is rethrown.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) async throws {
    let errors = ErrorList()
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                do { try body(index) } catch { errors.add("\(error)") }
                group.leave()
            }
            thread.start()
        }
        group.notify(queue: .global()) { done.resume() }
    }
    if let first = errors.first { throw BenchmarkFailure(first) }
}

private final class ErrorList: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func add(_ error: String) { lock.withLock { errors.append(error) } }
    var first: String? { lock.withLock { errors.first } }
}

import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP server whose answers a test scripts: for the S3 client's retries and for
/// replies no real store sends (malformed or huge listings).
///
/// One thread accepts connections one at a time and answers each request with
/// `answer(n, requestLine)` (`n` counting from 1), then closes the connection; it handles
/// `Expect: 100-continue` and reads the request body first. Plain blocking sockets; writes never
/// raise SIGPIPE. `stop()` shuts the listener down (the accept thread then ends on its own).
final class ScriptedHTTPServer: Sendable {
    struct Answer: Sendable {
        var status: Int
        var headers: [String] = []
        var body: [UInt8] = []
    }

    let port: Int
    private let listener: Int32
    private let requests = Mutex<[String]>([])

    /// Every request line received so far (`PUT /bucket/key HTTP/1.1`).
    var requestLines: [String] { requests.withLock { $0 } }

    init(answer: @escaping @Sendable (Int, String) -> Answer) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw Failure("bind/listen on 127.0.0.1: errno \(errno)")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop(answer) }
        thread.name = "scripted-http"
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop(_ answer: @Sendable (Int, String) -> Answer) {
        defer { close(listener) }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            serve(connection, answer)
            close(connection)
        }
    }

    private func serve(_ fd: Int32, _ answer: (Int, String) -> Answer) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return }
            received += chunk[0..<count]
            headerEnd = received.firstRange(of: separator)?.upperBound
            if received.count > 1_000_000 { return }
        }
        guard let headerEnd else { return }
        let head = String(decoding: received[0..<headerEnd], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.first ?? ""
        var contentLength = 0
        var expectsContinue = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { contentLength = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
            if lower.hasPrefix("expect:"), lower.contains("100-continue") { expectsContinue = true }
        }
        if expectsContinue { write(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        var bodyCount = received.count - headerEnd
        while bodyCount < contentLength {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return }
            bodyCount += count
        }
        let number = requests.withLock {
            $0.append(requestLine)
            return $0.count
        }
        let reply = answer(number, requestLine)
        var text = "HTTP/1.1 \(reply.status) Scripted\r\nContent-Length: \(reply.body.count)\r\nConnection: close\r\n"
        for header in reply.headers { text += header + "\r\n" }
        text += "\r\n"
        write(fd, Array(text.utf8) + reply.body)
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

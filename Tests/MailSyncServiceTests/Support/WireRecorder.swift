import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP relay that records every byte a server sends to its clients, so a test can search
/// all of an answer — messages, status texts, details and trailers, including the trailers of an
/// `ok` call that the client library drops — and not only what the client library hands back.
///
/// Listens on 127.0.0.1 on a free port; each accepted connection is relayed to `127.0.0.1:target`
/// on two threads of its own (blocking socket calls never run on Swift's cooperative pool). The
/// server's bytes are recorded before they are forwarded, so once a client has seen a reply, the
/// reply is in ``take()``. Responses are searched as sent: the harness's server does not compress
/// (no `compressionThresholdBytes`). Stop with ``stop()``.
final class WireRecorder: Sendable {
    let port: Int
    private let listener: Int32
    private let target: Int
    private let recorded = Mutex<[UInt8]>([])
    private let sockets = Mutex<[Int32]>([])

    init(target: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RecorderError("socket() failed: errno \(errno)") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw RecorderError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: local.sin_port))
        self.listener = fd
        self.target = target
        let recorder = self
        Thread.detachNewThread { recorder.acceptLoop() }
    }

    /// What the server sent since the last call, and forgets it.
    func take() -> [UInt8] {
        recorded.withLock { bytes in
            defer { bytes.removeAll() }
            return bytes
        }
    }

    /// Stops listening and hangs up every relayed connection.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        sockets.withLock { open in
            for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }  // closed by stop()
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard server >= 0, connected == 0 else {
                close(client)
                if server >= 0 { close(server) }
                continue
            }
            sockets.withLock { $0 += [client, server] }
            let recorder = self
            let pumps = PumpCount()
            let finished: @Sendable () -> Void = {
                guard pumps.lastOfTwo() else { return }
                // Both directions ended: forget the pair before closing, so stop() never shuts
                // down a number the process has reused.
                recorder.sockets.withLock { $0.removeAll { $0 == client || $0 == server } }
                close(client)
                close(server)
            }
            Thread.detachNewThread {
                recorder.pump(from: client, to: server, record: false)
                finished()
            }
            Thread.detachNewThread {
                recorder.pump(from: server, to: client, record: true)
                finished()
            }
        }
    }

    /// Copies until either side closes, then shuts both down (the other pump then ends too).
    private func pump(from source: Int32, to destination: Int32, record: Bool) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        loop: while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            if record { recorded.withLock { $0 += buffer[0..<count] } }
            var sent = 0
            while sent < count {
                let n = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break loop }
                sent += n
            }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Counts the two pumps of one connection down; the second to finish closes the pair.
    private final class PumpCount: Sendable {
        private let ended = Mutex(0)
        func lastOfTwo() -> Bool { ended.withLock { $0 += 1; return $0 == 2 } }
    }

    struct RecorderError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

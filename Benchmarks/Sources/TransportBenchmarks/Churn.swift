import Foundation
import Logging
import MailSyncRPC
import MailSyncTransport
import MailSyncWire
import NIOCore
import TestSupport

/// Opens and closes connections in rounds of 10,000, 64 at a time, and prints RSS after each
/// round (with allocator caches trimmed): flat means nothing is kept per closed connection.
/// Connections cycle through three lives: connect and close; handshake and close; handshake, one
/// Echo call, close.
enum Churn {
    static func run(connections: Int) async throws {
        Report.header("Transport churn: \(connections) connections opened and closed")
        let server = try await TestServer.start()
        let startRSS = Report.rss()
        try await round(server, count: 1_000, offset: 0)  // warm-up: pools, code pages
        Report.trim()
        let before = Report.rss()
        print("RSS at start: \(Report.mebibytes(startRSS)); after a 1,000-connection warm-up: \(Report.mebibytes(before))")
        print("round  connections  seconds  conn/s   open  RSS (trimmed)  change since warm-up")
        var done = 0
        var number = 0
        while done < connections {
            let count = min(10_000, connections - done)
            let started = ContinuousClock.now
            try await round(server, count: count, offset: done)
            while server.server.connectionCount > 0 { try await Task.sleep(for: .milliseconds(10)) }
            let elapsed = (ContinuousClock.now - started)
            Report.trim()
            let rss = Report.rss()
            done += count
            number += 1
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let change = (rss ?? 0) - (before ?? 0)
            print(String(format: "%5d  %11d  %7.1f  %6.0f  %5d  ", number, done, seconds, Double(count) / seconds, server.server.connectionCount)
                + Report.mebibytes(rss).padding(toLength: 13, withPad: " ", startingAt: 0)
                + String(format: "  %+.1f MiB (%+.2f KiB per connection)", Double(change) / 1_048_576, Double(change) / 1024 / Double(done)))
            fflush(nil)  // each line as it comes, also into a file or pipe
        }
        await server.stop()
        Report.trim()
        print("RSS after the server stopped: \(Report.mebibytes(Report.rss()))")
    }

    /// `count` connections, 64 at a time.
    static func round(_ server: TestServer, count: Int, offset: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let index = offset + next
                next += 1
                group.addTask { try await life(index, port: server.port) }
            }
            for _ in 0..<min(64, count) { add() }
            while try await group.next() != nil {
                if next < count { add() }
            }
        }
    }

    static func life(_ index: Int, port: Int) async throws {
        let raw = try await RawConnection.connect(port: port)
        switch index % 3 {
        case 0: break
        case 1:
            try await raw.handshake()
            await raw.wait { ((try? $0.frames()) ?? []).contains { if case .settings = $0 { true } else { false } } }
        default:
            try await raw.handshake()
            var request = EchoRequest()
            request.text = "churn \(index)"
            try await raw.send { b in
                FrameEncoder.write(.callStart(streamID: 1, CallStart(method: Echo.Method.echo.fullName)), to: &b)
                FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: request.serializedBytes())), to: &b)
                FrameEncoder.write(.endStream(streamID: 1), to: &b)
            }
            let answered = await raw.wait { ((try? $0.frames()) ?? []).contains { if case .status = $0 { true } else { false } } }
            if !answered { throw ChurnError.noAnswer(index) }
        }
        await raw.close()
    }

    enum ChurnError: Error { case noAnswer(Int) }
}

import MailSyncRPC
import MailSyncWire
import NIOCore
import Testing
import TestSupport

/// Frames that are legal but do no work are counted per connection (200 in a burst, refilled at
/// 100 a second); past that the server answers GOAWAY `enhanceYourCalm` and closes. Below it a
/// connection is unaffected, since such frames legitimately cross the server's STATUS in flight.
@Suite("Frames that do no work")
struct NoWorkFrameTests {
    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case settingsAck, unsolicitedPingAck, emptyMessageOnClosedStream, messageOnClosedStream,
            windowUpdateOnClosedStream, cancelOfClosedStream, endStreamOnClosedStream, repeatedGoAway

        var testDescription: String { rawValue }

        /// Stream 1 is a finished Echo call; stream 3 a Sleep call still running (for GOAWAY).
        func write(_ count: Int, to b: inout ByteBuffer) {
            for i in 0..<count {
                switch self {
                case .settingsAck: FrameEncoder.write(.settingsAck, to: &b)
                case .unsolicitedPingAck: FrameEncoder.write(.ping(ack: true, data: UInt64(i)), to: &b)
                case .emptyMessageOnClosedStream: FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer()), to: &b)
                case .messageOnClosedStream: FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: [1, 2, 3])), to: &b)
                case .windowUpdateOnClosedStream: FrameEncoder.write(.windowUpdate(streamID: 1, increment: 1), to: &b)
                case .cancelOfClosedStream: FrameEncoder.write(.cancel(streamID: 1, CancelPayload(code: 1, reason: "")), to: &b)
                case .endStreamOnClosedStream: FrameEncoder.write(.endStream(streamID: 1), to: &b)
                case .repeatedGoAway:
                    FrameEncoder.write(.goAway(GoAway(lastStreamID: 0, code: .noError, message: "client closing")), to: &b)
                }
            }
        }
    }

    /// A connection with stream 1 finished and, for GOAWAY, a 3 s Sleep call in flight on stream 3.
    func prepared(_ server: TestServer, for kind: Kind) async throws -> RawConnection {
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        try await raw.sendEcho("done", on: 1)
        #expect(await raw.awaitStatus(of: 1)?.code == StatusCode.ok.rawValue)
        if kind == .repeatedGoAway {
            var sleep = SleepRequest()
            sleep.milliseconds = 3000
            try await raw.send { b in
                FrameEncoder.write(.callStart(streamID: 3, CallStart(method: Echo.Method.sleep.fullName)), to: &b)
                FrameEncoder.write(.message(streamID: 3, flags: [], bytes: ByteBuffer(bytes: sleep.serializedBytes())), to: &b)
                FrameEncoder.write(.endStream(streamID: 3), to: &b)
            }
            #expect(await eventually { server.probe.started == 1 })
        }
        return raw
    }

    @Test("a flood of frames that do no work ends with GOAWAY enhanceYourCalm", arguments: Kind.allCases)
    func flood(_ kind: Kind) async throws {
        let server = try await TestServer.start()
        let raw = try await prepared(server, for: kind)
        try await raw.send { kind.write(400, to: &$0) }
        let goAway = try #require(try await raw.awaitGoAway())
        #expect(goAway.code == .enhanceYourCalm, "got \(goAway)")
        #expect(goAway.message.contains("too many"), "got \(goAway.message)")
        #expect(raw.isClosed)
        await server.stop()
    }

    @Test("below the budget the same frames are harmless", arguments: Kind.allCases)
    func withinBudget(_ kind: Kind) async throws {
        let server = try await TestServer.start()
        let raw = try await prepared(server, for: kind)
        try await raw.send { kind.write(kind == .repeatedGoAway ? 20 : 150, to: &$0) }
        if kind == .repeatedGoAway {
            // The Sleep call still completes; then the server may close (the client said goodbye).
            #expect(await raw.awaitStatus(of: 3)?.code == StatusCode.ok.rawValue)
            #expect(try raw.frames().allSatisfy { if case .goAway = $0 { false } else { true } })
        } else {
            try await raw.sendEcho("still here", on: 3)
            #expect(await raw.awaitStatus(of: 3)?.code == StatusCode.ok.rawValue)
            #expect(!raw.isClosed)
        }
        await raw.close()
        await server.stop()
    }
}

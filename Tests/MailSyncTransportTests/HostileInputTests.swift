import MailSyncCoding
import MailSyncRPC
import MailSyncTransport
import MailSyncWire
import NIOCore
import Testing
import TestSupport

/// Hostile peers against a running server over real TCP. Each case gets a specific protocol error
/// (GOAWAY code) or call status, and the server keeps serving other connections afterwards.
@Suite("Hostile input")
struct HostileInputTests {
    /// Frames a case sends; the handshake is done first unless `handshake` is false.
    enum ConnectionCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case httpRequest, tlsClientHello, unknownVersion, firstFrameNotSettings, frameOverLimit,
            unknownFrameType, reservedHeaderBits, reservedStreamBit, evenStreamID, reusedStreamID,
            messageForUnopenedStream, secondSettings, statusFromClient, windowOverflow,
            metadataCountBeyondPayload, pingFlood, rapidReset, emptyFrameFlood

        var testDescription: String { rawValue }

        var expected: ErrorCode {
            switch self {
            case .httpRequest, .tlsClientHello: .badPreface
            case .unknownVersion: .unsupportedVersion
            case .frameOverLimit: .frameSizeError
            case .windowOverflow: .flowControlError
            case .pingFlood, .rapidReset, .emptyFrameFlood: .enhanceYourCalm
            default: .protocolError
            }
        }

        var handshake: Bool {
            switch self {
            case .httpRequest, .tlsClientHello, .unknownVersion, .firstFrameNotSettings: false
            default: true
            }
        }

        func write(_ b: inout ByteBuffer) {
            let echo = Echo.Method.echo.fullName
            switch self {
            case .httpRequest: b.writeString("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            case .tlsClientHello: b.writeBytes([0x16, 0x03, 0x01, 0x00, 0x2F, 0x01, 0x00, 0x00, 0x2B, 0x03, 0x03, 0x00])
            case .unknownVersion: Preface(version: 7).write(to: &b)
            case .firstFrameNotSettings:
                Preface().write(to: &b)
                FrameEncoder.write(.ping(ack: false, data: 1), to: &b)
            case .frameOverLimit:
                // Only the header: the server must refuse from the length alone.
                FrameHeader(length: 100_000_000, type: .message, streamID: 1).write(to: &b)
            case .unknownFrameType: FrameHeader(length: 0, type: FrameType(rawValue: 0x42), streamID: 0).write(to: &b)
            case .reservedHeaderBits: b.writeMultipleIntegers(UInt32(8), UInt8(7), UInt8(0), UInt16(1), UInt32(0), UInt64(0))
            case .reservedStreamBit: b.writeMultipleIntegers(UInt32(0), UInt8(3), UInt8(0), UInt16(0), UInt32(0x8000_0001))
            case .evenStreamID: FrameEncoder.write(.callStart(streamID: 2, CallStart(method: echo)), to: &b)
            case .reusedStreamID:
                FrameEncoder.write(.callStart(streamID: 5, CallStart(method: echo)), to: &b)
                FrameEncoder.write(.callStart(streamID: 5, CallStart(method: echo)), to: &b)
            case .messageForUnopenedStream:
                FrameEncoder.write(.message(streamID: 99, flags: [], bytes: ByteBuffer()), to: &b)
            case .secondSettings: FrameEncoder.write(.settings(.defaults), to: &b)
            case .statusFromClient: FrameEncoder.write(.status(streamID: 1, StatusPayload(code: 0, message: "")), to: &b)
            case .windowOverflow:
                FrameEncoder.write(.windowUpdate(streamID: 0, increment: 0x7FFF_FFFF), to: &b)
            case .metadataCountBeyondPayload:
                // CALL_START claiming 65,535 metadata pairs in a 30-byte payload.
                let method = Array("test.v1.Echo/Echo".utf8)
                FrameHeader(length: UInt32(8 + 2 + method.count + 2), type: .callStart, streamID: 1).write(to: &b)
                b.writeInteger(UInt64(0))
                b.writeInteger(UInt16(method.count))
                b.writeBytes(method)
                b.writeInteger(UInt16(0xFFFF))
            case .pingFlood:
                for i in 0..<50 { FrameEncoder.write(.ping(ack: false, data: UInt64(i)), to: &b) }
            case .rapidReset:
                let sleep = Echo.Method.sleep.fullName
                for i in 0..<400 {
                    let id = UInt32(2 * i + 1)
                    FrameEncoder.write(.callStart(streamID: id, CallStart(method: sleep)), to: &b)
                    FrameEncoder.write(.cancel(streamID: id, CancelPayload(code: 1, reason: "")), to: &b)
                }
            case .emptyFrameFlood:
                FrameEncoder.write(.callStart(streamID: 1, CallStart(method: echo)), to: &b)
                for _ in 0..<400 { FrameEncoder.write(.message(streamID: 1, flags: .more, bytes: ByteBuffer()), to: &b) }
            }
        }
    }

    @Test("connection errors get a GOAWAY naming the rule, and the server serves on", arguments: ConnectionCase.allCases)
    func connectionError(_ hostile: ConnectionCase) async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        if hostile.handshake { try await raw.handshake() }
        try await raw.send { hostile.write(&$0) }
        let goAway = try await raw.awaitGoAway()
        #expect(goAway?.code == hostile.expected, "got \(String(describing: goAway))")
        #expect(goAway?.message.isEmpty == false)
        #expect(raw.isClosed)
        try await expectHealthy(server)
        await server.stop()
    }

    @Test("a wrong preface is explained: the server names what it expected and what it saw")
    func prefaceMessage() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.send(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        let goAway = try #require(try await raw.awaitGoAway())
        #expect(goAway.message.contains("8E 4D 53 59 4E 43 0D 0A"))
        #expect(goAway.message.contains("looks like HTTP"))
        await server.stop()
    }

    /// Calls whose request is bad end with a status; the connection carries on.
    enum StreamCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case varintTooLong, lengthBeyondRemaining, nestingTooDeep, invalidUTF8, zlibBomb,
            corruptCompression, metadataOverLimit, messageOverLimit, unknownMethod

        var testDescription: String { rawValue }

        var expected: StatusCode {
            switch self {
            case .zlibBomb, .metadataOverLimit, .messageOverLimit: .resourceExhausted
            case .unknownMethod: .unimplemented
            default: .invalidArgument
            }
        }

        func write(_ b: inout ByteBuffer, streamID id: UInt32) {
            var method = Echo.Method.echo.fullName
            var metadata: [(key: String, value: String)] = []
            var messages: [(FrameFlags, [UInt8])] = []
            switch self {
            case .varintTooLong:
                // Unknown field 15 as a varint of 11 bytes.
                messages = [([], [0x78] + [UInt8](repeating: 0x80, count: 10) + [0x01])]
            case .lengthBeyondRemaining: messages = [([], [0x0A, 0x7F, 0x61])]
            case .nestingTooDeep:
                method = Echo.Method.inspect.fullName
                var message = AllTypes()
                for _ in 0..<100 {
                    var parent = AllTypes()
                    parent.children = [message]
                    message = parent
                }
                messages = [([], message.serializedBytes())]
            case .invalidUTF8: messages = [([], [0x0A, 0x02, 0xC3, 0x28])]
            case .zlibBomb:
                var request = EchoRequest()
                request.payload = [UInt8](repeating: 0, count: 20 * 1024 * 1024)
                let compressed = Array(Compression.compress(ByteBuffer(bytes: request.serializedBytes()), allocator: .init()).readableBytesView)
                // About 20 KiB on the wire, 20 MiB once inflated: fragmented to fit the frame size.
                let chunks = stride(from: 0, to: compressed.count, by: 16_384).map { Array(compressed[$0..<min($0 + 16_384, compressed.count)]) }
                messages = chunks.enumerated().map { i, chunk in
                    (i == chunks.count - 1 ? FrameFlags.compressed : [.compressed, .more], chunk)
                }
            case .corruptCompression: messages = [(.compressed, [0x78, 0x9C, 0xFF, 0xFF, 0x00])]
            case .metadataOverLimit:
                metadata = [(key: "x-big", value: String(repeating: "a", count: 9000))]
                messages = [([], [])]
            case .messageOverLimit:
                let chunk = [UInt8](repeating: 1, count: 60_000)
                messages = (0..<75).map { _ in (FrameFlags.more, chunk) } + [(FrameFlags(), chunk)]
            case .unknownMethod:
                method = "test.v1.Echo/NoSuchMethod"
                messages = [([], [])]
            }
            FrameEncoder.write(.callStart(streamID: id, CallStart(method: method, metadata: metadata)), to: &b)
            for (flags, bytes) in messages {
                FrameEncoder.write(.message(streamID: id, flags: flags, bytes: ByteBuffer(bytes: bytes)), to: &b)
            }
            FrameEncoder.write(.endStream(streamID: id), to: &b)
        }
    }

    @Test("stream errors end only the call, with a specific status", arguments: StreamCase.allCases)
    func streamError(_ hostile: StreamCase) async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        try await raw.send { hostile.write(&$0, streamID: 1) }
        var status: StatusPayload?
        await raw.wait { conn in
            for case .status(1, let payload) in (try? conn.frames()) ?? [] { status = payload }
            return status != nil || conn.isClosed
        }
        #expect(status.map { StatusCode(rawValue: $0.code) } == hostile.expected, "got \(String(describing: status))")
        #expect(status?.message.isEmpty == false)
        // The same connection still serves a good call.
        var good = EchoRequest()
        good.text = "after"
        try await raw.send { b in
            FrameEncoder.write(.callStart(streamID: 3, CallStart(method: Echo.Method.echo.fullName)), to: &b)
            FrameEncoder.write(.message(streamID: 3, flags: [], bytes: ByteBuffer(bytes: good.serializedBytes())), to: &b)
            FrameEncoder.write(.endStream(streamID: 3), to: &b)
        }
        let ok = await raw.wait { conn in
            ((try? conn.frames()) ?? []).contains { if case .status(3, let s) = $0 { s.code == 0 } else { false } }
        }
        #expect(ok, "the connection should serve a good call after the bad one")
        #expect(!raw.isClosed)
        await raw.close()
        await server.stop()
    }

    @Test("more concurrent calls than allowed: the extra call is refused, the others run")
    func tooManyCalls() async throws {
        let server = try await TestServer.start { $0.settings.maxConcurrentCalls = 2 }
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        var sleep = SleepRequest()
        sleep.milliseconds = 300
        try await raw.send { b in
            for id in [1, 3, 5] as [UInt32] {
                FrameEncoder.write(.callStart(streamID: id, CallStart(method: Echo.Method.sleep.fullName)), to: &b)
                FrameEncoder.write(.message(streamID: id, flags: [], bytes: ByteBuffer(bytes: sleep.serializedBytes())), to: &b)
                FrameEncoder.write(.endStream(streamID: id), to: &b)
            }
        }
        await raw.wait { conn in
            ((try? conn.frames()) ?? []).filter { if case .status = $0 { true } else { false } }.count == 3
        }
        var codes: [UInt32: UInt16] = [:]
        for case .status(let id, let payload) in try raw.frames() { codes[id] = payload.code }
        #expect(codes == [1: 0, 3: 0, 5: StatusCode.resourceExhausted.rawValue])
        await raw.close()
        await server.stop()
    }

    @Test("a client that connects and sends nothing is closed after the handshake timeout")
    func silentClient() async throws {
        let server = try await TestServer.start { $0.handshakeTimeout = .milliseconds(300) }
        let raw = try await RawConnection.connect(port: server.port)
        let goAway = try await raw.awaitGoAway()
        #expect(goAway?.code == .handshakeTimeout)
        try await expectHealthy(server)
        await server.stop()
    }

    @Test("a client that trickles a byte at a time is closed", arguments: [true, false])
    func trickle(duringHandshake: Bool) async throws {
        // Only the timeout under test is short, so a loaded machine cannot trip the other one.
        let server = try await TestServer.start {
            $0.handshakeTimeout = duringHandshake ? .milliseconds(400) : .seconds(10)
            $0.readTimeout = duringHandshake ? .seconds(10) : .milliseconds(400)
        }
        let raw = try await RawConnection.connect(port: server.port)
        var bytes = ByteBuffer()
        if duringHandshake {
            Preface().write(to: &bytes)
        } else {
            try await raw.handshake()
            FrameEncoder.write(.ping(ack: false, data: 42), to: &bytes)
        }
        for byte in bytes.readableBytesView {
            guard !raw.isClosed else { break }
            try? await raw.send([byte])
            try await Task.sleep(for: .milliseconds(100))
        }
        let goAway = try await raw.awaitGoAway()
        #expect(goAway?.code == (duringHandshake ? .handshakeTimeout : .readTimeout))
        try await expectHealthy(server)
        await server.stop()
    }

    @Test("a truncated frame followed by a close leaves the server serving")
    func truncatedThenClose() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        var frame = ByteBuffer()
        FrameEncoder.write(.callStart(streamID: 1, CallStart(method: Echo.Method.echo.fullName)), to: &frame)
        try await raw.send(Array(frame.readableBytesView.prefix(frame.readableBytes / 2)))
        await raw.close()
        try await expectHealthy(server)
        #expect(await eventually { server.server.connectionCount == 0 })
        await server.stop()
    }

    @Test("connections beyond the limit are refused with tooManyConnections")
    func tooManyConnections() async throws {
        let server = try await TestServer.start { $0.maxConnections = 2 }
        let first = try await RawConnection.connect(port: server.port)
        let second = try await RawConnection.connect(port: server.port)
        try await first.handshake()
        try await second.handshake()
        #expect(await eventually { server.server.connectionCount == 2 })
        let third = try await RawConnection.connect(port: server.port)
        #expect(try await third.awaitGoAway()?.code == .tooManyConnections)
        await first.close()
        #expect(await eventually { server.server.connectionCount == 1 })
        try await expectHealthy(server)
        await second.close()
        await server.stop()
    }

    @Test("a connection with no calls is closed after the idle timeout with a graceful GOAWAY")
    func idleTimeout() async throws {
        let server = try await TestServer.start { $0.idleTimeout = .milliseconds(300) }
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        let goAway = try await raw.awaitGoAway()
        #expect(goAway?.code == ErrorCode.noError)
        await server.stop()
    }

    @Test("the server pings a silent client and closes the connection when no answer comes")
    func keepalive() async throws {
        let server = try await TestServer.start {
            $0.keepaliveInterval = .milliseconds(200)
            $0.keepaliveTimeout = .milliseconds(200)
        }
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        let goAway = try await raw.awaitGoAway()
        #expect(goAway?.code == .keepaliveTimeout)
        #expect(try raw.frames().contains { if case .ping(false, _) = $0 { true } else { false } })
        await server.stop()
    }

    /// A fresh generated client can still make a call.
    func expectHealthy(_ server: TestServer) async throws {
        let (client, transport) = server.client()
        var request = EchoRequest()
        request.text = "healthy"
        #expect(try await client.echo(request).text == "healthy")
        transport.close()
    }
}

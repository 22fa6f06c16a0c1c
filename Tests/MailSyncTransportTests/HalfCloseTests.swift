import MailSyncRPC
import MailSyncWire
import NIOCore
import Testing
import TestSupport

/// A client that shuts its sending side (TCP half-close) after its calls still gets the answers to
/// calls it completed (END_STREAM sent); calls it left open end with `cancelled`; then the server
/// closes. See docs/protocol.md, section 13.
@Suite("TCP half-close")
struct HalfCloseTests {
    @Test("a complete unary call is answered after the client's FIN, then the server closes")
    func completeCallAnswered() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        try await raw.sendEcho("before the FIN", on: 1)
        try await raw.shutdownOutput()
        #expect(await raw.wait { $0.isClosed }, "the server closes once the answer is written")
        let status = try #require(raw.status(of: 1))
        #expect(status.code == StatusCode.ok.rawValue)
        let bytes = try #require(raw.messages(of: 1).first)
        let response = try EchoResponse(serializedBytes: Array(bytes.readableBytesView))
        #expect(response.text == "before the FIN")
        #expect(try raw.frames().allSatisfy { if case .goAway = $0 { false } else { true } })
        try await expectHealthy(server)
        #expect(await eventually { server.server.connectionCount == 0 })
        await server.stop()
    }

    @Test("a call still running when the FIN arrives runs to completion and is answered")
    func runningCallAnswered() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        var sleep = SleepRequest()
        sleep.milliseconds = 300
        try await raw.send { b in
            FrameEncoder.write(.callStart(streamID: 1, CallStart(method: Echo.Method.sleep.fullName)), to: &b)
            FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: sleep.serializedBytes())), to: &b)
            FrameEncoder.write(.endStream(streamID: 1), to: &b)
        }
        #expect(await eventually { server.probe.started == 1 })
        try await raw.shutdownOutput()
        #expect(await raw.wait { $0.isClosed })
        #expect(raw.status(of: 1)?.code == StatusCode.ok.rawValue)
        #expect(server.probe.completed == 1 && server.probe.cancelled == 0)
        await server.stop()
    }

    @Test("a call the client left open (no END_STREAM) ends with cancelled; a complete one is answered")
    func openCallCancelled() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        var item = CollectItem()
        item.payload = [1, 2, 3]
        try await raw.send { b in
            FrameEncoder.write(.callStart(streamID: 1, CallStart(method: Echo.Method.collect.fullName)), to: &b)
            FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: item.serializedBytes())), to: &b)
        }
        try await raw.sendEcho("done", on: 3)
        try await raw.shutdownOutput()
        #expect(await raw.wait { $0.isClosed })
        let open = try #require(raw.status(of: 1))
        #expect(open.code == StatusCode.cancelled.rawValue)
        #expect(open.message.contains("half-close"), "got \(open.message)")
        #expect(raw.status(of: 3)?.code == StatusCode.ok.rawValue)
        await server.stop()
    }

    @Test("a FIN with no calls in flight closes the connection at once", arguments: [true, false])
    func nothingInFlight(handshake: Bool) async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        if handshake { try await raw.handshake() } else { try await raw.send([0x8E, 0x4D, 0x53, 0x59, 0x4E]) }
        try await raw.shutdownOutput()
        #expect(await raw.wait { $0.isClosed })
        #expect(await eventually { server.server.connectionCount == 0 })
        await server.stop()
    }

    func expectHealthy(_ server: TestServer) async throws {
        let (client, transport) = server.client()
        var request = EchoRequest()
        request.text = "healthy"
        #expect(try await client.echo(request).text == "healthy")
        transport.close()
    }
}

import MailSyncRPC
import MailSyncWire
import NIOCore
import Testing
import TestSupport

/// The server stays within the limits the client announced in its SETTINGS: the optional
/// `request-id` trailer is left out when it does not fit `maxMetadataSize`, and a response larger
/// than `maxMessageSize` is never sent; the call fails with `resourceExhausted` instead.
@Suite("Limits the client announced")
struct PeerLimitTests {
    @Test("the request-id trailer is sent within the default limit and left out for a limit of 0", arguments: [8192, 0, 25, 24] as [UInt32])
    func metadataLimit(limit: UInt32) async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        var settings = ConnectionSettings.defaults
        settings.maxMetadataSize = limit
        try await raw.handshake(settings: settings)
        try await raw.sendEcho("hi", on: 1)
        let status = try #require(await raw.awaitStatus(of: 1))
        #expect(status.code == StatusCode.ok.rawValue)
        let size = status.metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        #expect(size <= Int(limit), "the trailer takes \(size) bytes, over the announced \(limit)")
        if limit >= 8192 {
            #expect(status.metadata.map(\.key) == [Metadata.requestIDKey], "a generous limit still gets the request id")
        }
        if limit == 0 { #expect(status.metadata.isEmpty) }
        #expect(!raw.isClosed)
        await raw.close()
        await server.stop()
    }

    @Test("a response over the client's maxMessageSize is not sent: the call ends with resourceExhausted")
    func messageLimitUnary() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        var settings = ConnectionSettings.defaults
        settings.maxMessageSize = 10
        try await raw.handshake(settings: settings)
        // "hi" comes back in 4 bytes: within the limit.
        try await raw.sendEcho("hi", on: 1)
        #expect(await raw.awaitStatus(of: 1)?.code == StatusCode.ok.rawValue)
        #expect(raw.messages(of: 1).map(\.readableBytes) == [4])
        // 14 bytes of text come back in 16: over it.
        try await raw.sendEcho("hello, world!!", on: 3)
        let status = try #require(await raw.awaitStatus(of: 3))
        #expect(status.code == StatusCode.resourceExhausted.rawValue)
        #expect(status.message.contains("maxMessageSize"), "got \(status.message)")
        #expect(raw.messages(of: 3).isEmpty, "no MESSAGE may exceed the announced limit")
        for case .message(_, _, let bytes) in try raw.frames() { #expect(bytes.readableBytes <= 10) }
        // The connection carries on.
        try await raw.sendEcho("ok", on: 5)
        #expect(await raw.awaitStatus(of: 5)?.code == StatusCode.ok.rawValue)
        await raw.close()
        await server.stop()
    }

    @Test("a streamed response over the limit ends the stream with resourceExhausted after the items that fit")
    func messageLimitStreaming() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        var settings = ConnectionSettings.defaults
        settings.maxMessageSize = 100
        try await raw.handshake(settings: settings)
        var request = ExpandRequest()
        request.count = 3
        request.payloadSize = 200
        try await raw.send { b in
            FrameEncoder.write(.callStart(streamID: 1, CallStart(method: Echo.Method.expand.fullName)), to: &b)
            FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: request.serializedBytes())), to: &b)
            FrameEncoder.write(.endStream(streamID: 1), to: &b)
        }
        let status = try #require(await raw.awaitStatus(of: 1))
        #expect(status.code == StatusCode.resourceExhausted.rawValue)
        #expect(raw.messages(of: 1).isEmpty)
        await raw.close()
        await server.stop()
    }

    @Test("the Swift client does not send a request over the server's maxMessageSize; the call fails at once")
    func clientHonoursServerLimit() async throws {
        let server = try await TestServer.start { $0.settings.maxMessageSize = 100 }
        let (client, transport) = server.client()
        var request = EchoRequest()
        request.payload = [UInt8](repeating: 1, count: 1_000)
        await #expect {
            _ = try await client.echo(request)
        } throws: { error in
            guard let error = error as? RPCError else { return false }
            return error.code == .resourceExhausted && error.message.contains("maxMessageSize the server announced")
        }
        request.payload = [1, 2, 3]
        #expect(try await client.echo(request).payload == [1, 2, 3], "the connection still serves")
        transport.close()
        await server.stop()
    }
}

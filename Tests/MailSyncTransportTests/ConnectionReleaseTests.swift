import Logging
import MailSyncRPC
@testable import MailSyncTransport
import MailSyncWire
import NIOConcurrencyHelpers
import NIOCore
import Testing
import TestSupport

/// Nothing is kept for a closed connection: every connection handler the server made is released
/// once its connection is gone, however the connection ended.
@Suite("Closed connections are released")
struct ConnectionReleaseTests {
    /// The handlers the server created, held weakly.
    final class Handlers: Sendable {
        private struct Weak: @unchecked Sendable { weak var object: AnyObject? }  // read only under the lock
        private let state = NIOLockedValueBox<[Weak]>([])
        func add(_ object: AnyObject) { state.withLockedValue { $0.append(Weak(object: object)) } }
        var created: Int { state.withLockedValue { $0.count } }
        var alive: Int { state.withLockedValue { $0.filter { $0.object != nil }.count } }
    }

    @Test("handlers are released after every way a connection can end")
    func handlersReleased() async throws {
        let handlers = Handlers()
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.handshakeTimeout = .milliseconds(500)
        let probe = CallProbe()
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        let router = Router(methods: TestEchoService(probe: probe).serverMethods, authenticator: TestAuthenticator())
        let server = RPCServer(configuration: configuration, router: router, logger: logger)
        server.handlerObserver.withLockedValue { $0 = { handlers.add($0) } }
        let port = try #require(try await server.start().port)

        // Connect and close at once; close after the handshake; after a call; after a protocol
        // error; after the handshake timeout; after a half-close; a generated client's connection.
        for _ in 0..<5 { await (try RawConnection.connect(port: port)).close() }
        for _ in 0..<5 {
            let raw = try await RawConnection.connect(port: port)
            try await raw.handshake()
            await raw.close()
        }
        for id in [1, 3, 5] as [UInt32] {
            let raw = try await RawConnection.connect(port: port)
            try await raw.handshake()
            try await raw.sendEcho("call", on: id)
            #expect(await raw.awaitStatus(of: id)?.code == StatusCode.ok.rawValue)
            await raw.close()
        }
        let broken = try await RawConnection.connect(port: port)
        try await broken.send(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(try await broken.awaitGoAway()?.code == .badPreface)
        let silent = try await RawConnection.connect(port: port)
        #expect(try await silent.awaitGoAway()?.code == .handshakeTimeout)
        let halfClosed = try await RawConnection.connect(port: port)
        try await halfClosed.handshake()
        try await halfClosed.sendEcho("then FIN", on: 1)
        try await halfClosed.shutdownOutput()
        #expect(await halfClosed.wait { $0.isClosed })
        let sleeping = try await RawConnection.connect(port: port)
        try await sleeping.handshake()
        var sleep = SleepRequest()
        sleep.milliseconds = 300
        try await sleeping.send { b in
            FrameEncoder.write(.callStart(streamID: 1, CallStart(method: Echo.Method.sleep.fullName)), to: &b)
            FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: sleep.serializedBytes())), to: &b)
            FrameEncoder.write(.endStream(streamID: 1), to: &b)
        }
        #expect(await eventually { probe.started == 1 })
        // Closed with a call in flight: a FIN reads as a half-close, so the call runs to its end
        // (its answer meets a closed socket) and only then does the connection go; if the client's
        // socket still held unread bytes (a SETTINGS ACK, a PING), the kernel sends a reset
        // instead and the call is cancelled. Either way the handler ends and is released.
        await sleeping.close()
        let transport = TCPClientTransport(host: "127.0.0.1", port: port)
        let client = Echo.Client(RPCClient(transport: transport))
        var request = EchoRequest()
        request.text = "generated"
        #expect(try await client.echo(request).text == "generated")
        transport.close()

        #expect(handlers.created == 18)
        #expect(await eventually { server.connectionCount == 0 })
        #expect(await eventually { handlers.alive == 0 }, "\(handlers.alive) of \(handlers.created) handlers still alive after their connections closed")
        #expect(await eventually { probe.completed + probe.cancelled == 1 }, "completed \(probe.completed), cancelled \(probe.cancelled)")
        await server.shutdownGracefully()
    }
}

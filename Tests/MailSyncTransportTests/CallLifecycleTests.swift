import MailSyncRPC
import MailSyncTransport
import Testing
import TestSupport
import MailSyncWire
import NIOCore

/// Flow control, cancellation, deadlines and shutdown, through the generated client over TCP.
@Suite("Call lifecycle")
struct CallLifecycleTests {
    @Test("a slow reader of a server stream bounds what the server produces")
    func slowConsumerBoundsSender() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var request = ExpandRequest()
        request.count = 1000
        request.payloadSize = 64 * 1024  // 64 MB in all if nothing held the server back
        var iterator = try await client.expand(request).makeAsyncIterator()
        _ = try await iterator.next()
        try await Task.sleep(for: .milliseconds(500))
        // Stream window (256 KiB) + server send budget (256 KiB) + one message in hand: ~9 items.
        let written = server.probe.itemsWritten
        #expect(written <= 12, "the server produced \(written) items for a reader that took 1")
        #expect(written >= 3, "the server should fill the window, produced \(written)")
        var read = 1
        while let item = try await iterator.next() {
            #expect(item.index == Int32(read))
            read += 1
        }
        #expect(read == 1000)
        transport.close()
        await server.stop()
    }

    @Test("cancelling the client's task cancels the server's handler")
    func clientCancellation() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        let call = Task {
            var request = SleepRequest()
            request.milliseconds = 30_000
            return try await client.sleep(request)
        }
        #expect(await eventually { server.probe.started == 1 })
        call.cancel()
        await #expect(throws: RPCError.self) { try await call.value }
        #expect(await eventually { server.probe.cancelled == 1 })
        #expect(server.probe.completed == 0)
        transport.close()
        await server.stop()
    }

    @Test("dropping a server stream early cancels the server's handler")
    func droppedStreamCancels() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var request = ExpandRequest()
        request.count = 1_000_000
        request.payloadSize = 1024
        do {
            var iterator = try await client.expand(request).makeAsyncIterator()
            _ = try await iterator.next()
        }
        // The handler was blocked on flow control; cancelling it ends its write with an error,
        // which the probe records. A server that left the handler waiting would never get there.
        #expect(await eventually { server.probe.cancelled == 1 })
        #expect(server.probe.completed == 0)
        #expect(server.server.connectionCount == 1)
        var echo = EchoRequest()
        echo.text = "still serving"
        #expect(try await client.echo(echo).text == "still serving")
        #expect(server.probe.itemsWritten < 1_000_000)
        transport.close()
        await server.stop()
    }

    @Test("a deadline fails the call at the client and cancels the handler at the server")
    func deadlineBothSides() async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var request = SleepRequest()
        request.milliseconds = 60_000
        let start = ContinuousClock.now
        await #expect {
            _ = try await client.sleep(request, options: CallOptions(timeout: .milliseconds(200)))
        } throws: { error in
            (error as? RPCError)?.code == .deadlineExceeded
        }
        // Far below the handler's minute: the client gave up at its deadline, not when the handler
        // ended. (Not a tight figure: this suite shares two cores with every other suite.)
        #expect(ContinuousClock.now - start < .seconds(20))
        #expect(await eventually { server.probe.cancelled == 1 })
        transport.close()
        await server.stop()
    }

    @Test("the server enforces the deadline it was sent, even if the client does not act on it")
    func serverSideDeadline() async throws {
        let server = try await TestServer.start()
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.handshake()
        var request = SleepRequest()
        request.milliseconds = 10_000
        try await raw.send { buffer in
            FrameEncoder.write(.callStart(streamID: 1, CallStart(method: Echo.Method.sleep.fullName, timeoutMicroseconds: 150_000)), to: &buffer)
            FrameEncoder.write(.message(streamID: 1, flags: [], bytes: ByteBuffer(bytes: request.serializedBytes())), to: &buffer)
            FrameEncoder.write(.endStream(streamID: 1), to: &buffer)
        }
        let got = await raw.wait { conn in
            (try? conn.frames())?.contains { if case .status(1, let s) = $0 { s.code == StatusCode.deadlineExceeded.rawValue } else { false } } ?? false
        }
        #expect(got, "expected STATUS deadline exceeded on stream 1")
        #expect(await eventually { server.probe.cancelled == 1 })
        await raw.close()
        await server.stop()
    }

    @Test("graceful shutdown lets calls in flight finish and refuses new ones as retryable")
    func gracefulShutdown() async throws {
        let server = try await TestServer.start { $0.shutdownGracePeriod = .seconds(5) }
        let (client, transport) = server.client()
        let inFlight = Task {
            var request = SleepRequest()
            request.milliseconds = 400
            return try await client.sleep(request)
        }
        #expect(await eventually { server.probe.started == 1 })
        let shutdown = Task { await server.stop() }
        let response = try await inFlight.value
        #expect(response.completed)
        await shutdown.value
        await #expect {
            _ = try await client.echo(EchoRequest())
        } throws: { error in
            (error as? RPCError)?.code == .unavailable
        }
        transport.close()
    }

    @Test("calls still running when the grace period ends are cancelled")
    func gracePeriodExpires() async throws {
        let server = try await TestServer.start { $0.shutdownGracePeriod = .milliseconds(300) }
        let (client, transport) = server.client()
        let inFlight = Task {
            var request = SleepRequest()
            request.milliseconds = 60_000
            return try await client.sleep(request)
        }
        #expect(await eventually { server.probe.started == 1 })
        let start = ContinuousClock.now
        await server.stop()
        // Far below the handler's minute: the grace period (0.3 s) ended the call.
        #expect(ContinuousClock.now - start < .seconds(20))
        await #expect {
            _ = try await inFlight.value
        } throws: { error in
            (error as? RPCError)?.code == .unavailable
        }
        #expect(await eventually { server.probe.cancelled == 1 })
        transport.close()
    }

    @Test("roles: no key, a bad key, the wrong role and the right role", arguments: [
        (nil, "whoami", StatusCode.unauthenticated),
        ("bogus", "whoami", .unauthenticated),
        ("member-key", "adminOnly", .permissionDenied),
        ("admin-key", "adminOnly", .ok),
        ("member-key", "memberOrAdmin", .ok),
        (nil, "echo", .ok),
    ] as [(String?, String, StatusCode)])
    func roles(key: String?, method: String, expected: StatusCode) async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client(key: key)
        var code = StatusCode.ok
        do {
            switch method {
            case "whoami": _ = try await client.whoami(WhoamiRequest())
            case "adminOnly": _ = try await client.adminOnly(WhoamiRequest())
            case "memberOrAdmin": _ = try await client.memberOrAdmin(WhoamiRequest())
            default: _ = try await client.echo(EchoRequest())
            }
        } catch let error as RPCError {
            code = error.code
        }
        #expect(code == expected)
        transport.close()
        await server.stop()
    }

    @Test("a call waiting for a free slot on the connection still meets its deadline")
    func deadlineWhileQueued() async throws {
        let server = try await TestServer.start { $0.settings.maxConcurrentCalls = 1 }
        let (client, transport) = server.client()
        let busy = Task {
            var request = SleepRequest()
            request.milliseconds = 8_000
            return try await client.sleep(request)
        }
        #expect(await eventually { server.probe.started == 1 })
        let start = ContinuousClock.now
        await #expect {
            _ = try await client.echo(EchoRequest(), options: CallOptions(timeout: .milliseconds(200)))
        } throws: { ($0 as? RPCError)?.code == .deadlineExceeded }
        // Well before the busy call frees the slot (8 s): the queued call's deadline ended it.
        #expect(ContinuousClock.now - start < .seconds(6))
        #expect(try await busy.value.completed)
        transport.close()
        await server.stop()
    }

    @Test("bad metadata fails only that call, before anything is sent", arguments: [
        ("Bad Key", "v", StatusCode.invalidArgument),
        ("x-big", String(repeating: "v", count: 9_000), .resourceExhausted),
        ("x-huge", String(repeating: "v", count: 70_000), .invalidArgument),
    ])
    func badMetadata(key: String, value: String, expected: StatusCode) async throws {
        let server = try await TestServer.start()
        let (client, transport) = server.client()
        var options = CallOptions()
        options.metadata.add(key, value)
        await #expect {
            _ = try await client.echo(EchoRequest(), options: options)
        } throws: { ($0 as? RPCError)?.code == expected }
        var request = EchoRequest()
        request.text = "fine"
        #expect(try await client.echo(request).text == "fine")
        #expect(server.server.connectionCount == 1)
        transport.close()
        await server.stop()
    }

    @Test("a slow but steady upload outlasting the read timeout is not cut off")
    func steadyUploadSurvivesReadTimeout() async throws {
        // The read timeout bounds how long one frame may stay incomplete, not a call's length:
        // this upload lasts about three read timeouts. The timeout is a second (not less) because
        // the event loops are shared with every other test running at the same time, and a loop
        // busy elsewhere delays the read that completes a frame.
        let server = try await TestServer.start { $0.readTimeout = .seconds(1) }
        let (client, transport) = server.client()
        let start = ContinuousClock.now
        let summary = try await client.collect { writer in
            for _ in 0..<10 {
                var item = CollectItem()
                item.payload = [UInt8](repeating: 9, count: 100_000)
                try await writer.write(item)
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        #expect(summary.count == 10)
        #expect(ContinuousClock.now - start > .seconds(2))
        transport.close()
        await server.stop()
    }

    @Test("no server: unavailable at once, then the client reconnects once a server is there")
    func reconnect() async throws {
        // The freed port can be taken by another test's process before the server comes back on
        // it; then the scenario is tried again on a new port (the assertions are the same).
        for attempt in 1...5 {
            let probe = try await TestServer.start()
            let port = probe.port
            await probe.stop()
            let transport = TCPClientTransport(
                host: "127.0.0.1", port: port,
                configuration: ClientConfiguration(initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(200)))
            let client = Echo.Client(RPCClient(transport: transport))
            await #expect {
                _ = try await client.echo(EchoRequest())
            } throws: { error in
                (error as? RPCError)?.code == .unavailable
            }
            let server: TestServer
            do {
                server = try await TestServer.start { $0.port = port }
            } catch where "\(error)".contains("Address already in use") && attempt < 5 {
                transport.close()
                continue
            }
            try await Task.sleep(for: .milliseconds(300))
            var request = EchoRequest()
            request.text = "back"
            #expect(try await client.echo(request).text == "back")
            transport.close()
            await server.stop()
            return
        }
    }
}

/// Polls `condition` for up to five seconds.
func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

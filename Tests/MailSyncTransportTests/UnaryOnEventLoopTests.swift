import Logging
import MailSyncRPC
import MailSyncTransport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unary handlers started on their connection's event loop (`runsUnaryHandlersOnEventLoop`), and
/// the limit that moves a CPU-heavy method to the cooperative pool (`eventLoopJobLimit`).
@Suite("Unary handlers on the event loop")
struct UnaryOnEventLoopTests {
    /// Where each handler's code ran, in order: true on an event loop.
    final class Placements: Sendable {
        private let box = NIOLockedValueBox<[String: [Bool]]>([:])
        func record(_ key: String) {
            let onLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
            box.withLockedValue { $0[key, default: []].append(onLoop) }
        }
        func of(_ key: String) -> [Bool] { box.withLockedValue { $0[key] ?? [] } }
    }

    /// What the echo handler does with a request, chosen by its text.
    static func echo(_ request: EchoRequest, placements: Placements) async throws -> EchoResponse {
        placements.record(request.text)
        switch request.text {
        case "not found":
            throw RPCError(.notFound, "no such thing")
        case "crash":
            struct Unexpected: Error {}
            throw Unexpected()
        case "sleep":
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                placements.record("sleep cancelled")
                throw error
            }
        case "spin":
            // Well past the test's limit of 5 ms, in this thread's CPU time (what the limit
            // counts), in one job, however loaded the machine.
            let start = threadCPUMilliseconds()
            while threadCPUMilliseconds() - start < 30 {}
            await Task.yield()
            placements.record("spin after yield")
        default:
            break
        }
        return EchoResponse(text: request.text, payload: request.payload)
    }

    static func threadCPUMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }

    struct Harness {
        let server: RPCServer
        let transport: TCPClientTransport
        let client: RPCClient
        let placements: Placements

        static func start(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> Harness {
            let placements = Placements()
            let methods: [ServerMethod] = [
                .unary(Echo.Method.echo) { (request: EchoRequest, _: ServerContext) in
                    try await UnaryOnEventLoopTests.echo(request, placements: placements)
                },
                .serverStreaming(Echo.Method.expand) { (request: ExpandRequest, writer: ResponseWriter<ExpandItem>, _: ServerContext) in
                    placements.record("expand")
                    for index in 0..<request.count { try await writer.write(ExpandItem(index: index)) }
                },
            ]
            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
            configure(&configuration)
            var logger = Logger(label: "test.unary-on-loop")
            logger.logLevel = .warning
            let server = RPCServer(configuration: configuration, router: Router(methods: methods, authenticator: nil), logger: logger)
            let port = try await server.start().port!
            let transport = TCPClientTransport(host: "127.0.0.1", port: port)
            return Harness(server: server, transport: transport, client: RPCClient(transport: transport), placements: placements)
        }

        func echo(_ text: String, options: CallOptions = .defaults) async throws -> EchoResponse {
            try await client.unary(Echo.Method.echo, EchoRequest(text: text), options: options)
        }

        func stop() async {
            transport.close()
            await server.shutdownGracefully()
        }
    }

    @Test("unary handlers run on the event loop by default; streaming handlers on the pool")
    func defaultPlacement() async throws {
        let harness = try await Harness.start()
        #expect(try await harness.echo("hello").text == "hello")
        #expect(try await harness.echo("hello").text == "hello")
        #expect(harness.placements.of("hello") == [true, true])
        let stream: ResponseStream<ExpandItem> = try await harness.client.serverStreaming(Echo.Method.expand, ExpandRequest(count: 3))
        var indexes: [Int32] = []
        for try await item in stream { indexes.append(item.index) }
        #expect(indexes == [0, 1, 2])
        #expect(harness.placements.of("expand") == [false])
        await harness.stop()
    }

    @Test("with runsUnaryHandlersOnEventLoop off, unary handlers run on the pool")
    func turnedOff() async throws {
        let harness = try await Harness.start { $0.runsUnaryHandlersOnEventLoop = false }
        #expect(try await harness.echo("hello").text == "hello")
        #expect(harness.placements.of("hello") == [false])
        await harness.stop()
    }

    @Test("the fourth job over the limit moves the rest of its call, and later calls of its method, to the pool")
    func heavyMethodMoves() async throws {
        let harness = try await Harness.start { $0.eventLoopJobLimit = .milliseconds(5) }
        #expect(try await harness.echo("light").text == "light")
        for _ in 0..<4 { #expect(try await harness.echo("spin").text == "spin") }
        #expect(harness.placements.of("spin").first == true)
        // The first job over the limit (in wall time) only starts CPU timing, the next two are
        // strikes, the fourth moves the method, mid-call. (A strike from a preempted virtual
        // machine could move it one call early, hence not all four.)
        let afterYield = harness.placements.of("spin after yield")
        #expect(afterYield.count == 4)
        #expect(afterYield.first == true)
        #expect(afterYield.last == false)
        #expect(try await harness.echo("light").text == "light")
        #expect(harness.placements.of("light") == [true, false])
        await harness.stop()
    }

    @Test("handler errors become the call's status on the event-loop path")
    func errorsBecomeStatus() async throws {
        let harness = try await Harness.start()
        await #expect {
            _ = try await harness.echo("not found")
        } throws: { error in
            (error as? RPCError)?.code == .notFound && (error as? RPCError)?.message == "no such thing"
        }
        await #expect {
            _ = try await harness.echo("crash")
        } throws: { error in
            (error as? RPCError)?.code == .internal
        }
        #expect(harness.placements.of("not found") == [true])
        #expect(harness.placements.of("crash") == [true])
        // The connection still serves calls.
        #expect(try await harness.echo("after").text == "after")
        await harness.stop()
    }

    @Test("a deadline ends a handler waiting on the event loop, and the client gets deadlineExceeded")
    func deadline() async throws {
        let harness = try await Harness.start()
        let start = ContinuousClock.now
        await #expect {
            _ = try await harness.echo("sleep", options: CallOptions(timeout: .milliseconds(200)))
        } throws: { error in
            (error as? RPCError)?.code == .deadlineExceeded
        }
        #expect(ContinuousClock.now - start < .seconds(20))
        #expect(harness.placements.of("sleep") == [true])
        #expect(await eventually { harness.placements.of("sleep cancelled") == [true] })
        await harness.stop()
    }

    @Test("cancelling the caller cancels a handler waiting on the event loop")
    func cancellation() async throws {
        let harness = try await Harness.start()
        let call = Task { try await harness.echo("sleep") }
        #expect(await eventually { harness.placements.of("sleep") == [true] })
        call.cancel()
        await #expect {
            _ = try await call.value
        } throws: { error in
            (error as? RPCError)?.code == .cancelled
        }
        #expect(await eventually { harness.placements.of("sleep cancelled") == [true] })
        #expect(try await harness.echo("after").text == "after")
        await harness.stop()
    }

    @Test("metadata over the server's limit fails the call before any handler runs")
    func metadataLimit() async throws {
        let harness = try await Harness.start { $0.settings.maxMetadataSize = 256 }
        var options = CallOptions()
        options.metadata.add("big", String(repeating: "x", count: 1024))
        await #expect {
            _ = try await harness.echo("too much", options: options)
        } throws: { error in
            (error as? RPCError)?.code == .resourceExhausted
        }
        #expect(harness.placements.of("too much").isEmpty)
        #expect(try await harness.echo("after").text == "after")
        await harness.stop()
    }
}

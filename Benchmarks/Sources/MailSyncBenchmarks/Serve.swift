#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MailSyncRPC
import MailSyncTransport
import NIOCore
import NIOPosix

/// The child side of `ServerProcess`: `--serve floor|ours|grpc --payload BYTES
/// [--handlers-on-event-loop]` starts that server on 127.0.0.1, writes `port N` and a newline on
/// standard output, and serves until it is killed or its parent goes away (checked every second).
/// Each server uses its own process's `MultiThreadedEventLoopGroup.singleton` (one loop per core).
enum Serve {
    static func run(_ arguments: [String]) async throws -> Never {
        var kind: String?
        var payloadSize = 16
        var handlersOnEventLoop = false
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--serve": kind = rest.popFirst()
            case "--payload":
                guard let value = rest.popFirst().flatMap(Int.init), value >= 0 else {
                    MailSyncBenchmarks.fail("--payload takes a byte count")
                }
                payloadSize = value
            case "--handlers-on-event-loop": handlersOnEventLoop = true
            default: MailSyncBenchmarks.fail("--serve: unknown argument '\(argument)'")
            }
        }
        let parent = getppid()
        let port: Int
        // Held until the process exits.
        var server: AnyObject?
        switch kind {
        case "floor":
            let floor = try await Floor.Server.start(
                shape: CallShape(payloadSize: payloadSize), group: MultiThreadedEventLoopGroup.singleton)
            (server, port) = (floor, floor.port)
        case "ours":
            let ours = try await startOurs(handlersOnEventLoop: handlersOnEventLoop)
            (server, port) = (ours.server, ours.port)
        case "grpc":
            port = try await GRPCEcho.startServer()
        default:
            MailSyncBenchmarks.fail("--serve takes floor, ours or grpc")
        }
        let line = Array("port \(port)\n".utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        while getppid() == parent {
            try await Task.sleep(for: .seconds(1))
        }
        withExtendedLifetime(server) {}
        exit(0)
    }

    /// `RPCServer` with the default configuration (but for an ephemeral port and a short grace
    /// period) and the echo method, no authenticator.
    static func startOurs(handlersOnEventLoop: Bool) async throws -> (server: RPCServer, port: Int) {
        var logger = Logger(label: "bench.server")
        logger.logLevel = .warning
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, shutdownGracePeriod: .seconds(2))
        configuration.runsHandlersOnEventLoop = handlersOnEventLoop
        let server = RPCServer(
            configuration: configuration,
            router: Router(methods: BenchService.methods, authenticator: nil), logger: logger,
            group: MultiThreadedEventLoopGroup.singleton)
        guard let port = try await server.start().port else {
            throw RPCError(.internal, "the server has no port")
        }
        return (server, port)
    }
}

import Logging
import MailSyncRPC
import MailSyncTransport
import NIOCore

/// A real server on a free loopback port, serving the test schema's service.
public struct TestServer: Sendable {
    public let server: RPCServer
    public let port: Int
    public let probe: CallProbe

    /// Starts a server; stop it with `stop()` at the end of the test. `authenticator` (default
    /// ``TestAuthenticator``) runs before every call's handler.
    public static func start(
        authenticator: any Authenticator = TestAuthenticator(),
        _ configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        PoolStallWatchdog.ensureStarted()
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        let probe = CallProbe()
        let router = Router(methods: TestEchoService(probe: probe).serverMethods, authenticator: authenticator)
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        let server = RPCServer(configuration: configuration, router: router, logger: logger)
        let address = try await server.start()
        return TestServer(server: server, port: address.port!, probe: probe)
    }

    /// A generated client on a new connection to this server.
    public func client(
        configuration: ClientConfiguration = ClientConfiguration(), key: String? = nil
    ) -> (Echo.Client, TCPClientTransport) {
        let transport = TCPClientTransport(host: "127.0.0.1", port: port, configuration: configuration)
        var options = CallOptions()
        if let key { options.metadata.add(Metadata.authorizationKey, key) }
        return (Echo.Client(RPCClient(transport: transport, defaultOptions: options)), transport)
    }

    public func stop() async {
        await server.shutdownGracefully()
    }
}

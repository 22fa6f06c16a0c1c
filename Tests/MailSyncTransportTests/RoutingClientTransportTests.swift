import MailSyncRPC
import MailSyncTransport
import NIOConcurrencyHelpers
import Testing
import TestSupport

/// A fleet in miniature: real servers on loopback, each either answering every call with `moved`
/// (as a node that does not own the company) or serving it; and `RoutingClientTransport`
/// following the redirects.
@Suite("Routing client transport (moved)")
struct RoutingClientTransportTests {
    @Test("a unary call is redirected to the owner, and the next one goes straight there")
    func unaryFollowsAndCaches() async throws {
        let fleet = try await Fleet.start(nodes: 2)
        defer { fleet.close() }
        fleet[0].redirect(to: fleet.address(1), company: "acme")
        let client = fleet.client(seed: 0)

        #expect(try await client.echo(text: "one") == "one")
        #expect(fleet[0].calls == 1)
        #expect(fleet[1].calls == 1)
        #expect(try await client.echo(text: "two") == "two")
        #expect(fleet[0].calls == 1, "the second call went to the seed again")
        #expect(fleet[1].calls == 2)
        await fleet.stop()
    }

    @Test("a redirect loop fails with unavailable, naming the nodes, after 4 redirects")
    func loopFails() async throws {
        let fleet = try await Fleet.start(nodes: 2)
        defer { fleet.close() }
        fleet[0].redirect(to: fleet.address(1), company: "acme")
        fleet[1].redirect(to: fleet.address(0), company: "acme")
        let client = fleet.client(seed: 0)

        let error = await #expect(throws: RPCError.self) { try await client.echo(text: "loop") }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("redirected 4 times") == true)
        #expect(error?.message.contains("\(fleet.address(0)) → \(fleet.address(1)) → \(fleet.address(0))") == true)
        #expect(fleet[0].calls + fleet[1].calls == 5, "the first call and 4 redirects")
        await fleet.stop()
    }

    @Test(
        "an owner trailer that is missing, empty or not host:port is an error naming it; nothing is connected",
        arguments: [nil, "", "127.0.0.1", "127.0.0.1 :PORT", "127.0.0.1:PORT ", "[127.0.0.1]:PORT", "localhost:+PORT",
                    "::1:PORT", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:PORT/x", "user@127.0.0.1:PORT"]
    )
    func malformedOwner(template: String?) async throws {
        let fleet = try await Fleet.start(nodes: 2)
        defer { fleet.close() }
        let value = template?.replacing("PORT", with: "\(fleet[1].server.port)")
        var trailers = Metadata()
        if let value { trailers.add(Metadata.ownerAddressKey, value) }
        trailers.add(Metadata.ownerCompanyKey, "acme")
        fleet[0].mode = .moved(trailers)
        let client = fleet.client(seed: 0)

        let error = await #expect(throws: RPCError.self) { try await client.echo(text: "x") }
        #expect(error?.code == .internal)
        #expect(error?.message.contains(Metadata.ownerAddressKey) == true)
        if let value, !value.isEmpty { #expect(error?.message.contains("'\(value)'") == true) }
        #expect(error?.trailers[Metadata.ownerCompanyKey] == "acme")
        #expect(fleet[1].server.server.connectionCount == 0, "no connection to the node the trailer almost names")
        #expect(fleet[0].calls == 1)
        await fleet.stop()
    }

    @Test("a cached owner that is gone is dropped, and the call goes once through the seed")
    func goneOwnerFallsBackToSeed() async throws {
        let fleet = try await Fleet.start(nodes: 3)
        defer { fleet.close() }
        fleet[0].redirect(to: fleet.address(1), company: "acme")
        let client = fleet.client(seed: 0)
        #expect(try await client.echo(text: "before") == "before")
        #expect(fleet[1].calls == 1)

        // Node 1 dies; the company now lives on node 2, as the seed says. The client learns that
        // its connection to node 1 closed on its event loop, a moment after the server's stop
        // returns: a call sent before that moment would race the close (and fail `unavailable`,
        // as any call on a connection closing under it does, since it may have been processed).
        await fleet[1].server.stop()
        try await Task.sleep(for: .seconds(1))
        fleet[0].redirect(to: fleet.address(2), company: "acme")
        #expect(try await client.echo(text: "after") == "after")
        #expect(fleet[0].calls == 2)
        #expect(fleet[2].calls == 1)
        #expect(try await client.echo(text: "again") == "again")
        #expect(fleet[0].calls == 2, "node 2 is cached now")
        #expect(fleet[2].calls == 2)
        await fleet.stop()
    }

    @Test("an operator key whose calls name different companies is not routed by key")
    func operatorKeyGoesToSeed() async throws {
        let fleet = try await Fleet.start(nodes: 3)
        defer { fleet.close() }
        let client = fleet.client(seed: 0)
        fleet[0].redirect(to: fleet.address(1), company: "acme")
        #expect(try await client.echo(text: "acme") == "acme")
        fleet[1].redirect(to: fleet.address(2), company: "globex")  // the next call names another company
        #expect(try await client.echo(text: "globex") == "globex")
        #expect((fleet[0].calls, fleet[1].calls, fleet[2].calls) == (1, 2, 1))
        // Two companies for one key: its calls go to the seed again.
        fleet[0].redirect(to: fleet.address(2), company: "globex")
        #expect(try await client.echo(text: "seed") == "seed")
        #expect((fleet[0].calls, fleet[1].calls, fleet[2].calls) == (2, 2, 2))
        await fleet.stop()
    }

    @Test("a server-streaming call is redirected before its first item, and the next one goes straight there")
    func serverStreamingFollows() async throws {
        let fleet = try await Fleet.start(nodes: 2)
        defer { fleet.close() }
        fleet[0].redirect(to: fleet.address(1), company: "acme")
        let client = fleet.client(seed: 0)

        for expectedSeedCalls in [1, 1] {
            var request = ExpandRequest()
            request.count = 5
            request.payloadSize = 10
            var indexes: [Int32] = []
            for try await item in try await client.client.expand(request) { indexes.append(item.index) }
            #expect(indexes == [0, 1, 2, 3, 4])
            #expect(fleet[0].calls == expectedSeedCalls)
        }
        #expect(fleet[1].calls == 2)
        await fleet.stop()
    }

    @Test("a client-streaming call within the replay limit is sent again at the owner")
    func clientStreamingFollows() async throws {
        let fleet = try await Fleet.start(nodes: 2)
        defer { fleet.close() }
        fleet[0].redirect(to: fleet.address(1), company: "acme")
        let client = fleet.client(seed: 0)

        let summary = try await client.client.collect { writer in
            for _ in 0..<3 {
                var item = CollectItem()
                item.payload = [1, 2, 3, 4]
                try await writer.write(item)
            }
        }
        #expect(summary.count == 3)
        #expect(summary.bytes == 12)
        #expect(fleet[1].calls == 1)
        await fleet.stop()
    }

    @Test("a client-streaming call past the replay limit surfaces moved with the owner's address")
    func clientStreamingPastLimitSurfacesMoved() async throws {
        let fleet = try await Fleet.start(nodes: 2)
        defer { fleet.close() }
        fleet[0].redirect(to: fleet.address(1), company: "acme")
        let client = fleet.client(seed: 0, replayLimit: 8)

        let error = await #expect(throws: RPCError.self) {
            _ = try await client.client.collect { writer in
                for _ in 0..<3 {
                    var item = CollectItem()
                    item.payload = [1, 2, 3, 4]
                    try await writer.write(item)
                }
            }
        }
        #expect(error?.code == .moved)
        #expect(error?.trailers[Metadata.ownerAddressKey] == fleet.address(1))
        #expect(error?.message.contains("not followed") == true)
        #expect(fleet[1].calls == 0)
        await fleet.stop()
    }
}

/// Answers every call with `moved` and the given trailers, or lets it through to
/// `TestAuthenticator`; counts the calls it saw either way.
final class FleetNode: Authenticator, Sendable {
    enum Mode: Sendable {
        case serve
        case moved(Metadata)
    }

    private let state = NIOLockedValueBox((mode: Mode.serve, calls: 0))
    private let started = NIOLockedValueBox<TestServer?>(nil)

    var server: TestServer { started.withLockedValue { $0! } }
    var calls: Int { state.withLockedValue { $0.calls } }
    var mode: Mode {
        get { state.withLockedValue { $0.mode } }
        set { state.withLockedValue { $0.mode = newValue } }
    }

    func start() async throws {
        let server = try await TestServer.start(authenticator: self)
        started.withLockedValue { $0 = server }
    }

    func redirect(to owner: String, company: String) {
        mode = .moved([Metadata.ownerAddressKey: owner, Metadata.ownerCompanyKey: company])
    }

    func authenticate(_ metadata: Metadata, method: MethodDescriptor) async throws -> (any CallerIdentity)? {
        let mode = state.withLockedValue { state in
            state.calls += 1
            return state.mode
        }
        if case .moved(let trailers) = mode {
            throw RPCError(.moved, "the company lives on another node", trailers: trailers)
        }
        return try await TestAuthenticator().authenticate(metadata, method: method)
    }
}

/// Nodes on loopback, and the routing clients made to them (closed by `close()`).
struct Fleet: Sendable {
    let nodes: [FleetNode]
    private let transports = NIOLockedValueBox<[RoutingClientTransport]>([])

    static func start(nodes count: Int) async throws -> Fleet {
        var nodes: [FleetNode] = []
        for _ in 0..<count {
            let node = FleetNode()
            try await node.start()
            nodes.append(node)
        }
        return Fleet(nodes: nodes)
    }

    subscript(index: Int) -> FleetNode { nodes[index] }

    func address(_ index: Int) -> String { "127.0.0.1:\(nodes[index].server.port)" }

    /// A client with a tenant's key whose seed is node `seed`.
    func client(seed: Int, replayLimit: Int = 4 << 20) -> RoutedEcho {
        let transport = RoutingClientTransport(
            host: "127.0.0.1", port: nodes[seed].server.port, replayLimit: replayLimit)
        transports.withLockedValue { $0.append(transport) }
        var options = CallOptions(timeout: .seconds(20))
        options.metadata.add(Metadata.authorizationKey, "member-key")
        return RoutedEcho(client: Echo.Client(RPCClient(transport: transport, defaultOptions: options)))
    }

    func close() {
        for transport in transports.withLockedValue({ $0 }) { transport.close() }
    }

    func stop() async {
        close()
        for node in nodes { await node.server.stop() }
    }
}

struct RoutedEcho: Sendable {
    let client: Echo.Client

    func echo(text: String) async throws -> String {
        var request = EchoRequest()
        request.text = text
        return try await client.echo(request).text
    }
}

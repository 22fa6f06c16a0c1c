public import Logging
public import MailSyncRPC
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix

/// A client transport for a Mail Sync fleet: calls go to a seed node, and a `moved` answer (the
/// company lives on another node) is followed to the owner its trailers name, transparently.
///
/// What it does, per call (docs/protocol.md, "Redirects (fleets)"):
/// - **Follows `moved`** to the address in ``Metadata/ownerAddressKey``, making the same call
///   again there (the node that answered `moved` did nothing). At most `maxHops` (default 4)
///   redirects per call; one more `moved` fails the call with `unavailable` naming every node
///   visited. An owner address that is missing, empty or not `host:port` (``NodeAddress``) is
///   never followed: the call fails with `internal` naming the trailer, and nothing is connected.
/// - **Remembers owners** (``OwnerCache``): per API key (the first `authorization` value, kept in
///   memory as the client already holds it) the company its redirects named, per company its
///   owner, so that later calls go straight to the owner. Operator keys, whose calls name many
///   companies, are recognized when two redirects name different companies; their calls then go
///   to the seed, and each company-scoped call pays one redirect.
/// - **Drops a dead owner**: before a call goes to an owner known only from the cache, the
///   transport checks that it can connect; if not (`unavailable`: the node is gone or refuses),
///   the entry and the connection are dropped and the call goes once through the seed. Nothing
///   was sent, so this is safe for every method.
/// - **Streaming calls** keep what they sent (up to `replayLimit` bytes, default 4 MiB) until the
///   first response arrives, and on `moved` open the call at the owner and send it again there.
///   A call that sent more than that surfaces `moved` (its trailers name the owner) instead. The
///   call's `send`, `finishSending` and `receive` must be used by one task at a time, as
///   `RPCClient` does (`cancel` from anywhere).
/// - **Deadlines** cover the whole call: each redirect is made with what is left of the timeout.
///
/// One connection per node (a `TCPClientTransport` each, made on first use), at most
/// `maxConnections` owners (default 64) besides the seed: the least recently used is closed
/// (gracefully: its calls in flight finish) to make room. Owners get the seed's configuration,
/// except that over TLS their certificate is checked against the host their address names.
/// Without a fleet (no `moved` ever), calls go to the seed over one connection, as with
/// `TCPClientTransport`.
public final class RoutingClientTransport: ClientTransport {
    /// The seed node, where calls go when no owner is known.
    public let host: String
    public let port: Int
    /// Most redirects followed for one call (default 4).
    public let maxHops: Int
    /// Most bytes of requests a streaming call keeps to send again at the owner (default 4 MiB).
    public let replayLimit: Int

    let seedAddress: NodeAddress
    private let seed: TCPClientTransport
    private let ownerConfiguration: ClientConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct State: Sendable {
        var pool: TransportPool<TCPClientTransport>
        var cache = OwnerCache()
    }

    /// A node a call is sent to.
    struct Target: Sendable {
        let address: NodeAddress
        let transport: TCPClientTransport
        /// The company whose cached owner this is; nil when the seed, or named by a redirect.
        let cachedFor: String?
    }

    /// - Parameters:
    ///   - host, port: the seed node (any node of the fleet, or a single server).
    ///   - configuration: for every connection (see `ClientConfiguration`); owners' TLS names
    ///     are their own hosts.
    ///   - maxConnections: owner connections kept at most, besides the seed's (default 64).
    ///   - maxHops: redirects followed per call at most (default 4).
    ///   - replayLimit: request bytes a streaming call keeps for a redirect (default 4 MiB).
    public init(
        host: String, port: Int, configuration: ClientConfiguration = ClientConfiguration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "mailsync.client", factory: { _ in SwiftLogNoOpLogHandler() }),
        maxConnections: Int = 64, maxHops: Int = 4, replayLimit: Int = 4 << 20
    ) {
        precondition(maxConnections > 0 && maxHops >= 0 && replayLimit >= 0)
        self.host = host
        self.port = port
        self.maxHops = maxHops
        self.replayLimit = replayLimit
        self.seedAddress = NodeAddress(host: host, port: port)
        self.seed = TCPClientTransport(host: host, port: port, configuration: configuration, group: group, logger: logger)
        var ownerConfiguration = configuration
        ownerConfiguration.serverHostname = nil
        self.ownerConfiguration = ownerConfiguration
        self.group = group
        self.logger = logger
        self.state = NIOLockedValueBox(State(pool: TransportPool(capacity: maxConnections)))
    }

    public func unary(_ method: MethodDescriptor, request: [UInt8], options: CallOptions) async throws -> [UInt8] {
        let key = options.metadata[Metadata.authorizationKey]
        let start = ContinuousClock.now
        var target = try firstTarget(key: key)
        var path = RedirectPath(start: target.address, maxHops: maxHops)
        var callOptions = options
        while true {
            target = try await reachable(target, path: &path)
            do {
                return try await target.transport.unary(method, request: request, options: callOptions)
            } catch let error as RPCError where error.code == .moved {
                target = try follow(error, from: target, key: key, method: method, path: &path)
                callOptions = try remaining(options, since: start, method: method)
            }
        }
    }

    public func openCall(_ method: MethodDescriptor, options: CallOptions) async throws -> any ClientCall {
        let key = options.metadata[Metadata.authorizationKey]
        let start = ContinuousClock.now
        let first = try firstTarget(key: key)
        var path = RedirectPath(start: first.address, maxHops: maxHops)
        let target = try await reachable(first, path: &path)
        let call = try await target.transport.openCall(method, options: options)
        return RoutingCall(
            router: self, method: method, key: key, options: options, start: start, target: target, path: path,
            call: call)
    }

    /// Closes every connection once its calls finish; later calls fail with `unavailable`.
    public func close() {
        seed.close()
        for transport in state.withLockedValue({ $0.pool.close() }) { transport.close() }
    }

    // MARK: Routing steps, shared with `RoutingCall`

    /// Where a call made with `key` goes first: its company's cached owner, else the seed.
    private func firstTarget(key: String?) throws -> Target {
        let found: (Target, TCPClientTransport?)? = try state.withLockedValue { state in
            guard let cached = state.cache.owner(forKey: key) else { return nil }
            let made = try node(at: cached.owner, in: &state)
            return (Target(address: cached.owner, transport: made.0, cachedFor: cached.company), made.1)
        }
        guard let found else { return Target(address: seedAddress, transport: seed, cachedFor: nil) }
        found.1?.close()
        return found.0
    }

    /// `target`, or the seed when `target` is a cached owner that cannot be reached (its cache
    /// entry and connection are dropped).
    private func reachable(_ target: Target, path: inout RedirectPath) async throws -> Target {
        guard let company = target.cachedFor else { return target }
        do {
            try await target.transport.connect()
            return target
        } catch let error as RPCError where error.code == .unavailable {
            let dropped = state.withLockedValue { state in
                state.cache.ownerUnreachable(target.address, company: company)
                return state.pool.remove(target.address, if: target.transport)
            }
            dropped?.close()
            path.restart(at: seedAddress)
            return Target(address: seedAddress, transport: seed, cachedFor: nil)
        }
    }

    /// Records the `moved` answer `error` from `target` and returns the node it names.
    func follow(
        _ error: RPCError, from target: Target, key: String?, method: MethodDescriptor, path: inout RedirectPath
    ) throws -> Target {
        let redirect = try Redirect(error, from: target.address, method: method)
        try path.follow(to: redirect.owner, company: redirect.company, method: method)
        let made: (TCPClientTransport, TCPClientTransport?) = try state.withLockedValue { state in
            state.cache.learned(redirect, key: key)
            return try node(at: redirect.owner, in: &state)
        }
        made.1?.close()
        return Target(address: redirect.owner, transport: made.0, cachedFor: nil)
    }

    /// `options` with what is left of their timeout after the time since `start`.
    ///
    /// - Throws: `deadlineExceeded` when nothing is left.
    func remaining(_ options: CallOptions, since start: ContinuousClock.Instant, method: MethodDescriptor) throws -> CallOptions {
        guard let timeout = options.timeout else { return options }
        let left = timeout - (ContinuousClock.now - start)
        guard left > .zero else {
            throw RPCError(.deadlineExceeded, "the deadline of \(method) (\(timeout)) passed while following redirects")
        }
        var result = options
        result.timeout = left
        return result
    }

    /// The transport to `address` (the seed's, or an owner's made on first use) and one evicted to
    /// make room, which the caller closes outside the lock.
    private func node(at address: NodeAddress, in state: inout State) throws -> (TCPClientTransport, TCPClientTransport?) {
        if address == seedAddress { return (seed, nil) }
        let made = state.pool.transport(for: address) {
            TCPClientTransport(
                host: address.host, port: address.port, configuration: ownerConfiguration, group: group, logger: logger)
        }
        guard let made else { throw RPCError(.unavailable, "the client has been closed") }
        return (made.transport, made.evicted)
    }
}

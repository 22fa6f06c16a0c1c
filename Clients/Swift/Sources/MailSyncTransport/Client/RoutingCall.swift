import MailSyncRPC
import NIOConcurrencyHelpers

/// A streaming call made through a `RoutingClientTransport`: when the node answers `moved`, the
/// call is opened again at the owner and what was sent is sent again there.
///
/// A node answers `moved` before it does anything, so the requests sent so far are replayable
/// until the first response arrives. They are kept until then, up to the transport's
/// `replayLimit` bytes; past that, or after a response, a `moved` is surfaced to the caller with
/// its trailers (and a message saying why it was not followed). `send`, `finishSending` and
/// `receive` are meant for one task at a time (as `RPCClient` uses them); `cancel` may come from
/// anywhere, and also stops a redirect under way.
final class RoutingCall: ClientCall, Sendable {
    private let router: RoutingClientTransport
    private let method: MethodDescriptor
    private let key: String?
    private let options: CallOptions
    private let start: ContinuousClock.Instant
    private let state: NIOLockedValueBox<State>

    private struct State: Sendable {
        var inner: any ClientCall
        /// How many redirects replaced `inner`; an operation that met `moved` on an older one
        /// just goes on with the current one.
        var generation = 0
        var target: RoutingClientTransport.Target
        var path: RedirectPath
        /// The requests sent so far, while they may have to be sent again; nil once not.
        var replay: [[UInt8]]? = []
        var replayBytes = 0
        var finishedSending = false
        var responded = false
        var cancelled = false
    }

    init(
        router: RoutingClientTransport, method: MethodDescriptor, key: String?, options: CallOptions,
        start: ContinuousClock.Instant, target: RoutingClientTransport.Target, path: RedirectPath, call: any ClientCall
    ) {
        self.router = router
        self.method = method
        self.key = key
        self.options = options
        self.start = start
        self.state = NIOLockedValueBox(State(inner: call, target: target, path: path))
    }

    func send(_ message: [UInt8]) async throws {
        let limit = router.replayLimit
        let (inner, generation) = state.withLockedValue { state in
            if state.replay != nil {
                if message.count <= limit - state.replayBytes {
                    state.replay?.append(message)
                    state.replayBytes += message.count
                } else {
                    state.replay = nil
                    state.replayBytes = 0
                }
            }
            return (state.inner, state.generation)
        }
        do {
            try await inner.send(message)
        } catch let error as RPCError where error.code == .moved {
            try await redirect(error, generation: generation)
        }
    }

    func finishSending() async throws {
        let (inner, generation) = state.withLockedValue { state in
            state.finishedSending = true
            return (state.inner, state.generation)
        }
        do {
            try await inner.finishSending()
        } catch let error as RPCError where error.code == .moved {
            try await redirect(error, generation: generation)
        }
    }

    func receive() async throws -> [UInt8]? {
        while true {
            let (inner, generation) = state.withLockedValue { ($0.inner, $0.generation) }
            do {
                let message = try await inner.receive()
                if message != nil {
                    // The owner is serving the call: no `moved` can come any more.
                    state.withLockedValue { state in
                        state.responded = true
                        state.replay = nil
                        state.replayBytes = 0
                    }
                }
                return message
            } catch let error as RPCError where error.code == .moved {
                try await redirect(error, generation: generation)
            }
        }
    }

    func cancel() {
        let inner = state.withLockedValue { state in
            state.cancelled = true
            return state.inner
        }
        inner.cancel()
    }

    private enum Plan {
        case alreadyMoved
        case fail(RPCError)
        case follow(RoutingClientTransport.Target, RedirectPath, [[UInt8]], finished: Bool)
    }

    /// Follows `moved`, met on the call of `generation`, until a node takes the replayed requests.
    private func redirect(_ moved: RPCError, generation: Int) async throws {
        let limit = router.replayLimit
        let plan: Plan = state.withLockedValue { state in
            guard state.generation == generation else { return .alreadyMoved }
            if state.cancelled { return .fail(RPCError(.cancelled, "the client cancelled the call")) }
            if state.responded {
                return .fail(Self.notFollowed(moved, "the node had already sent a response"))
            }
            guard let replay = state.replay else {
                return .fail(Self.notFollowed(
                    moved, "the call had sent more than \(limit) bytes of requests, more than the client keeps to send again"))
            }
            return .follow(state.target, state.path, replay, finished: state.finishedSending)
        }
        guard case .follow(var target, var path, let replay, let finished) = plan else {
            if case .fail(let error) = plan { throw error }
            return
        }
        var current = moved
        while true {
            target = try router.follow(current, from: target, key: key, method: method, path: &path)
            let call = try await target.transport.openCall(method, options: router.remaining(options, since: start, method: method))
            do {
                for message in replay { try await call.send(message) }
                if finished { try await call.finishSending() }
            } catch let next as RPCError where next.code == .moved {
                current = next
                continue
            } catch {
                call.cancel()
                throw error
            }
            let installed: Bool = state.withLockedValue { [target, path] state in
                guard state.generation == generation, !state.cancelled else { return false }
                state.inner = call
                state.generation += 1
                state.target = target
                state.path = path
                return true
            }
            guard installed else {
                call.cancel()
                if state.withLockedValue({ $0.cancelled }) { throw RPCError(.cancelled, "the client cancelled the call") }
                return
            }
            return
        }
    }

    /// `moved` as the caller sees it when it is not followed: the same code and trailers.
    private static func notFollowed(_ moved: RPCError, _ reason: String) -> RPCError {
        RPCError(
            .moved, "\(moved.message) (not followed: \(reason); make the call again at the owner)",
            details: moved.details, trailers: moved.trailers)
    }
}

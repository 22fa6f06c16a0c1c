import Foundation
import MailSyncRPC
import NIOCore

/// The client transport's one connection to its endpoint, as an explicit state machine.
///
/// ```
/// idle ──call──▶ connecting ──ok──▶ ready ──GOAWAY / closed──▶ idle
///                    │ fails
///                    ▼
///                 backoff(until) ──call after `until`──▶ connecting
/// ```
/// While in backoff, calls fail at once with `unavailable` naming the last error and when the next
/// attempt may happen; the wait grows with each consecutive failure.
struct ConnectionManagerState {
    enum State {
        case idle
        case connecting(EventLoopFuture<ClientConnection>)
        case ready(ClientConnection)
        case backoff(until: NIODeadline, lastError: String)
        case closed
    }

    private(set) var state: State = .idle
    private(set) var consecutiveFailures = 0

    enum Action {
        case use(ClientConnection)
        case wait(EventLoopFuture<ClientConnection>)
        case connect
        case fail(RPCError)
    }

    /// What a new call should do now.
    mutating func callArrived(now: NIODeadline) -> Action {
        switch state {
        case .ready(let connection): return .use(connection)
        case .connecting(let future): return .wait(future)
        case .idle: return .connect
        case .backoff(let until, let lastError):
            guard now >= until else {
                let wait = Double((until - now).nanoseconds) / 1e9
                return .fail(RPCError(
                    .unavailable,
                    "cannot reach the server (\(lastError)); next attempt in \(String(format: "%.1f", wait)) s"))
            }
            return .connect
        case .closed: return .fail(RPCError(.unavailable, "the client has been closed"))
        }
    }

    mutating func connecting(_ future: EventLoopFuture<ClientConnection>) {
        state = .connecting(future)
    }

    mutating func connected(_ connection: ClientConnection) {
        guard case .connecting = state else { return }
        consecutiveFailures = 0
        state = .ready(connection)
    }

    mutating func connectFailed(error: String, backoff: TimeAmount, now: NIODeadline) {
        guard case .connecting = state else { return }
        consecutiveFailures += 1
        state = .backoff(until: now + backoff, lastError: error)
    }

    /// The ready connection stopped taking calls: the next call makes a new one.
    mutating func connectionUnusable(_ connection: ClientConnection) {
        if case .ready(let current) = state, current === connection { state = .idle }
    }

    mutating func close() -> ClientConnection? {
        defer { state = .closed }
        if case .ready(let connection) = state { return connection }
        return nil
    }

    /// The wait after `failures` consecutive failures: initial × multiplier^(failures-1), capped,
    /// with ±20% jitter.
    static func backoff(failures: Int, configuration: ClientConfiguration) -> TimeAmount {
        let base = Double(configuration.initialBackoff.nanoseconds)
            * pow(configuration.backoffMultiplier, Double(max(0, failures - 1)))
        let capped = min(base, Double(configuration.maxBackoff.nanoseconds))
        return .nanoseconds(Int64(capped * Double.random(in: 0.8...1.2)))
    }
}

import Foundation
import MailSyncRPC
import NIOCore

/// The client transport's one connection to its endpoint, as a value: each event says what the
/// transport must do. Generic over the connection so that it is tested without sockets
/// (`TCPClientTransport` uses `ClientConnection`).
///
/// ```
/// idle ──call──▶ connecting ──ok──▶ ready ──GOAWAY / closed──▶ idle
///                    │ fails
///                    ▼
///                 backoff(until) ──call after `until`──▶ connecting
///
/// any ──close──▶ closed (calls fail; a connection that completes afterwards is closed at once)
/// ```
/// While in backoff, calls fail at once with `unavailable` naming the last error and when the next
/// attempt may happen; the wait grows with each consecutive failure.
///
/// Events that do not fit the state are ignored, and say so: a connect result when no attempt is
/// under way (the transport was closed meanwhile), a connection going unusable that is not the
/// current one (an old connection draining).
struct ConnectionManagerState<Connection: AnyObject & Sendable> {
    enum State {
        case idle
        case connecting(EventLoopFuture<Connection>)
        case ready(Connection)
        case backoff(until: NIODeadline, lastError: String)
        case closed
    }

    private(set) var state: State = .idle
    private(set) var consecutiveFailures = 0

    enum Action {
        case use(Connection)
        case wait(EventLoopFuture<Connection>)
        case connect
        case fail(RPCError)
    }

    /// What a new call should do now: use the ready connection, wait for the attempt under way,
    /// start an attempt (`connecting` must follow), or fail (`unavailable`: in backoff or closed).
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

    /// An attempt started (after `callArrived` said `connect`, so from `idle` or an expired
    /// `backoff`). Ignored in other states: an attempt or a connection is already there, or the
    /// transport is closed.
    mutating func connecting(_ future: EventLoopFuture<Connection>) {
        switch state {
        case .idle, .backoff: state = .connecting(future)
        case .connecting, .ready, .closed: return
        }
    }

    /// The attempt succeeded: `ready`, the failure streak cleared. Returns the connection when
    /// the transport was closed meanwhile: the caller closes it (nothing else would). Ignored
    /// (nil) in any other state but `connecting`.
    mutating func connected(_ connection: Connection) -> Connection? {
        switch state {
        case .connecting:
            consecutiveFailures = 0
            state = .ready(connection)
            return nil
        case .closed:
            return connection
        case .idle, .ready, .backoff:
            return nil
        }
    }

    /// The attempt failed: `backoff` until `now + backoff`, one more consecutive failure. Ignored
    /// outside `connecting`.
    mutating func connectFailed(error: String, backoff: TimeAmount, now: NIODeadline) {
        guard case .connecting = state else { return }
        consecutiveFailures += 1
        state = .backoff(until: now + backoff, lastError: error)
    }

    /// The ready connection stopped taking calls: the next call makes a new one. Ignored for a
    /// connection that is not the current one.
    mutating func connectionUnusable(_ connection: Connection) {
        if case .ready(let current) = state, current === connection { state = .idle }
    }

    /// `closed` from any state; returns the ready connection, which the caller closes gracefully.
    mutating func close() -> Connection? {
        defer { state = .closed }
        if case .ready(let connection) = state { return connection }
        return nil
    }
}

/// The wait after `failures` consecutive failures: initial × multiplier^(failures-1), capped,
/// with ±20% jitter.
func connectionBackoff(failures: Int, configuration: ClientConfiguration) -> TimeAmount {
    let base = Double(configuration.initialBackoff.nanoseconds)
        * pow(configuration.backoffMultiplier, Double(max(0, failures - 1)))
    let capped = min(base, Double(configuration.maxBackoff.nanoseconds))
    return .nanoseconds(Int64(capped * Double.random(in: 0.8...1.2)))
}

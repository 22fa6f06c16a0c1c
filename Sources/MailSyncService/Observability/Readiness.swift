import NIOConcurrencyHelpers

/// Whether the server should be sent calls: what `GET /readyz` answers.
///
/// `starting` until the RPC server listens and the sync engine runs, then `ready`, then
/// `draining` from the moment a shutdown begins (calls in flight finish, new ones should go
/// elsewhere). While `ready`, each check also asks the control database a trivial query, which
/// must answer within ``probeTimeout``; a check never throws and never waits longer than that.
public final class Readiness: Sendable {
    public enum State: String, Sendable, Equatable {
        case starting, ready, draining
    }

    /// The answer to one check: ready or not, and a short reason for people and load balancers.
    public struct Verdict: Sendable, Equatable {
        public var ready: Bool
        public var reason: String
    }

    /// How long the control database may take to answer a check. 2 s.
    public static let probeTimeout: Duration = .seconds(2)

    private struct Current {
        var state = State.starting
        var probe: (@Sendable () async throws -> Void)?
        var degradation: (@Sendable () async -> String?)?
    }
    private let current = NIOLockedValueBox(Current())

    public init() {}

    public var state: State { current.withLockedValue { $0.state } }

    /// Ready from now on, as long as `probe` succeeds (the control database answers).
    public func markReady(probe: @escaping @Sendable () async throws -> Void) {
        current.withLockedValue {
            guard $0.state == .starting else { return }
            $0.state = .ready
            $0.probe = probe
        }
    }

    /// While ready, `check` asks `degradation` too: a text makes the answer "ready, degraded:
    /// <text>" (still ready: the server serves; an operator should look).
    public func degrade(when degradation: @escaping @Sendable () async -> String?) {
        current.withLockedValue { $0.degradation = degradation }
    }

    /// Not ready any more: a shutdown began. Final.
    public func markDraining() {
        current.withLockedValue {
            $0.state = .draining
            $0.probe = nil
        }
    }

    /// Checks readiness now.
    public func check() async -> Verdict {
        let (state, probe, degradation) = current.withLockedValue { ($0.state, $0.probe, $0.degradation) }
        switch state {
        case .starting: return Verdict(ready: false, reason: "starting")
        case .draining: return Verdict(ready: false, reason: "draining: the server is shutting down")
        case .ready: break
        }
        guard let probe else { return await Self.ready(degradation) }
        // Unstructured on purpose: a database thread that hangs must not hang the check too.
        let answer: String? = await withinLimit(Self.probeTimeout, otherwise: "the control database did not answer within \(Self.probeTimeout)") {
            do {
                try await probe()
                return nil
            } catch {
                return "the control database does not answer: \(error)"
            }
        }
        if let problem = answer { return Verdict(ready: false, reason: problem) }
        return await Self.ready(degradation)
    }

    private static func ready(_ degradation: (@Sendable () async -> String?)?) async -> Verdict {
        if let degraded = await degradation?() { return Verdict(ready: true, reason: "ready, degraded: \(degraded)") }
        return Verdict(ready: true, reason: "ready")
    }
}

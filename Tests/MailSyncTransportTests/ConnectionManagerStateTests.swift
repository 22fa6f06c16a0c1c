import Foundation
import MailSyncRPC
@testable import MailSyncTransport
import NIOCore
import NIOPosix
import Testing

/// Every event of `ConnectionManagerState` (the client's connection cycle) in every state, with
/// the state, failure streak and action it leaves. The connection is a stand-in object: the
/// machine only keeps and compares it.
@Suite("Client connection manager state machine")
struct ConnectionManagerStateTests {
    final class Connection: Sendable {}
    typealias Machine = ConnectionManagerState<Connection>

    static let loop = MultiThreadedEventLoopGroup.singleton.any()
    static let current = Connection()
    static let other = Connection()
    static let now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static let attempt = loop.makeSucceededFuture(current)

    enum Start: String, CaseIterable, CustomStringConvertible {
        case idle, connecting, ready, backoff, closed
        var description: String { rawValue }
    }

    /// The state as a comparable summary.
    enum Summary: Equatable {
        case idle, connecting, ready(ObjectIdentifier), backoff(until: NIODeadline, lastError: String), closed
    }

    static func summary(_ machine: Machine) -> Summary {
        switch machine.state {
        case .idle: .idle
        case .connecting: .connecting
        case .ready(let connection): .ready(ObjectIdentifier(connection))
        case .backoff(let until, let lastError): .backoff(until: until, lastError: lastError)
        case .closed: .closed
        }
    }

    /// `backoff` waits until `now + 2 s`, after one failure (and a streak of 1).
    static func machine(_ start: Start) -> Machine {
        var machine = Machine()
        switch start {
        case .idle: break
        case .connecting: machine.connecting(attempt)
        case .ready:
            machine.connecting(attempt)
            _ = machine.connected(current)
        case .backoff:
            machine.connecting(attempt)
            machine.connectFailed(error: "refused", backoff: .seconds(2), now: now)
        case .closed: _ = machine.close()
        }
        return machine
    }

    static let backoffSummary = Summary.backoff(until: now + .seconds(2), lastError: "refused")

    @Test("a call: use the connection, wait for the attempt, connect, or fail", arguments: Start.allCases)
    func callArrives(_ start: Start) {
        var machine = Self.machine(start)
        let before = Self.summary(machine)
        let action = machine.callArrived(now: Self.now)
        switch (start, action) {
        case (.idle, .connect): break
        case (.connecting, .wait(let future)): #expect(future === Self.attempt)
        case (.ready, .use(let connection)): #expect(connection === Self.current)
        case (.backoff, .fail(let error)):
            #expect(error == RPCError(.unavailable, "cannot reach the server (refused); next attempt in 2.0 s"))
        case (.closed, .fail(let error)): #expect(error == RPCError(.unavailable, "the client has been closed"))
        default: Issue.record("\(start): unexpected \(action)")
        }
        #expect(Self.summary(machine) == before, "a call changes no state")
    }

    @Test("a call after the backoff connects again")
    func backoffExpires() {
        var machine = Self.machine(.backoff)
        guard case .connect = machine.callArrived(now: Self.now + .seconds(2)) else {
            Issue.record("expected connect")
            return
        }
        #expect(Self.summary(machine) == Self.backoffSummary)
    }

    struct Case: CustomStringConvertible, Sendable {
        var start: Start
        var event: String
        var after: Summary
        var failures: Int
        /// The connection the event hands back to close, if any.
        var returned: Bool = false
        var description: String { "\(event) in \(start)" }
    }

    static let readySummary = Summary.ready(ObjectIdentifier(current))

    static let cases: [Case] = [
        // An attempt starts: only from idle or backoff; ignored elsewhere.
        Case(start: .idle, event: "connecting", after: .connecting, failures: 0),
        Case(start: .backoff, event: "connecting", after: .connecting, failures: 1),
        Case(start: .connecting, event: "connecting", after: .connecting, failures: 0),
        Case(start: .ready, event: "connecting", after: readySummary, failures: 0),
        Case(start: .closed, event: "connecting", after: .closed, failures: 0),
        // The attempt succeeds: ready; after close the connection is handed back to close.
        Case(start: .connecting, event: "connected", after: readySummary, failures: 0),
        Case(start: .closed, event: "connected", after: .closed, failures: 0, returned: true),
        Case(start: .idle, event: "connected", after: .idle, failures: 0),
        Case(start: .ready, event: "connected", after: readySummary, failures: 0),
        Case(start: .backoff, event: "connected", after: backoffSummary, failures: 1),
        // The attempt fails: backoff, one more failure; ignored outside connecting.
        Case(start: .connecting, event: "connectFailed", after: .backoff(until: now + .seconds(5), lastError: "timed out"), failures: 1),
        Case(start: .idle, event: "connectFailed", after: .idle, failures: 0),
        Case(start: .ready, event: "connectFailed", after: readySummary, failures: 0),
        Case(start: .backoff, event: "connectFailed", after: backoffSummary, failures: 1),
        Case(start: .closed, event: "connectFailed", after: .closed, failures: 0),
        // The current connection goes unusable: idle; any other connection is ignored.
        Case(start: .ready, event: "unusable(current)", after: .idle, failures: 0),
        Case(start: .ready, event: "unusable(other)", after: readySummary, failures: 0),
        Case(start: .idle, event: "unusable(current)", after: .idle, failures: 0),
        Case(start: .connecting, event: "unusable(current)", after: .connecting, failures: 0),
        Case(start: .backoff, event: "unusable(current)", after: backoffSummary, failures: 1),
        Case(start: .closed, event: "unusable(current)", after: .closed, failures: 0),
        // Close: closed from anywhere; the ready connection is handed back to close gracefully.
        Case(start: .ready, event: "close", after: .closed, failures: 0, returned: true),
        Case(start: .idle, event: "close", after: .closed, failures: 0),
        Case(start: .connecting, event: "close", after: .closed, failures: 0),
        Case(start: .backoff, event: "close", after: .closed, failures: 1),
        Case(start: .closed, event: "close", after: .closed, failures: 0),
    ]

    @Test("each event in each state leaves the expected state and streak", arguments: cases)
    func transition(_ testCase: Case) {
        var machine = Self.machine(testCase.start)
        var returned: Connection?
        switch testCase.event {
        case "connecting": machine.connecting(Self.loop.makeSucceededFuture(Self.other))
        case "connected": returned = machine.connected(Self.current)
        case "connectFailed": machine.connectFailed(error: "timed out", backoff: .seconds(5), now: Self.now)
        case "unusable(current)": machine.connectionUnusable(Self.current)
        case "unusable(other)": machine.connectionUnusable(Self.other)
        case "close": returned = machine.close()
        default: Issue.record("unknown event \(testCase.event)")
        }
        #expect(Self.summary(machine) == testCase.after)
        #expect(machine.consecutiveFailures == testCase.failures)
        #expect((returned === Self.current) == testCase.returned)
        if !testCase.returned { #expect(returned == nil) }
    }

    @Test("every event is exercised in every state")
    func coverage() {
        for event in ["connecting", "connected", "connectFailed", "unusable(current)", "close"] {
            #expect(Set(Self.cases.filter { $0.event == event }.map(\.start.rawValue)) == Set(Start.allCases.map(\.rawValue)), "\(event)")
        }
    }

    @Test("a second failure in a row counts two; a success clears the streak")
    func streak() {
        var machine = Self.machine(.backoff)
        machine.connecting(Self.attempt)
        machine.connectFailed(error: "refused", backoff: .seconds(4), now: Self.now)
        #expect(machine.consecutiveFailures == 2)
        machine.connecting(Self.attempt)
        #expect(machine.connected(Self.current) == nil)
        #expect(machine.consecutiveFailures == 0)
    }

    @Test("the backoff grows by the multiplier up to the cap, within ±20%", arguments: 1...8)
    func backoff(failures: Int) {
        let configuration = ClientConfiguration()
        let base = Double(configuration.initialBackoff.nanoseconds) * pow(configuration.backoffMultiplier, Double(failures - 1))
        let expected = min(base, Double(configuration.maxBackoff.nanoseconds))
        let wait = Double(connectionBackoff(failures: failures, configuration: configuration).nanoseconds)
        #expect(wait >= expected * 0.8 - 1 && wait <= expected * 1.2 + 1)
    }
}

import MailSyncRPC
@testable import MailSyncTransport
import MailSyncWire
import Testing

/// Every event of `ClientConnectionState` in every phase, with the phase, close reason and
/// actions it leaves. An event a phase does not expect is listed too: it does nothing, or fails
/// the connection.
@Suite("Client connection state machine")
struct ClientConnectionStateTests {
    typealias Machine = ClientConnectionState
    typealias Action = Machine.Action

    enum Start: String, CustomStringConvertible, CaseIterable {
        case connecting, awaitingPreface, awaitingSettings, ready
        /// After the server's GOAWAY with last stream id 5.
        case draining
        /// After our own graceful close.
        case drainingByClient
        case closed
        case closedBeforeReady
        var description: String { rawValue }
    }

    static func machine(_ start: Start) -> Machine {
        var machine = Machine()
        var steps: [(inout Machine) -> [Action]] = []
        switch start {
        case .connecting: break
        case .awaitingPreface: steps = [{ $0.onChannelActive() }]
        case .awaitingSettings, .closedBeforeReady:
            steps = [{ $0.onChannelActive() }, { $0.onPreface(version: Preface.currentVersion) }]
        case .ready, .draining, .drainingByClient, .closed:
            steps = [{ $0.onChannelActive() }, { $0.onPreface(version: Preface.currentVersion) }, { $0.onFrame(.settings) }]
        }
        switch start {
        case .draining: steps.append { $0.onFrame(.goAway(GoAway(lastStreamID: 5, code: .noError, message: "bye"))) }
        case .drainingByClient: steps.append { $0.onCloseGracefully() }
        case .closed, .closedBeforeReady: steps.append { $0.onChannelClosed() }
        default: break
        }
        for step in steps { _ = step(&machine) }
        return machine
    }

    enum Event: CustomStringConvertible {
        case channelActive
        case preface(version: UInt16)
        case invalidPreface
        case frame(Machine.FrameKind)
        case streamIDsExhausted
        case noCallsLeft
        case closeGracefully
        case connectionError
        case channelError
        case channelClosed

        var description: String {
            switch self {
            case .channelActive: "channelActive"
            case .preface(let version): "preface(\(version))"
            case .invalidPreface: "invalidPreface"
            case .frame(let kind): "frame(\(kind))"
            case .streamIDsExhausted: "streamIDsExhausted"
            case .noCallsLeft: "noCallsLeft"
            case .closeGracefully: "closeGracefully"
            case .connectionError: "connectionError"
            case .channelError: "channelError"
            case .channelClosed: "channelClosed"
            }
        }

        func apply(to machine: inout Machine) -> [Action] {
            switch self {
            case .channelActive: machine.onChannelActive()
            case .preface(let version): machine.onPreface(version: version)
            case .invalidPreface: machine.onInvalidPreface(ProtocolError(.badPreface, "not a preface"))
            case .frame(let kind): machine.onFrame(kind)
            case .streamIDsExhausted: machine.onStreamIDsExhausted(lastStreamID: 7)
            case .noCallsLeft: machine.onNoCallsLeft()
            case .closeGracefully: machine.onCloseGracefully()
            case .connectionError: machine.onConnectionError(ProtocolError(.flowControlError, "too much"))
            case .channelError: machine.onChannelError("boom")
            case .channelClosed: machine.onChannelClosed()
            }
        }
    }

    struct Case: CustomStringConvertible, Sendable {
        var start: Start
        var event: Event
        var phase: Machine.Phase
        var actions: [Action]
        /// The close reason after the event; nil: as before it.
        var closeReason: RPCError?
        var description: String { "\(event) in \(start)" }
    }

    static let initialReason = RPCError(.unavailable, "the connection closed")
    static let settings = Machine.FrameKind.settings
    static let graceful = Machine.FrameKind.goAway(GoAway(lastStreamID: 3, code: .noError, message: "later"))
    static let refusal = Machine.FrameKind.goAway(GoAway(lastStreamID: 0, code: .enhanceYourCalm, message: "calm"))

    static func reason(_ error: ProtocolError) -> RPCError { RPCError(.unavailable, "the connection failed: \(error)") }

    /// A connection error in `start`: GOAWAY unless the server's preface is awaited, close, and
    /// everything fails (the readiness promise too, when it was not fulfilled).
    static func failure(in start: Start, _ error: ProtocolError) -> Case {
        let reason = reason(error)
        var actions: [Action] = []
        if start != .awaitingPreface {
            actions += [.writeGoAway(GoAway(lastStreamID: 0, code: error.code, message: error.message)), .flush]
        }
        actions += [.closeChannel, .notifyUnusable]
        if !machine(start).readyCompleted { actions.append(.failReady(reason)) }
        actions += [.stopKeepalive, .endCalls(reason)]
        return Case(start: start, event: .connectionError, phase: .closed, actions: actions, closeReason: reason)
    }

    static func ignored(_ event: Event, in starts: [Start]) -> [Case] {
        starts.map { Case(start: $0, event: event, phase: machine($0).phase, actions: []) }
    }

    static func failing(_ event: Event, in start: Start, _ error: ProtocolError) -> Case {
        var failed = failure(in: start, error)
        failed.event = event
        return failed
    }

    static func notProcessed(_ message: String) -> RPCError {
        RPCError(.unavailable, "the server is going away and did not process this call (\(message)); it is safe to retry")
    }

    static let cases: [Case] =
        [Case(start: .connecting, event: .channelActive, phase: .awaitingPreface, actions: [.writePreface, .writeSettings, .flush])]
        + ignored(.channelActive, in: [.awaitingPreface, .awaitingSettings, .ready, .draining, .closed])
        // The server's preface.
        + [Case(start: .awaitingPreface, event: .preface(version: Preface.currentVersion), phase: .awaitingSettings, actions: []),
           failing(.preface(version: 99), in: .awaitingPreface, ProtocolError(
               .unsupportedVersion, "the server speaks protocol version 99; this client speaks \(Preface.currentVersion)")),
           failing(.invalidPreface, in: .awaitingPreface, ProtocolError(
               .badPreface, "the server did not answer with the Mail Sync preface: not a preface"))]
        + ignored(.preface(version: Preface.currentVersion), in: [.connecting, .awaitingSettings, .ready, .draining, .closed])
        + ignored(.invalidPreface, in: [.connecting, .awaitingSettings, .ready, .draining, .closed])
        // The server's first frame and later ones.
        + [Case(start: .awaitingSettings, event: .frame(settings), phase: .ready, actions: [.acceptSettings, .startKeepalive, .succeedReady]),
           failing(.frame(refusal), in: .awaitingSettings, ProtocolError(.enhanceYourCalm, "the server refused the connection: calm")),
           failing(.frame(.other), in: .awaitingSettings, ProtocolError(.protocolError, "the server's first frame was not SETTINGS")),
           failing(.frame(settings), in: .ready, ProtocolError(.protocolError, "SETTINGS may be sent only once per connection")),
           failing(.frame(settings), in: .draining, ProtocolError(.protocolError, "SETTINGS may be sent only once per connection")),
           Case(start: .ready, event: .frame(.other), phase: .ready, actions: [.dispatchFrame]),
           Case(start: .draining, event: .frame(.other), phase: .draining(lastStreamID: 5), actions: [.dispatchFrame]),
           Case(start: .ready, event: .frame(graceful), phase: .draining(lastStreamID: 3),
                actions: [.notifyUnusable, .failCalls(above: 3, notProcessed("later")), .closeIfDrained]),
           Case(start: .ready, event: .frame(refusal), phase: .draining(lastStreamID: 0),
                actions: [.logGoAway(GoAway(lastStreamID: 0, code: .enhanceYourCalm, message: "calm")), .notifyUnusable,
                          .failCalls(above: 0, notProcessed("calm")), .closeIfDrained],
                closeReason: RPCError(.unavailable, "the server closed the connection: \(ErrorCode.enhanceYourCalm): calm")),
           // A second GOAWAY keeps the first one's last stream id as the phase's, and fails what is above its own.
           Case(start: .draining, event: .frame(graceful), phase: .draining(lastStreamID: 5),
                actions: [.notifyUnusable, .failCalls(above: 3, notProcessed("later")), .closeIfDrained])]
        + ignored(.frame(settings), in: [.connecting, .awaitingPreface, .closed])
        + ignored(.frame(graceful), in: [.connecting, .awaitingPreface, .closed])
        + ignored(.frame(.other), in: [.connecting, .awaitingPreface, .closed])
        // Stream ids run out.
        + [Case(start: .ready, event: .streamIDsExhausted, phase: .draining(lastStreamID: 7), actions: [.notifyUnusable])]
        + ignored(.streamIDsExhausted, in: [.connecting, .awaitingPreface, .awaitingSettings, .draining, .closed])
        // The last call ended.
        + [Case(start: .draining, event: .noCallsLeft, phase: .draining(lastStreamID: 5), actions: [.flush, .closeChannel]),
           Case(start: .drainingByClient, event: .noCallsLeft, phase: .draining(lastStreamID: UInt32.max), actions: [.flush, .closeChannel])]
        + ignored(.noCallsLeft, in: [.connecting, .awaitingPreface, .awaitingSettings, .ready, .closed])
        // The transport closes it.
        + [Case(start: .ready, event: .closeGracefully, phase: .draining(lastStreamID: UInt32.max),
                actions: [.writeGoAway(GoAway(lastStreamID: 0, code: .noError, message: "client closing")), .notifyUnusable, .closeIfDrained, .flush])]
        + [Start.connecting, .awaitingPreface, .awaitingSettings].map {
            Case(start: $0, event: .closeGracefully, phase: machine($0).phase, actions: [.closeChannel])
        }
        + ignored(.closeGracefully, in: [.draining, .drainingByClient, .closed])
        // A protocol error or a ping unanswered.
        + [Start.connecting, .awaitingPreface, .awaitingSettings, .ready, .draining].map {
            failure(in: $0, ProtocolError(.flowControlError, "too much"))
        }
        + ignored(.connectionError, in: [.closed])
        // The channel reports an error: it closes; calls will fail naming it.
        + [Start.connecting, .awaitingPreface, .awaitingSettings, .ready, .draining, .closed].map {
            Case(start: $0, event: .channelError, phase: machine($0).phase, actions: [.closeChannel],
                 closeReason: RPCError(.unavailable, "the connection failed: boom"))
        }
        // The channel is gone.
        + [Start.connecting, .awaitingPreface, .awaitingSettings].map {
            Case(start: $0, event: .channelClosed, phase: .closed,
                 actions: [.notifyUnusable, .failReady(initialReason), .stopKeepalive, .endCalls(initialReason)])
        }
        + [Start.ready, .draining].map {
            Case(start: $0, event: .channelClosed, phase: .closed, actions: [.notifyUnusable, .stopKeepalive, .endCalls(initialReason)])
        }
        + ignored(.channelClosed, in: [.closed, .closedBeforeReady])

    @Test("each event in each phase leaves the expected phase, reason and actions", arguments: cases)
    func transition(_ testCase: Case) {
        var machine = Self.machine(testCase.start)
        let before = machine
        let actions = testCase.event.apply(to: &machine)
        #expect(actions == testCase.actions)
        #expect(machine.phase == testCase.phase)
        #expect(machine.closeReason == (testCase.closeReason ?? before.closeReason))
        #expect(machine.readyCompleted == (before.readyCompleted || actions.contains(.succeedReady)))
    }

    @Test("a new call opens only on a ready connection", arguments: Start.allCases)
    func openCall(_ start: Start) {
        let machine = Self.machine(start)
        let expected: Action =
            switch machine.phase {
            case .ready: .openCall
            case .closed: .failCall(machine.closeReason)
            default: .failCall(RPCError(.unavailable, "the connection is not accepting new calls"))
            }
        #expect(machine.onOpenCall() == expected)
    }

    @Test("a connection that failed before it was ready fails new calls with the reason")
    func openAfterFailure() {
        var machine = Self.machine(.awaitingSettings)
        _ = machine.onChannelError("boom")
        _ = machine.onChannelClosed()
        #expect(machine.onOpenCall() == .failCall(RPCError(.unavailable, "the connection failed: boom")))
    }

    @Test("the starting points are what their names say")
    func startingPoints() {
        #expect(Self.machine(.connecting).phase == .connecting)
        #expect(Self.machine(.awaitingPreface).phase == .awaitingPreface)
        #expect(Self.machine(.awaitingSettings).phase == .awaitingSettings)
        #expect(Self.machine(.ready).phase == .ready)
        #expect(Self.machine(.ready).readyCompleted)
        #expect(Self.machine(.draining).phase == .draining(lastStreamID: 5))
        #expect(Self.machine(.drainingByClient).phase == .draining(lastStreamID: UInt32.max))
        #expect(Self.machine(.closed).phase == .closed)
        #expect(Self.machine(.closedBeforeReady).phase == .closed)
        #expect(!Self.machine(.closedBeforeReady).readyCompleted)
    }

    @Test("every event is exercised in every phase")
    func coverage() {
        let phases: Set<String> = ["connecting", "awaitingPreface", "awaitingSettings", "ready", "draining", "closed"]
        let events = Set(Self.cases.map { String(String(describing: $0.event).prefix { $0 != "(" }) })
        #expect(events.count == 10, "\(events.sorted())")
        for event in events {
            let covered = Set(Self.cases.filter { String(String(describing: $0.event).prefix { $0 != "(" }) == event }.map {
                String(String(describing: Self.machine($0.start).phase).prefix { $0 != "(" })
            })
            #expect(covered == phases, "\(event) covers \(covered.sorted())")
        }
    }
}

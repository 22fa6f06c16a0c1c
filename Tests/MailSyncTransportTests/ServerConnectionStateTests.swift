import MailSyncRPC
@testable import MailSyncTransport
import MailSyncWire
import NIOCore
import Testing

/// Every event of `ServerConnectionState` in every phase (and in the variants that matter: calls
/// running, at the limit, after the client's GOAWAY), with the phase, counters and actions it
/// leaves. An event a phase does not expect is listed too: it does nothing, or is a connection error.
@Suite("Server connection state machine")
struct ServerConnectionStateTests {
    typealias Machine = ServerConnectionState
    typealias Action = Machine.Action

    /// The starting points the table refers to.
    enum Start: String, CustomStringConvertible, CaseIterable {
        case awaitingPreface, awaitingSettings, active, activeOneCall, activeAtLimit, activeAfterClientGoAway
        case draining, drainingOneCall, closed
        var description: String { rawValue }
    }

    static func machine(_ start: Start) -> Machine {
        var machine = Machine(maxConcurrentCalls: 2, maxMetadataSize: 100, handshakeTimeout: .seconds(10), idleTimeout: .seconds(300))
        func drive(_ actions: [Action]) { _ = actions }
        switch start {
        case .awaitingPreface: break
        case .awaitingSettings:
            drive(machine.onChannelActive(registered: true, maxConnections: 7))
            drive(machine.onPreface(version: Preface.currentVersion))
        default:
            drive(machine.onChannelActive(registered: true, maxConnections: 7))
            drive(machine.onPreface(version: Preface.currentVersion))
            drive(machine.onFrame(.settings))
        }
        switch start {
        case .activeOneCall, .drainingOneCall, .activeAfterClientGoAway:
            drive(machine.onCallStart(id: 1, metadataSize: 0))
        case .activeAtLimit:
            drive(machine.onCallStart(id: 1, metadataSize: 0))
            drive(machine.onCallStart(id: 3, metadataSize: 0))
        default: break
        }
        switch start {
        case .draining, .drainingOneCall: drive(machine.onBeginShutdown())
        case .activeAfterClientGoAway: drive(machine.onClientGoAway())
        case .closed: drive(machine.onConnectionError(ProtocolError(.protocolError, "setup")))
        default: break
        }
        return machine
    }

    enum Event: CustomStringConvertible {
        case channelActive(registered: Bool)
        case handshakeTimeout
        case preface(version: UInt16)
        case invalidPreface
        case frame(Machine.FrameKind)
        case callStart(id: UInt32, metadataSize: Int)
        case unknownStream(id: UInt32)
        case callEnded
        case flushed(streamsLeft: Bool)
        case clientGoAway
        case inputClosed
        case idleTimeout
        case beginShutdown
        case forceClose
        case connectionError
        case channelInactive
        case handlerRemoved

        var description: String {
            switch self {
            case .channelActive(let registered): "channelActive(registered: \(registered))"
            case .preface(let version): "preface(\(version))"
            case .frame(let kind): "frame(\(kind))"
            case .callStart(let id, let size): "callStart(\(id), metadata \(size))"
            case .unknownStream(let id): "unknownStream(\(id))"
            case .flushed(let left): "flushed(streamsLeft: \(left))"
            case .handshakeTimeout: "handshakeTimeout"
            case .invalidPreface: "invalidPreface"
            case .callEnded: "callEnded"
            case .clientGoAway: "clientGoAway"
            case .inputClosed: "inputClosed"
            case .idleTimeout: "idleTimeout"
            case .beginShutdown: "beginShutdown"
            case .forceClose: "forceClose"
            case .connectionError: "connectionError"
            case .channelInactive: "channelInactive"
            case .handlerRemoved: "handlerRemoved"
            }
        }

        func apply(to machine: inout Machine) -> [Action] {
            switch self {
            case .channelActive(let registered): machine.onChannelActive(registered: registered, maxConnections: 7)
            case .handshakeTimeout: machine.onHandshakeTimeout()
            case .preface(let version): machine.onPreface(version: version)
            case .invalidPreface: machine.onInvalidPreface(ProtocolError(.badPreface, "not a preface"))
            case .frame(let kind): machine.onFrame(kind)
            case .callStart(let id, let size): machine.onCallStart(id: id, metadataSize: size)
            case .unknownStream(let id): machine.onFrameForUnknownStream(id: id)
            case .callEnded: machine.onCallEnded()
            case .flushed(let left): machine.onFlushed(streamsLeft: left)
            case .clientGoAway: machine.onClientGoAway()
            case .inputClosed: machine.onInputClosed()
            case .idleTimeout: machine.onIdleTimeout()
            case .beginShutdown: machine.onBeginShutdown()
            case .forceClose: machine.onForceClose()
            case .connectionError: machine.onConnectionError(ProtocolError(.flowControlError, "too much"))
            case .channelInactive: machine.onChannelInactive()
            case .handlerRemoved: machine.onHandlerRemoved()
            }
        }
    }

    struct Case: CustomStringConvertible, Sendable {
        var start: Start
        var event: Event
        var phase: Machine.Phase
        var actions: [Action]
        /// Calls counted after the event; nil: as before it.
        var activeCalls: Int?
        var highestStreamID: UInt32?
        var description: String { "\(event) in \(start)" }
    }

    /// What a connection error does: GOAWAY naming it, calls end `unavailable`, close.
    static func failure(_ code: ErrorCode, _ message: String, lastStreamID: UInt32 = 0) -> [Action] {
        [
            .writeGoAway(GoAway(lastStreamID: lastStreamID, code: code, message: message)),
            .endCalls(RPCError(.unavailable, "the connection failed: \(message)")),
            .close,
        ]
    }

    static let notStarted: [Start] = [.awaitingPreface, .awaitingSettings]
    static let started: [Start] = [.active, .activeOneCall, .activeAtLimit, .activeAfterClientGoAway, .draining, .drainingOneCall]

    static func phase(of start: Start) -> Machine.Phase { machine(start).phase }

    /// An event that does nothing in these starting points.
    static func ignored(_ event: Event, in starts: [Start]) -> [Case] {
        starts.map { Case(start: $0, event: event, phase: phase(of: $0), actions: []) }
    }

    static let cut = RPCError(.cancelled, "the client shut its sending side (TCP half-close) before ending the call")
    static let connectionClosed = RPCError(.cancelled, "the client's connection closed")

    static let cases: [Case] =
        // The TCP connection comes up.
        [Case(start: .awaitingPreface, event: .channelActive(registered: true), phase: .awaitingPreface, actions: [.armHandshakeTimer]),
         Case(start: .awaitingPreface, event: .channelActive(registered: false), phase: .closed,
              actions: [.writePreface] + failure(.tooManyConnections, "the server is at its limit of 7 connections or shutting down; retry later"))]
        + ignored(.channelActive(registered: true), in: [.awaitingSettings, .active, .draining, .closed])
        // The handshake timer fires.
        + [Case(start: .awaitingPreface, event: .handshakeTimeout, phase: .closed,
                actions: [.writePreface] + failure(.handshakeTimeout, "no preface and SETTINGS within 10.0 s")),
           Case(start: .awaitingSettings, event: .handshakeTimeout, phase: .closed,
                actions: failure(.handshakeTimeout, "no preface and SETTINGS within 10.0 s"))]
        + ignored(.handshakeTimeout, in: [.active, .draining, .closed])
        // The client's preface.
        + [Case(start: .awaitingPreface, event: .preface(version: Preface.currentVersion), phase: .awaitingSettings,
                actions: [.writePreface, .writeSettings]),
           Case(start: .awaitingPreface, event: .preface(version: 99), phase: .closed,
                actions: [.writePreface] + failure(
                    .unsupportedVersion, "this server speaks protocol version \(Preface.currentVersion); the client offered version 99")),
           Case(start: .awaitingPreface, event: .invalidPreface, phase: .closed, actions: [.writePreface] + failure(.badPreface, "not a preface"))]
        + ignored(.preface(version: Preface.currentVersion), in: [.awaitingSettings, .active, .draining, .closed])
        + ignored(.invalidPreface, in: [.awaitingSettings, .active, .draining, .closed])
        // Frames.
        + [Case(start: .awaitingSettings, event: .frame(.settings), phase: .active,
                actions: [.acceptSettings, .cancelHandshakeTimer, .armIdleTimer, .startKeepalive]),
           Case(start: .awaitingSettings, event: .frame(.other), phase: .closed,
                actions: failure(.protocolError, "the first frame after the preface must be SETTINGS")),
           Case(start: .active, event: .frame(.settings), phase: .closed,
                actions: failure(.protocolError, "SETTINGS may be sent only once per connection")),
           Case(start: .drainingOneCall, event: .frame(.settings), phase: .closed,
                actions: failure(.protocolError, "SETTINGS may be sent only once per connection", lastStreamID: 1), activeCalls: 0),
           Case(start: .active, event: .frame(.other), phase: .active, actions: [.dispatchFrame]),
           Case(start: .draining, event: .frame(.other), phase: .draining(lastStreamID: 0), actions: [.dispatchFrame])]
        + ignored(.frame(.settings), in: [.awaitingPreface, .closed])
        + ignored(.frame(.other), in: [.awaitingPreface, .closed])
        // CALL_START.
        + [Case(start: .active, event: .callStart(id: 1, metadataSize: 100), phase: .active, actions: [.openCall, .cancelIdleTimer],
                activeCalls: 1, highestStreamID: 1),
           Case(start: .activeOneCall, event: .callStart(id: 3, metadataSize: 0), phase: .active, actions: [.openCall, .cancelIdleTimer],
                activeCalls: 2, highestStreamID: 3),
           Case(start: .active, event: .callStart(id: 2, metadataSize: 0), phase: .closed,
                actions: failure(.protocolError, "stream 2 is even: a client opens odd-numbered streams"), activeCalls: 0),
           Case(start: .activeOneCall, event: .callStart(id: 1, metadataSize: 0), phase: .closed,
                actions: failure(.protocolError, "stream 1 is not above the last one opened (1): stream ids are never reused", lastStreamID: 1),
                activeCalls: 0),
           Case(start: .activeAfterClientGoAway, event: .callStart(id: 3, metadataSize: 0), phase: .closed,
                actions: failure(
                    .protocolError,
                    "CALL_START on stream 3 after the client's own GOAWAY: a client that sent GOAWAY opens no new calls", lastStreamID: 3),
                activeCalls: 0, highestStreamID: 3),
           Case(start: .drainingOneCall, event: .callStart(id: 3, metadataSize: 0), phase: .draining(lastStreamID: 1),
                actions: [.refuse(streamID: 3, .unavailable, "the server is shutting down and did not process this call; retry on a new connection")],
                activeCalls: 1, highestStreamID: 3),
           Case(start: .activeAtLimit, event: .callStart(id: 5, metadataSize: 0), phase: .active,
                actions: [.refuse(streamID: 5, .resourceExhausted, "this connection already has 2 calls in flight, the limit; wait for one to finish")],
                activeCalls: 2, highestStreamID: 5),
           Case(start: .active, event: .callStart(id: 1, metadataSize: 101), phase: .active,
                actions: [.refuse(streamID: 1, .resourceExhausted, "the call's metadata takes 101 bytes, over the limit of 100")],
                activeCalls: 0, highestStreamID: 1)]
        + ignored(.callStart(id: 1, metadataSize: 0), in: [.awaitingPreface, .awaitingSettings, .closed])
        // A frame for a stream that is not open.
        + [Case(start: .active, event: .unknownStream(id: 1), phase: .closed,
                actions: failure(.protocolError, "a frame for stream 1, which was never opened")),
           Case(start: .activeOneCall, event: .unknownStream(id: 1), phase: .active, actions: []),
           Case(start: .drainingOneCall, event: .unknownStream(id: 1), phase: .draining(lastStreamID: 1), actions: [])]
        + ignored(.unknownStream(id: 1), in: [.awaitingPreface, .awaitingSettings, .closed])
        // A call ends.
        + [Case(start: .activeOneCall, event: .callEnded, phase: .active, actions: [.armIdleTimer], activeCalls: 0),
           Case(start: .activeAtLimit, event: .callEnded, phase: .active, actions: [], activeCalls: 1),
           Case(start: .drainingOneCall, event: .callEnded, phase: .draining(lastStreamID: 1), actions: [.scheduleFlush], activeCalls: 0)]
        + ignored(.callEnded, in: [.awaitingPreface, .awaitingSettings, .active, .draining, .closed])
        // Everything queued was written.
        + [Case(start: .draining, event: .flushed(streamsLeft: false), phase: .closed, actions: [.close])]
        + ignored(.flushed(streamsLeft: true), in: [.draining])
        + ignored(.flushed(streamsLeft: false), in: [.awaitingPreface, .awaitingSettings, .active, .drainingOneCall, .closed])
        // The client's GOAWAY.
        + [Case(start: .active, event: .clientGoAway, phase: .closed, actions: [.close]),
           Case(start: .activeOneCall, event: .clientGoAway, phase: .active, actions: []),
           Case(start: .activeAfterClientGoAway, event: .clientGoAway, phase: .active, actions: [.countNoWork("a repeated GOAWAY")]),
           Case(start: .draining, event: .clientGoAway, phase: .closed, actions: [.close])]
        + ignored(.clientGoAway, in: [.awaitingPreface, .awaitingSettings, .closed])
        // TCP half-close.
        + [Case(start: .awaitingPreface, event: .inputClosed, phase: .closed, actions: [.close]),
           Case(start: .awaitingSettings, event: .inputClosed, phase: .closed, actions: [.close]),
           Case(start: .activeOneCall, event: .inputClosed, phase: .draining(lastStreamID: 1), actions: [.cancelReceivingCalls(cut), .flush]),
           Case(start: .drainingOneCall, event: .inputClosed, phase: .draining(lastStreamID: 1), actions: [.cancelReceivingCalls(cut), .flush])]
        + ignored(.inputClosed, in: [.closed])
        // The idle timer fires.
        + [Case(start: .active, event: .idleTimeout, phase: .closed,
                actions: [.writeGoAway(GoAway(lastStreamID: 0, code: .noError, message: "no calls for 300.0 s")), .close]),
           Case(start: .draining, event: .idleTimeout, phase: .closed,
                actions: [.writeGoAway(GoAway(lastStreamID: 0, code: .noError, message: "no calls for 300.0 s")), .close])]
        + ignored(.idleTimeout, in: [.awaitingPreface, .awaitingSettings, .activeOneCall, .drainingOneCall, .closed])
        // Graceful shutdown.
        + [Case(start: .awaitingPreface, event: .beginShutdown, phase: .closed, actions: [.close]),
           Case(start: .awaitingSettings, event: .beginShutdown, phase: .closed, actions: [.close]),
           Case(start: .activeOneCall, event: .beginShutdown, phase: .draining(lastStreamID: 1),
                actions: [.writeGoAway(GoAway(lastStreamID: 1, code: .noError, message: "the server is shutting down")), .flush])]
        + ignored(.beginShutdown, in: [.draining, .drainingOneCall, .closed])
        // The grace period ends.
        + [Start.awaitingPreface, .awaitingSettings, .active, .activeOneCall, .draining, .drainingOneCall].map {
            Case(start: $0, event: .forceClose, phase: .closed,
                 actions: [.endCalls(RPCError(.unavailable, "the server shut down before the call finished")), .close], activeCalls: 0)
        }
        + ignored(.forceClose, in: [.closed])
        // A connection error.
        + [Start.awaitingPreface, .awaitingSettings, .active, .activeAtLimit, .draining].map {
            Case(start: $0, event: .connectionError, phase: .closed,
                 actions: failure(.flowControlError, "too much", lastStreamID: machine($0).highestStreamID), activeCalls: 0)
        }
        + ignored(.connectionError, in: [.closed])
        // The channel goes.
        + Start.allCases.map {
            Case(start: $0, event: .channelInactive, phase: phase(of: $0), actions: [.endCalls(connectionClosed)], activeCalls: 0)
        }
        + Start.allCases.filter { $0 != .closed }.map {
            Case(start: $0, event: .handlerRemoved, phase: .closed, actions: [.endCalls(connectionClosed)], activeCalls: 0)
        }
        + ignored(.handlerRemoved, in: [.closed])

    @Test("each event in each phase leaves the expected phase and actions", arguments: cases)
    func transition(_ testCase: Case) {
        var machine = Self.machine(testCase.start)
        let before = machine
        let actions = testCase.event.apply(to: &machine)
        #expect(actions == testCase.actions)
        #expect(machine.phase == testCase.phase)
        #expect(machine.activeCalls == (testCase.activeCalls ?? before.activeCalls))
        #expect(machine.highestStreamID == (testCase.highestStreamID ?? before.highestStreamID))
    }

    @Test("the starting points are what their names say")
    func startingPoints() {
        #expect(Self.machine(.awaitingPreface).phase == .awaitingPreface)
        #expect(Self.machine(.awaitingSettings).phase == .awaitingSettings)
        #expect(Self.machine(.active).phase == .active)
        #expect(Self.machine(.activeOneCall).activeCalls == 1)
        #expect(Self.machine(.activeAtLimit).activeCalls == 2)
        #expect(Self.machine(.activeAfterClientGoAway).clientSentGoAway)
        #expect(Self.machine(.draining).phase == .draining(lastStreamID: 0))
        #expect(Self.machine(.drainingOneCall).phase == .draining(lastStreamID: 1))
        #expect(Self.machine(.closed).phase == .closed)
    }

    @Test("every event is exercised in every phase")
    func coverage() {
        let phases: Set<String> = ["awaitingPreface", "awaitingSettings", "active", "draining", "closed"]
        let events = Set(Self.cases.map { String(String(describing: $0.event).prefix { $0 != "(" }) })
        #expect(events.count == 17, "\(events.sorted())")
        for event in events {
            let covered = Set(Self.cases.filter { String(describing: $0.event).hasPrefix(event) }.map { Self.phaseName($0.start) })
            #expect(covered == phases, "\(event) covers \(covered.sorted())")
        }
    }

    static func phaseName(_ start: Start) -> String {
        switch machine(start).phase {
        case .awaitingPreface: "awaitingPreface"
        case .awaitingSettings: "awaitingSettings"
        case .active: "active"
        case .draining: "draining"
        case .closed: "closed"
        }
    }
}

@testable import MailSyncTransport
import Testing

/// Every event of the two per-call machines in every state: `ServerStreamState` (the client's
/// frames moving one call on the server) and `ClientStreamState` (one call on the client).
@Suite("Stream state machines")
struct StreamStateTests {
    typealias Server = ServerStreamState
    typealias Client = ClientStreamState

    static func server(_ state: Server.State) -> Server {
        var machine = Server()
        switch state {
        case .receiving: break
        case .clientFinished: _ = machine.receiveEndStream()
        case .closed: _ = machine.close()
        }
        return machine
    }

    static func client(_ state: Client.State) -> Client {
        var machine = Client()
        switch state {
        case .open: break
        case .sendClosed: _ = machine.closeSending()
        case .closed: _ = machine.close()
        }
        return machine
    }

    enum ServerEvent: String, CaseIterable, CustomStringConvertible {
        case message, endStream, close
        var description: String { rawValue }
    }

    struct ServerCase: CustomStringConvertible, Sendable {
        var state: Server.State
        var event: ServerEvent
        var after: Server.State
        /// The verdict for a frame event; for `close`, `.accept` when it closed, `.ignore` when it
        /// was closed already.
        var verdict: Server.Verdict
        var description: String { "\(event) in \(state)" }
    }

    static let serverCases: [ServerCase] = [
        ServerCase(state: .receiving, event: .message, after: .receiving, verdict: .accept),
        ServerCase(state: .clientFinished, event: .message, after: .clientFinished,
                   verdict: .protocolError("a MESSAGE arrived after the client's END_STREAM")),
        ServerCase(state: .closed, event: .message, after: .closed, verdict: .ignore),
        ServerCase(state: .receiving, event: .endStream, after: .clientFinished, verdict: .accept),
        ServerCase(state: .clientFinished, event: .endStream, after: .clientFinished,
                   verdict: .protocolError("END_STREAM arrived twice on one stream")),
        ServerCase(state: .closed, event: .endStream, after: .closed, verdict: .ignore),
        ServerCase(state: .receiving, event: .close, after: .closed, verdict: .accept),
        ServerCase(state: .clientFinished, event: .close, after: .closed, verdict: .accept),
        ServerCase(state: .closed, event: .close, after: .closed, verdict: .ignore),
    ]

    @Test("server stream: each frame in each state", arguments: serverCases)
    func serverTransition(_ testCase: ServerCase) {
        var machine = Self.server(testCase.state)
        #expect(machine.state == testCase.state)
        let verdict: Server.Verdict =
            switch testCase.event {
            case .message: machine.receiveMessage()
            case .endStream: machine.receiveEndStream()
            case .close: machine.close() ? .accept : .ignore
            }
        #expect(verdict == testCase.verdict)
        #expect(machine.state == testCase.after)
        #expect(machine.isClosed == (testCase.after == .closed))
    }

    enum ClientEvent: String, CaseIterable, CustomStringConvertible {
        case closeSending, close
        var description: String { rawValue }
    }

    struct ClientCase: CustomStringConvertible, Sendable {
        var state: Client.State
        var event: ClientEvent
        var after: Client.State
        /// Whether the event applied (false: ignored, the caller does nothing).
        var applied: Bool
        var description: String { "\(event) in \(state)" }
    }

    static let clientCases: [ClientCase] = [
        ClientCase(state: .open, event: .closeSending, after: .sendClosed, applied: true),
        ClientCase(state: .sendClosed, event: .closeSending, after: .sendClosed, applied: false),
        ClientCase(state: .closed, event: .closeSending, after: .closed, applied: false),
        ClientCase(state: .open, event: .close, after: .closed, applied: true),
        ClientCase(state: .sendClosed, event: .close, after: .closed, applied: true),
        ClientCase(state: .closed, event: .close, after: .closed, applied: false),
    ]

    @Test("client stream: each event in each state", arguments: clientCases)
    func clientTransition(_ testCase: ClientCase) {
        var machine = Self.client(testCase.state)
        #expect(machine.state == testCase.state)
        let applied =
            switch testCase.event {
            case .closeSending: machine.closeSending()
            case .close: machine.close()
            }
        #expect(applied == testCase.applied)
        #expect(machine.state == testCase.after)
        #expect(machine.isClosed == (testCase.after == .closed))
    }

    @Test("every event is exercised in every state")
    func coverage() {
        for event in ServerEvent.allCases {
            #expect(Set(Self.serverCases.filter { $0.event == event }.map { "\($0.state)" }) == ["receiving", "clientFinished", "closed"])
        }
        for event in ClientEvent.allCases {
            #expect(Set(Self.clientCases.filter { $0.event == event }.map { "\($0.state)" }) == ["open", "sendClosed", "closed"])
        }
    }
}

/// The life of one call on the server, as the client's frames move it.
///
/// ```
/// receiving ──END_STREAM──▶ clientFinished ──STATUS sent──▶ closed
///     │                                                       ▲
///     └──────────── STATUS sent, CANCEL, deadline ────────────┘
/// ```
/// Frames for a closed stream are ignored (they may have crossed the STATUS in flight); a MESSAGE
/// or END_STREAM after the client's END_STREAM is a protocol error.
struct ServerStreamState {
    enum State: Equatable {
        case receiving
        case clientFinished
        case closed
    }

    private(set) var state: State = .receiving

    enum Verdict: Equatable {
        case accept
        case ignore
        case protocolError(String)
    }

    mutating func receiveMessage() -> Verdict {
        switch state {
        case .receiving: .accept
        case .clientFinished: .protocolError("a MESSAGE arrived after the client's END_STREAM")
        case .closed: .ignore
        }
    }

    mutating func receiveEndStream() -> Verdict {
        switch state {
        case .receiving:
            state = .clientFinished
            return .accept
        case .clientFinished: return .protocolError("END_STREAM arrived twice on one stream")
        case .closed: return .ignore
        }
    }

    /// STATUS queued, CANCEL received, deadline passed or connection lost. True the first time.
    mutating func close() -> Bool {
        guard state != .closed else { return false }
        state = .closed
        return true
    }

    var isClosed: Bool { state == .closed }
}

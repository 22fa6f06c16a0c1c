/// The life of one call on the client.
///
/// ```
/// open ──END_STREAM queued──▶ sendClosed ──STATUS──▶ closed
///   └──────── STATUS, CANCEL, deadline, connection lost ──────▲
/// ```
/// A call waiting for a free slot on the connection has no stream id yet (`id == 0`) but is
/// otherwise `open`: its frames queue in order.
struct ClientStreamState {
    enum State: Equatable {
        case open
        case sendClosed
        case closed
    }

    private(set) var state: State = .open

    mutating func closeSending() -> Bool {
        guard state == .open else { return false }
        state = .sendClosed
        return true
    }

    /// True the first time.
    mutating func close() -> Bool {
        guard state != .closed else { return false }
        state = .closed
        return true
    }

    var isClosed: Bool { state == .closed }
}

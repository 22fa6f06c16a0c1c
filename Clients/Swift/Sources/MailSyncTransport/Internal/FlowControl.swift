import MailSyncWire

/// The receiving side of one flow-control window: how much the peer may still send, and how much
/// credit to hand back.
///
/// Credit is returned in batches, once half the initial window has been consumed, to keep
/// WINDOW_UPDATE frames rare.
struct ReceiveWindow {
    let initial: Int
    /// Bytes the peer may still send.
    private(set) var available: Int
    /// Consumed bytes not yet returned as credit.
    private var unreturned = 0

    init(initial: UInt32) {
        self.initial = Int(initial)
        self.available = Int(initial)
    }

    /// Counts received bytes; false when the peer sent more than its window allowed.
    mutating func receive(_ count: Int) -> Bool {
        guard count <= available else { return false }
        available -= count
        return true
    }

    /// Marks bytes consumed; returns the increment to send, if one is due.
    mutating func consume(_ count: Int) -> UInt32? {
        unreturned += count
        guard unreturned >= initial / 2 || (unreturned > 0 && available == 0) else { return nil }
        defer { unreturned = 0 }
        available += unreturned
        return UInt32(unreturned)
    }
}

/// The sending side of a window: credit granted by the peer.
struct SendWindow {
    private(set) var available: Int

    init(initial: UInt32) { available = Int(initial) }

    mutating func spend(_ count: Int) { available -= count }

    /// Adds credit; false when it would pass 2^31-1 (a flow-control error by the peer).
    mutating func grant(_ increment: UInt32) -> Bool {
        let next = available + Int(increment)
        guard next <= Int(ConnectionSettings.maxWindow) else { return false }
        available = next
        return true
    }
}

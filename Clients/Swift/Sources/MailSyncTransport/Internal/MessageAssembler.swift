import MailSyncRPC
import MailSyncWire
import NIOCore

/// Joins the MESSAGE frames of one stream into whole messages.
///
/// A message is one frame, or several where all but the last carry MORE; every fragment of a
/// message carries the same COMPRESSED flag. The joined size is checked against `maxMessageSize`
/// as fragments arrive, so an oversized message is refused before it is buffered whole.
///
/// Flow control is driven by the reader's demand: while the reader has nothing unread (it is waiting
/// for this very message), the connection credits each fragment as it arrives and records it with
/// `credited(_:)`; otherwise fragments are credited when the reader takes the message. The
/// completed message carries only its uncredited bytes. So a message larger than the stream window
/// still completes, and a reader that stops reading still stops the sender: unread messages hold
/// at most a window, plus one partial message bounded by `maxMessageSize`.
///
/// Large fragments are kept as they arrived (slices of the connection's input), not joined: the
/// reader copies them once, straight into the message's bytes (`InboundQueue.Item.plainBytes`).
/// A slice pins the read buffer it came from, so this holds only for up to `maxSlices` fragments
/// of at least `sliceThreshold` bytes (the last fragment may be smaller); a message sent in more,
/// or smaller, fragments is joined into one buffer of its own as it arrives, as before.
struct MessageAssembler {
    /// Fragments kept as slices are at least this large (8 KiB), but for a message's last.
    static let sliceThreshold = 8192
    /// At most this many fragments after the first are kept as slices (8).
    static let maxSlices = 8

    private var pending: ByteBuffer?
    /// The fragments after the first, in order, while not `joining`.
    private var more: [ByteBuffer] = []
    /// Whether this message's fragments are being joined into `pending` (an owned buffer).
    private var joining = false
    private var pendingSize = 0
    private var pendingCompressed = false
    private var pendingWireSize = 0
    private var pendingCredited = 0

    enum Failure: Error {
        /// A stream error: the call ends with this status.
        case stream(RPCError)
        /// A connection error.
        case connection(ProtocolError)
    }

    /// Adds a fragment; returns the message once its last fragment is in.
    mutating func append(
        flags: FrameFlags, bytes: ByteBuffer, maxMessageSize: Int
    ) -> Result<InboundQueue.Item?, Failure> {
        let compressed = flags.contains(.compressed)
        if pending != nil, compressed != pendingCompressed {
            return .failure(.connection(ProtocolError(.protocolError, "the fragments of one message disagree on the COMPRESSED flag")))
        }
        let total = pendingSize + bytes.readableBytes
        guard total <= maxMessageSize else {
            pending = nil
            more = []
            joining = false
            pendingSize = 0
            return .failure(.stream(RPCError(
                .resourceExhausted, "a message of more than \(maxMessageSize) bytes exceeds the limit; send smaller messages")))
        }
        pendingWireSize += bytes.readableBytes
        pendingSize = total
        if pending == nil {
            pending = bytes
            pendingCompressed = compressed
        } else if !joining, more.count < Self.maxSlices,
            bytes.readableBytes >= Self.sliceThreshold || !flags.contains(.more)
        {
            more.append(bytes)
        } else {
            if !joining {
                joining = true
                var joined = ByteBufferAllocator().buffer(capacity: total)
                var first = pending!
                joined.writeBuffer(&first)
                for var fragment in more { joined.writeBuffer(&fragment) }
                more = []
                pending = joined
            }
            var fragment = bytes
            pending!.writeBuffer(&fragment)
        }
        guard !flags.contains(.more) else { return .success(nil) }
        defer {
            pending = nil
            more = []
            joining = false
            pendingSize = 0
            pendingWireSize = 0
            pendingCredited = 0
        }
        return .success(InboundQueue.Item(
            bytes: pending!, more: more, compressed: pendingCompressed, wireSize: pendingWireSize - pendingCredited))
    }

    /// Records that `count` bytes of the partial message were credited on receipt.
    mutating func credited(_ count: Int) {
        pendingCredited += count
    }

    /// Whether a message is half received.
    var isMidMessage: Bool { pending != nil }
}

import MailSyncRPC
import MailSyncWire
import NIOCore

/// Joins the MESSAGE frames of one stream into whole messages.
///
/// A message is one frame, or several where all but the last carry MORE; every fragment of a
/// message carries the same COMPRESSED flag. The joined size is checked against `maxMessageSize`
/// as fragments arrive, so an oversized message is refused before it is buffered whole.
///
/// Flow control: the fragments before a message's last are credited back as soon as they arrive
/// (a half message cannot be read, and `maxMessageSize` already bounds it); the completed message
/// carries the size of its last fragment, credited when the reader takes it. Without this, a
/// message larger than the stream window could never complete.
struct MessageAssembler {
    private var pending: ByteBuffer?
    private var pendingCompressed = false

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
        let total = (pending?.readableBytes ?? 0) + bytes.readableBytes
        guard total <= maxMessageSize else {
            pending = nil
            return .failure(.stream(RPCError(
                .resourceExhausted, "a message of more than \(maxMessageSize) bytes exceeds the limit; send smaller messages")))
        }
        if pending == nil {
            pending = bytes
            pendingCompressed = compressed
        } else {
            var fragment = bytes
            pending!.writeBuffer(&fragment)
        }
        guard !flags.contains(.more) else { return .success(nil) }
        defer { pending = nil }
        return .success(InboundQueue.Item(bytes: pending!, compressed: pendingCompressed, wireSize: bytes.readableBytes))
    }

    /// Whether a message is half received.
    var isMidMessage: Bool { pending != nil }
}

import MailSyncWire
import NIOCore

/// Encoded frames waiting to be written, in order, without copying large message payloads.
///
/// Frames are encoded into one buffer; a MESSAGE frame whose payload is at least
/// `separateWriteThreshold` bytes gets only its 12-byte header encoded there, and its payload (a
/// slice of the sender's buffer) is queued as a buffer of its own behind it. The channel writes the
/// parts with one vectored write, so the bytes on the wire are the same as with one buffer, and a
/// 64 KiB message is not copied once more on its way out. Event-loop bound.
struct OutboundBytes {
    /// Payloads at least this large are written from their own buffer, not copied. 8 KiB: below
    /// that a copy costs less than a separate buffer in the write.
    static let separateWriteThreshold = 8192

    /// Complete parts, in order, before `buffer`.
    private(set) var parts: [ByteBuffer] = []
    /// The frames encoded since the last part.
    var buffer: ByteBuffer

    init(buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    /// Whether anything is waiting.
    var hasBytes: Bool { buffer.readableBytes > 0 || !parts.isEmpty }

    /// Appends any frame.
    mutating func write(_ frame: Frame) {
        FrameEncoder.write(frame, to: &buffer)
    }

    /// Appends one MESSAGE frame carrying `chunk`.
    mutating func writeMessage(streamID: UInt32, flags: FrameFlags, chunk: ByteBuffer) {
        guard chunk.readableBytes >= Self.separateWriteThreshold else {
            write(.message(streamID: streamID, flags: flags, bytes: chunk))
            return
        }
        FrameHeader(length: UInt32(chunk.readableBytes), type: .message, flags: flags, streamID: streamID)
            .write(to: &buffer)
        parts.append(buffer)
        parts.append(chunk)
        buffer = ByteBuffer()
    }

    /// Takes what is waiting: the complete parts, in order, then the buffer of frames encoded
    /// since (possibly empty); leaves `self` empty, with `next` as its buffer.
    mutating func take(next: ByteBuffer) -> (parts: [ByteBuffer], last: ByteBuffer) {
        defer {
            parts = []
            buffer = next
        }
        return (parts, buffer)
    }
}

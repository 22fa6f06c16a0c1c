public import NIOCore

/// Writes frames into a buffer. Callers are responsible for splitting messages into frames no larger
/// than the peer's `maxFrameSize` (see `writeMessage`).
public enum FrameEncoder {
    public static func write(_ frame: Frame, to buffer: inout ByteBuffer) {
        switch frame {
        case .callStart(let id, let start):
            writeFramed(.callStart, [], id, &buffer) { payload in
                payload.writeInteger(start.timeoutMicroseconds)
                writeString16(start.method, &payload)
                start.metadataBlock.write(to: &payload)
            }
        case .message(let id, let flags, let bytes):
            FrameHeader(length: UInt32(bytes.readableBytes), type: .message, flags: flags, streamID: id).write(to: &buffer)
            var copy = bytes
            buffer.writeBuffer(&copy)
        case .endStream(let id):
            FrameHeader(length: 0, type: .endStream, streamID: id).write(to: &buffer)
        case .status(let id, let status):
            writeFramed(.status, [], id, &buffer) { payload in
                payload.writeInteger(status.code)
                writeString32(status.message, &payload)
                payload.writeInteger(UInt32(status.details.count))
                payload.writeBytes(status.details)
                status.metadataBlock.write(to: &payload)
            }
        case .cancel(let id, let cancel):
            writeFramed(.cancel, [], id, &buffer) { payload in
                payload.writeInteger(cancel.code)
                writeString16(cancel.reason, &payload)
            }
        case .settings(let settings):
            writeFramed(.settings, [], 0, &buffer) { settings.write(to: &$0) }
        case .settingsAck:
            FrameHeader(length: 0, type: .settings, flags: .ack, streamID: 0).write(to: &buffer)
        case .ping(let ack, let data):
            FrameHeader(length: 8, type: .ping, flags: ack ? .ack : [], streamID: 0).write(to: &buffer)
            buffer.writeInteger(data)
        case .goAway(let goAway):
            writeFramed(.goAway, [], 0, &buffer) { payload in
                payload.writeInteger(goAway.lastStreamID)
                payload.writeInteger(goAway.code.rawValue)
                writeString32(goAway.message, &payload)
            }
        case .windowUpdate(let id, let increment):
            FrameHeader(length: 4, type: .windowUpdate, streamID: id).write(to: &buffer)
            buffer.writeInteger(increment)
        }
    }

    /// Writes a message as MESSAGE frames of at most `maxFrameSize` payload bytes each, all but the
    /// last flagged MORE. An empty message is one empty frame.
    public static func writeMessage(
        _ message: ByteBuffer, compressed: Bool, streamID: UInt32, maxFrameSize: Int, to buffer: inout ByteBuffer
    ) {
        var rest = message
        repeat {
            let chunk = rest.readSlice(length: min(rest.readableBytes, maxFrameSize))!
            var flags: FrameFlags = compressed ? .compressed : []
            if rest.readableBytes > 0 { flags.insert(.more) }
            write(.message(streamID: streamID, flags: flags, bytes: chunk), to: &buffer)
        } while rest.readableBytes > 0
    }

    /// Writes a header with a placeholder length, the payload, then patches the length.
    private static func writeFramed(
        _ type: FrameType, _ flags: FrameFlags, _ streamID: UInt32, _ buffer: inout ByteBuffer,
        _ body: (inout ByteBuffer) -> Void
    ) {
        let start = buffer.writerIndex
        FrameHeader(length: 0, type: type, flags: flags, streamID: streamID).write(to: &buffer)
        body(&buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - start - FrameHeader.size), at: start)
    }

    static func writeString16(_ string: String, _ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(string.utf8.count))
        buffer.writeString(string)
    }

    static func writeString32(_ string: String, _ buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(string.utf8.count))
        buffer.writeString(string)
    }
}

extension MetadataBlock {
    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(entries.count))
        for entry in entries {
            buffer.writeInteger(UInt8(entry.key.utf8.count))
            buffer.writeString(entry.key)
            buffer.writeInteger(UInt16(entry.value.utf8.count))
            buffer.writeString(entry.value)
        }
    }
}

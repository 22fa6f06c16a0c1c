public import NIOCore

/// The kind of a frame.
public struct FrameType: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Opens a call (client → server, new odd stream id).
    public static let callStart = FrameType(rawValue: 0x01)
    /// A message, or a fragment of one.
    public static let message = FrameType(rawValue: 0x02)
    /// The client has sent its last message on this stream.
    public static let endStream = FrameType(rawValue: 0x03)
    /// The call's final status (server → client); closes the stream.
    public static let status = FrameType(rawValue: 0x04)
    /// The client abandons the call; the server cancels its handler.
    public static let cancel = FrameType(rawValue: 0x05)
    /// Connection settings, once per side right after the preface.
    public static let settings = FrameType(rawValue: 0x06)
    /// A liveness probe; answered with the ACK flag and the same 8 bytes.
    public static let ping = FrameType(rawValue: 0x07)
    /// The sender will accept no new calls; says which was the last it processed.
    public static let goAway = FrameType(rawValue: 0x08)
    /// Flow-control credit for a stream, or for the connection on stream 0.
    public static let windowUpdate = FrameType(rawValue: 0x09)

    public var description: String {
        switch self {
        case .callStart: "CALL_START"
        case .message: "MESSAGE"
        case .endStream: "END_STREAM"
        case .status: "STATUS"
        case .cancel: "CANCEL"
        case .settings: "SETTINGS"
        case .ping: "PING"
        case .goAway: "GOAWAY"
        case .windowUpdate: "WINDOW_UPDATE"
        default: "type 0x" + String(rawValue, radix: 16)
        }
    }
}

/// Flag bits of a frame's header. Which are defined depends on the frame type.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// MESSAGE: the message's bytes are a zlib stream (RFC 1950). Same on every fragment.
    public static let compressed = FrameFlags(rawValue: 0x01)
    /// MESSAGE: more fragments of this message follow.
    public static let more = FrameFlags(rawValue: 0x02)
    /// SETTINGS and PING: this frame acknowledges the peer's.
    public static let ack = FrameFlags(rawValue: 0x01)
}

/// The fixed 12-byte header in front of every frame's payload.
///
/// ```
/// +--------+--------+--------+--------+
/// |          length (u32, BE)         |  payload bytes after this header
/// +--------+--------+--------+--------+
/// |  type  | flags  | reserved (0x0000) |
/// +--------+--------+--------+--------+
/// |R|        stream id (u31, BE)      |  R: reserved bit, must be 0
/// +--------+--------+--------+--------+
/// ```
public struct FrameHeader: Sendable, Hashable {
    public static let size = 12

    public var length: UInt32
    public var type: FrameType
    public var flags: FrameFlags
    public var streamID: UInt32

    public init(length: UInt32, type: FrameType, flags: FrameFlags = [], streamID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(length, type.rawValue, flags.rawValue, UInt16(0), streamID)
    }
}

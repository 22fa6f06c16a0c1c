public import NIOCore

/// One decoded frame. Payload layouts are specified in `docs/protocol.md`.
public enum Frame: Sendable, Equatable {
    case callStart(streamID: UInt32, CallStart)
    /// A message or a fragment of one; `bytes` is the frame's payload.
    case message(streamID: UInt32, flags: FrameFlags, bytes: ByteBuffer)
    case endStream(streamID: UInt32)
    case status(streamID: UInt32, StatusPayload)
    case cancel(streamID: UInt32, CancelPayload)
    case settings(ConnectionSettings)
    case settingsAck
    case ping(ack: Bool, data: UInt64)
    case goAway(GoAway)
    case windowUpdate(streamID: UInt32, increment: UInt32)

    /// The stream the frame belongs to; 0 for connection frames.
    public var streamID: UInt32 {
        switch self {
        case .callStart(let id, _), .message(let id, _, _), .endStream(let id), .status(let id, _),
            .cancel(let id, _), .windowUpdate(let id, _):
            id
        case .settings, .settingsAck, .ping, .goAway: 0
        }
    }
}

/// A CALL_START payload: opens a call.
///
/// ```
/// timeout (u64 BE, microseconds; 0 = no deadline)
/// method length (u16 BE), method (UTF-8, "package.Service/Method", 1–512 bytes)
/// metadata (see MetadataBlock)
/// ```
public struct CallStart: Sendable, Hashable {
    /// Relative deadline in microseconds; 0 means none.
    public var timeoutMicroseconds: UInt64
    public var method: String
    public var metadata: [(key: String, value: String)] {
        get { metadataBlock.entries.map { (key: $0.key, value: $0.value) } }
        set { metadataBlock = MetadataBlock(newValue.map { MetadataBlock.Entry(key: $0.key, value: $0.value) }) }
    }
    var metadataBlock: MetadataBlock

    public init(method: String, timeoutMicroseconds: UInt64 = 0, metadata: [(key: String, value: String)] = []) {
        self.method = method
        self.timeoutMicroseconds = timeoutMicroseconds
        self.metadataBlock = MetadataBlock(metadata.map { MetadataBlock.Entry(key: $0.key, value: $0.value) })
    }

    public static let maxMethodLength = 512
}

/// A STATUS payload: the call's outcome.
///
/// ```
/// code (u16 BE), message length (u32 BE), message (UTF-8), details length (u32 BE), details,
/// trailing metadata (see MetadataBlock)
/// ```
public struct StatusPayload: Sendable, Hashable {
    public var code: UInt16
    public var message: String
    public var details: [UInt8]
    public var metadata: [(key: String, value: String)] {
        get { metadataBlock.entries.map { (key: $0.key, value: $0.value) } }
        set { metadataBlock = MetadataBlock(newValue.map { MetadataBlock.Entry(key: $0.key, value: $0.value) }) }
    }
    var metadataBlock: MetadataBlock

    public init(code: UInt16, message: String, details: [UInt8] = [], metadata: [(key: String, value: String)] = []) {
        self.code = code
        self.message = message
        self.details = details
        self.metadataBlock = MetadataBlock(metadata.map { MetadataBlock.Entry(key: $0.key, value: $0.value) })
    }
}

/// A CANCEL payload: `code (u16 BE)` (a status code, normally 1 = cancelled), then
/// `reason length (u16 BE)`, `reason (UTF-8)`.
public struct CancelPayload: Sendable, Hashable {
    public var code: UInt16
    public var reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// A GOAWAY payload: `last stream id (u32 BE)`, `error code (u32 BE)`, `message length (u32 BE)`,
/// `message (UTF-8)`.
///
/// Calls with ids above `lastStreamID` were not processed at all and may be retried on a new
/// connection. After a graceful GOAWAY (`noError`) the calls up to it run to completion; after an
/// error GOAWAY the connection closes and those calls end too.
public struct GoAway: Sendable, Hashable {
    public var lastStreamID: UInt32
    public var code: ErrorCode
    public var message: String

    public init(lastStreamID: UInt32, code: ErrorCode, message: String) {
        self.lastStreamID = lastStreamID
        self.code = code
        self.message = message
    }
}

/// Metadata pairs as they appear on the wire: `count (u16 BE)`, then per pair
/// `key length (u8)`, `key (ASCII)`, `value length (u16 BE)`, `value (UTF-8)`.
struct MetadataBlock: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var key: String
        var value: String
    }
    var entries: [Entry]

    init(_ entries: [Entry]) { self.entries = entries }

    /// Keys and values, without framing: what `maxMetadataSize` bounds.
    var size: Int { entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count } }
}

public import NIOCore

/// Cuts frames out of a byte stream, checking everything that can be checked without connection
/// state.
///
/// A frame's length is compared with `maxFrameSize` as soon as its 12-byte header has arrived,
/// before any of the payload is waited for or buffered. Also rejected here, each with a
/// `ProtocolError` naming the rule: nonzero reserved bits, unknown frame types, flags a type does not
/// define, a stream id on a connection frame (or none on a stream frame), payloads of the wrong size
/// for their type, counts and lengths larger than the bytes that remain, invalid UTF-8, and
/// malformed metadata keys. Rules that need state (stream ids odd and increasing, windows, one
/// SETTINGS frame) are the connection's.
public struct FrameDecoder: Sendable {
    /// Largest payload accepted; a larger frame is a `frameSizeError`.
    public var maxFrameSize: UInt32

    public init(maxFrameSize: UInt32 = ConnectionSettings.defaults.maxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// The next whole frame from the front of `buffer`, or nil when more bytes are needed. A
    /// returned frame's bytes are consumed; nothing is consumed otherwise.
    public mutating func next(from buffer: inout ByteBuffer) throws(ProtocolError) -> Frame? {
        guard let (length, rawType, rawFlags, reserved, rawStream) = buffer.getMultipleIntegers(
            at: buffer.readerIndex, as: (UInt32, UInt8, UInt8, UInt16, UInt32).self)
        else { return nil }
        guard length <= maxFrameSize else {
            throw ProtocolError(.frameSizeError, "a frame of \(length) bytes exceeds the maximum frame size of \(maxFrameSize)")
        }
        guard reserved == 0, rawStream & 0x8000_0000 == 0 else {
            throw ProtocolError(.protocolError, "reserved bits are set in a frame header")
        }
        guard buffer.readableBytes >= FrameHeader.size + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameHeader.size)
        var payload = buffer.readSlice(length: Int(length))!
        let type = FrameType(rawValue: rawType)
        let flags = FrameFlags(rawValue: rawFlags)
        let streamID = rawStream
        return try Self.parse(type: type, flags: flags, streamID: streamID, payload: &payload)
    }

    static func parse(type: FrameType, flags: FrameFlags, streamID: UInt32, payload: inout ByteBuffer) throws(ProtocolError) -> Frame {
        func requireFlags(_ allowed: FrameFlags) throws(ProtocolError) {
            guard flags.isSubset(of: allowed) else {
                throw ProtocolError(.protocolError, "\(type) frame has undefined flags 0x\(String(flags.rawValue, radix: 16))")
            }
        }
        func requireStream(_ onStream: Bool) throws(ProtocolError) {
            if onStream && streamID == 0 {
                throw ProtocolError(.protocolError, "\(type) frame must name a stream, not stream 0")
            }
            if !onStream && streamID != 0 {
                throw ProtocolError(.protocolError, "\(type) frame belongs on stream 0, not stream \(streamID)")
            }
        }
        func requireLength(_ expected: Int) throws(ProtocolError) {
            guard payload.readableBytes == expected else {
                throw ProtocolError(.frameSizeError, "\(type) frame must carry \(expected) bytes, got \(payload.readableBytes)")
            }
        }
        var reader = PayloadReader(type: type, buffer: payload)

        switch type {
        case .callStart:
            try requireFlags([])
            try requireStream(true)
            let timeout = try reader.integer(UInt64.self)
            let method = try reader.string16()
            guard (1...CallStart.maxMethodLength).contains(method.utf8.count) else {
                throw ProtocolError(.protocolError, "a method name must be 1–\(CallStart.maxMethodLength) bytes")
            }
            var start = CallStart(method: method, timeoutMicroseconds: timeout)
            start.metadataBlock = try reader.metadata()
            try reader.requireEnd()
            return .callStart(streamID: streamID, start)
        case .message:
            try requireFlags([.compressed, .more])
            try requireStream(true)
            return .message(streamID: streamID, flags: flags, bytes: payload)
        case .endStream:
            try requireFlags([])
            try requireStream(true)
            try requireLength(0)
            return .endStream(streamID: streamID)
        case .status:
            try requireFlags([])
            try requireStream(true)
            let code = try reader.integer(UInt16.self)
            let message = try reader.string32()
            let detailsLength = try reader.integer(UInt32.self)
            let details = try reader.bytes(Int(detailsLength))
            var status = StatusPayload(code: code, message: message, details: details)
            status.metadataBlock = try reader.metadata()
            try reader.requireEnd()
            return .status(streamID: streamID, status)
        case .cancel:
            try requireFlags([])
            try requireStream(true)
            let code = try reader.integer(UInt16.self)
            let reason = try reader.string16()
            try reader.requireEnd()
            return .cancel(streamID: streamID, CancelPayload(code: code, reason: reason))
        case .settings:
            try requireFlags(.ack)
            try requireStream(false)
            if flags.contains(.ack) {
                try requireLength(0)
                return .settingsAck
            }
            do {
                return .settings(try ConnectionSettings.parse(payload))
            } catch let error as ProtocolError {
                throw error
            } catch {
                throw ProtocolError(.protocolError, "\(error)")
            }
        case .ping:
            try requireFlags(.ack)
            try requireStream(false)
            try requireLength(8)
            return .ping(ack: flags.contains(.ack), data: try reader.integer(UInt64.self))
        case .goAway:
            try requireFlags([])
            try requireStream(false)
            let last = try reader.integer(UInt32.self)
            let code = try reader.integer(UInt32.self)
            let message = try reader.string32()
            try reader.requireEnd()
            return .goAway(GoAway(lastStreamID: last, code: ErrorCode(rawValue: code), message: message))
        case .windowUpdate:
            try requireFlags([])
            try requireLength(4)
            let increment = try reader.integer(UInt32.self)
            guard increment >= 1, increment <= ConnectionSettings.maxWindow else {
                throw ProtocolError(.flowControlError, "a window increment must be 1...2^31-1, got \(increment)")
            }
            return .windowUpdate(streamID: streamID, increment: increment)
        default:
            throw ProtocolError(.protocolError, "unknown frame \(type) (this peer speaks version \(Preface.currentVersion))")
        }
    }
}

/// Bounds-checked reads from a frame payload: every length is checked against what remains.
struct PayloadReader {
    let type: FrameType
    var buffer: ByteBuffer

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(ProtocolError) -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw truncated() }
        return value
    }

    mutating func bytes(_ count: Int) throws(ProtocolError) -> [UInt8] {
        guard count <= buffer.readableBytes else {
            throw ProtocolError(.protocolError, "\(type) frame: a length of \(count) exceeds the \(buffer.readableBytes) bytes that remain")
        }
        return buffer.readBytes(length: count)!
    }

    mutating func utf8(_ count: Int) throws(ProtocolError) -> String {
        let raw = try bytes(count)
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw ProtocolError(.protocolError, "\(type) frame: a string is not valid UTF-8")
        }
        return string
    }

    mutating func string16() throws(ProtocolError) -> String { try utf8(Int(integer(UInt16.self))) }
    mutating func string32() throws(ProtocolError) -> String { try utf8(Int(integer(UInt32.self))) }

    mutating func metadata() throws(ProtocolError) -> MetadataBlock {
        let count = Int(try integer(UInt16.self))
        // Each pair takes at least 4 bytes: never reserve more than what remains can hold.
        guard count * 4 <= buffer.readableBytes else {
            throw ProtocolError(.protocolError, "\(type) frame: \(count) metadata pairs cannot fit in \(buffer.readableBytes) bytes")
        }
        var entries: [MetadataBlock.Entry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try utf8(Int(integer(UInt8.self)))
            guard Self.isValidKey(key) else {
                throw ProtocolError(.protocolError, "\(type) frame: metadata key '\(key)' is not 1–128 characters of a-z 0-9 - _ .")
            }
            let value = try string16()
            entries.append(.init(key: key, value: value))
        }
        return MetadataBlock(entries)
    }

    func requireEnd() throws(ProtocolError) {
        guard buffer.readableBytes == 0 else {
            throw ProtocolError(.protocolError, "\(type) frame has \(buffer.readableBytes) bytes after its last field")
        }
    }

    func truncated() -> ProtocolError {
        ProtocolError(.protocolError, "\(type) frame ends in the middle of a field")
    }

    static func isValidKey(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E
        }
    }
}

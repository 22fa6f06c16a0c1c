import MailSyncWire
import NIOCore
@_exported import TestSupport

enum Hex {
    /// Lowercase hex, bytes separated by single spaces.
    static func string<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
    }

    static func string(_ buffer: ByteBuffer) -> String {
        string(buffer.readableBytesView)
    }

    /// Parses hex digits, ignoring whitespace. Traps on anything else (test data only).
    static func bytes(_ text: String) -> [UInt8] {
        let digits = text.filter { !$0.isWhitespace }
        precondition(digits.count % 2 == 0, "odd number of hex digits in \(text)")
        var result: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            result.append(UInt8(digits[index..<next], radix: 16)!)
            index = next
        }
        return result
    }
}

extension ByteBuffer {
    init(hex: String) {
        self.init(bytes: Hex.bytes(hex))
    }
}

/// Encodes one frame into a fresh buffer.
func encode(_ frame: Frame) -> ByteBuffer {
    var buffer = ByteBuffer()
    FrameEncoder.write(frame, to: &buffer)
    return buffer
}

/// Decodes every whole frame in `buffer`; the buffer keeps whatever is left.
func decodeAll(_ buffer: inout ByteBuffer, maxFrameSize: UInt32 = ConnectionSettings.defaults.maxFrameSize) throws(ProtocolError) -> [Frame] {
    var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
    var frames: [Frame] = []
    while let frame = try decoder.next(from: &buffer) { frames.append(frame) }
    return frames
}

/// The error decoding `bytes` throws, or nil when it decodes (or needs more bytes).
func decodeError(_ bytes: ByteBuffer, maxFrameSize: UInt32 = ConnectionSettings.defaults.maxFrameSize) -> ProtocolError? {
    var buffer = bytes
    var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
    do {
        _ = try decoder.next(from: &buffer)
        return nil
    } catch {
        return error
    }
}

/// Builds raw frames byte by byte, for inputs the encoder would never produce.
struct RawFrame {
    var type: UInt8
    var flags: UInt8 = 0
    var reserved: UInt16 = 0
    var streamID: UInt32
    var payload = ByteBuffer()
    /// The length field; nil means the payload's real length.
    var length: UInt32? = nil

    init(_ type: FrameType, flags: UInt8 = 0, streamID: UInt32, _ build: (inout ByteBuffer) -> Void = { _ in }) {
        self.type = type.rawValue
        self.flags = flags
        self.streamID = streamID
        build(&payload)
    }

    var bytes: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(length ?? UInt32(payload.readableBytes), type, flags, reserved, streamID)
        var copy = payload
        buffer.writeBuffer(&copy)
        return buffer
    }
}

extension ByteBuffer {
    /// A u16 length and the bytes.
    mutating func writeString16(_ bytes: [UInt8]) {
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }

    /// A u32 length and the bytes.
    mutating func writeString32(_ bytes: [UInt8]) {
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    /// A metadata block from raw keys and values.
    mutating func writeMetadata(_ pairs: [([UInt8], [UInt8])]) {
        writeInteger(UInt16(pairs.count))
        for (key, value) in pairs {
            writeInteger(UInt8(key.count))
            writeBytes(key)
            writeString16(value)
        }
    }
}

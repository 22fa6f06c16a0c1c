public import NIOCore

/// What one side of a connection accepts, announced once in its SETTINGS frame right after the
/// preface and fixed for the connection's life (a second SETTINGS frame is a protocol error).
///
/// A SETTINGS payload is a list of 6-byte entries: `id (u16 BE)`, `value (u32 BE)`. Unknown ids are
/// ignored, so a newer peer can announce settings an older one does not know. Until a side has
/// received its peer's SETTINGS it assumes these defaults; a client waits for the server's SETTINGS
/// before opening calls.
public struct ConnectionSettings: Sendable, Hashable {
    /// Largest frame payload this side accepts. Default 65,536; range 16,384 – 16,777,215.
    public var maxFrameSize: UInt32
    /// Largest message this side accepts, compressed or not (after reassembly and after
    /// decompression). Default 4 MiB.
    public var maxMessageSize: UInt32
    /// Calls the peer may have open at once on this connection. Default 100.
    public var maxConcurrentCalls: UInt32
    /// Flow-control window each new stream starts with, in MESSAGE payload bytes. Default 256 KiB.
    public var initialStreamWindow: UInt32
    /// Flow-control window of the whole connection at start. Default 1 MiB.
    public var initialConnectionWindow: UInt32
    /// Largest total of metadata keys and values in one CALL_START or STATUS. Default 8 KiB.
    public var maxMetadataSize: UInt32

    public init(
        maxFrameSize: UInt32 = 65_536, maxMessageSize: UInt32 = 4 * 1024 * 1024,
        maxConcurrentCalls: UInt32 = 100, initialStreamWindow: UInt32 = 256 * 1024,
        initialConnectionWindow: UInt32 = 1024 * 1024, maxMetadataSize: UInt32 = 8 * 1024
    ) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxConcurrentCalls = maxConcurrentCalls
        self.initialStreamWindow = initialStreamWindow
        self.initialConnectionWindow = initialConnectionWindow
        self.maxMetadataSize = maxMetadataSize
    }

    public static let defaults = ConnectionSettings()
    public static let minFrameSize: UInt32 = 16_384
    public static let maxFrameSizeLimit: UInt32 = 16_777_215
    /// Largest window a sender may hold (as in HTTP/2).
    public static let maxWindow: UInt32 = 0x7FFF_FFFF

    enum ID: UInt16 {
        case maxFrameSize = 1, maxMessageSize, maxConcurrentCalls, initialStreamWindow,
            initialConnectionWindow, maxMetadataSize
    }

    public func write(to buffer: inout ByteBuffer) {
        let entries: [(ID, UInt32)] = [
            (.maxFrameSize, maxFrameSize), (.maxMessageSize, maxMessageSize),
            (.maxConcurrentCalls, maxConcurrentCalls), (.initialStreamWindow, initialStreamWindow),
            (.initialConnectionWindow, initialConnectionWindow), (.maxMetadataSize, maxMetadataSize),
        ]
        for (id, value) in entries { buffer.writeMultipleIntegers(id.rawValue, value) }
    }

    /// Reads a SETTINGS payload, starting from the defaults.
    ///
    /// - Throws: `ProtocolError` for a payload that is not a whole number of entries or a value out
    ///   of its range.
    public static func parse(_ payload: ByteBuffer) throws -> ConnectionSettings {
        guard payload.readableBytes % 6 == 0 else {
            throw ProtocolError(.frameSizeError, "a SETTINGS payload must be a multiple of 6 bytes, got \(payload.readableBytes)")
        }
        var buffer = payload
        var settings = ConnectionSettings()
        while let (rawID, value) = buffer.readMultipleIntegers(as: (UInt16, UInt32).self) {
            switch ID(rawValue: rawID) {
            case .maxFrameSize:
                guard (minFrameSize...maxFrameSizeLimit).contains(value) else {
                    throw ProtocolError(.protocolError, "maxFrameSize \(value) is outside \(minFrameSize)...\(maxFrameSizeLimit)")
                }
                settings.maxFrameSize = value
            case .maxMessageSize: settings.maxMessageSize = value
            case .maxConcurrentCalls: settings.maxConcurrentCalls = value
            case .initialStreamWindow, .initialConnectionWindow:
                guard value <= maxWindow else {
                    throw ProtocolError(.flowControlError, "a window of \(value) exceeds 2^31-1")
                }
                if rawID == ID.initialStreamWindow.rawValue {
                    settings.initialStreamWindow = value
                } else {
                    settings.initialConnectionWindow = value
                }
            case .maxMetadataSize: settings.maxMetadataSize = value
            case nil: continue
            }
        }
        return settings
    }
}

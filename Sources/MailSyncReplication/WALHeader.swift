/// The 32-byte header of a SQLite `-wal` file, validated.
///
/// Layout (big-endian fields): magic `0x377f0682` (little-endian checksums) or `0x377f0683`
/// (big-endian checksums), format version 3007000, page size (a power of two, 512…65,536),
/// checkpoint sequence, salt-1, salt-2, and a checksum of the first 24 bytes. The salts identify
/// one incarnation of the log: a checkpoint that restarts the log writes a new header with salt-1
/// incremented and a new random salt-2, so frames left over from before fail to match.
public struct WALHeader: Hashable, Sendable {
    /// Bytes in the header.
    public static let size = 32
    /// Bytes in each frame's header (before its page).
    public static let frameHeaderSize = 24

    public var pageSize: Int
    public var checkpointSequence: UInt32
    public var salt1: UInt32
    public var salt2: UInt32
    /// Whether checksums read words big-endian (magic `0x377f0683`).
    public var bigEndianChecksums: Bool
    /// The header's own checksum: the start of the cumulative chain the frames continue.
    public var checksum: WALChecksum

    /// Bytes one frame takes: its header plus a page.
    public var frameSize: Int { Self.frameHeaderSize + pageSize }

    /// Parses and validates the first 32 bytes of `bytes`; `nil` when they are missing, the magic,
    /// version or page size is wrong, or the header checksum does not match (a torn or foreign file).
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size else { return nil }
        let magic = BigEndian.uint32(bytes, 0)
        guard magic & 0xFFFF_FFFE == 0x377F_0682 else { return nil }
        guard BigEndian.uint32(bytes, 4) == 3_007_000 else { return nil }
        let pageSize = Int(BigEndian.uint32(bytes, 8))
        guard (512...65536).contains(pageSize), pageSize & (pageSize - 1) == 0 else { return nil }
        let bigEndian = magic & 1 == 1
        var computed = WALChecksum()
        computed.update(UnsafeRawBufferPointer(rebasing: bytes[0..<24]), bigEndian: bigEndian)
        let stored = WALChecksum(s1: BigEndian.uint32(bytes, 24), s2: BigEndian.uint32(bytes, 28))
        guard computed == stored else { return nil }
        self.pageSize = pageSize
        self.checkpointSequence = BigEndian.uint32(bytes, 12)
        self.salt1 = BigEndian.uint32(bytes, 16)
        self.salt2 = BigEndian.uint32(bytes, 20)
        self.bigEndianChecksums = bigEndian
        self.checksum = stored
    }

    public init?(_ bytes: [UInt8]) {
        guard let header = bytes.withUnsafeBytes({ WALHeader($0) }) else { return nil }
        self = header
    }

    /// Whether `other` is the log SQLite writes when it restarts this one exactly once: the
    /// checkpoint sequence and salt-1 each one higher (both wrap), the same page size.
    public func isDirectSuccessor(_ other: WALHeader) -> Bool {
        other.checkpointSequence == checkpointSequence &+ 1 && other.salt1 == salt1 &+ 1 && other.pageSize == pageSize
    }
}

/// SQLite's WAL checksum: two 32-bit running sums over 32-bit words, cumulative from the WAL
/// header through every frame (the "wal checksum" of the file format's section 4.4).
///
/// Words are read big-endian when the header's magic is `0x377f0683`, little-endian when it is
/// `0x377f0682`. Sums wrap (`&+`), as in SQLite. Input whose length is not a multiple of 8 is
/// never passed by this module (headers are 24 and 8 bytes, pages a power of two ≥ 512).
public struct WALChecksum: Hashable, Sendable {
    public var s1: UInt32
    public var s2: UInt32

    public init(s1: UInt32 = 0, s2: UInt32 = 0) {
        self.s1 = s1
        self.s2 = s2
    }

    /// Adds `bytes` (a multiple of 8 long; a trailing partial word is ignored).
    public mutating func update(_ bytes: UnsafeRawBufferPointer, bigEndian: Bool) {
        var index = 0
        let end = bytes.count - bytes.count % 8
        var a = s1, b = s2
        while index < end {
            let x0 = Self.word(bytes, index, bigEndian)
            let x1 = Self.word(bytes, index + 4, bigEndian)
            a = a &+ x0 &+ b
            b = b &+ x1 &+ a
            index += 8
        }
        s1 = a
        s2 = b
    }

    @inline(__always)
    static func word(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ bigEndian: Bool) -> UInt32 {
        let b0 = UInt32(bytes[at]), b1 = UInt32(bytes[at + 1]), b2 = UInt32(bytes[at + 2]), b3 = UInt32(bytes[at + 3])
        return bigEndian ? (b0 << 24 | b1 << 16 | b2 << 8 | b3) : (b3 << 24 | b2 << 16 | b1 << 8 | b0)
    }
}

/// Big-endian 32-bit reads, as every WAL header field is stored.
enum BigEndian {
    static func uint32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        WALChecksum.word(bytes, at, true)
    }

    static func put(_ value: UInt32, into bytes: inout [UInt8], at: Int) {
        bytes[at] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[at + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[at + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[at + 3] = UInt8(truncatingIfNeeded: value)
    }
}

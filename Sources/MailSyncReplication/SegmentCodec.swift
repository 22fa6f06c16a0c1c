import Crypto
import Foundation

/// A segment object's plaintext: a 48-byte header — `MSWALSG1`, page size and frame count
/// (big-endian 32-bit each), SHA-256 of the frames — then the frames as the log holds them
/// (24-byte header + page each, whole transactions, the last a commit), zlib-compressed
/// (``Compression``; their size is the frame count times the frame size).
///
/// The digest is inside the object, so it is sealed with it (a leaked bucket does not reveal
/// digests of plaintext) and a flipped byte anywhere fails ``decode(_:pageSize:key:)``.
enum SegmentCodec {
    static let magic = Array("MSWALSG1".utf8)
    static let headerSize = 48

    static func encode(frames: [UInt8], frameCount: Int, pageSize: Int) -> Data {
        var header = magic + [UInt8](repeating: 0, count: 8)
        BigEndian.put(UInt32(truncatingIfNeeded: pageSize), into: &header, at: 8)
        BigEndian.put(UInt32(truncatingIfNeeded: frameCount), into: &header, at: 12)
        header += Array(SHA256.hash(data: frames))
        return Data(header + Compression.deflate(frames))
    }

    /// The frames of a segment, verified; throws ``ReplicationError`` (`.damagedObject`) naming `key`.
    static func decode(_ data: Data, pageSize: Int, key: String) throws -> [UInt8] {
        let bytes = [UInt8](data)
        func damaged(_ why: String) -> ReplicationError {
            ReplicationError(.damagedObject, "the segment \(key) is damaged: \(why); the restore was refused", object: key)
        }
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else { throw damaged("it does not start like a segment") }
        let (frameSizeValue, count) = bytes.withUnsafeBytes { (Int(BigEndian.uint32($0, 8)), Int(BigEndian.uint32($0, 12))) }
        guard frameSizeValue == pageSize else { throw damaged("its page size \(frameSizeValue) is not the generation's \(pageSize)") }
        let (expected, overflow) = count.multipliedReportingOverflow(by: WALHeader.frameHeaderSize + pageSize)
        guard !overflow, count > 0 else { throw damaged("its header claims \(count) frames") }
        let frames = try Compression.inflate(bytes[headerSize...], size: expected, object: key)
        guard Array(SHA256.hash(data: frames)) == Array(bytes[16..<48]) else { throw damaged("its SHA-256 does not match") }
        return frames
    }
}

extension Data {
    var sha256Hex: String { SHA256.hash(data: self).map { hex(UInt64($0), digits: 2) }.joined() }
}

import CZlib
import Foundation

/// One-shot zlib (RFC 1950) for snapshots and segments: database pages compress well (text,
/// repeated keys, free space), and the store bills by the byte.
///
/// ``inflate(_:size:object:)`` is told the exact plaintext size (the manifest's or the segment
/// header's) and refuses anything else, so a damaged or hostile object cannot make it allocate
/// more than that; a size above zlib's maximum ratio (1,032:1) is refused before allocating.
enum Compression {
    /// Level 6, zlib's default: most of level 9's ratio for a third of its time.
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let code = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { compress2(out.baseAddress, &length, $0.baseAddress, uLong($0.count), 6) }
        }
        precondition(code == Z_OK, "compress2 with a compressBound-sized buffer cannot fail (zlib code \(code))")
        output.removeSubrange(Int(length)...)
        return output
    }

    /// The plaintext of `bytes`, which must be exactly `size` bytes; throws `.damagedObject`
    /// naming `object` otherwise.
    static func inflate(_ bytes: ArraySlice<UInt8>, size: Int, object: String) throws -> [UInt8] {
        let (ceiling, overflow) = bytes.count.multipliedReportingOverflow(by: 1032)
        guard size >= 0, overflow || size <= ceiling + 64 else {
            throw ReplicationError(.damagedObject, "\(object) is damaged: it claims \(size) bytes from \(bytes.count) compressed; the restore was refused", object: object)
        }
        var output = [UInt8](repeating: 0, count: max(size, 1))
        var length = uLong(size)
        let code = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { uncompress(out.baseAddress, &length, $0.baseAddress, uLong($0.count)) }
        }
        guard code == Z_OK, Int(length) == size else {
            throw ReplicationError(.damagedObject, "\(object) is damaged: its compressed data does not inflate to \(size) bytes (zlib code \(code)); the restore was refused", object: object)
        }
        output.removeSubrange(size...)
        return output
    }
}

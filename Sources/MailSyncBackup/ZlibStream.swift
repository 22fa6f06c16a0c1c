import CZlib
import Crypto

/// What streaming through zlib saw: sizes and SHA-256 of both sides.
struct StreamDigests: Sendable {
    var uncompressedSize: UInt64 = 0
    var compressedSize: UInt64 = 0
    var uncompressedSHA256 = ""
    var compressedSHA256 = ""
}

/// File-to-file zlib (RFC 1950) decompression in fixed chunks, and SHA-256 of files: memory stays
/// at two buffers of ``chunkSize`` plus zlib's own state (about 44 KiB for inflate), whatever the
/// file's size. Decompression hashes both sides as it goes and reads any one zlib stream: what
/// ``ParallelZlib`` writes and what backups written before it (one deflate stream) hold. Blocking:
/// use on a ``BlockingThread``. Output files are new (exclusive create) and fsynced before
/// returning. (Compression: ``ParallelZlib``.)
enum ZlibStream {
    /// Bytes read or written per step. 256 KiB.
    static let chunkSize = 256 * 1024

    /// Decompresses `input` into a new file `output`, refusing more than `limit` bytes out.
    /// Throws `.truncated` if the stream ends early, `.corrupted` if it is not valid zlib or bytes
    /// follow its end.
    static func decompress(input: String, output: String, limit: UInt64, name: String) throws -> StreamDigests {
        let source = try POSIXFile.openForReading(input)
        let target = try POSIXFile.create(output)
        var stream = z_stream()
        guard czlib_inflateInit(&stream) == Z_OK else { throw BackupError(.fileSystem, "zlib could not start decompressing (out of memory?)") }
        defer { inflateEnd(&stream) }
        let inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        let outBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { inBuffer.deallocate(); outBuffer.deallocate() }
        var plainHash = SHA256()
        var packedHash = SHA256()
        var digests = StreamDigests()
        var ended = false
        while true {
            let count = try source.read(into: inBuffer)
            if count == 0 { break }
            if ended { throw BackupError(.corrupted, "backup \(name) is corrupted: bytes follow the end of its compressed data") }
            let read = UnsafeRawBufferPointer(rebasing: inBuffer[..<count])
            packedHash.update(bufferPointer: read)
            digests.compressedSize += UInt64(count)
            stream.next_in = inBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(count)
            repeat {
                stream.next_out = outBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(chunkSize)
                let result = inflate(&stream, Z_NO_FLUSH)
                guard result == Z_OK || result == Z_STREAM_END || result == Z_BUF_ERROR else {
                    throw BackupError(.corrupted, "backup \(name) is corrupted: its compressed data is not valid zlib (code \(result))")
                }
                let produced = UnsafeRawBufferPointer(rebasing: outBuffer[..<(chunkSize - Int(stream.avail_out))])
                digests.uncompressedSize += UInt64(produced.count)
                guard digests.uncompressedSize <= limit else {
                    throw BackupError(.corrupted, "backup \(name) is corrupted: it decompresses to more than the \(limit) bytes its manifest says")
                }
                try target.writeAll(produced)
                plainHash.update(bufferPointer: produced)
                if result == Z_STREAM_END {
                    ended = true
                    if stream.avail_in != 0 { throw BackupError(.corrupted, "backup \(name) is corrupted: bytes follow the end of its compressed data") }
                    break
                }
                if result == Z_BUF_ERROR { break }  // needs more input
            } while stream.avail_out == 0 || stream.avail_in > 0
        }
        guard ended else {
            throw BackupError(.truncated, "backup \(name) is truncated: its compressed data ends early (after \(digests.compressedSize) bytes)")
        }
        try target.sync()
        digests.uncompressedSHA256 = hex(plainHash.finalize())
        digests.compressedSHA256 = hex(packedHash.finalize())
        return digests
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// SHA-256 of a whole file and its size, read in chunks.
    static func sha256(of path: String) throws -> (hex: String, size: UInt64) {
        let file = try POSIXFile.openForReading(path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var hash = SHA256()
        var size: UInt64 = 0
        while true {
            let count = try file.read(into: buffer)
            if count == 0 { break }
            hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            size += UInt64(count)
        }
        return (hex(hash.finalize()), size)
    }
}

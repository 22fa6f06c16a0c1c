import CZlib
import Crypto
import Foundation

/// File-to-file zlib (RFC 1950) compression on several threads: one zlib stream that any inflater
/// reads (``ZlibStream/decompress(input:output:limit:name:)``, `zlib.decompress`, `pigz -dz`), the
/// same format backups have always had.
///
/// The calling thread reads the file in blocks of ``blockSize``, hashes it (SHA-256), hands each
/// block to a worker and writes the encoded blocks in order, hashing them too; `threads` workers of
/// their own (never Swift's cooperative pool) encode blocks independently (``BlockEncoder``: pages
/// that do not compress stored, the rest deflated) and compute each block's Adler-32, combined in
/// order (`adler32_combine`). The output is the zlib header, the blocks, an empty final stored
/// block and the Adler-32. Blocks are independent, so the ratio is slightly below one deflate
/// stream's (each block starts with an empty window: well under 1% at 1 MiB).
///
/// Memory: `2 × threads` slots of about 2 × ``blockSize`` (4 MiB each at the default), plus one
/// deflate state per worker (about 256 KiB). Blocking: run it on a ``BlockingThread``. The output
/// is a new file (exclusive create), fsynced before returning. On failure the workers are stopped
/// and joined before it throws; the caller removes the partial output.
enum ParallelZlib {
    /// Input bytes per block. 1 MiB: large enough that the per-block loss of ratio and the flush
    /// markers do not count, small enough that 2 × threads blocks in flight stay a few MiB.
    static let blockSize = 1 << 20

    /// Compresses `input` into a new file `output`.
    /// - Parameters:
    ///   - level: zlib level, 0 (stored) … 9.
    ///   - threads: workers encoding blocks, at least 1.
    ///   - storesIncompressiblePages: store pages deflate cannot shrink without trying (see
    ///     ``PageEntropy``). Default true.
    static func compress(input: String, output: String, level: Int32, threads: Int, storesIncompressiblePages: Bool = true) throws -> StreamDigests {
        let source = try POSIXFile.openForReading(input)
        let target = try POSIXFile.create(output)
        let pipeline = try Pipeline(slots: 2 * max(1, threads), level: level, storesIncompressiblePages: storesIncompressiblePages)
        defer { pipeline.stopAndJoin() }
        for _ in 0..<max(1, threads) { try pipeline.startWorker() }

        var plainHash = SHA256()
        var packedHash = SHA256()
        var digests = StreamDigests()
        func put(_ bytes: UnsafeRawBufferPointer) throws {
            try target.writeAll(bytes)
            packedHash.update(bufferPointer: bytes)
            digests.compressedSize += UInt64(bytes.count)
        }
        try withUnsafeBytes(of: header(level: level)) { try put($0) }
        var adler = adler32(0, nil, 0)
        var nextRead = 0
        var nextWrite = 0
        var ended = false
        while true {
            while !ended, nextRead - nextWrite < pipeline.slots.count {
                let slot = pipeline.slots[nextRead % pipeline.slots.count]
                slot.inputCount = try readFully(source, into: slot.input)
                if slot.inputCount < blockSize { ended = true }
                if slot.inputCount == 0 { break }
                plainHash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: slot.input[..<slot.inputCount]))
                digests.uncompressedSize += UInt64(slot.inputCount)
                pipeline.submit(nextRead % pipeline.slots.count)
                nextRead += 1
            }
            if nextWrite == nextRead { break }
            let slot = pipeline.slots[nextWrite % pipeline.slots.count]
            try pipeline.waitUntilEncoded(nextWrite % pipeline.slots.count)
            try put(UnsafeRawBufferPointer(rebasing: slot.output[..<slot.encoded.count]))
            adler = adler32_combine(adler, slot.adler, Int(slot.inputCount))
            nextWrite += 1
        }
        // An empty final stored block: BFINAL 1, BTYPE 00, LEN 0, NLEN 0xFFFF.
        try withUnsafeBytes(of: (UInt8(1), UInt8(0), UInt8(0), UInt8(0xFF), UInt8(0xFF))) { try put($0) }
        let check = UInt32(truncatingIfNeeded: adler).bigEndian
        try withUnsafeBytes(of: check) { try put($0) }
        try target.sync()
        digests.uncompressedSHA256 = ZlibStream.hex(plainHash.finalize())
        digests.compressedSHA256 = ZlibStream.hex(packedHash.finalize())
        return digests
    }

    /// The two-byte zlib header for a 32 KiB window at `level` (RFC 1950 2.2: FLEVEL, FCHECK).
    static func header(level: Int32) -> (UInt8, UInt8) {
        let method: UInt16 = 0x78
        let flevel: UInt16 = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3
        var flags = flevel << 6
        flags += 31 - (method << 8 | flags) % 31
        return (UInt8(method), UInt8(flags))
    }

    /// Reads until `buffer` is full or the file ends; returns the bytes read.
    private static func readFully(_ file: POSIXFile, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var count = 0
        while count < buffer.count {
            let read = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count...]))
            if read == 0 { break }
            count += read
        }
        return count
    }
}

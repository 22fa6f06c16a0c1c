import CZlib

/// Encodes one block of a file as raw deflate (RFC 1951) that depends on nothing before it, ends on
/// a byte boundary and is never final, so that blocks encoded on different threads, concatenated
/// in order, are one valid deflate stream (what pigz does; ``ParallelZlib`` adds the zlib header,
/// the final block and the Adler-32).
///
/// Within the block, runs of pages that deflate cannot shrink (``PageEntropy``) are written as
/// stored blocks (5 bytes of header per 64 KiB) and the other runs are deflated at `level`. A
/// deflated run followed by a stored one ends with `Z_FULL_FLUSH`: the deflater forgets what it saw,
/// so later runs never point back over stored bytes it did not see. The last run ends with
/// `Z_SYNC_FLUSH`. Each block starts from a reset deflater, so blocks are independent.
///
/// One encoder per thread: it owns a deflate state (about 256 KiB at level 1). Blocking.
final class BlockEncoder: @unchecked Sendable {  // used by one thread at a time (handed to its worker at start)
    let level: Int32
    /// Whether pages deflate cannot shrink are stored without trying. Default true.
    let storesIncompressiblePages: Bool
    private let stream: UnsafeMutablePointer<z_stream>

    /// Throws `.fileSystem` if zlib cannot start (out of memory, or a level outside 0…9).
    init(level: Int32, storesIncompressiblePages: Bool = true) throws {
        self.level = level
        self.storesIncompressiblePages = storesIncompressiblePages
        // zlib keeps a pointer back to the stream: it must not move, hence the allocation.
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let result = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else {
            stream.deallocate()
            throw BackupError(.fileSystem, "zlib could not start compressing at level \(level) (code \(result); out of memory?)")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// The output space ``encode(_:into:)`` may need for `count` bytes in: deflate's worst case
    /// (stored, 5 bytes per 16 KiB), plus a run's flush markers and block headers for every page.
    static func outputCapacity(forInput count: Int) -> Int {
        let pages = count / PageEntropy.pageSize + 1
        return count + count / 1024 + pages * 32 + 64
    }

    /// What one block became.
    struct Encoded {
        /// Bytes written to the output.
        var count = 0
        /// Of the input, bytes written as stored without trying deflate.
        var storedInput = 0
    }

    /// Encodes `input` into `output` (at least ``outputCapacity(forInput:)`` bytes). An empty input
    /// writes nothing.
    func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Encoded {
        precondition(output.count >= Self.outputCapacity(forInput: input.count), "BlockEncoder output too small")
        guard deflateReset(stream) == Z_OK else { throw BackupError(.fileSystem, "zlib could not reset its compressor") }
        var encoded = Encoded()
        var runStart = 0
        var runStored = false
        var offset = 0
        while offset < input.count {
            let end = min(offset + PageEntropy.pageSize, input.count)
            let stored = storesIncompressiblePages && PageEntropy.isIncompressible(UnsafeRawBufferPointer(rebasing: input[offset..<end]))
            if offset > runStart, stored != runStored {
                try emit(UnsafeRawBufferPointer(rebasing: input[runStart..<offset]), stored: runStored, last: false, into: output, encoded: &encoded)
                runStart = offset
            }
            runStored = stored
            offset = end
        }
        if offset > runStart {
            try emit(UnsafeRawBufferPointer(rebasing: input[runStart..<offset]), stored: runStored, last: true, into: output, encoded: &encoded)
        }
        return encoded
    }

    private func emit(_ run: UnsafeRawBufferPointer, stored: Bool, last: Bool, into output: UnsafeMutableRawBufferPointer,
                      encoded: inout Encoded) throws {
        if stored {
            encoded.count = Self.writeStored(run, into: output, at: encoded.count)
            encoded.storedInput += run.count
            return
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: run.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(run.count)
        stream.pointee.next_out = (output.baseAddress! + encoded.count).assumingMemoryBound(to: Bytef.self)
        let space = output.count - encoded.count
        stream.pointee.avail_out = uInt(space)
        let result = deflate(stream, last ? Z_SYNC_FLUSH : Z_FULL_FLUSH)
        // With room for the worst case, one call takes all input and flushes all output.
        guard result == Z_OK, stream.pointee.avail_in == 0, stream.pointee.avail_out > 0 else {
            throw BackupError(.fileSystem, "zlib failed compressing a block (code \(result), \(stream.pointee.avail_in) bytes left)")
        }
        encoded.count += space - Int(stream.pointee.avail_out)
    }

    /// Writes `bytes` as non-final stored blocks (RFC 1951 3.2.4) at `offset`, which must be on a
    /// byte boundary of the stream; returns the offset after them.
    static func writeStored(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var at = offset
        var from = 0
        repeat {
            let length = min(65_535, bytes.count - from)
            output[at] = 0  // BFINAL 0, BTYPE 00, then padding to the byte boundary
            output[at + 1] = UInt8(truncatingIfNeeded: length)
            output[at + 2] = UInt8(truncatingIfNeeded: length >> 8)
            output[at + 3] = ~UInt8(truncatingIfNeeded: length)
            output[at + 4] = ~UInt8(truncatingIfNeeded: length >> 8)
            at += 5
            if length > 0 {
                UnsafeMutableRawBufferPointer(rebasing: output[at..<(at + length)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[from..<(from + length)]))
            }
            at += length
            from += length
        } while from < bytes.count
        return at
    }
}

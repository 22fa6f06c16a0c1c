import CZlib
import Foundation
import Testing

@testable import MailSyncBackup

@Suite("Parallel zlib: blocks deflated on several threads are one zlib stream")
struct ParallelZlibTests {
    /// Inputs around the block and page edges, of text, random bytes (as deflate output looks),
    /// zeros, and pages of each mixed at unaligned offsets.
    enum Input: String, CaseIterable, Sendable {
        case empty, oneByte, textOneBlock, randomOneBlockAndOne, mixedThreeAndAHalfBlocks, zeros

        var bytes: [UInt8] {
            let block = ParallelZlib.blockSize
            switch self {
            case .empty: return []
            case .oneByte: return [42]
            case .textOneBlock: return Array(TestBytes.text(block))
            case .randomOneBlockAndOne: return TestBytes.random(block + 1, seed: 1)
            case .mixedThreeAndAHalfBlocks: return TestBytes.mixed(3 * block + block / 2 + 777)
            case .zeros: return [UInt8](repeating: 0, count: 2 * block + 5)
            }
        }
    }

    @Test("Round trip through zlib's own uncompress and our inflater, at every thread count and with or without stored pages",
          arguments: Input.allCases, [(1, true), (3, true), (2, false)])
    func roundTrip(input: Input, setup: (threads: Int, stores: Bool)) throws {
        let bytes = input.bytes
        let directory = try TestBytes.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/in"))
        let digests = try ParallelZlib.compress(input: directory + "/in", output: directory + "/out", level: 1,
                                                threads: setup.threads, storesIncompressiblePages: setup.stores)
        let packed = try Data(contentsOf: URL(fileURLWithPath: directory + "/out"))
        #expect(digests.uncompressedSize == UInt64(bytes.count))
        #expect(digests.compressedSize == UInt64(packed.count))
        #expect(digests.uncompressedSHA256 == (try ZlibStream.sha256(of: directory + "/in").hex))
        #expect(digests.compressedSHA256 == (try ZlibStream.sha256(of: directory + "/out").hex))

        // zlib's one-shot inflate: checks the header, every block, the final block and the Adler-32.
        #expect(try TestBytes.uncompress(packed, size: bytes.count) == bytes)
        // And ours, as verify and restore read it.
        let back = try ZlibStream.decompress(input: directory + "/out", output: directory + "/back", limit: UInt64(bytes.count), name: "test")
        #expect(back.uncompressedSHA256 == digests.uncompressedSHA256)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/back")) == Data(bytes))

        // Nothing grows by more than the stored blocks' headers; what compresses, compresses.
        #expect(packed.count <= bytes.count + bytes.count / 1000 + 64)
        if input == .textOneBlock || input == .zeros { #expect(packed.count < bytes.count / 2) }
    }

    @Test("Every zlib level writes a header zlib accepts and a stream it reads", arguments: [Int32(0), 1, 2, 6, 9])
    func levels(level: Int32) throws {
        let header = ParallelZlib.header(level: level)
        #expect((UInt16(header.0) << 8 | UInt16(header.1)) % 31 == 0)
        let bytes = TestBytes.mixed(ParallelZlib.blockSize + 12_345)
        let directory = try TestBytes.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/in"))
        _ = try ParallelZlib.compress(input: directory + "/in", output: directory + "/out", level: level, threads: 2)
        #expect(try TestBytes.uncompress(try Data(contentsOf: URL(fileURLWithPath: directory + "/out")), size: bytes.count) == bytes)
    }

    @Test("Pages that do not compress are stored without trying deflate; the others are deflated")
    func storedPages() throws {
        let encoder = try BlockEncoder(level: 1)
        let page = PageEntropy.pageSize
        let random = TestBytes.random(8 * page, seed: 7)
        let text = Array(TestBytes.text(8 * page))
        // Pages: 3 random, 2 text, 3 random, 6 text (runs of both kinds, first and last).
        let input = Array(random[0..<(3 * page)]) + Array(text[0..<(2 * page)]) + Array(random[(3 * page)..<(6 * page)]) + Array(text[(2 * page)...])
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: BlockEncoder.outputCapacity(forInput: input.count), alignment: 16)
        defer { output.deallocate() }
        let encoded = try input.withUnsafeBytes { try encoder.encode($0, into: output) }
        #expect(encoded.storedInput == 6 * page)
        #expect(encoded.count < 6 * page + 8 * page / 2)
        // A block alone is a valid raw deflate stream once ended by a final empty stored block.
        let stream = Data(UnsafeRawBufferPointer(rebasing: output[..<encoded.count])) + Data([1, 0, 0, 0xFF, 0xFF])
        #expect(try TestBytes.inflateRaw(stream, size: input.count) == input)

        let plain = try BlockEncoder(level: 1, storesIncompressiblePages: false)
        let deflatedAll = try input.withUnsafeBytes { try plain.encode($0, into: output) }
        #expect(deflatedAll.storedInput == 0)
    }

    @Test("Entropy: deflate output and random bytes are near 8 bits per byte, text and zeros far below")
    func entropy() throws {
        let page = PageEntropy.pageSize
        let random = TestBytes.random(page, seed: 3)
        let text = Array(TestBytes.text(page))
        let deflated = Array(try TestBytes.deflate(Array(TestBytes.text(64 * page))).prefix(page))
        random.withUnsafeBytes { #expect(PageEntropy.isIncompressible($0)) }
        deflated.withUnsafeBytes { #expect(PageEntropy.isIncompressible($0), "\(PageEntropy.bitsPerByte($0)) bits per byte") }
        text.withUnsafeBytes { #expect(!PageEntropy.isIncompressible($0), "\(PageEntropy.bitsPerByte($0)) bits per byte") }
        [UInt8](repeating: 0, count: page).withUnsafeBytes { #expect(PageEntropy.bitsPerByte($0) == 0) }
        [UInt8]().withUnsafeBytes { #expect(PageEntropy.bitsPerByte($0) == 0) }
    }
}

/// Test inputs and zlib's own codecs, to check our streams independently of our inflater.
enum TestBytes {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/mailsync-zlib-tests-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Bytes from a fixed generator (SplitMix64): incompressible, like deflate output.
    static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }

    /// Mail-like text: words from a small vocabulary, in a varying order.
    static func text(_ count: Int) -> ArraySlice<UInt8> {
        let words = ["the", "meeting", "proposal", "invoice", "regards", "Thursday", "contract", "please", "find", "attached",
                     "quarter", "pricing", "renewal", "thanks", "call", "next", "week", "team", "update", "budget"]
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 16)
        var index = 7
        while bytes.count < count {
            index = (index &* 1_103_515_245 &+ 12_345) & 0x7FFF_FFFF
            bytes.append(contentsOf: words[(index >> 16) % words.count].utf8)
            bytes.append(index % 13 == 0 ? UInt8(ascii: "\n") : UInt8(ascii: " "))
        }
        return bytes.prefix(count)
    }

    /// Text and random runs of uneven lengths, so runs start and end inside pages and blocks.
    static func mixed(_ count: Int) -> [UInt8] {
        var bytes = [UInt8]()
        var seed: UInt64 = 11
        var textTurn = true
        while bytes.count < count {
            let length = Int(seed % 37_000) + 1_000
            bytes += textTurn ? Array(text(length)) : random(length, seed: seed)
            textTurn.toggle()
            seed = seed &* 6_364_136_223_846_793_005 &+ 1
        }
        return Array(bytes.prefix(count))
    }

    static func uncompress(_ packed: Data, size: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(size, 1))
        var length = uLongf(output.count)
        let result = packed.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                CZlib.uncompress(target.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                                 source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(packed.count))
            }
        }
        guard result == Z_OK else { throw ZlibFailure(code: result) }
        return Array(output.prefix(Int(length)))
    }

    /// Inflates raw deflate (no zlib header or trailer).
    static func inflateRaw(_ packed: Data, size: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw ZlibFailure(code: -1) }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: size + 1)
        var input = [UInt8](packed)
        let result = input.withUnsafeMutableBytes { source in
            output.withUnsafeMutableBytes { target in
                stream.next_in = source.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(target.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END, stream.avail_in == 0 else { throw ZlibFailure(code: result) }
        return Array(output.prefix(Int(stream.total_out)))
    }

    /// Level 1 zlib of `bytes`, one stream: what backups held before ``ParallelZlib``.
    static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(compressBound(uLong(bytes.count))))
        var length = uLongf(output.count)
        let result = bytes.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                compress2(target.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                          source.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(bytes.count), 1)
            }
        }
        guard result == Z_OK else { throw ZlibFailure(code: result) }
        return Array(output.prefix(Int(length)))
    }

    struct ZlibFailure: Error { var code: Int32 }
}

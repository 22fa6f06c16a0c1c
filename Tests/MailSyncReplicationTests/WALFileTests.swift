import CSQLite
import Foundation
import MailSyncStorage
import Testing

@testable import MailSyncReplication

@Suite("WAL file reader")
struct WALFileTests {
    /// A real `-wal` written by SQLite: `transactions` commits of a few rows each, never
    /// checkpointed. Returns its bytes.
    static func realWAL(transactions: Int) throws -> [UInt8] {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path + "/db.sqlite"
        let db = try openShippedDatabase(path)
        for t in 0..<transactions {
            try db.transaction {
                for r in 0..<3 {
                    try db.run("INSERT INTO items(value, n) VALUES (?, ?)", [.text(String(repeating: "v\(t)-\(r)", count: 40)), .integer(Int64(t))])
                }
            }
        }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "-wal")))
        db.close()
        return bytes
    }

    @Test("a real log: valid header, every transaction's commit frame, nothing after the last commit")
    func realLog() throws {
        let bytes = try Self.realWAL(transactions: 20)
        let scan = try #require(WALFile.scan(bytes))
        #expect(scan.header.pageSize == 4096)
        // The CREATE TABLE is one more transaction.
        #expect(scan.commitCount == 21)
        #expect(scan.frames.last?.isCommit == true)
        #expect(scan.end == bytes.count)
        #expect(scan.frames.map(\.offset) == Array(stride(from: 32, to: bytes.count, by: 4096 + 24)))
    }

    @Test("a torn tail (the log cut anywhere) keeps exactly the transactions whose commit frame is whole")
    func tornTail() throws {
        let bytes = try Self.realWAL(transactions: 8)
        let full = try #require(WALFile.scan(bytes))
        let commitEnds = full.frames.filter(\.isCommit).map { $0.offset + full.header.frameSize }
        for cut in stride(from: 32, through: bytes.count, by: 517) + [bytes.count - 1, 33, 32 + 24] {
            let scan = try #require(WALFile.scan(Array(bytes[0..<cut])))
            let expectedEnd = commitEnds.last { $0 <= cut } ?? 32
            #expect(scan.end == expectedEnd, "cut at \(cut)")
            #expect(Array(full.frames.prefix(scan.frames.count)) == scan.frames)
        }
        #expect(WALFile.scan(Array(bytes[0..<31])) == nil)
    }

    @Test("a frame with another log's salt ends the scan at the transaction before it")
    func wrongSalt() throws {
        var bytes = try Self.realWAL(transactions: 6)
        let full = try #require(WALFile.scan(bytes))
        let victim = full.frames[full.frames.count / 2]
        bytes[victim.offset + 8] ^= 0x01
        let scan = try #require(WALFile.scan(bytes))
        #expect(scan.end <= victim.offset)
        #expect(scan.frames.last?.isCommit == true)
        #expect(scan.frames.count < full.frames.count)
    }

    @Test("a flipped byte in a page breaks the checksum chain there")
    func badChecksum() throws {
        var bytes = try Self.realWAL(transactions: 6)
        let full = try #require(WALFile.scan(bytes))
        let victim = full.frames[full.frames.count - 2]
        bytes[victim.offset + 24 + 1000] ^= 0x40
        let scan = try #require(WALFile.scan(bytes))
        #expect(scan.end <= victim.offset)
        #expect(Array(full.frames.prefix(scan.frames.count)) == scan.frames)
    }

    @Test("a damaged header (magic, version, page size or its checksum) makes the file unreadable")
    func badHeader() throws {
        let bytes = try Self.realWAL(transactions: 1)
        for index in [0, 3, 5, 9, 17, 25] {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(WALFile.scan(damaged) == nil, "byte \(index)")
        }
    }

    @Test("resuming at a commit boundary with the chain's checksum finds the rest")
    func resume() throws {
        let bytes = try Self.realWAL(transactions: 5)
        let full = try #require(WALFile.scan(bytes))
        let first = WALFile.scan(Array(bytes[0..<(full.frames[2].offset + full.header.frameSize)]))!
        let rest = WALFile.scan(Array(bytes[first.end...]), header: full.header, fileOffset: first.end, from: first.end, checksum: first.checksum)
        #expect(rest.end == full.end)
        #expect(first.frames + rest.frames == full.frames)
        // A wrong starting checksum finds nothing.
        let wrong = WALFile.scan(Array(bytes[first.end...]), header: full.header, fileOffset: first.end, from: first.end, checksum: WALChecksum(s1: 1, s2: 2))
        #expect(wrong.frames.isEmpty && wrong.end == first.end)
    }

    @Test("a log with big-endian checksums (magic 0x377f0683) is read the same way")
    func bigEndianLog() throws {
        var header = [UInt8](repeating: 0, count: 32)
        BigEndian.put(0x377F_0683, into: &header, at: 0)
        BigEndian.put(3_007_000, into: &header, at: 4)
        BigEndian.put(512, into: &header, at: 8)
        BigEndian.put(7, into: &header, at: 16)
        BigEndian.put(9, into: &header, at: 20)
        var chain = WALChecksum()
        header.withUnsafeBytes { chain.update(UnsafeRawBufferPointer(rebasing: $0[0..<24]), bigEndian: true) }
        BigEndian.put(chain.s1, into: &header, at: 24)
        BigEndian.put(chain.s2, into: &header, at: 28)
        var bytes = header
        for (page, commit) in [(1, 0), (2, 2), (3, 3)] as [(UInt32, UInt32)] {
            var frame = [UInt8](repeating: UInt8(page), count: 24 + 512)
            BigEndian.put(page, into: &frame, at: 0)
            BigEndian.put(commit, into: &frame, at: 4)
            BigEndian.put(7, into: &frame, at: 8)
            BigEndian.put(9, into: &frame, at: 12)
            frame.withUnsafeBytes {
                chain.update(UnsafeRawBufferPointer(rebasing: $0[0..<8]), bigEndian: true)
                chain.update(UnsafeRawBufferPointer(rebasing: $0[24...]), bigEndian: true)
            }
            BigEndian.put(chain.s1, into: &frame, at: 16)
            BigEndian.put(chain.s2, into: &frame, at: 20)
            bytes += frame
        }
        let scan = try #require(WALFile.scan(bytes))
        #expect(scan.header.bigEndianChecksums)
        #expect(scan.frames.map(\.pageNumber) == [1, 2, 3])
        #expect(scan.commitCount == 2)
        // Read as little-endian the same bytes fail the header checksum.
        var little = bytes
        little[3] = 0x82
        #expect(WALFile.scan(little) == nil)
    }

    @Test("fuzz: random bytes, random cuts and random flips never trap and never yield a frame past a break")
    func fuzz() throws {
        let real = try Self.realWAL(transactions: 4)
        let full = try #require(WALFile.scan(real))
        var random = SeededGenerator(state: 14)
        for _ in 0..<400 {
            // Pure noise, sometimes behind a valid header.
            let length = Int.random(in: 0..<9000, using: &random)
            var noise = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if Bool.random(using: &random) { noise = Array(real[0..<32]) + noise }
            if let scan = WALFile.scan(noise) {
                #expect(scan.end <= noise.count)
                #expect(scan.end >= 32)
            }
            // The real log, cut and with a few flipped bytes: what is kept is a prefix of the truth
            // unless a flip landed in a kept frame, which the checksum forbids.
            var mutated = Array(real[0..<Int.random(in: 0...real.count, using: &random)])
            var firstFlip = Int.max
            for _ in 0..<Int.random(in: 0...3, using: &random) where mutated.count > 32 {
                let at = Int.random(in: 32..<mutated.count, using: &random)
                mutated[at] ^= UInt8.random(in: 1...255, using: &random)
                firstFlip = min(firstFlip, at)
            }
            if let scan = WALFile.scan(mutated) {
                #expect(scan.end <= min(mutated.count, firstFlip))
                #expect(Array(full.frames.prefix(scan.frames.count)) == scan.frames)
            }
            // Arbitrary starting points and checksums.
            let start = Int.random(in: -100...20000, using: &random)
            let offset = Int.random(in: -100...20000, using: &random)
            let scan = WALFile.scan(mutated, header: full.header, fileOffset: offset, from: start, checksum: WALChecksum(s1: .random(in: 0...9, using: &random), s2: 0))
            #expect(scan.frames.count <= full.frames.count)
        }
    }
}

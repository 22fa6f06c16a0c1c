import Foundation
import Testing

@testable import MailSyncReplication

@Suite("Segment objects and compression")
struct SegmentCodecTests {
    static func frames(_ count: Int, pageSize: Int = 512) -> [UInt8] {
        (0..<(count * (24 + pageSize))).map { UInt8(truncatingIfNeeded: $0 % 251) }
    }

    @Test("a segment round-trips; its page size and frame count are checked")
    func roundTrip() throws {
        let frames = Self.frames(3)
        let object = SegmentCodec.encode(frames: frames, frameCount: 3, pageSize: 512)
        #expect(object.count < frames.count)  // compressed
        #expect(try SegmentCodec.decode(object, pageSize: 512, key: "k") == frames)
        #expect(throws: ReplicationError.self) { try SegmentCodec.decode(object, pageSize: 1024, key: "k") }
        var wrongCount = [UInt8](object)
        wrongCount[15] = 4
        #expect(throws: ReplicationError.self) { try SegmentCodec.decode(Data(wrongCount), pageSize: 512, key: "k") }
    }

    @Test("inflate refuses a size other than the recorded one, and a size beyond zlib's ratio before allocating")
    func inflateLimits() throws {
        let plain = [UInt8](repeating: 7, count: 100_000)
        let packed = Compression.deflate(plain)
        #expect(try Compression.inflate(packed[...], size: plain.count, object: "o") == plain)
        #expect(throws: ReplicationError.self) { try Compression.inflate(packed[...], size: plain.count - 1, object: "o") }
        #expect(throws: ReplicationError.self) { try Compression.inflate(packed[...], size: plain.count + 1, object: "o") }
        #expect(throws: ReplicationError.self) { try Compression.inflate([1, 2, 3][...], size: 1 << 40, object: "o") }
        #expect(throws: ReplicationError.self) { try Compression.inflate(packed[...], size: -1, object: "o") }
    }

    @Test("fuzz: random and mutated segment objects are refused with an error naming the object, never a trap")
    func fuzz() {
        let valid = [UInt8](SegmentCodec.encode(frames: Self.frames(4), frameCount: 4, pageSize: 512))
        var random = SeededGenerator(state: 48)
        for round in 0..<500 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                if round % 4 == 0 { bytes = Array(valid[0..<16]) + bytes }
            } else {
                bytes = Array(valid[0..<Int.random(in: 0...valid.count, using: &random)])
                if !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            }
            do {
                _ = try SegmentCodec.decode(Data(bytes), pageSize: 512, key: "tenants/x/seg")
                Issue.record("round \(round): a damaged segment was accepted")
            } catch let error as ReplicationError {
                #expect(error.object == "tenants/x/seg")
            } catch {
                Issue.record("round \(round): unexpected \(error)")
            }
        }
    }
}

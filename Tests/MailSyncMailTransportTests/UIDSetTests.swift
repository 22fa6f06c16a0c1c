import MailSyncMailTransport
import Testing

@Suite("UIDSet: ranges and bounded command lines", .timeLimit(.minutes(5)))
struct UIDSetTests {
    /// Expands set text back into UIDs.
    static func expand(_ text: String) -> [UInt32] {
        text.split(separator: ",").flatMap { part -> [UInt32] in
            let bounds = part.split(separator: ":").map { UInt32($0)! }
            return Array(bounds[0]...bounds[bounds.count - 1])
        }
    }

    @Test("any order and duplicates in, ascending compressed ranges out")
    func ranges() {
        #expect(UIDSet.ranges([9, 3, 1, 2, 5, 4, 9, 12, 11]) == [1...5, 9...9, 11...12])
        #expect(UIDSet.ranges([]) == [])
        #expect(UIDSet.ranges([UInt32.max, UInt32.max - 1, 0]) == [0...0, (UInt32.max - 1)...UInt32.max])
        #expect(UIDSet.chunks([9, 1, 2, 3, 4, 5], maxLength: 1000) == ["1:5,9"])
        #expect(UIDSet.chunks([], maxLength: 1000) == [])
    }

    @Test("chunks never exceed maxLength and hold every UID exactly once, in order")
    func chunkBounds() {
        var generator = SystemRandomNumberGenerator()
        for maxLength in [10, 11, 15, 20, 21, 22, 40, 100, 1000] {
            for _ in 0..<20 {
                let count = Int.random(in: 0...400, using: &generator)
                let uids = (0..<count).map { _ in
                    Bool.random(using: &generator) ? UInt32.random(in: 1...600, using: &generator) : UInt32.random(in: 1...UInt32.max, using: &generator)
                }
                let chunks = UIDSet.chunks(uids, maxLength: maxLength)
                #expect(chunks.allSatisfy { $0.utf8.count <= maxLength }, "\(maxLength): \(chunks)")
                #expect(chunks.flatMap(Self.expand) == Array(Set(uids)).sorted(), "\(maxLength)")
            }
        }
        // A range too long for the limit is split, not dropped.
        let split = UIDSet.chunks(Array(99_999_990...100_000_010), maxLength: 10)
        #expect(split.flatMap(Self.expand) == Array(99_999_990...100_000_010))
        #expect(split.allSatisfy { $0.utf8.count <= 10 })
        // Below the longest UID the limit is raised to it.
        #expect(UIDSet.chunks([4_000_000_000, 1], maxLength: 3) == ["1", "4000000000"])
    }

    @Test("command lines with tag and CRLF stay within maxCommandLength")
    func commandLines() {
        let uids = Array(stride(from: UInt32(1), through: 3001, by: 2))
        let prefix = "UID FETCH ", suffix = " (UID INTERNALDATE RFC822.SIZE ENVELOPE)"
        for max in [80, 100, 1000] {
            let commands = UIDSet.commands(prefix: prefix, suffix: suffix, uids: uids, maxCommandLength: max)
            #expect(commands.allSatisfy { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) })
            // The longest tag we could send: "a" + 10 digits + space.
            #expect(commands.allSatisfy { "a4294967295 \($0)\r\n".utf8.count <= max }, "\(max)")
            let sets = commands.map { String($0.dropFirst(prefix.count).dropLast(suffix.count)) }
            #expect(sets.flatMap(Self.expand) == uids)
        }
        #expect(UIDSet.commands(prefix: prefix, suffix: suffix, uids: uids, maxCommandLength: 80).count > 300)
        #expect(UIDSet.commands(prefix: prefix, suffix: suffix, uids: Array(1...3000), maxCommandLength: 1000) == [prefix + "1:3000" + suffix])
    }
}

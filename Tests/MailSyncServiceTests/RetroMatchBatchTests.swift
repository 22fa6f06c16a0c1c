import MailSyncMailTransport
@testable import MailSyncEngine
@testable import MailSyncService
@testable import MailSyncTenantData
import Testing

/// How retro-match cuts the queue into searches (``MailboxSync/retroBatches(_:perSearch:maxBatches:)``).
@Suite("Retro-match: batches of queued addresses")
struct RetroMatchBatchTests {
    static func entries(_ addresses: [String], from first: Int64 = 1) -> [RetroMatchStore.Entry] {
        addresses.enumerated().map { RetroMatchStore.Entry(seq: first + Int64($0.offset), address: $0.element) }
    }

    @Test("up to perSearch distinct addresses a batch, at most maxBatches; each batch handles the queue through its last entry")
    func bounds() {
        let batches = MailboxSync.retroBatches(Self.entries((0..<95).map { "a\($0)@x.example" }), perSearch: 20, maxBatches: 3)
        #expect(batches.map(\.addresses.count) == [20, 20, 20])
        #expect(batches.map(\.through) == [20, 40, 60])
        let rest = MailboxSync.retroBatches(Self.entries((0..<25).map { "a\($0)@x.example" }), perSearch: 20, maxBatches: 3)
        #expect(rest.map(\.addresses.count) == [20, 5])
        #expect(rest.last?.through == 25)
    }

    @Test("duplicates are searched once; unsafe addresses are passed over but counted and handled")
    func duplicatesAndUnsafe() {
        let batches = MailboxSync.retroBatches(
            Self.entries(["a@x.example", "a@x.example", "j\u{F6}rg@x.example", "b\"@x.example", "b@x.example"]), perSearch: 20, maxBatches: 5)
        #expect(batches.count == 1)
        #expect(batches.first?.addresses == ["a@x.example", "b@x.example"])
        #expect(batches.first?.unsearchable == 2)
        #expect(batches.first?.through == 5)
        let onlyUnsafe = MailboxSync.retroBatches(Self.entries(["j\u{F6}rg@x.example"], from: 7), perSearch: 20, maxBatches: 5)
        #expect(onlyUnsafe.count == 1 && onlyUnsafe.first?.addresses == [] && onlyUnsafe.first?.through == 7)
        #expect(MailboxSync.retroBatches([], perSearch: 20, maxBatches: 5).isEmpty)
    }

    @Test("a batch's keys stay within the command length bound however long the addresses")
    func lengthBound() throws {
        let long = (0..<40).map { String(repeating: "l", count: 60) + "\($0)@" + String(repeating: "d", count: 150) + ".example" }
        let batches = MailboxSync.retroBatches(Self.entries(long), perSearch: 100, maxBatches: 100)
        #expect(batches.count > 1)
        #expect(batches.flatMap(\.addresses) == long)
        for batch in batches {
            let keys = try #require(IMAPAddressSearch.criteria(batch.addresses, maxLength: .max))
            #expect(keys.count == batch.addresses.count)
            #expect(keys.text.utf8.count <= IMAPAddressSearch.defaultMaxLength)
        }
    }
}

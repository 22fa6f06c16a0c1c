import Testing
@testable import MailSyncEngine

/// The fair share of sync slots, rule by rule, without a server.
@Suite("Sync slots: fair across companies", .timeLimit(.minutes(5)))
struct SyncSlotsTests {
    typealias Slots = SyncSlots<String, String>
    typealias Due = Slots.Due

    static func due(_ company: String, _ count: Int, from at: Int64 = 0) -> [Due] {
        (0..<count).map { Due(company: company, mailbox: "\(company)-\($0)", at: at + Int64($0)) }
    }

    @Test("no free slot: nothing starts")
    func full() {
        let slots = Slots(maxConcurrent: 4, maxPerCompany: 2)
        #expect(slots.choose(from: Self.due("a", 3), running: ["b": 2, "c": 2]).isEmpty)
    }

    @Test("one company alone gets its share, not every slot")
    func shareCap() {
        let slots = Slots(maxConcurrent: 8, maxPerCompany: 4)
        let chosen = slots.choose(from: Self.due("big", 250), running: [:])
        #expect(chosen.map(\.mailbox) == ["big-0", "big-1", "big-2", "big-3"])
    }

    @Test("a company already at its share gets nothing more")
    func atShare() {
        let slots = Slots(maxConcurrent: 8, maxPerCompany: 4)
        #expect(slots.choose(from: Self.due("big", 10), running: ["big": 4]).isEmpty)
    }

    @Test("the least busy company goes first; a company with one due mailbox is not starved by a big one")
    func leastBusyFirst() {
        let slots = Slots(maxConcurrent: 4, maxPerCompany: 2)
        // "big" has waited longer, but already runs one; "small" runs none.
        let chosen = slots.choose(from: Self.due("big", 5, from: 0) + Self.due("small", 1, from: 100), running: ["big": 1])
        #expect(chosen.map(\.mailbox) == ["small-0", "big-0"])
    }

    @Test("equally busy companies: the one whose oldest mailbox waited longest first, then they alternate")
    func alternate() {
        let slots = Slots(maxConcurrent: 4, maxPerCompany: 4)
        let chosen = slots.choose(from: Self.due("a", 3, from: 10) + Self.due("b", 3, from: 5), running: [:])
        #expect(chosen.map(\.mailbox) == ["b-0", "a-0", "b-1", "a-1"])
    }

    @Test("within a company, oldest due first, whatever the input order")
    func oldestFirst() {
        let slots = Slots(maxConcurrent: 2, maxPerCompany: 2)
        let items = [Due(company: "a", mailbox: "late", at: 50), Due(company: "a", mailbox: "early", at: 1), Due(company: "a", mailbox: "mid", at: 20)]
        #expect(slots.choose(from: items, running: [:]).map(\.mailbox) == ["early", "mid"])
    }

    @Test("the total bound holds with many companies")
    func totalBound() {
        let slots = Slots(maxConcurrent: 3, maxPerCompany: 1)
        let items = (0..<10).flatMap { Self.due("c\($0)", 2, from: Int64($0)) }
        let chosen = slots.choose(from: items, running: [:])
        #expect(chosen.count == 3)
        #expect(Set(chosen.map(\.company)).count == 3)
    }

    @Test("the default share is half the slots, at least one")
    func defaultShare() {
        var settings = SyncSettings()
        #expect(settings.perCompanyLimit == 4)
        settings.maxConcurrentSyncs = 1
        #expect(settings.perCompanyLimit == 1)
        settings.maxConcurrentSyncs = 3
        #expect(settings.perCompanyLimit == 1)
        settings.maxConcurrentSyncsPerCompany = 10
        #expect(settings.perCompanyLimit == 3)
    }
}

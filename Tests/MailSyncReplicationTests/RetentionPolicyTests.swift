import Foundation
import MailSyncReplication
import Testing

@Suite("Retention policy")
struct RetentionPolicyTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// One generation a day at noon-ish for `days` days back (id "dN": N days old).
    static func daily(_ days: Int) -> [(id: String, snapshotAt: Date)] {
        (0..<days).map { (id: "d\($0)", snapshotAt: now.addingTimeInterval(-Double($0) * 86_400 - 3_600)) }
    }

    @Test("the window: the generation covering its start and every newer one")
    func window() {
        let kept = RetentionPolicy(window: .seconds(3 * 86_400)).kept(Self.daily(10), now: Self.now)
        #expect(kept == ["d0", "d1", "d2", "d3"])
    }

    @Test("daily and weekly snapshots beyond the window: the newest generation of each period")
    func periods() {
        let kept = RetentionPolicy(window: .seconds(86_400), dailySnapshots: 5, weeklySnapshots: 4).kept(Self.daily(30), now: Self.now)
        // window: d0, d1 (covers the start); daily: d0…d4; weekly: the newest in each 7-day period: d0, d7, d14, d21.
        #expect(kept == ["d0", "d1", "d2", "d3", "d4", "d7", "d14", "d21"])
    }

    @Test("the newest generation is kept however old; none is nothing; order of input does not matter")
    func edges() {
        let old = [(id: "old", snapshotAt: Self.now.addingTimeInterval(-400 * 86_400))]
        #expect(RetentionPolicy(window: .seconds(86_400)).kept(old, now: Self.now) == ["old"])
        #expect(RetentionPolicy().kept([], now: Self.now).isEmpty)
        let shuffled = Self.daily(10).reversed().map { $0 }
        #expect(RetentionPolicy(window: .seconds(3 * 86_400)).kept(shuffled, now: Self.now) == ["d0", "d1", "d2", "d3"])
        #expect(RetentionPolicy(dailySnapshots: -3).dailySnapshots == 0)
    }
}

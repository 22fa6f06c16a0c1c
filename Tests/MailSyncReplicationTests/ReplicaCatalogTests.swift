import Foundation
import MailSyncObjectStore
import MailSyncReplication
import Testing

/// Listing generations and retention over a real directory store.
@Suite("Replica catalog: generations and retention")
struct ReplicaCatalogTests {
    /// Ships `items` rows, a new generation each day for `days` days; returns the store and the clock.
    static func shipDays(_ days: Int, into scratch: ScratchDirectory) async throws -> (DirectoryObjectStore, ManualClock) {
        let clock = ManualClock()
        let store = scratch.store
        var options = WALShipperOptions()
        options.snapshotInterval = .seconds(86_400)
        let db = try openShippedDatabase(scratch.path + "/db.sqlite")
        defer { db.close() }
        let shipper = try WALShipper(
            databasePath: scratch.path + "/db.sqlite", name: "tenants/t1", store: store, sealer: PassThroughSealer(),
            options: options, clock: clock.function)
        for day in 0..<days {
            for hour in 0..<3 {
                try db.execute("INSERT INTO items(value, n) VALUES ('day \(day)', \(hour))")
                try await shipper.shipOnce()
                clock.advance(seconds: 3600)
            }
            clock.advance(seconds: 86_400 - 3 * 3600 + 1)
        }
        await shipper.close()
        return (store, clock)
    }

    @Test("generations oldest first, each with its snapshot time, reach and objects")
    func generations() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let (store, _) = try await Self.shipDays(3, into: scratch)
        let listed = try await ReplicaCatalog(store: store, sealer: PassThroughSealer()).generations(of: "tenants/t1")
        #expect(listed.count == 3)
        #expect(listed.map(\.id) == listed.map(\.id).sorted())
        for generation in listed {
            #expect(generation.reachesTo >= generation.snapshotAt.addingTimeInterval(2 * 3600 - 1))
            #expect(generation.objects >= 3 && generation.bytes > 0)
        }
    }

    @Test("retention keeps the generation covering the window's start and all newer; the dry run lists, deletes nothing; restores inside the window still work")
    func retention() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let (store, clock) = try await Self.shipDays(4, into: scratch)
        let catalog = ReplicaCatalog(store: store, sealer: PassThroughSealer())
        let before = try await catalog.generations(of: "tenants/t1")
        #expect(before.count == 4)
        let keep: Duration = .seconds(36 * 3600)  // the window starts during generation 2 (index 2)
        let plan = try await catalog.retentionPlan(of: "tenants/t1", keep: keep, now: clock.now)
        #expect(try await catalog.generations(of: "tenants/t1").count == 4, "a dry run deletes nothing")
        let doomed = Set(plan.map { String($0.value.split(separator: "/")[3]) })
        #expect(doomed == Set(before[0..<2].map(\.id)))
        let deleted = try await catalog.applyRetention(of: "tenants/t1", keep: keep, now: clock.now)
        #expect(deleted == plan)
        #expect(try await catalog.generations(of: "tenants/t1").map(\.id) == before[2...].map(\.id))
        // The window's start is still restorable.
        let windowStart = clock.now.addingTimeInterval(-36 * 3600)
        let restore = try PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/t1")
        _ = try await restore.restore(to: scratch.path + "/start.sqlite", at: windowStart)
        #expect(try tableState(ofFile: scratch.path + "/start.sqlite").count == 9)
    }

    @Test("retention never deletes the only generation, however old")
    func onlyGeneration() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let (store, clock) = try await Self.shipDays(1, into: scratch)
        let catalog = ReplicaCatalog(store: store, sealer: PassThroughSealer())
        let later = clock.now.addingTimeInterval(365 * 86_400)
        #expect(try await catalog.applyRetention(of: "tenants/t1", keep: .seconds(86_400), now: later).isEmpty)
        #expect(try await catalog.generations(of: "tenants/t1").count == 1)
    }
}

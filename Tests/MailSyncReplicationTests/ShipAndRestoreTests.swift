import Foundation
import MailSyncObjectStore
import MailSyncStorage
import Testing

@testable import MailSyncReplication

@Suite("WAL shipping and point-in-time restore")
struct ShipAndRestoreTests {
    /// One random transaction: inserts, updates and deletes on `items`.
    static func randomTransaction(_ db: SQLiteConnection, _ random: inout SeededGenerator, _ t: Int) throws {
        try db.transaction {
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let id = Int64.random(in: 1...300, using: &random)
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<5:
                    let value = String(repeating: "x", count: Int.random(in: 1...600, using: &random)) + "\(t)"
                    try db.run("INSERT OR REPLACE INTO items(id, value, n) VALUES (?, ?, ?)", [.integer(id), .text(value), .integer(Int64(t))])
                case 5..<8:
                    try db.run("UPDATE items SET n = n + 1, value = value || ? WHERE id = ?", [.text("u\(t)"), .integer(id)])
                default:
                    try db.run("DELETE FROM items WHERE id = ?", [.integer(id)])
                }
            }
        }
    }

    @Test("2,000 random transactions shipped every 50: every shipped point restores row for row, across checkpoints, log restarts and generations")
    func everyPointRestores() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.databasePath
        let store = scratch.store
        let clock = ManualClock()
        let db = try openShippedDatabase(path)
        var options = WALShipperOptions()
        options.checkpointThresholdBytes = 96 * 1024
        options.snapshotInterval = .seconds(15)
        let shipper = try WALShipper(databasePath: path, name: "tenants/one", store: store, sealer: PassThroughSealer(), options: options, clock: clock.function)
        var random = SeededGenerator(state: 2026)
        var history: [(time: Date, rows: [String])] = []
        var reports: [ShipReport] = []
        for t in 1...2000 {
            try Self.randomTransaction(db, &random, t)
            if t % 50 == 0 {
                clock.advance(seconds: 1)
                reports.append(try await shipper.shipOnce())
                history.append((clock.now, try tableState(db)))
            }
        }
        // The run exercised what it claims to: checkpoints, restarted logs, several generations.
        #expect(reports.contains { $0.checkpointed })
        #expect(reports.contains { $0.walIndex > 0 })
        #expect(Set(reports.map(\.generation)).count >= 3)
        #expect(reports.filter(\.startedGeneration).count == Set(reports.map(\.generation)).count)

        let restore = try PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/one")
        for (index, point) in history.enumerated() {
            let destination = scratch.path + "/restored-\(index).sqlite"
            try await restore.restore(to: destination, at: point.time)
            #expect(try tableState(ofFile: destination) == point.rows, "point \(index)")
        }
        // Between two ships, the earlier one's state.
        let between = scratch.path + "/between.sqlite"
        try await restore.restore(to: between, at: history[10].time.addingTimeInterval(0.5))
        #expect(try tableState(ofFile: between) == history[10].rows)
        // Latest equals the live database.
        let latest = scratch.path + "/latest.sqlite"
        let result = try await restore.restore(to: latest)
        #expect(try tableState(ofFile: latest) == (try tableState(db)))
        #expect(result.generation == reports.last?.generation)
        await shipper.close()
        db.close()
    }

    @Test("a writer thread commits while the shipper ships and checkpoints: nothing acknowledged before a ship started is missing")
    func concurrentWriter() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.databasePath
        let store = scratch.store
        let clock = ManualClock()
        try openShippedDatabase(path).close()
        var options = WALShipperOptions()
        options.checkpointThresholdBytes = 32 * 1024
        let shipper = try WALShipper(databasePath: path, name: "tenants/two", store: store, sealer: PassThroughSealer(), options: options, clock: clock.function)
        try await shipper.shipOnce()

        let writer = CountingWriter(path: path)
        writer.start()
        var acknowledged: [(time: Date, before: Int, after: Int)] = []
        var reports: [ShipReport] = []
        // Ship until the log restarted a few times under load (at most 80 ships; the writer stops
        // on its own after its last row, which bounds the disk used).
        while acknowledged.count < 80, reports.filter({ $0.checkpointed }).count < 4 || acknowledged.count < 20 {
            try await writer.waitForCommits(beyond: writer.acknowledged + 20)
            clock.advance(seconds: 1)
            let before = writer.acknowledged
            reports.append(try await shipper.shipOnce())
            acknowledged.append((clock.now, before, writer.acknowledged))
        }
        try await writer.stop()
        #expect(reports.filter(\.checkpointed).count >= 4)
        #expect(reports.contains { $0.walIndex > 0 })

        let restore = try PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/two")
        let picks = [0, acknowledged.count / 3, acknowledged.count / 2, acknowledged.count - 1]
        for index in picks {
            let point = acknowledged[index]
            let destination = scratch.path + "/restored-\(index).sqlite"
            try await restore.restore(to: destination, at: point.time)
            let ids = try tableState(ofFile: destination).map { Int($0.split(separator: "|")[0])! }
            // Rows 1…k with k between what was acknowledged before the ship and after it.
            #expect(ids == Array(0..<ids.count).map { $0 + 1 }, "point \(index): rows are not 1…k")
            #expect(ids.count >= point.before, "point \(index): \(ids.count) rows, \(point.before) acknowledged before the ship")
            #expect(ids.count <= point.after, "point \(index)")
        }
        await shipper.close()
    }

    @Test("a restore refuses a flipped byte or a deleted segment, naming the object, and leaves nothing behind")
    func damagedSegments() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.databasePath
        let root = scratch.path + "/store"
        let store = DirectoryObjectStore(root: root)
        let clock = ManualClock()
        let db = try openShippedDatabase(path)
        let shipper = try WALShipper(databasePath: path, name: "tenants/three", store: store, sealer: PassThroughSealer(), clock: clock.function)
        try await shipper.shipOnce()  // the generation's snapshot: the empty table
        var random = SeededGenerator(state: 3)
        for t in 1...120 {
            try Self.randomTransaction(db, &random, t)
            if t % 20 == 0 {
                clock.advance(seconds: 1)
                try await shipper.shipOnce()
            }
        }
        await shipper.close()
        db.close()
        let restore = try PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/three")
        let segments = try await store.list(prefix: "tenants/three/generations/").map(\.key.value).filter { $0.hasSuffix(".seg") }
        #expect(segments.count == 6)
        let destination = scratch.path + "/restored.sqlite"

        // A flipped byte in the third segment.
        let victim = segments[2]
        let original = try Data(contentsOf: URL(fileURLWithPath: root + "/" + victim))
        var bytes = original
        bytes[bytes.count - 100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: root + "/" + victim))
        await #expect { try await restore.restore(to: destination) } throws: { error in
            let error = error as? ReplicationError
            return error?.kind == .damagedObject && error?.object == victim && error?.message.contains(victim) == true
        }
        #expect(!FileManager.default.fileExists(atPath: destination))
        // A restore to a point before the damage still works (it does not need that segment).
        let early = scratch.path + "/early.sqlite"
        try await restore.restore(to: early, at: clock.now.addingTimeInterval(-5))

        // The segment deleted instead.
        try FileManager.default.removeItem(atPath: root + "/" + victim)
        await #expect { try await restore.restore(to: destination) } throws: { error in
            let error = error as? ReplicationError
            return error?.kind == .missingObject && error?.message.contains("segment 2 of generation") == true
                && error?.object?.hasPrefix(String(victim.prefix { $0 != "-" })) == true
        }
        #expect(!FileManager.default.fileExists(atPath: destination))

        // The last segment deleted: the manifest still names its end.
        try original.write(to: URL(fileURLWithPath: root + "/" + victim))
        let last = try Data(contentsOf: URL(fileURLWithPath: root + "/" + segments[5]))
        try FileManager.default.removeItem(atPath: root + "/" + segments[5])
        await #expect { try await restore.restore(to: destination) } throws: { error in
            (error as? ReplicationError)?.kind == .missingObject
        }
        try last.write(to: URL(fileURLWithPath: root + "/" + segments[5]))
        try await restore.restore(to: destination)
        try FileManager.default.removeItem(atPath: destination)

        // A flipped byte in the snapshot.
        let snapshot = try #require(try await store.list(prefix: "tenants/three/").map(\.key.value).first { $0.hasSuffix("snapshot.db") })
        var image = try Data(contentsOf: URL(fileURLWithPath: root + "/" + snapshot))
        image[image.count / 2] ^= 0x08
        try image.write(to: URL(fileURLWithPath: root + "/" + snapshot))
        await #expect { try await restore.restore(to: destination, at: clock.now.addingTimeInterval(-5)) } throws: { error in
            let error = error as? ReplicationError
            return error?.kind == .damagedObject && error?.object == snapshot
        }
        #expect(!FileManager.default.fileExists(atPath: destination))
    }

    @Test("a restore refuses an existing destination and a time before every snapshot, touching nothing")
    func refusals() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.databasePath
        let store = scratch.store
        let clock = ManualClock()
        let db = try openShippedDatabase(path)
        let shipper = try WALShipper(databasePath: path, name: "tenants/four", store: store, sealer: PassThroughSealer(), clock: clock.function)
        try db.run("INSERT INTO items(value, n) VALUES ('a', 1)")
        try await shipper.shipOnce()
        await shipper.close()
        db.close()
        let restore = try PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/four")
        let existing = scratch.path + "/existing"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: existing))
        await #expect { try await restore.restore(to: existing) } throws: { ($0 as? ReplicationError)?.kind == .fileSystem }
        #expect(try Data(contentsOf: URL(fileURLWithPath: existing)) == Data("keep".utf8))
        await #expect { try await restore.restore(to: scratch.path + "/early", at: clock.now.addingTimeInterval(-60)) } throws: {
            ($0 as? ReplicationError)?.kind == .noBackup
        }
        let nothing = try PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/none")
        await #expect { try await nothing.restore(to: scratch.path + "/none") } throws: { ($0 as? ReplicationError)?.kind == .noBackup }
    }
}

/// A thread that inserts rows 1, 2, 3, … one transaction each into `items` and counts the
/// commits SQLite acknowledged. It paces itself (at most about 2,000 commits a second, a busy
/// server's rate) and stops after `limit` rows, so a slow shipper cannot make the log grow
/// without bound.
final class CountingWriter: @unchecked Sendable {
    let path: String
    private let condition = NSCondition()
    private var count = 0
    private var stopping = false
    private var finished = false
    private var failure: (any Error)?

    let limit: Int

    init(path: String, limit: Int = 12_000) {
        self.path = path
        self.limit = limit
    }

    var acknowledged: Int { condition.withLock { count } }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "test writer"
        thread.start()
    }

    private func run() {
        do {
            let db = try openShippedDatabase(path)
            defer { db.close() }
            var next = 1
            while !condition.withLock({ stopping }), next <= limit {
                usleep(500)
                try db.run("INSERT INTO items(id, value, n) VALUES (?, ?, ?)", [.integer(Int64(next)), .text(String(repeating: "w", count: 300)), .integer(Int64(next))])
                condition.withLock {
                    count = next
                    condition.broadcast()
                }
                next += 1
            }
        } catch {
            condition.withLock { failure = error }
        }
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    /// Waits (off the cooperative pool) until more than `target` commits are acknowledged.
    func waitForCommits(beyond target: Int) async throws {
        try await PointInTimeRestore.offPool { [self] in
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date().addingTimeInterval(10)
            while count <= target, failure == nil, !finished {
                if !condition.wait(until: deadline) { break }
            }
            if let failure { throw failure }
            if count <= target, !finished { throw ReplicationError(.busy, "the writer made no progress for 10 s") }
        }
    }

    /// Stops the thread and waits (off the cooperative pool) for it to end.
    func stop() async throws {
        try await PointInTimeRestore.offPool { [self] in
            condition.lock()
            defer { condition.unlock() }
            stopping = true
            while !finished { condition.wait() }
            if let failure { throw failure }
        }
    }
}

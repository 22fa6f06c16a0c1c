import CSQLite
import Foundation
import MailSyncObjectStore
import MailSyncStorage
import Testing

@testable import MailSyncReplication

/// Turns every byte with a key byte: enough to prove objects pass through the sealer, and that
/// a restore with another key is refused.
struct XORSealer: Sealer {
    var key: UInt8
    func seal(_ data: Data, key objectKey: ObjectKey) throws -> Data { Data(data.map { $0 ^ key }) }
    func open(_ data: Data, key objectKey: ObjectKey) throws -> Data { Data(data.map { $0 ^ key }) }
}

@Suite("WAL shipper safety")
struct ShipperSafetyTests {
    @Test("prepareForWALShipping turns automatic checkpoints off; the default leaves SQLite's 1,000 pages")
    func autocheckpointOption() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let shipped = try openShippedDatabase(scratch.path + "/a.sqlite")
        #expect(try shipped.scalar("PRAGMA wal_autocheckpoint")?.int64 == 0)
        shipped.close()
        let plain = try SQLiteConnection(path: scratch.path + "/b.sqlite")
        #expect(try plain.scalar("PRAGMA wal_autocheckpoint")?.int64 == 1000)
        plain.close()
    }

    @Test("a stray TRUNCATE checkpoint by another connection cannot copy away unshipped frames: the shipper's pin holds it back")
    func strayCheckpoint() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.databasePath
        let store = scratch.store
        let db = try openShippedDatabase(path)
        let shipper = try WALShipper(databasePath: path, name: "tenants/stray", store: store, sealer: PassThroughSealer())
        try await shipper.shipOnce()
        for i in 1...50 { try db.run("INSERT INTO items(value, n) VALUES (?, ?)", [.text("row \(i)"), .integer(Int64(i))]) }
        // Another connection, with a short busy timeout, tries to checkpoint and truncate the log.
        var options = SQLiteConnection.Options()
        options.busyTimeout = .milliseconds(50)
        let stray = try SQLiteConnection(path: path, options: options)
        let result = try stray.query("PRAGMA wal_checkpoint(TRUNCATE)").first
        #expect(result?[0].int64 == 1, "the truncate must have been refused (busy)")
        stray.close()
        for i in 51...60 { try db.run("INSERT INTO items(value, n) VALUES (?, ?)", [.text("row \(i)"), .integer(Int64(i))]) }
        let report = try await shipper.shipOnce()
        #expect(!report.startedGeneration)
        let restored = scratch.path + "/restored.sqlite"
        try await PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/stray").restore(to: restored)
        #expect(try tableState(ofFile: restored) == (try tableState(db)))
        #expect(try tableState(ofFile: restored).count == 60)
        await shipper.close()
        db.close()
    }

    @Test("a shipper started again (a restarted process) after the log was truncated while none ran starts a new generation; the restore is whole")
    func replacedLog() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.databasePath
        let store = scratch.store
        let clock = ManualClock()
        let db = try openShippedDatabase(path)
        let first = try WALShipper(databasePath: path, name: "tenants/replaced", store: store, sealer: PassThroughSealer(), clock: clock.function)
        for i in 1...20 { try db.run("INSERT INTO items(value, n) VALUES (?, ?)", [.text("row \(i)"), .integer(Int64(i))]) }
        try await first.shipOnce()
        await first.close()
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for i in 21...30 { try db.run("INSERT INTO items(value, n) VALUES (?, ?)", [.text("row \(i)"), .integer(Int64(i))]) }
        clock.advance(seconds: 1)
        let second = try WALShipper(databasePath: path, name: "tenants/replaced", store: store, sealer: PassThroughSealer(), clock: clock.function)
        let report = try await second.shipOnce()
        #expect(report.startedGeneration)
        let restored = scratch.path + "/restored.sqlite"
        try await PointInTimeRestore(store: store, sealer: PassThroughSealer(), name: "tenants/replaced").restore(to: restored)
        #expect(try tableState(ofFile: restored) == (try tableState(db)))
        await second.close()
        db.close()
    }

    @Test("every object goes through the sealer; a restore with another key is refused, naming the manifest")
    func sealed() async throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.databasePath
        let root = scratch.path + "/store"
        let store = DirectoryObjectStore(root: root)
        let db = try openShippedDatabase(path)
        let shipper = try WALShipper(databasePath: path, name: "tenants/sealed", store: store, sealer: XORSealer(key: 0x5A))
        try await shipper.shipOnce()
        try db.run("INSERT INTO items(value, n) VALUES ('a secret value', 1)")
        try await shipper.shipOnce()
        await shipper.close()
        for info in try await store.list(prefix: "tenants/sealed/") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/" + info.key.value))
            #expect(bytes.range(of: Data("a secret value".utf8)) == nil, "\(info.key) holds plaintext")
            #expect(bytes.range(of: Data("SQLite format 3".utf8)) == nil, "\(info.key) holds plaintext")
            #expect(bytes.range(of: Data("\"generation\"".utf8)) == nil, "\(info.key) holds plaintext")
        }
        let good = scratch.path + "/good.sqlite"
        try await PointInTimeRestore(store: store, sealer: XORSealer(key: 0x5A), name: "tenants/sealed").restore(to: good)
        #expect(try tableState(ofFile: good) == (try tableState(db)))
        await #expect {
            try await PointInTimeRestore(store: store, sealer: XORSealer(key: 0x33), name: "tenants/sealed").restore(to: scratch.path + "/bad.sqlite")
        } throws: { error in
            let error = error as? ReplicationError
            return error?.kind == .damagedObject && error?.object?.hasSuffix("manifest.json") == true
        }
        db.close()
    }
}

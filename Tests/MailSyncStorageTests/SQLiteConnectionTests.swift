import CSQLite
import Foundation
import Testing

@testable import MailSyncStorage

extension StorageTests {
    @Suite struct SQLiteConnectionTests {
        static let values: [SQLiteValue] = [
            .integer(0), .integer(Int64.max), .integer(Int64.min), .integer(-1),
            .real(1.5), .real(-1e300), .real(.pi),
            .text(""), .text("plain"), .text("a\u{0}b\u{0}"), .text("Grüße 📬 \u{10FFFF}"),
            .blob([]), .blob([0]), .blob([0, 1, 0, 255, 254]), .blob(Array(repeating: 0xAB, count: 100_000)),
            .null,
        ]

        @Test(arguments: values)
        func bindAndReadRoundTrip(_ value: SQLiteValue) throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            try db.execute("CREATE TABLE v (x)")  // no type affinity: values keep their class
            try db.run("INSERT INTO v (x) VALUES (?)", [value])
            #expect(try db.scalar("SELECT x FROM v") == value)
            let rows = try db.query("SELECT x AS value, typeof(x) AS kind FROM v")
            #expect(rows.count == 1)
            #expect(rows[0]["value"] == value)
            let kind: String =
                switch value {
                case .integer: "integer"
                case .real: "real"
                case .text: "text"
                case .blob: "blob"
                case .null: "null"
                }
            #expect(rows[0]["kind"] == .text(kind))
        }

        @Test func typedBindsAndReads() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            try db.execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, f INTEGER, n TEXT)")
            let optional: String? = nil
            try db.run(
                "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                [Int64.max.sqliteValue, 2.5.sqliteValue, "x\u{0}y".sqliteValue, [UInt8]([9, 0, 9]).sqliteValue, true.sqliteValue, optional.sqliteValue]
            )
            try db.withStatement("SELECT i, d, s, b, f, n FROM t") { (statement: Statement) throws in
                #expect(try statement.step())
                #expect(statement.int64(0) == Int64.max)
                #expect(statement.double(1) == 2.5)
                #expect(statement.string(2) == "x\u{0}y")
                #expect(statement.blob(3) == [9, 0, 9])
                #expect(statement.int64(4) == 1)
                #expect(statement.isNull(5) && statement.string(5) == nil && statement.blob(5) == nil)
                #expect(statement.columnIndex(named: "b") == 3)
                #expect(statement.columnIndex(named: "nope") == nil)
                #expect(try !statement.step())
            }
        }

        @Test func statementCacheReusesPreparedStatements() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            try db.execute("CREATE TABLE t (x INTEGER)")
            let before = db.prepareCount
            for i in 0..<500 { try db.run("INSERT INTO t (x) VALUES (?)", [.integer(Int64(i))]) }
            #expect(db.prepareCount == before + 1)
            #expect(try db.scalar("SELECT sum(x) FROM t") == .integer(124_750))
            // A nested use of the same SQL gets a fresh statement instead of resetting the outer one.
            try db.withStatement("SELECT x FROM t WHERE x < 3 ORDER BY x") { (outer: Statement) throws in
                var seen: [Int64] = []
                while try outer.step() {
                    seen.append(outer.int64(0))
                    try db.withStatement("SELECT x FROM t WHERE x < 3 ORDER BY x") { (inner: Statement) throws in
                        #expect(try inner.step())
                    }
                }
                #expect(seen == [0, 1, 2])
            }
        }

        @Test func statementCacheIsBounded() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var options = SQLiteConnection.Options()
            options.statementCacheCapacity = 4
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite", options: options)
            for round in 0..<3 {
                for i in 0..<6 { _ = try db.scalar("SELECT \(i)") }
                #expect(db.cachedStatementCount <= 4, "round \(round)")
            }
            // The four most recent stay cached: running them again prepares nothing.
            let before = db.prepareCount
            for i in 2..<6 { _ = try db.scalar("SELECT \(i)") }
            #expect(db.prepareCount == before)
        }

        @Test func immediateTransactionRollsBackOnThrow() throws {
            struct Boom: Error {}
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            try db.execute("CREATE TABLE t (x INTEGER)")
            #expect(throws: Boom.self) {
                try db.transaction {
                    for i in 0..<10 { try db.run("INSERT INTO t (x) VALUES (?)", [.integer(Int64(i))]) }
                    throw Boom()
                }
            }
            #expect(db.isAutocommit)
            #expect(try db.scalar("SELECT count(*) FROM t") == .integer(0))
            try db.transaction { try db.run("INSERT INTO t (x) VALUES (1)") }
            #expect(try db.scalar("SELECT count(*) FROM t") == .integer(1))
        }

        @Test func settingsAreApplied() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            #expect(try db.scalar("PRAGMA journal_mode") == .text("wal"))
            #expect(try db.scalar("PRAGMA synchronous") == .integer(1))  // NORMAL
            #expect(try db.scalar("PRAGMA foreign_keys") == .integer(1))
            #expect(try db.scalar("PRAGMA trusted_schema") == .integer(0))
            #expect(try db.scalar("PRAGMA busy_timeout") == .integer(5000))
        }

        @Test func attachIsRefused() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            let error = #expect(throws: StorageError.self) {
                try db.execute("ATTACH DATABASE '\(directory.path)/other.sqlite' AS other")
            }
            #expect(error?.message.contains("too many attached databases") == true)
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/other.sqlite"))
        }

        @Test func symbolicLinkIsRefused() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            _ = try SQLiteConnection(path: directory.path + "/real.sqlite")
            try FileManager.default.createSymbolicLink(atPath: directory.path + "/link.sqlite", withDestinationPath: directory.path + "/real.sqlite")
            let error = #expect(throws: StorageError.self) {
                _ = try SQLiteConnection(path: directory.path + "/link.sqlite", mode: .open)
            }
            #expect(error?.primaryCode == SQLITE_CANTOPEN)
        }

        @Test func missingFileIsNotFoundWhenNotCreating() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let error = #expect(throws: StorageError.self) {
                _ = try SQLiteConnection(path: directory.path + "/absent.sqlite", mode: .open)
            }
            #expect(error?.kind == .notFound)
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/absent.sqlite"))
        }

        @Test func fullDiskGivesAClearErrorAndNoPartialTransaction() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
            try db.transaction { try db.run("INSERT INTO t (payload) VALUES (?)", [.blob([1])]) }
            let pages = try db.scalar("PRAGMA page_count")?.int64 ?? 0
            try db.execute("PRAGMA max_page_count=\(pages + 8)")
            let payload = SQLiteValue.blob(Array(repeating: 7, count: 3000))
            let error = #expect(throws: StorageError.self) {
                try db.transaction {
                    for _ in 0..<1000 { try db.run("INSERT INTO t (payload) VALUES (?)", [payload]) }
                }
            }
            #expect(error?.isFull == true)
            #expect(error?.isBusy == false && error?.isCorrupt == false)
            #expect(error?.description.hasPrefix("disk full: free space on the data volume") == true)
            #expect(error?.statement == "INSERT INTO t (payload) VALUES (?)")
            #expect(db.isAutocommit)
            #expect(try db.scalar("SELECT count(*) FROM t") == .integer(1))
            // The connection stays usable once there is room again.
            try db.execute("PRAGMA max_page_count=1000000")
            try db.transaction { try db.run("INSERT INTO t (payload) VALUES (?)", [payload]) }
            #expect(try db.scalar("SELECT count(*) FROM t") == .integer(2))
        }

        @Test func scriptsNeedExecute() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            #expect(throws: StorageError.self) { try db.run("SELECT 1; SELECT 2") }
            #expect(try db.scalar("SELECT 1;  ") == .integer(1))
        }
    }
}

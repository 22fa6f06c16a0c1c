import Foundation
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// Multi-row statements split under SQLite's variable limit: every row lands, in order, whatever
/// the count; a `tail`'s own parameters count against the limit.
@Suite("MultiRowStatement: many rows per statement, split under the variable limit")
struct MultiRowStatementTests {
    static func database() throws -> (SQLiteConnection, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multirow-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let db = try SQLiteConnection(path: directory + "/t.sqlite")
        try db.execute("CREATE TABLE t(n INTEGER PRIMARY KEY, label TEXT NOT NULL, tag TEXT)")
        return (db, directory)
    }

    static func values(_ count: Int) -> [SQLiteValue] {
        (0..<count).flatMap { [SQLiteValue.integer(Int64($0)), .text("row \($0)")] }
    }

    @Test("0, 1, a full statement, one more, and several statements' worth of rows are all inserted once, in order",
          arguments: [0, 1, MultiRowStatement.maxVariables / 2, MultiRowStatement.maxVariables / 2 + 1, 40_000])
    func insertsEveryRow(rows: Int) throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let prepared = db.prepareCount
        try db.transaction {
            try MultiRowStatement.run(db, head: "INSERT INTO t(n, label) VALUES", columns: 2, values: Self.values(rows))
        }
        // A statement per 16,383 rows (32,766 variables / 2): the full-size one prepared once and
        // reused, a shorter last one prepared apart; besides BEGIN and COMMIT.
        let perStatement = MultiRowStatement.maxVariables / 2
        let prepares = (rows >= perStatement ? 1 : 0) + (rows % perStatement == 0 ? 0 : 1)
        #expect(db.prepareCount - prepared == prepares + 2)
        #expect(try db.scalar("SELECT count(*) FROM t") == .integer(Int64(rows)))
        #expect(try db.scalar("SELECT count(*) FROM t WHERE label = 'row ' || n") == .integer(Int64(rows)))
    }

    @Test("a tail's parameters are bound after each statement's rows and count against the limit")
    func trailingParameters() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // 16,383 rows of 2 fill the limit exactly alone; with one trailing `?` they need two statements.
        let rows = MultiRowStatement.maxVariables / 2
        try MultiRowStatement.run(db, head: "WITH v(n, label) AS (VALUES", columns: 2, values: Self.values(rows), tail: """
            ) INSERT INTO t(n, label, tag) SELECT n, label, ? FROM v
            """, trailing: [.text("tagged")])
        #expect(try db.scalar("SELECT count(*) FROM t WHERE tag = 'tagged'") == .integer(Int64(rows)))
    }

    @Test("a query over several statements returns every row of each, in order")
    func queryAcrossStatements() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rows = 20_000
        let found = try MultiRowStatement.query(db, head: "WITH v(n, label) AS (VALUES", columns: 2, values: Self.values(rows),
                                                tail: ") SELECT n, label FROM v")
        #expect(found.count == rows)
        #expect(found.enumerated().allSatisfy { $0.element["n"] == .integer(Int64($0.offset)) })
    }

    @Test("a failing row fails its statement, and the caller's transaction keeps nothing")
    func failureRollsBack() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var values = Self.values(20_000)
        values[2 * 19_999] = .integer(0)  // the last row repeats the first row's key, in the second statement
        #expect(throws: StorageError.self) {
            try db.transaction {
                try MultiRowStatement.run(db, head: "INSERT INTO t(n, label) VALUES", columns: 2, values: values)
            }
        }
        #expect(try db.scalar("SELECT count(*) FROM t") == .integer(0))
    }
}

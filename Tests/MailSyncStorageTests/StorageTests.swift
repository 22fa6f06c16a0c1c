import Foundation
import Testing

@testable import MailSyncStorage

/// Every storage suite nests in this one, so they run one at a time: several of them count the
/// process's open file descriptors.
@Suite(.serialized) struct StorageTests {}

/// A fresh directory under the system temporary directory, removed by ``remove()``.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/mailsync-storage-tests-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    var dataDirectory: DataDirectory { DataDirectory(path) }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// How many of this process's file descriptors are open, and how many point under `prefix`.
func openFileDescriptors(under prefix: String) -> (total: Int, under: Int) {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    var under = 0
    for entry in entries {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry),
            target.hasPrefix(prefix)
        {
            under += 1
        }
    }
    return (entries.count, under)
}

/// The tenant schema the tests use: version 1 has a marker table.
enum TestSchema {
    static let v1 = Migration(
        version: 1,
        name: "create marker",
        sql: "CREATE TABLE marker (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, n INTEGER NOT NULL)"
    )
    static let v2 = Migration(version: 2, name: "marker.note") { db in
        try db.execute("ALTER TABLE marker ADD COLUMN note TEXT NOT NULL DEFAULT ''")
        try db.run("UPDATE marker SET note = 'migrated ' || n")
    }
}

import Foundation
import MailSyncObjectStore
import Testing

/// What every ``ObjectStore`` must do, run against each implementation (directory and S3) with
/// the same assertions. `base` is a key prefix of the test's own, so stores can be shared.
enum ObjectStoreContract {
    static func check(_ store: any ObjectStore, base: String) async throws {
        let a = try ObjectKey("\(base)/one/b.seg"), b = try ObjectKey("\(base)/one/a.seg"), c = try ObjectKey("\(base)/two/a.seg")
        let everyByte = Data((0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) })
        #expect(try await store.list(prefix: base + "/").isEmpty)
        try await store.put(a, Data("bee".utf8))
        try await store.put(b, Data("ay".utf8))
        try await store.put(c, everyByte)
        #expect(try await store.get(a) == Data("bee".utf8))
        #expect(try await store.get(c) == everyByte)
        #expect(try await store.get(try ObjectKey("\(base)/none")) == nil)
        // A key prefix, not only a folder; listed in key order with sizes.
        #expect(try await store.list(prefix: base + "/one/").map(\.key) == [b, a])
        #expect(try await store.list(prefix: base + "/one/a").map(\.key) == [b])
        #expect(try await store.list(prefix: base + "/").map(\.size) == [2, 3, Int64(everyByte.count)])
        // An empty object is an object.
        let empty = try ObjectKey("\(base)/empty")
        try await store.put(empty, Data())
        #expect(try await store.get(empty) == Data())
        // Replacing.
        try await store.put(a, Data("replaced".utf8))
        #expect(try await store.get(a) == Data("replaced".utf8))
        // Deleting, a missing key among them.
        try await store.delete([a, empty, try ObjectKey("\(base)/none")])
        #expect(try await store.get(a) == nil)
        #expect(try await store.list(prefix: base + "/").map(\.key) == [b, c])
        try await store.delete([])
        try await store.delete([b, c])
        #expect(try await store.list(prefix: base + "/").isEmpty)
    }
}

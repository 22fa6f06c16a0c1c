import Foundation
import MailSyncObjectStore
import Testing

@Suite("Directory object store")
struct DirectoryObjectStoreTests {
    static func temporaryRoot() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-objects-\(UUID().uuidString)").path
    }

    @Test("put, get, list by prefix in key order, delete; a missing object is nil and deleting it is no error")
    func roundTrip() async throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = DirectoryObjectStore(root: root)
        let a = try ObjectKey("t/one/b.seg"), b = try ObjectKey("t/one/a.seg"), c = try ObjectKey("t/two/a.seg")
        try await store.put(a, Data("bee".utf8))
        try await store.put(b, Data("ay".utf8))
        try await store.put(c, Data([0, 1, 2]))
        #expect(try await store.get(a) == Data("bee".utf8))
        #expect(try await store.get(try ObjectKey("t/none")) == nil)
        #expect(try await store.list(prefix: "t/one/").map(\.key) == [b, a])
        #expect(try await store.list(prefix: "t/").map(\.size) == [2, 3, 3])
        try await store.put(a, Data("replaced".utf8))
        #expect(try await store.get(a) == Data("replaced".utf8))
        try await store.delete([a, try ObjectKey("t/none")])
        #expect(try await store.list(prefix: "t/").map(\.key) == [b, c])
    }

    @Test("the object store contract (the same checks as the S3 store's)")
    func contract() async throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await ObjectStoreContract.check(DirectoryObjectStore(root: root), base: "contract")
    }

    @Test("keys outside the alphabet or with empty, '.' or '..' segments are refused", arguments: [
        "", "/a", "a/", "a//b", "a/../b", "./a", "a b", "a\u{0}b", "ä", String(repeating: "a", count: 513),
    ])
    func badKeys(_ key: String) {
        #expect(throws: ObjectStoreError.invalidKey(key)) { try ObjectKey(key) }
    }
}

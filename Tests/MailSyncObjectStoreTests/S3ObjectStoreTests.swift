import Foundation
@testable import MailSyncObjectStore
import TestSupport
import Testing

/// The S3 client against a real SeaweedFS 4.48 on loopback (one for the suite).
@Suite("S3 object store on SeaweedFS", .seaweedFS)
struct S3ObjectStoreTests {
    static func configuration(
        _ server: SeaweedFSServer, bucket: String? = nil, prefix: String = "", secret: String? = nil, partSize: Int = 8 * 1024 * 1024
    ) -> S3Configuration {
        S3Configuration(
            endpoint: server.endpoint, bucket: bucket ?? server.bucket, prefix: prefix, accessKeyID: server.accessKeyID,
            secretAccessKey: secret ?? server.secretAccessKey, partSize: partSize, retryBaseDelay: .milliseconds(10),
            connectTimeout: .seconds(5), requestTimeout: .seconds(60))
    }

    static func store(_ configuration: S3Configuration, listPageSize: Int = 1000) throws -> S3ObjectStore {
        try S3ObjectStore(configuration: configuration, listPageSize: listPageSize)
    }

    @Test("the object store contract (the same checks as the directory store's), with and without a store prefix")
    func contract() async throws {
        let server = try SeaweedFSScope.server()
        try await ObjectStoreContract.check(try Self.store(Self.configuration(server)), base: "contract")
        try await ObjectStoreContract.check(try Self.store(Self.configuration(server, prefix: "tenants/")), base: "contract")
    }

    @Test("a listing longer than a page is followed by continuation tokens to its end; the store prefix is not part of listed keys")
    func pagedListing() async throws {
        let server = try SeaweedFSScope.server()
        let store = try Self.store(Self.configuration(server, prefix: "paged/"), listPageSize: 2)
        let keys = try (0..<7).map { try ObjectKey("p/\($0).seg") }
        for (index, key) in keys.enumerated() { try await store.put(key, Data(repeating: UInt8(index), count: index)) }
        try await store.put(try ObjectKey("q/other"), Data("x".utf8))
        let listed = try await store.list(prefix: "p/")
        #expect(listed.map(\.key) == keys)
        #expect(listed.map(\.size) == (0..<7).map { Int64($0) })
        // The raw listing (no store prefix) shows where the objects really are.
        let raw = try Self.store(Self.configuration(server), listPageSize: 3)
        #expect(try await raw.list(prefix: "paged/p/").map(\.key.value) == keys.map { "paged/" + $0.value })
    }

    @Test("an object larger than the part size goes up as a multipart upload and reads back identical")
    func multipart() async throws {
        let server = try SeaweedFSScope.server()
        let store = try Self.store(Self.configuration(server, partSize: S3Configuration.minimumPartSize))
        var generator = SplitMix64(seed: 14)
        var data = Data(capacity: 11 * 1024 * 1024 + 128)
        for _ in 0..<((11 * 1024 * 1024 + 123) / 8) { withUnsafeBytes(of: generator.next()) { data.append(contentsOf: $0) } }
        let key = try ObjectKey("multipart/big.seg")
        try await store.put(key, data)
        #expect(try await store.get(key) == data)
        #expect(try await store.list(prefix: "multipart/") == [ObjectInfo(key: key, size: Int64(data.count))])
        // S3 marks a multipart object's ETag with its part count: three parts of at most 5 MiB.
        let head = try await store.send("HEAD", key: key, maxResponseBytes: 0)
        #expect(head.headers["etag"]?.hasSuffix("-3\"") == true, "ETag \(head.headers["etag"] ?? "none")")
    }

    @Test("a wrong secret is accessDenied for every operation, and no error's text holds the secret")
    func wrongSecret() async throws {
        let server = try SeaweedFSScope.server()
        let secret = "wrong-secret-\(UUID().uuidString)"
        let store = try Self.store(Self.configuration(server, secret: secret))
        let key = try ObjectKey("denied/a")
        var errors: [ObjectStoreError] = []
        for operation in 0..<4 {
            do {
                switch operation {
                case 0: try await store.put(key, Data("a".utf8))
                case 1: _ = try await store.get(key)
                case 2: _ = try await store.list(prefix: "denied/")
                default: try await store.delete([key])
                }
                Issue.record("operation \(operation) succeeded with a wrong secret")
            } catch let error as ObjectStoreError {
                errors.append(error)
            }
        }
        #expect(errors.count == 4)
        for error in errors {
            guard case .accessDenied = error else {
                Issue.record("expected accessDenied, got \(error)")
                continue
            }
            #expect(!error.description.contains(secret))
            #expect(!String(reflecting: error).contains(secret))
        }
        #expect(!store.configuration.description.contains(secret))
        #expect(!String(reflecting: store).contains(secret))
        #expect(!"\(store)".contains(secret))
    }

    @Test("a bucket that does not exist is missingBucket")
    func missingBucket() async throws {
        let server = try SeaweedFSScope.server()
        let store = try Self.store(Self.configuration(server, bucket: "no-such-bucket-here"))
        let key = try ObjectKey("a")
        for operation in 0..<3 {
            do {
                switch operation {
                case 0: _ = try await store.get(key)
                case 1: _ = try await store.list(prefix: "")
                default: try await store.put(key, Data("a".utf8))
                }
                Issue.record("operation \(operation) succeeded on a missing bucket")
            } catch let error as ObjectStoreError {
                guard case .missingBucket = error else {
                    Issue.record("operation \(operation): expected missingBucket, got \(error)")
                    continue
                }
            }
        }
    }

    @Test("an object whose stored sha256 metadata lies, or that has none, reads as corrupt")
    func lyingChecksum() async throws {
        let server = try SeaweedFSScope.server()
        let store = try Self.store(Self.configuration(server))
        let lying = try ObjectKey("corrupt/lying"), bare = try ObjectKey("corrupt/bare")
        // Raw signed PUTs: the bytes are fine, the recorded SHA-256 is not ours.
        let written = try await store.send(
            "PUT", key: lying, headers: ["x-amz-meta-sha256: \(String(repeating: "0", count: 64))"], body: Data("payload".utf8),
            maxResponseBytes: 65536)
        #expect(written.status == 200)
        #expect(try await store.send("PUT", key: bare, body: Data("payload".utf8), maxResponseBytes: 65536).status == 200)
        for key in [lying, bare] {
            await #expect {
                _ = try await store.get(key)
            } throws: { error in
                guard case .corrupt = error as? ObjectStoreError else { return false }
                return true
            }
        }
    }

    @Test("SeaweedFS verifies Content-MD5 and x-amz-checksum-sha256 on upload: a mismatch is refused, and reported as corrupt")
    func uploadDigestsAreVerified() async throws {
        let server = try SeaweedFSScope.server()
        let store = try Self.store(Self.configuration(server))
        let key = try ObjectKey("digest/a")
        let body = Data("what we send".utf8), other = Data("what we meant".utf8)
        for header in ["Content-MD5: \(S3Checksum.md5Base64(other))", "x-amz-checksum-sha256: \(S3Checksum.sha256Base64(other))"] {
            let response = try await store.send("PUT", key: key, headers: [header], body: body, maxResponseBytes: 65536)
            #expect(response.status == 400, "\(header)")
            #expect(throws: ObjectStoreError.self) { try store.requireSuccess(response, operation: "PUT", key: key) }
            do {
                try store.requireSuccess(response, operation: "PUT", key: key)
            } catch {
                guard case .corrupt = error else {
                    Issue.record("expected corrupt, got \(error)")
                    continue
                }
            }
        }
        #expect(try await store.get(key) == nil)
    }
}

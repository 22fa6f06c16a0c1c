import Foundation
@testable import MailSyncObjectStore
import Synchronization
import Testing

/// The S3 client against a scripted loopback server: retries, and replies no real store sends.
@Suite("S3 object store against a scripted server")
struct S3ScriptedServerTests {
    static func store(port: Int, maxAttempts: Int = 5, partSize: Int = 8 * 1024 * 1024) throws -> S3ObjectStore {
        try S3ObjectStore(configuration: S3Configuration(
            endpoint: "http://127.0.0.1:\(port)", bucket: "bucket", accessKeyID: "KEY", secretAccessKey: "scripted-secret",
            partSize: partSize, maxAttempts: maxAttempts, retryBaseDelay: .milliseconds(1), connectTimeout: .seconds(5), requestTimeout: .seconds(30)))
    }

    static let okBody = Array(#"<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"#.utf8)

    @Test("503 SlowDown twice, then 200: the put succeeds on the third request", arguments: [503, 429, 500])
    func retriesThenSucceeds(status: Int) async throws {
        let server = try ScriptedHTTPServer { number, _ in
            number <= 2 ? .init(status: status, headers: ["Content-Type: application/xml"], body: Self.okBody) : .init(status: 200)
        }
        defer { server.stop() }
        try await Self.store(port: server.port).put(try ObjectKey("a/b"), Data("x".utf8))
        #expect(server.requestLines.count == 3)
        #expect(server.requestLines.allSatisfy { $0.hasPrefix("PUT /bucket/a/b ") })
    }

    @Test("503 with Retry-After: 1 waits the second the store asked for before trying again (the backoff alone is a millisecond)")
    func honoursRetryAfter() async throws {
        let server = try ScriptedHTTPServer { number, _ in
            number == 1 ? .init(status: 503, headers: ["Retry-After: 1", "Content-Type: application/xml"], body: Self.okBody) : .init(status: 200)
        }
        defer { server.stop() }
        let started = ContinuousClock.now
        try await Self.store(port: server.port).put(try ObjectKey("a/b"), Data("x".utf8))
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(server.requestLines.count == 2)
    }

    @Test("always 500: unavailable after exactly maxAttempts requests")
    func givesUp() async throws {
        let server = try ScriptedHTTPServer { _, _ in .init(status: 500) }
        defer { server.stop() }
        await #expect {
            _ = try await Self.store(port: server.port, maxAttempts: 3).get(try ObjectKey("a"))
        } throws: { error in
            guard case .unavailable(let text) = error as? ObjectStoreError else { return false }
            return text.contains("HTTP 500") && text.contains("3 tries")
        }
        #expect(server.requestLines.count == 3)
    }

    @Test("a 4xx other than 429 is never retried", arguments: [(400, "InvalidRequest"), (403, "AccessDenied"), (404, "NoSuchBucket")])
    func noRetryOn4xx(status: Int, code: String) async throws {
        let body = Array("<Error><Code>\(code)</Code><Message>no</Message></Error>".utf8)
        let server = try ScriptedHTTPServer { _, _ in .init(status: status, body: body) }
        defer { server.stop() }
        await #expect(throws: ObjectStoreError.self) { try await Self.store(port: server.port).put(try ObjectKey("a"), Data()) }
        #expect(server.requestLines.count == 1)
    }

    @Test("no server listening: unavailable after maxAttempts tries, the secret in no text")
    func connectionRefused() async throws {
        let server = try ScriptedHTTPServer { _, _ in .init(status: 200) }
        let port = server.port
        server.stop()  // the listener is shut down: connecting is refused (or reset, if the close races): no answer either way
        do {
            _ = try await Self.store(port: port, maxAttempts: 2).list(prefix: "")
            Issue.record("listing succeeded without a server")
        } catch let error as ObjectStoreError {
            guard case .unavailable(let text) = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
            #expect(text.contains("2 tries"))
            #expect(!error.description.contains("scripted-secret"))
        }
    }

    static let hostileListings: [(String, [UInt8])] = [
        ("unclosed", Array("<ListBucketResult><Contents><Key>a</Key>".utf8)),
        ("not XML", Array("{\"json\": true}".utf8)),
        ("wrong root", Array("<Other/>".utf8)),
        ("billion laughs", Array(#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><ListBucketResult><Contents><Key>&b;</Key><Size>1</Size></Contents></ListBucketResult>"#.utf8)),
        ("nested deep", Array((String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)).utf8)),
        ("bad size", Array("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>".utf8)),
        ("huge size", Array("<ListBucketResult><Contents><Key>a</Key><Size>99999999999999999999999</Size></Contents></ListBucketResult>".utf8)),
        ("key outside the prefix", Array("<ListBucketResult><Contents><Key>other/a</Key><Size>1</Size></Contents></ListBucketResult>".utf8)),
        ("truncated without token", Array("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>".utf8)),
        ("unknown entity", Array("<ListBucketResult><Contents><Key>&nope;</Key></Contents></ListBucketResult>".utf8)),
        ("bad character reference", Array("<ListBucketResult><Contents><Key>&#0;&#xFFFFFFFFF;</Key></Contents></ListBucketResult>".utf8)),
        ("binary", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }),
        ("9 MiB", Array("<ListBucketResult>".utf8) + [UInt8](repeating: 0x20, count: 9 * 1024 * 1024) + Array("</ListBucketResult>".utf8)),
    ]

    @Test("a malformed, hostile or oversized ListObjectsV2 reply is corrupt, never a crash", arguments: hostileListings.indices)
    func hostileListing(_ index: Int) async throws {
        let (name, body) = Self.hostileListings[index]
        let server = try ScriptedHTTPServer { _, _ in .init(status: 200, headers: ["Content-Type: application/xml"], body: body) }
        defer { server.stop() }
        await #expect {
            _ = try await Self.store(port: server.port).list(prefix: "p/")
        } throws: { error in
            guard case .corrupt = error as? ObjectStoreError else { return false }
            return true
        }
        #expect(server.requestLines.count == 1, "\(name): a corrupt reply is not retried")
    }

    @Test("a listing that repeats its continuation token is corrupt instead of looping")
    func loopingToken() async throws {
        let page = Array("<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>same</NextContinuationToken></ListBucketResult>".utf8)
        let server = try ScriptedHTTPServer { _, _ in .init(status: 200, body: page) }
        defer { server.stop() }
        await #expect(throws: ObjectStoreError.self) { _ = try await Self.store(port: server.port).list(prefix: "") }
        #expect(server.requestLines.count == 2)
        #expect(server.requestLines.last?.contains("continuation-token=same") == true)
    }

    @Test("a GET body over maxObjectBytes is corrupt, read no further")
    func oversizedObject() async throws {
        let server = try ScriptedHTTPServer { _, _ in .init(status: 200, body: [UInt8](repeating: 1, count: 2 * 1024 * 1024)) }
        defer { server.stop() }
        var configuration = try Self.store(port: server.port).configuration
        configuration.maxObjectBytes = 1024 * 1024
        await #expect {
            _ = try await S3ObjectStore(configuration: configuration).get(try ObjectKey("big"))
        } throws: { error in
            guard case .corrupt(let text) = error as? ObjectStoreError else { return false }
            return text.contains("larger than 1048576 bytes")
        }
    }

    /// A multipart store: an upload ID, ETags for parts; `partStatus` answers every part,
    /// `completeErrors` leading CompleteMultipartUpload answers are a 200 carrying InternalError.
    static func multipartServer(partStatus: Int, completeErrors: Int) throws -> ScriptedHTTPServer {
        let completes = Mutex(0)
        return try ScriptedHTTPServer { _, line in
            if line.hasPrefix("POST /bucket/big?uploads=") {
                return .init(status: 200, body: Array("<InitiateMultipartUploadResult><UploadId>u/1+</UploadId></InitiateMultipartUploadResult>".utf8))
            }
            if line.hasPrefix("PUT /bucket/big?partNumber=") {
                return .init(status: partStatus, headers: ["ETag: \"e\(line.count)\""], body: partStatus == 200 ? [] : Array("<Error><Code>AccessDenied</Code></Error>".utf8))
            }
            if line.hasPrefix("POST /bucket/big?uploadId=") {
                let number = completes.withLock { $0 += 1; return $0 }
                let body = number <= completeErrors
                    ? "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>late</Message></Error>"
                    : "<CompleteMultipartUploadResult><Key>big</Key></CompleteMultipartUploadResult>"
                return .init(status: 200, body: Array(body.utf8))
            }
            return .init(status: line.hasPrefix("DELETE /bucket/big?uploadId=") ? 204 : 400)
        }
    }

    @Test("multipart: parts in order with the upload ID encoded; a CompleteMultipartUpload answering 200 with InternalError is retried")
    func multipartCompleteRetried() async throws {
        let server = try Self.multipartServer(partStatus: 200, completeErrors: 1)
        defer { server.stop() }
        try await Self.store(port: server.port, partSize: S3Configuration.minimumPartSize)
            .put(try ObjectKey("big"), Data(count: S3Configuration.minimumPartSize + 1))
        let lines = server.requestLines.map { String($0.split(separator: " ")[1]) }
        #expect(lines == [
            "/bucket/big?uploads=", "/bucket/big?partNumber=1&uploadId=u%2F1%2B", "/bucket/big?partNumber=2&uploadId=u%2F1%2B",
            "/bucket/big?uploadId=u%2F1%2B", "/bucket/big?uploadId=u%2F1%2B",
        ])
    }

    @Test("multipart: a part refused aborts the upload and throws the part's error")
    func multipartAborted() async throws {
        let server = try Self.multipartServer(partStatus: 403, completeErrors: 0)
        defer { server.stop() }
        await #expect {
            try await Self.store(port: server.port, partSize: S3Configuration.minimumPartSize)
                .put(try ObjectKey("big"), Data(count: S3Configuration.minimumPartSize + 1))
        } throws: { error in
            guard case .accessDenied = error as? ObjectStoreError else { return false }
            return true
        }
        #expect(server.requestLines.map { String($0.split(separator: " ")[0]) } == ["POST", "PUT", "DELETE"])
        #expect(server.requestLines.last?.hasPrefix("DELETE /bucket/big?uploadId=u%2F1%2B ") == true)
    }

    @Test("DeleteObjects: a key reported NoSuchKey is no error, one reported AccessDenied is accessDenied")
    func deleteResults() async throws {
        for (code, denied) in [("NoSuchKey", false), ("AccessDenied", true)] {
            let body = "<DeleteResult><Error><Key>a</Key><Code>\(code)</Code><Message>m</Message></Error></DeleteResult>"
            let server = try ScriptedHTTPServer { _, _ in .init(status: 200, body: Array(body.utf8)) }
            defer { server.stop() }
            var thrown: (any Error)?
            do {
                try await Self.store(port: server.port).delete([try ObjectKey("a")])
            } catch {
                thrown = error
            }
            if denied {
                guard case .accessDenied = thrown as? ObjectStoreError else {
                    Issue.record("\(code): expected accessDenied, got \(String(describing: thrown))")
                    continue
                }
            } else {
                #expect(thrown == nil, "\(code)")
            }
            #expect(server.requestLines == ["POST /bucket?delete= HTTP/1.1"])
        }
    }
}

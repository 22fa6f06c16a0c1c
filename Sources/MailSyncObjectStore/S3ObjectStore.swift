import Foundation

/// An ``ObjectStore`` on any store speaking the S3 API (AWS S3, MinIO, Ceph, SeaweedFS), over
/// libcurl, which signs every request (AWS Signature V4; the signing is not ours).
///
/// - `put`: one PUT up to ``S3Configuration/partSize`` bytes, with `Content-MD5` and
///   `x-amz-checksum-sha256` so the store refuses bytes damaged on the way, and the SHA-256 as
///   user metadata `x-amz-meta-sha256`; larger objects go up as a multipart upload
///   (``S3ObjectStore/putMultipart(_:_:sha256:)``), aborted if any step fails.
/// - `get`: 404 is nil; the body (at most ``S3Configuration/maxObjectBytes``) must match its
///   `x-amz-meta-sha256`, else ``ObjectStoreError/corrupt(_:)`` (also when the metadata is
///   missing: every object this store writes has it).
/// - `list`: ListObjectsV2, page after page by continuation token, each page's XML at most 8 MiB
///   and read by ``S3XML`` (anything malformed is ``ObjectStoreError/corrupt(_:)``). Keys outside
///   ``ObjectKey``'s alphabet (put there by someone else) are skipped.
/// - `delete`: DeleteObjects, 1000 keys a request; keys already missing are no error.
///
/// Every request is retried as ``S3RetryPolicy`` says (5xx, 429, no answer; at most
/// ``S3Configuration/maxAttempts`` tries), each try on a thread of its own, with the configured
/// connect and total timeouts; waits between tries do not hold a thread. Errors: see
/// ``S3ErrorReply`` for how answers map to ``ObjectStoreError``. No error, log or description
/// holds the secret.
public struct S3ObjectStore: ObjectStore {
    public let configuration: S3Configuration
    let urls: S3URL
    let retry: S3RetryPolicy
    /// Keys per ListObjectsV2 page (S3's maximum and default: 1000). Tests use fewer.
    let listPageSize: Int

    static let listPageBytes = 8 * 1024 * 1024
    static let controlReplyBytes = 1024 * 1024

    /// Throws ``S3ConfigurationError`` when ``S3Configuration/problem`` names one.
    public init(configuration: S3Configuration) throws(S3ConfigurationError) {
        try self.init(configuration: configuration, listPageSize: 1000)
    }

    init(configuration: S3Configuration, listPageSize: Int) throws(S3ConfigurationError) {
        if let problem = configuration.problem { throw S3ConfigurationError(description: problem) }
        self.configuration = configuration
        self.urls = S3URL(configuration: configuration)
        self.retry = S3RetryPolicy(maxAttempts: configuration.maxAttempts, baseDelay: configuration.retryBaseDelay)
        self.listPageSize = max(1, min(1000, listPageSize))
    }

    public func put(_ key: ObjectKey, _ data: Data) async throws {
        let digests = await S3Checksum.digests(data)
        if data.count > configuration.partSize {
            try await putMultipart(key, data, sha256: digests.sha256Hex)
            return
        }
        let headers = [
            "Content-MD5: \(digests.md5Base64)", "x-amz-checksum-sha256: \(digests.sha256Base64)", "x-amz-meta-sha256: \(digests.sha256Hex)",
        ]
        let response = try await send(
            "PUT", key: key, headers: headers, body: data, payloadSHA256: digests.sha256Hex, maxResponseBytes: Self.controlReplyBytes)
        try requireSuccess(response, operation: "PUT", key: key)
    }

    public func get(_ key: ObjectKey) async throws -> Data? {
        let response = try await send("GET", key: key, maxResponseBytes: configuration.maxObjectBytes)
        if response.status == 404 {
            let reply = S3ErrorReply(body: response.body)
            if reply.code == "NoSuchBucket" { throw reply.error(status: 404, operation: "GET", place: place(key)) }
            return nil
        }
        try requireSuccess(response, operation: "GET", key: key)
        guard let recorded = response.headers["x-amz-meta-sha256"]?.lowercased() else {
            throw ObjectStoreError.corrupt("GET \(place(key)): the object has no x-amz-meta-sha256 checksum")
        }
        let actual = await S3Checksum.sha256HexOffPool(response.body)
        guard recorded == actual else {
            throw ObjectStoreError.corrupt("GET \(place(key)): SHA-256 of the \(response.body.count) bytes read is \(actual), the object's metadata says \(S3ErrorReply.printable(recorded))")
        }
        return response.body
    }

    public func list(prefix: String) async throws -> [ObjectInfo] {
        let fullPrefix = configuration.prefix + prefix
        var found: [ObjectInfo] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("max-keys", String(listPageSize)), ("prefix", fullPrefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", url: urls.url(key: nil, query: query), place: "bucket \(configuration.bucket)", maxResponseBytes: Self.listPageBytes)
            try requireSuccess(response, operation: "LIST", key: nil)
            let page = try S3Listing(body: response.body, prefix: fullPrefix, storePrefix: configuration.prefix)
            found += page.objects
            guard page.nextToken == nil || page.nextToken != token else { throw ObjectStoreError.corrupt("LIST bucket \(configuration.bucket): the store returned the same continuation token twice") }
            token = page.nextToken
        } while token != nil
        return found.sorted { $0.key < $1.key }
    }

    public func delete(_ keys: [ObjectKey]) async throws {
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(keys.count, start + 1000)]
            start += batch.count
            try await deleteBatch(Array(batch))
        }
    }

    /// `NAME` in `bucket BUCKET` for error texts (the full key, prefix included).
    func place(_ key: ObjectKey?) -> String {
        "\(configuration.bucket)/\(configuration.prefix)\(key?.value ?? "") at \(urls.hostForErrors)"
    }

    /// A non-2xx answer as the ``ObjectStoreError`` it means.
    func requireSuccess(_ response: S3Transfer.Response, operation: String, key: ObjectKey?) throws(ObjectStoreError) {
        guard (200..<300).contains(response.status) else {
            throw S3ErrorReply(body: response.body).error(status: response.status, operation: operation, place: place(key))
        }
    }
}

/// Why an ``S3Configuration`` cannot be used (``S3Configuration/problem``).
public struct S3ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

import Foundation

/// A client of etcd's v3 API through its JSON gateway (`POST /v3/kv/range`, `/v3/kv/txn`,
/// `/v3/lease/grant`, …), which every etcd 3.4 member serves on its client port.
///
/// Why the gateway and not gRPC: it is the same v3 API with the same guarantees (the gateway is
/// a translation inside the member), it needs only HTTP/1.1 on SwiftNIO, which the server already
/// has, and no protobuf code generation or HTTP/2 stack; the calls Mail Sync makes are few and
/// small (leases renewed every few seconds, placements read on a miss), so JSON costs nothing
/// that matters.
///
/// Members: requests go to the last member that answered; one that cannot be reached (refused,
/// timed out, no leader) is skipped for the next, each tried once per request, and
/// ``EtcdError/unavailable(_:)`` is thrown when none answered. A request that timed out may still
/// have been applied: writes that must happen once are transactions with a compare.
///
/// Limits: each reply at most `maxReplyBytes` (default 16 MiB); each attempt at most the
/// request timeout (default 5 s).
public actor EtcdClient {
    public nonisolated let endpoints: [EtcdEndpoint]
    private var preferred = 0
    private let http: EtcdHTTP

    public init(endpoints: [EtcdEndpoint], requestTimeout: Duration = .seconds(5), maxReplyBytes: Int = 16 << 20) {
        precondition(!endpoints.isEmpty, "at least one etcd endpoint")
        self.endpoints = endpoints
        self.http = EtcdHTTP(timeout: requestTimeout, maxReplyBytes: maxReplyBytes)
    }

    // MARK: Keys

    /// The key's current value, or nil when it does not exist.
    public func get(_ key: String) async throws -> EtcdKeyValue? {
        let range: EtcdJSON.Range = try await call("/v3/kv/range", ["key": EtcdJSON.base64(key)])
        return try range.kvs?.first.map(EtcdJSON.keyValue)
    }

    /// Every key under `prefix`, in key order, at most `limit` (default 100,000).
    public func list(prefix: String, limit: Int = 100_000) async throws -> [EtcdKeyValue] {
        let range: EtcdJSON.Range = try await call("/v3/kv/range", [
            "key": EtcdJSON.base64(prefix), "range_end": EtcdJSON.base64(EtcdJSON.prefixEnd(prefix)), "limit": String(limit),
        ])
        return try (range.kvs ?? []).map(EtcdJSON.keyValue)
    }

    /// The keys under `prefix` from `start` on (default: all) written after `revision`, in key
    /// order, at most `limit`, read at revision `at` (0: the latest), and the revision the read
    /// saw. Page by passing the last key + "\0" as `start` and the first page's revision as `at`;
    /// the next round passes that revision as `after`. Deleted keys do not show (records that must
    /// be seen gone are written as tombstones).
    public func changes(
        prefix: String, from start: String? = nil, after revision: Int64, at: Int64 = 0, limit: Int = 10_000
    ) async throws -> (kvs: [EtcdKeyValue], revision: Int64) {
        var body: [String: Any] = [
            "key": EtcdJSON.base64(start ?? prefix), "range_end": EtcdJSON.base64(EtcdJSON.prefixEnd(prefix)), "limit": String(limit),
        ]
        if revision > 0 { body["min_mod_revision"] = String(revision + 1) }
        if at > 0 { body["revision"] = String(at) }
        let range: EtcdJSON.Range = try await call("/v3/kv/range", body)
        return (try (range.kvs ?? []).map(EtcdJSON.keyValue), try EtcdJSON.int64(range.header?.revision, "revision"))
    }

    /// Writes the key (attached to `lease` unless 0: it goes when the lease ends). Returns the
    /// store's revision after the write.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0) async throws -> Int64 {
        var body: [String: Any] = ["key": EtcdJSON.base64(key), "value": EtcdJSON.base64(value)]
        if lease != 0 { body["lease"] = String(lease) }
        let put: EtcdJSON.Put = try await call("/v3/kv/put", body)
        return try EtcdJSON.int64(put.header?.revision, "revision")
    }

    /// Deletes the key (nothing happens when it does not exist).
    public func delete(_ key: String) async throws {
        let _: EtcdJSON.Put = try await call("/v3/kv/deleterange", ["key": EtcdJSON.base64(key)])
    }

    /// Runs `then` when every compare holds, else `otherwise`, atomically.
    public func transaction(
        _ compares: [EtcdCompare], then: [EtcdOperation], else otherwise: [EtcdOperation] = []
    ) async throws -> EtcdTransactionResult {
        let txn: EtcdJSON.Txn = try await call("/v3/kv/txn", [
            "compare": compares.map(EtcdJSON.compare),
            "success": then.map(EtcdJSON.operation),
            "failure": otherwise.map(EtcdJSON.operation),
        ])
        let reads = try (txn.responses ?? []).compactMap { op in try op.response_range.map { try ($0.kvs ?? []).map(EtcdJSON.keyValue) } }
        return EtcdTransactionResult(succeeded: txn.succeeded ?? false, revision: try EtcdJSON.int64(txn.header?.revision, "revision"), reads: reads)
    }

    // MARK: Leases

    /// A new lease that lives `ttlSeconds` (etcd's minimum applies) unless renewed.
    public func grantLease(ttlSeconds: Int64) async throws -> EtcdLease {
        let grant: EtcdJSON.LeaseGrant = try await call("/v3/lease/grant", ["TTL": String(ttlSeconds)])
        if let error = grant.error, !error.isEmpty { throw EtcdError.server(code: 0, message: error) }
        let id = try EtcdJSON.int64(grant.ID, "ID")
        guard id != 0 else { throw EtcdError.badReply("the granted lease has no ID") }
        return EtcdLease(id: id, ttlSeconds: try EtcdJSON.int64(grant.TTL, "TTL"))
    }

    /// Renews the lease to its full TTL. Throws ``EtcdError/leaseLost(_:)`` when it has already
    /// expired or was revoked.
    public func keepAlive(_ id: Int64) async throws -> EtcdLease {
        let reply: EtcdJSON.KeepAlive = try await call("/v3/lease/keepalive", ["ID": String(id)])
        if let error = reply.error { throw EtcdError.server(code: error.code ?? 0, message: error.message ?? error.error ?? "") }
        let ttl = try EtcdJSON.int64(reply.result?.TTL, "TTL")
        guard ttl > 0 else { throw EtcdError.leaseLost(id) }
        return EtcdLease(id: id, ttlSeconds: ttl)
    }

    /// Ends the lease now: every key attached to it is deleted.
    public func revokeLease(_ id: Int64) async throws {
        do {
            let _: EtcdJSON.Put = try await call("/v3/lease/revoke", ["ID": String(id)])
        } catch EtcdError.server(code: 5, _) {
            throw EtcdError.leaseLost(id)
        }
    }

    // MARK: Calls

    private func call<Reply: Decodable>(_ path: String, _ body: [String: Any]) async throws -> Reply {
        let bytes = Array(try JSONSerialization.data(withJSONObject: body))
        var failures: [String] = []
        for attempt in 0..<endpoints.count {
            let index = (preferred + attempt) % endpoints.count
            let endpoint = endpoints[index]
            let reply: EtcdHTTP.Reply
            do {
                reply = try await http.post(endpoint, path: path, body: bytes)
            } catch EtcdError.unavailable(let detail) {
                failures.append(detail)
                continue
            }
            if reply.status == 200 {
                preferred = index
                do {
                    return try JSONDecoder().decode(Reply.self, from: Data(reply.body))
                } catch let error as EtcdError {
                    throw error
                } catch {
                    throw EtcdError.badReply("\(path): \(String(decoding: reply.body.prefix(200), as: UTF8.self))")
                }
            }
            let detail = try? JSONDecoder().decode(EtcdJSON.ErrorBody.self, from: Data(reply.body))
            let code = detail?.code ?? 0
            let message = detail?.message ?? detail?.error ?? "HTTP \(reply.status)"
            // 14 Unavailable (no leader, stopping), 4 DeadlineExceeded: another member may do.
            if code == 14 || code == 4 || reply.status == 503 || message.contains("no leader") {
                failures.append("\(endpoint): \(message)")
                continue
            }
            throw EtcdError.server(code: code, message: message)
        }
        throw EtcdError.unavailable(failures.joined(separator: "; "))
    }
}

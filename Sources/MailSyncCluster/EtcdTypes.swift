import Foundation

/// One key and its value as etcd holds it.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    /// The revision of the key's last write (what a compare-and-swap compares).
    public var modRevision: Int64
    public var createRevision: Int64
    /// Writes since the key was created (1 for a new key).
    public var version: Int64
    /// The lease the key is attached to (0: none).
    public var lease: Int64

    public init(key: String, value: [UInt8], modRevision: Int64, createRevision: Int64, version: Int64, lease: Int64) {
        self.key = key
        self.value = value
        self.modRevision = modRevision
        self.createRevision = createRevision
        self.version = version
        self.lease = lease
    }
}

/// A condition of a transaction (``EtcdClient/transaction(_:then:else:)``).
public enum EtcdCompare: Sendable, Equatable {
    /// The key's version equals (0: the key does not exist).
    case version(String, equals: Int64)
    /// The key's last write was at this revision (0: the key does not exist).
    case modRevision(String, equals: Int64)
    /// The key's value is exactly these bytes.
    case value(String, equals: [UInt8])
}

/// An operation of a transaction.
public enum EtcdOperation: Sendable, Equatable {
    case put(String, [UInt8], lease: Int64 = 0)
    case delete(String)
    /// Reads a key, or every key under a prefix.
    case get(String, prefix: Bool = false)
}

/// What a transaction did.
public struct EtcdTransactionResult: Sendable, Equatable {
    /// Whether every compare held (the `then` branch ran) or not (the `else` branch).
    public var succeeded: Bool
    /// The store's revision after the transaction.
    public var revision: Int64
    /// The keys each `get` of the branch that ran read, in order (puts and deletes read none).
    public var reads: [[EtcdKeyValue]]
}

/// A lease as granted or renewed.
public struct EtcdLease: Sendable, Equatable {
    public var id: Int64
    /// Seconds the lease lives from the moment etcd granted or renewed it.
    public var ttlSeconds: Int64
}

/// The proto3 JSON shapes of etcd's gateway: 64-bit numbers as strings, bytes as base64, and
/// fields at their default value left out.
enum EtcdJSON {
    struct Header: Decodable { var revision: String? }
    struct KV: Decodable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var version: String?
        var lease: String?
    }
    struct Range: Decodable { var header: Header?; var kvs: [KV]?; var count: String? }
    struct Put: Decodable { var header: Header? }
    struct ResponseOp: Decodable { var response_range: Range? }
    struct Txn: Decodable { var header: Header?; var succeeded: Bool?; var responses: [ResponseOp]? }
    struct LeaseGrant: Decodable { var ID: String?; var TTL: String?; var error: String? }
    struct KeepAliveResult: Decodable { var ID: String?; var TTL: String? }
    struct KeepAlive: Decodable { var result: KeepAliveResult?; var error: ErrorBody? }
    struct ErrorBody: Decodable { var error: String?; var message: String?; var code: Int? }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// The end of the range holding every key that starts with `prefix`: the prefix with its last
    /// byte that is not 0xFF increased by one (etcd's `clientv3.GetPrefixRangeEnd`).
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]  // every key
    }

    static func int64(_ text: String?, _ field: String) throws -> Int64 {
        guard let text else { return 0 }
        guard let value = Int64(text) else { throw EtcdError.badReply("\(field) is not a 64-bit number: \(text.prefix(40))") }
        return value
    }

    static func keyValue(_ kv: KV) throws -> EtcdKeyValue {
        guard let keyText = kv.key, let keyBytes = Data(base64Encoded: keyText) else {
            throw EtcdError.badReply("a key is missing or not base64")
        }
        let value = try kv.value.map { text -> [UInt8] in
            guard let data = Data(base64Encoded: text) else { throw EtcdError.badReply("a value is not base64") }
            return Array(data)
        } ?? []
        return EtcdKeyValue(
            key: String(decoding: keyBytes, as: UTF8.self), value: value,
            modRevision: try int64(kv.mod_revision, "mod_revision"), createRevision: try int64(kv.create_revision, "create_revision"),
            version: try int64(kv.version, "version"), lease: try int64(kv.lease, "lease"))
    }

    static func compare(_ compare: EtcdCompare) -> [String: Any] {
        switch compare {
        case .version(let key, let value):
            ["key": base64(key), "target": "VERSION", "result": "EQUAL", "version": String(value)]
        case .modRevision(let key, let value):
            ["key": base64(key), "target": "MOD", "result": "EQUAL", "mod_revision": String(value)]
        case .value(let key, let value):
            ["key": base64(key), "target": "VALUE", "result": "EQUAL", "value": base64(value)]
        }
    }

    static func operation(_ operation: EtcdOperation) -> [String: Any] {
        switch operation {
        case .put(let key, let value, let lease):
            var put: [String: Any] = ["key": base64(key), "value": base64(value)]
            if lease != 0 { put["lease"] = String(lease) }
            return ["request_put": put]
        case .delete(let key):
            return ["request_delete_range": ["key": base64(key)]]
        case .get(let key, let prefix):
            var range: [String: Any] = ["key": base64(key)]
            if prefix { range["range_end"] = base64(prefixEnd(key)) }
            return ["request_range": range]
        }
    }
}

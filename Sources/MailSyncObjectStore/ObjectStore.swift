import Foundation

/// Where backups go off the machine: a flat namespace of immutable objects by key.
///
/// Two implementations: ``S3ObjectStore`` (any store speaking the S3 API: AWS S3, MinIO, Ceph,
/// SeaweedFS) and ``DirectoryObjectStore`` (a local or mounted directory; single-machine users).
/// Keys are relative, `/`-separated, made of `[A-Za-z0-9._/-]` (``ObjectKey``); the store adds
/// its own prefix. Every call may block on the network or the disk and never runs on Swift's
/// cooperative pool (implementations hand the work to threads of their own).
///
/// Failure behaviour: every method throws ``ObjectStoreError``, whose text says what failed and
/// what to do; a missing object is not an error for ``get(_:)`` (nil) nor ``delete(_:)``.
public protocol ObjectStore: Sendable {
    /// Stores `data` under `key`, replacing what was there. Returns once the store has it durably
    /// and its checksum was verified by the store.
    func put(_ key: ObjectKey, _ data: Data) async throws
    /// The object's bytes, verified against the checksum recorded at upload; nil when missing.
    func get(_ key: ObjectKey) async throws -> Data?
    /// Every object whose key starts with `prefix` (a key prefix, not only a folder), in key order.
    func list(prefix: String) async throws -> [ObjectInfo]
    /// Deletes the objects; those already missing are ignored.
    func delete(_ keys: [ObjectKey]) async throws
}

/// One object of a listing.
public struct ObjectInfo: Sendable, Equatable {
    public var key: ObjectKey
    /// Bytes stored.
    public var size: Int64

    public init(key: ObjectKey, size: Int64) {
        self.key = key
        self.size = size
    }
}

/// A validated object key: 1 to 512 bytes of `[A-Za-z0-9._/-]`, no leading or trailing `/`, no
/// empty, `.` or `..` segment. The same key is safe as an S3 key and as a relative file path.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) throws {
        guard Self.isValid(value) else { throw ObjectStoreError.invalidKey(value) }
        self.value = value
    }

    public static func isValid(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard (1...512).contains(bytes.count) else { return false }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"):
                continue
            default:
                return false
            }
        }
        return value.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    public var description: String { value }
    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { lhs.value < rhs.value }
}

/// What went wrong talking to the backup store, in words an operator can act on.
public enum ObjectStoreError: Error, Equatable, CustomStringConvertible {
    /// A key outside ``ObjectKey``'s alphabet or shape (a bug of ours, never a caller's input).
    case invalidKey(String)
    /// The store refused our credentials or the bucket's policy (HTTP 401/403).
    case accessDenied(String)
    /// The bucket does not exist (S3 `NoSuchBucket`) or the directory is missing.
    case missingBucket(String)
    /// The store could not be reached or kept failing (5xx, throttling, timeouts) after retries.
    case unavailable(String)
    /// What came back does not match what was stored (checksum, size), or the reply is malformed.
    case corrupt(String)
    /// The local disk failed (directory store).
    case io(String)

    public var description: String {
        switch self {
        case .invalidKey(let key):
            return "invalid object key \(key.debugDescription): keys are 1 to 512 bytes of A-Z a-z 0-9 . _ - /"
        case .accessDenied(let text):
            return "the backup store refused access: \(text); check the access key, the secret and the bucket's policy"
        case .missingBucket(let text):
            return "the backup bucket is missing: \(text); create it or correct the bucket setting"
        case .unavailable(let text):
            return "the backup store is unavailable: \(text); shipping retries on its own, check the endpoint and the network"
        case .corrupt(let text):
            return "a backup object is damaged: \(text)"
        case .io(let text):
            return "the backup directory failed: \(text)"
        }
    }
}

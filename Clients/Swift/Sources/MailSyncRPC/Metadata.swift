/// Key-value pairs sent with a call: credentials, a request id, tracing.
///
/// Keys are ASCII, 1–128 characters of `a-z 0-9 - _ .`, and compared in lower case; values are UTF-8
/// strings. A key may repeat. The transport bounds the total size (`maxMetadataSize`, 8 KiB by
/// default) and rejects a call that exceeds it with `resource exhausted`.
public struct Metadata: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// Trailing metadata on `resource exhausted`: how many milliseconds to wait before retrying.
    public static let retryAfterKey = "retry-after-ms"
    /// Trailing metadata on `moved`: the owner node's RPC address, `host:port` (IPv6 in brackets).
    public static let ownerAddressKey = "mailsync-owner"
    /// Trailing metadata on `moved`: the company (its id) whose owner ``ownerAddressKey`` names.
    public static let ownerCompanyKey = "mailsync-company"

    public typealias Element = (key: String, value: String)

    private var entries: [Entry]

    private struct Entry: Sendable, Hashable {
        var key: String
        var value: String
    }

    public init() { entries = [] }

    public init(dictionaryLiteral elements: (String, String)...) {
        entries = elements.map { Entry(key: $0.0.lowercased(), value: $0.1) }
    }

    /// The well-known key for an API key.
    public static let authorizationKey = "authorization"
    /// The well-known key for the caller's request id (echoed in server logs).
    public static let requestIDKey = "request-id"

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Appends a pair; an existing pair with the same key stays.
    public mutating func add(_ key: String, _ value: String) {
        entries.append(Entry(key: key.lowercased(), value: value))
    }

    /// Replaces every pair with this key by one pair.
    public mutating func set(_ key: String, _ value: String) {
        let lower = key.lowercased()
        entries.removeAll { $0.key == lower }
        entries.append(Entry(key: lower, value: value))
    }

    /// The first value for a key.
    public subscript(key: String) -> String? {
        let lower = key.lowercased()
        return entries.first { $0.key == lower }?.value
    }

    /// Every value for a key, in order.
    public func values(for key: String) -> [String] {
        let lower = key.lowercased()
        return entries.filter { $0.key == lower }.map(\.value)
    }

    /// Bytes the pairs take on the wire (keys and values, without framing).
    public var encodedSize: Int {
        entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
    }

    /// Whether a key is well formed (see the type's documentation).
    public static func isValidKey(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E
        }
    }

    public func makeIterator() -> some IteratorProtocol<Element> {
        entries.lazy.map { (key: $0.key, value: $0.value) }.makeIterator()
    }
}

import MailSyncObjectStore

/// Where one database's replica lives in the store.
///
/// ```
/// <name>/generations/<generation>/manifest.json      GenerationManifest (rewritten after each ship)
/// <name>/generations/<generation>/snapshot.db        the database at the generation's start
/// <name>/generations/<generation>/wal/<seq>-<walIndex>-<offset>-<end>-<shippedAt>.seg
/// ```
/// `generation` is 16 lowercase hex digits: the creation time in milliseconds (12) and 4 random
/// digits, so key order is creation order. In a segment's name, `seq` (8 hex) numbers the
/// generation's segments from 0 without gaps, `walIndex` (8 hex) counts log restarts since the
/// snapshot, `offset` and `end` (16 hex each) are the byte range of the log it holds, and
/// `shippedAt` (16 hex) is the shipping time in milliseconds since 1970. Names sort in shipping
/// order. `name` is the caller's, an ``ObjectKey`` prefix (e.g. `tenants/<uuid>`).
public struct ReplicaLayout: Sendable {
    public let name: String

    /// Throws ``ObjectStoreError/invalidKey(_:)`` when `name` cannot start a key.
    public init(name: String) throws {
        _ = try ObjectKey(name + "/generations")
        self.name = name
    }

    public var generationsPrefix: String { name + "/generations/" }

    public func manifest(_ generation: String) throws -> ObjectKey {
        try ObjectKey("\(generationsPrefix)\(generation)/manifest.json")
    }

    public func snapshot(_ generation: String) throws -> ObjectKey {
        try ObjectKey("\(generationsPrefix)\(generation)/snapshot.db")
    }

    public func segmentsPrefix(_ generation: String) -> String {
        "\(generationsPrefix)\(generation)/wal/"
    }

    public func segment(_ generation: String, _ name: SegmentName) throws -> ObjectKey {
        try ObjectKey(segmentsPrefix(generation) + name.fileName)
    }

    /// The generation of a manifest key under this layout, or `nil` for any other key.
    public func generation(ofManifest key: ObjectKey) -> String? {
        guard key.value.hasPrefix(generationsPrefix), key.value.hasSuffix("/manifest.json") else { return nil }
        let middle = key.value.dropFirst(generationsPrefix.count).dropLast("/manifest.json".count)
        return Self.isGenerationID(String(middle)) ? String(middle) : nil
    }

    static func isGenerationID(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// A new generation id for `milliseconds` since 1970.
    static func newGenerationID(milliseconds: Int64) -> String {
        hex(UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF, digits: 12) + hex(UInt64.random(in: 0...0xFFFF), digits: 4)
    }
}

/// The parts of a segment's object name (see ``ReplicaLayout``).
public struct SegmentName: Hashable, Sendable {
    public var sequence: UInt32
    public var walIndex: UInt32
    public var offset: UInt64
    public var end: UInt64
    public var shippedAtMilliseconds: Int64

    public var fileName: String {
        "\(hex(UInt64(sequence), digits: 8))-\(hex(UInt64(walIndex), digits: 8))-\(hex(offset, digits: 16))-\(hex(end, digits: 16))-\(hex(UInt64(bitPattern: shippedAtMilliseconds), digits: 16)).seg"
    }

    public init(sequence: UInt32, walIndex: UInt32, offset: UInt64, end: UInt64, shippedAtMilliseconds: Int64) {
        self.sequence = sequence
        self.walIndex = walIndex
        self.offset = offset
        self.end = end
        self.shippedAtMilliseconds = shippedAtMilliseconds
    }

    /// Parses the last path component of a key; `nil` for anything not of this shape.
    public init?(fileName: Substring) {
        guard fileName.hasSuffix(".seg") else { return nil }
        let parts = fileName.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 5, parts.map(\.count) == [8, 8, 16, 16, 16],
            let sequence = UInt32(parts[0], radix: 16), let walIndex = UInt32(parts[1], radix: 16),
            let offset = UInt64(parts[2], radix: 16), let end = UInt64(parts[3], radix: 16),
            let time = UInt64(parts[4], radix: 16), offset < end
        else { return nil }
        self.init(sequence: sequence, walIndex: walIndex, offset: offset, end: end, shippedAtMilliseconds: Int64(bitPattern: time))
    }
}

func hex(_ value: UInt64, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

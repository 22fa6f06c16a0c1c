import Foundation

/// A node's name in the fleet: 1 to 63 lowercase letters, digits and `-`, starting with a letter
/// or digit (it is part of etcd keys and of metric labels).
public struct NodeID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), bytes[0] != UInt8(ascii: "-"),
            bytes.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") })
        else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = NodeID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a node id: \(text.prefix(70))"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What a live node publishes under its lease.
public struct NodeRecord: Sendable, Equatable, Codable {
    public var node: NodeID
    /// Where callers reach its RPC port (`host:port`), given in redirects.
    public var address: String
    /// Mailboxes it serves (placement's load measure), as of its last report.
    public var mailboxes: Int
    /// How far its furthest-behind database's shipping to the bucket is, in seconds, as of its
    /// last report (nil: it ships nothing, or has not said).
    public var shippingLagSeconds: Double?

    public init(node: NodeID, address: String, mailboxes: Int = 0, shippingLagSeconds: Double? = nil) {
        self.node = node
        self.address = address
        self.mailboxes = mailboxes
        self.shippingLagSeconds = shippingLagSeconds
    }
}

/// Which node owns a company. `epoch` grows by one with every change of owner, so a move or a
/// takeover is a compare-and-swap on the record a node read, and a node can tell an old
/// placement from the current one.
public struct PlacementRecord: Sendable, Equatable, Codable {
    public var node: NodeID
    public var epoch: Int64

    public init(node: NodeID, epoch: Int64) {
        self.node = node
        self.epoch = epoch
    }
}

/// An operator's request to move a company to another node (`mailsync cluster move`). The
/// company's owner drains it, ships its last writes, flips the placement and deletes the request;
/// when it cannot, it writes `error` into the request and leaves it (the command shows it).
public struct MoveRequest: Sendable, Equatable, Codable {
    public var to: NodeID
    /// Tells one request from the next for the same company.
    public var id: String
    public var error: String?

    public init(to: NodeID, id: String, error: String? = nil) {
        self.to = to
        self.id = id
        self.error = error
    }
}

public enum ClusterJSON {
    public static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(value))
    }

    /// Decodes a record read from etcd; a record that does not decode is an error naming the key
    /// (never skipped in silence: it would hide a company or a node).
    public static func decode<Value: Decodable>(_ type: Value.Type, _ kv: EtcdKeyValue) throws -> Value {
        guard kv.value.count <= 64 * 1024 else { throw EtcdError.badReply("\(kv.key) holds \(kv.value.count) bytes, more than a record's 64 KiB") }
        do {
            return try JSONDecoder().decode(type, from: Data(kv.value))
        } catch {
            throw EtcdError.badReply("\(kv.key) does not hold a \(type): \(error)")
        }
    }
}

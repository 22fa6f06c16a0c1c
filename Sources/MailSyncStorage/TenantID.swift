import Foundation

/// A tenant's identity: a UUID made by the server. The only thing tenant paths are built from.
///
/// Its path form is the UUID in lowercase (`3f2c…-…`), so two spellings of one id never name two
/// directories. ``init(validating:)`` accepts exactly the 36-character `8-4-4-4-12` hexadecimal
/// form and nothing else (no braces, no `urn:uuid:`, no whitespace, no path characters), so a
/// string from outside can never turn into `..` or a separator.
public struct TenantID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let uuid: UUID

    public init(_ uuid: UUID) {
        self.uuid = uuid
    }

    /// A new random (version 4) tenant id.
    public static func random() -> TenantID {
        TenantID(UUID())
    }

    /// Parses the canonical form; `nil` for anything else.
    public init?(validating text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return nil }
        for (index, byte) in bytes.enumerated() {
            switch index {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return nil }
            default:
                let isHex = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
                guard isHex else { return nil }
            }
        }
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The lowercase canonical form, used as the directory name and in file stamps.
    public var pathComponent: String { uuid.uuidString.lowercased() }

    public var description: String { pathComponent }

    public static func < (lhs: TenantID, rhs: TenantID) -> Bool { lhs.pathComponent < rhs.pathComponent }
}

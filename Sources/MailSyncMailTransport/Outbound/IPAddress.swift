#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address, as the outbound policy judges it.
///
/// Parsed only from the canonical text forms (`inet_pton`: dotted quad, RFC 4291 IPv6);
/// ``parseLegacyIPv4(_:)`` reads the other forms the C library accepts (`127.1`, `2130706433`,
/// `0x7f000001`, `0177.0.0.1`), which the policy must recognise as numbers, not host names.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// The 16 bytes in network order, as two big-endian halves.
    case v6(high: UInt64, low: UInt64)

    /// A canonical IPv4 or IPv6 literal (brackets around IPv6 allowed); nil for anything else.
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        guard !text.isEmpty, text.utf8.count <= 64, !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        self = withUnsafeBytes(of: &v6) { IPAddress(bytes16: Array($0)) }
    }

    /// From 4 or 16 bytes in network order; nil for another count.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: self = IPAddress(bytes16: bytes)
        default: return nil
        }
    }

    private init(bytes16 bytes: [UInt8]) {
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self = .v6(high: high, low: low)
    }

    /// Any text the C library's `inet_aton` takes as an IPv4 address (one to four parts, decimal,
    /// octal with a leading 0, hex with 0x): the forms a resolver turns into an address without
    /// asking DNS. Nil when it is not such a number.
    public static func parseLegacyIPv4(_ text: some StringProtocol) -> IPAddress? {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 64, text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0 }) else { return nil }
        var address = in_addr()
        guard inet_aton(text, &address) != 0 else { return nil }
        return .v4(UInt32(bigEndian: address.s_addr))
    }

    /// The IPv4 address an IPv6 address carries (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
    /// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`), judged as that IPv4 address.
    public var embeddedIPv4: IPAddress? {
        guard case .v6(let high, let low) = self else { return nil }
        if high == 0, low >> 32 == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: low)) }
        if high == 0, low >> 32 == 0, low > 1 { return .v4(UInt32(truncatingIfNeeded: low)) }
        if high == 0x0064_FF9B_0000_0000, low >> 32 == 0 { return .v4(UInt32(truncatingIfNeeded: low)) }
        return nil
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6:
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { buffer in
                for (index, byte) in bytes.enumerated() { buffer[index] = byte }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count)) != nil else { return "?" }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The address's bytes in network order (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value): return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }
}

/// A CIDR range (`10.0.0.0/8`, `fd00::/8`; a bare address is a /32 or /128).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// `address/length` or a bare address (canonical forms only). Nil for anything else,
    /// including a length out of range for the family.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maximum = if case .v4 = address { 32 } else { 128 }
        var length = maximum
        if parts.count == 2 {
            guard parts[1].count <= 3, let value = Int(parts[1]), (0...maximum).contains(value) else { return nil }
            length = value
        }
        self.init(address, prefixLength: length)
    }

    /// The range of `prefixLength` leading bits of `address` (the rest is ignored).
    public init(_ address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Whether `candidate` is in the range (an address of the other family never is).
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let base), .v4(let value)):
            guard prefixLength > 0 else { return true }
            let mask = UInt32.max << UInt32(32 - prefixLength)
            return base & mask == value & mask
        case (.v6(let baseHigh, let baseLow), .v6(let high, let low)):
            if prefixLength <= 64 {
                guard prefixLength > 0 else { return true }
                let mask = UInt64.max << UInt64(64 - prefixLength)
                return baseHigh & mask == high & mask
            }
            let mask = prefixLength == 128 ? UInt64.max : UInt64.max << UInt64(128 - prefixLength)
            return baseHigh == high && baseLow & mask == low & mask
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

extension IPAddress {
    /// Why this address is not a public mail server's, or nil when it is a public unicast address.
    ///
    /// Refused: unspecified and "this network" (0.0.0.0/8, ::), loopback (127.0.0.0/8, ::1),
    /// private (10/8, 172.16/12, 192.168/16), CGNAT (100.64/10), link-local (169.254/16, fe80::/10:
    /// cloud metadata endpoints live here), IETF protocol assignments (192.0.0/24), documentation
    /// and benchmarking ranges, multicast (224/4, ff00::/8), reserved (240/4, broadcast), unique
    /// local (fc00::/7), deprecated site-local (fec0::/10); an IPv6 address that carries an IPv4
    /// address (mapped, compatible, NAT64) is judged as that IPv4 address.
    public var specialPurpose: String? {
        if let embedded = embeddedIPv4 { return embedded.specialPurpose }
        for (network, name) in Self.specialRanges where network.contains(self) { return name }
        return nil
    }

    private static let specialRanges: [(IPNetwork, String)] = [
        ("0.0.0.0/8", "unspecified"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "shared (CGNAT)"),
        ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"), ("192.0.2.0/24", "documentation"), ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"), ("198.18.0.0/15", "benchmarking"), ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"), ("::1/128", "loopback"), ("fc00::/7", "unique local"), ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"), ("ff00::/8", "multicast"), ("2001:db8::/32", "documentation"),
        ("100::/64", "discard-only"), ("2001::/23", "IETF protocol assignment"),
    ].map { (IPNetwork($0.0)!, $0.1) }
}

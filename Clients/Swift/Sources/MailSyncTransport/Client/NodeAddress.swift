/// A fleet node's RPC address, as a `moved` status names the owner: `host:port`, with an IPv6 host
/// in brackets (`[2001:db8::7]:7420`).
///
/// Parsing is strict, because the text comes from the network and decides where the client
/// connects next: a host is a DNS name or IPv4 address (1–253 characters of `A-Z a-z 0-9 - .`, not
/// starting with `-` or `.`) or a bracketed IPv6 address (2–45 characters of hex digits, `:` and
/// `.`, with at least one `:`; no zone id); the port is 1–5 decimal digits, 1–65535. Anything else,
/// including surrounding spaces, is refused with a reason.
public struct NodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host to connect to, without brackets (`::1`, not `[::1]`).
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Why a text is not an address; `description` says which rule it breaks.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
    }

    /// Parses `host:port` (IPv6: `[host]:port`).
    ///
    /// - Throws: ``ParseError`` naming the rule the text breaks.
    public init(parsing text: String) throws(ParseError) {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { throw ParseError(description: "it is empty") }
        guard utf8.count <= 300 else { throw ParseError(description: "it is longer than 300 bytes") }
        let hostBytes: ArraySlice<UInt8>
        let portBytes: ArraySlice<UInt8>
        if utf8[0] == UInt8(ascii: "[") {
            guard let close = utf8.firstIndex(of: UInt8(ascii: "]")) else {
                throw ParseError(description: "the '[' of an IPv6 host has no ']'")
            }
            guard close + 1 < utf8.count, utf8[close + 1] == UInt8(ascii: ":") else {
                throw ParseError(description: "no ':port' follows the bracketed host")
            }
            hostBytes = utf8[1..<close]
            portBytes = utf8[(close + 2)...]
            try Self.checkIPv6(hostBytes)
        } else {
            guard let colon = utf8.lastIndex(of: UInt8(ascii: ":")) else {
                throw ParseError(description: "it has no ':port'")
            }
            hostBytes = utf8[..<colon]
            portBytes = utf8[(colon + 1)...]
            if hostBytes.contains(UInt8(ascii: ":")) {
                throw ParseError(description: "an IPv6 host must be in brackets, as in [::1]:7420")
            }
            try Self.checkName(hostBytes)
        }
        self.host = String(decoding: hostBytes, as: UTF8.self)
        self.port = try Self.parsePort(portBytes)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private static func checkName(_ bytes: ArraySlice<UInt8>) throws(ParseError) {
        guard (1...253).contains(bytes.count) else {
            throw ParseError(description: bytes.isEmpty ? "the host is empty" : "the host is longer than 253 characters")
        }
        let valid = bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
        guard valid else {
            throw ParseError(description: "the host has a character other than A-Z a-z 0-9 - .")
        }
        guard let first = bytes.first, isAlphanumeric(first) else {
            throw ParseError(description: "the host starts with '-' or '.'")
        }
    }

    private static func checkIPv6(_ bytes: ArraySlice<UInt8>) throws(ParseError) {
        guard (2...45).contains(bytes.count), bytes.contains(UInt8(ascii: ":")) else {
            throw ParseError(description: "the bracketed host is not an IPv6 address")
        }
        let valid = bytes.allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
        guard valid else {
            throw ParseError(description: "the bracketed host has a character other than hex digits, ':' and '.'")
        }
    }

    private static func parsePort(_ bytes: ArraySlice<UInt8>) throws(ParseError) -> Int {
        guard (1...5).contains(bytes.count), bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw ParseError(description: "the port is not 1 to 5 decimal digits")
        }
        let value = bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard (1...65535).contains(value) else { throw ParseError(description: "the port \(value) is not 1–65535") }
        return value
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}

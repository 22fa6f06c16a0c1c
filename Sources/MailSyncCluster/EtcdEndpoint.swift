/// One etcd member's client address, `http://HOST:PORT`.
///
/// Only plain `http` for now: etcd's client port is expected on a private network or loopback
/// (TLS to etcd is not built yet; ``init(parsing:)`` refuses `https` rather than pretend).
public struct EtcdEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `http://HOST:PORT` (or `HOST:PORT`). Throws ``EtcdError/badEndpoint(_:reason:)``
    /// naming what is wrong.
    public init(parsing text: String) throws {
        var rest = Substring(text)
        if rest.hasPrefix("https://") {
            throw EtcdError.badEndpoint(text, reason: "TLS to etcd is not supported yet: use http:// on a private network")
        }
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), colon != rest.startIndex else {
            throw EtcdError.badEndpoint(text, reason: "expected http://HOST:PORT")
        }
        let host = String(rest[..<colon])
        guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
            throw EtcdError.badEndpoint(text, reason: "the port must be a number from 1 to 65535")
        }
        guard !host.isEmpty, host.utf8.count <= 253, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
            throw EtcdError.badEndpoint(text, reason: "the host must be a name or an IPv4 address")
        }
        self.init(host: host, port: port)
    }

    public var description: String { "http://\(host):\(port)" }
}

import Foundation

/// Where the server may connect on a tenant's behalf: the trust boundary to the network behind it.
///
/// Any company user can type a mail server's host, so without a policy the server is a proxy into
/// its own network (cloud metadata at 169.254.169.254, databases on 10.x, admin ports on
/// loopback). The policy is applied to the address libcurl is about to connect to, after DNS
/// (``OutboundGate``): numeric spellings (`2130706433`, `0x7f000001`, `127.1`) and names that
/// resolve to private addresses (including DNS rebinding) are judged by the address itself.
///
/// Default: every public unicast address on any port; refused are the special-purpose ranges of
/// ``IPAddress/specialPurpose`` (loopback, private, link-local, CGNAT, unique local, multicast,
/// unspecified, IPv4-mapped forms of those…). Operators add exceptions: networks
/// (``allowedNetworks``, e.g. an on-premises Exchange in 10.0.0.0/8) and host:port pairs
/// (``allowedEndpoints``). Optionally only the mail ports are allowed (``mailPortsOnly``).
///
/// Plain text (no TLS) sends the mailbox password in clear: it is refused unless
/// ``allowPlaintext`` is set, except to destinations the operator allowed explicitly (a network or
/// an endpoint), which are the operator's own.
public struct OutboundPolicy: Sendable, Hashable {
    /// A host:port the operator allows whatever its address and port (`exchange.corp:993`,
    /// `127.0.0.1:1143`, `[::1]:25`). The host matches the name as the mailbox gives it
    /// (case-insensitive) or, for an address literal, the address connected to.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public let host: String
        public let port: Int

        /// `host:port`, IPv6 in brackets. Nil when malformed.
        public init?(_ text: some StringProtocol) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty, host.utf8.count <= 253, host.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                return nil
            }
            self.host = host.lowercased()
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Networks allowed in addition to public addresses. Default none.
    public var allowedNetworks: [IPNetwork] = []
    /// Host:port pairs allowed whatever their address and port. Default none.
    public var allowedEndpoints: [Endpoint] = []
    /// Only the mail ports (IMAP 143/993, submission 587/465, SMTP 25) outside ``allowedEndpoints``.
    /// Default false.
    public var mailPortsOnly = false
    /// Plain-text IMAP/SMTP to any destination. Default false: only to destinations the operator
    /// allowed (``allowedNetworks``, ``allowedEndpoints``).
    public var allowPlaintext = false

    /// The mail ports ``mailPortsOnly`` keeps.
    public static let mailPorts: Set<Int> = [25, 143, 465, 587, 993]

    /// The default policy: public addresses only, TLS required.
    public static let standard = OutboundPolicy()

    public init(allowedNetworks: [IPNetwork] = [], allowedEndpoints: [Endpoint] = [], mailPortsOnly: Bool = false, allowPlaintext: Bool = false) {
        self.allowedNetworks = allowedNetworks
        self.allowedEndpoints = allowedEndpoints
        self.mailPortsOnly = mailPortsOnly
        self.allowPlaintext = allowPlaintext
    }

    /// Reads operator entries: `a.b.c.d/len`, `v6::/len` or a bare address (a network), else
    /// `host:port` (an endpoint).
    ///
    /// - Throws: ``OutboundPolicyError`` naming the first entry that is neither.
    public init(allowing entries: [String], mailPortsOnly: Bool = false, allowPlaintext: Bool = false) throws(OutboundPolicyError) {
        self.init(mailPortsOnly: mailPortsOnly, allowPlaintext: allowPlaintext)
        for entry in entries {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if let network = IPNetwork(trimmed) {
                allowedNetworks.append(network)
            } else if let endpoint = Endpoint(trimmed) {
                allowedEndpoints.append(endpoint)
            } else {
                throw OutboundPolicyError(entry: entry)
            }
        }
    }

    /// A refusal: what the operator's log gets (the address and why); callers only learn that
    /// the policy refused.
    public struct Refusal: Sendable, Hashable, CustomStringConvertible {
        public let host: String
        public let address: IPAddress?
        public let port: Int
        public let reason: String

        public var description: String {
            let target = address.map { "\(host) (\($0)) port \(port)" } ?? "\(host) port \(port)"
            return "\(target): \(reason)"
        }
    }

    /// Judges a connection to `address`:`port`, reached through the name `host` (as the mailbox
    /// or the operator's configuration gives it). `plaintext`: the connection will carry a login
    /// without TLS. Nil: allowed.
    public func refusal(host: String, address: IPAddress, port: Int, plaintext: Bool) -> Refusal? {
        if endpointAllowed(host: host, address: address, port: port) { return nil }
        let networkAllowed = allowedNetworks.contains { $0.contains(address) || address.embeddedIPv4.map($0.contains) == true }
        if !networkAllowed, let special = address.specialPurpose {
            return Refusal(host: host, address: address, port: port, reason: "\(special) address, not allowed by outboundAllow")
        }
        if mailPortsOnly, !Self.mailPorts.contains(port) {
            return Refusal(host: host, address: address, port: port, reason: "port \(port) is not a mail port (outboundMailPortsOnly)")
        }
        if plaintext, !allowPlaintext, !networkAllowed {
            return Refusal(host: host, address: address, port: port, reason: "plain text (no TLS) to a destination outboundAllow does not name (allowPlaintextMail is off)")
        }
        return nil
    }

    /// What can be judged before any DNS look-up, from the host as typed: an address literal in
    /// any spelling the resolver accepts (judged as that address), `localhost` and `*.localhost`
    /// (RFC 6761: always loopback), and plain text to a name no exception can cover. Names are
    /// otherwise judged at connect time, by their address. Nil: not refused yet.
    public func refusalBeforeResolving(host: String, port: Int, plaintext: Bool) -> Refusal? {
        let lowered = host.lowercased()
        if let literal = IPAddress(lowered) ?? IPAddress.parseLegacyIPv4(lowered) {
            return refusal(host: host, address: literal, port: port, plaintext: plaintext)
        }
        if endpointAllowed(host: lowered, address: nil, port: port) { return nil }
        if lowered == "localhost" || lowered.hasSuffix(".localhost") {
            if !allowedNetworks.contains(where: { $0.contains(.v4(0x7F00_0001)) }) {
                return Refusal(host: host, address: nil, port: port, reason: "loopback name, not allowed by outboundAllow")
            }
        }
        if mailPortsOnly, !Self.mailPorts.contains(port) {
            return Refusal(host: host, address: nil, port: port, reason: "port \(port) is not a mail port (outboundMailPortsOnly)")
        }
        if plaintext, !allowPlaintext, allowedNetworks.isEmpty {
            return Refusal(host: host, address: nil, port: port, reason: "plain text (no TLS) and allowPlaintextMail is off")
        }
        return nil
    }

    private func endpointAllowed(host: String, address: IPAddress?, port: Int) -> Bool {
        let lowered = host.lowercased()
        return allowedEndpoints.contains { endpoint in
            guard endpoint.port == port else { return false }
            if endpoint.host == lowered { return true }
            if let address, let literal = IPAddress(endpoint.host) { return literal == address }
            return false
        }
    }
}

/// An `outboundAllow` entry that is neither a network nor a host:port.
public struct OutboundPolicyError: Error, Sendable, CustomStringConvertible {
    public let entry: String
    public var description: String {
        "'\(entry.prefix(100))' is neither a network (10.0.0.0/8, 127.0.0.1, fd00::/8) nor a host:port (mail.example.com:993)"
    }
}

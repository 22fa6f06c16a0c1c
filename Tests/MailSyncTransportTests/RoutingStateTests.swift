import MailSyncRPC
@testable import MailSyncTransport
import Testing

/// The routing client's rules as values: which owner addresses are followed, what is cached for a
/// key, which connection makes room, and how many redirects a call may take.
@Suite("Routing state")
struct RoutingStateTests {
    @Test(
        "addresses that parse",
        arguments: [
            ("127.0.0.1:7420", "127.0.0.1", 7420), ("node-a.fleet.example:1", "node-a.fleet.example", 1),
            ("[::1]:65535", "::1", 65535), ("[2001:db8::7]:7420", "2001:db8::7", 7420),
            ("[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80), ("NODE9:00080", "NODE9", 80),
        ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try NodeAddress(parsing: text)
        #expect(address == NodeAddress(host: host, port: port))
        #expect(try NodeAddress(parsing: address.description) == address)
    }

    @Test(
        "addresses that do not parse, each with its reason",
        arguments: [
            ("", "empty"), ("host", "no ':port'"), (":7420", "host is empty"), ("host:", "port"),
            ("host:0", "not 1–65535"), ("host:65536", "not 1–65535"), ("host:123456", "1 to 5"), ("host:-1", "1 to 5"),
            (" host:1", "character"), ("host :1", "character"), ("host:1 ", "1 to 5"), ("ho_st:1", "character"),
            ("-host:1", "starts with"), (".host:1", "starts with"), ("::1:7420", "brackets"), ("[::1]", "':port'"),
            ("[::1:7420", "no ']'"), ("[]:1", "not an IPv6"), ("[10.0.0.1]:1", "not an IPv6"),
            ("[fe80::1%eth0]:1", "hex digits"), ("héllo:1", "character"), (String(repeating: "a", count: 301), "300"),
            (String(repeating: "a", count: 254) + ":1", "253"),
        ])
    func refuses(text: String, reason: String) {
        let error = #expect(throws: NodeAddress.ParseError.self) { try NodeAddress(parsing: text) }
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }

    @Test("a tenant key is routed to its company's owner, which follows the company when it moves")
    func tenantKey() {
        var cache = OwnerCache()
        let a = NodeAddress(host: "a", port: 1)
        let b = NodeAddress(host: "b", port: 1)
        #expect(cache.owner(forKey: "k") == nil)
        cache.learned(Redirect(owner: a, company: "acme"), key: "k")
        #expect(cache.owner(forKey: "k")?.owner == a)
        #expect(cache.owner(forKey: "k")?.company == "acme")
        #expect(cache.owner(forKey: "other") == nil)
        #expect(cache.owner(forKey: nil) == nil)
        cache.learned(Redirect(owner: b, company: "acme"), key: nil)  // another caller saw acme move
        #expect(cache.owner(forKey: "k")?.owner == b)
        cache.ownerUnreachable(a, company: "acme")  // stale: b is the owner now
        #expect(cache.owner(forKey: "k")?.owner == b)
        cache.ownerUnreachable(b, company: "acme")
        #expect(cache.owner(forKey: "k") == nil)
        cache.learned(Redirect(owner: a, company: "acme"), key: "k")
        #expect(cache.owner(forKey: "k")?.owner == a)
    }

    @Test("a key whose redirects name two companies is not routed by key any more")
    func operatorKey() {
        var cache = OwnerCache()
        let a = NodeAddress(host: "a", port: 1)
        cache.learned(Redirect(owner: a, company: "acme"), key: "op")
        cache.learned(Redirect(owner: a, company: "globex"), key: "op")
        #expect(cache.keys["op"] == .manyCompanies)
        #expect(cache.owner(forKey: "op") == nil)
        cache.learned(Redirect(owner: a, company: "acme"), key: "op")
        #expect(cache.owner(forKey: "op") == nil, "never routed by key again")
        #expect(cache.owners == ["acme": a, "globex": a])
    }

    @Test("a redirect without a company is not cached; the maps stay within their capacity")
    func boundsAndNoCompany() {
        var cache = OwnerCache(capacity: 3)
        cache.learned(Redirect(owner: NodeAddress(host: "a", port: 1), company: nil), key: "k")
        #expect(cache.keys.isEmpty && cache.owners.isEmpty)
        for index in 0..<10 {
            cache.learned(Redirect(owner: NodeAddress(host: "n\(index)", port: 1), company: "c\(index)"), key: "k\(index)")
            #expect(cache.keys.count <= 3 && cache.owners.count <= 3)
        }
        #expect(cache.owner(forKey: "k9")?.owner == NodeAddress(host: "n9", port: 1))
    }

    @Test("the pool makes one transport per address and closes the least recently used to make room")
    func pool() {
        final class Fake {}
        var pool = TransportPool<Fake>(capacity: 2)
        let addresses = (1...3).map { NodeAddress(host: "n\($0)", port: 1) }
        let first = pool.transport(for: addresses[0]) { Fake() }!
        let second = pool.transport(for: addresses[1]) { Fake() }!
        #expect(first.evicted == nil && second.evicted == nil)
        let again = pool.transport(for: addresses[0]) { Fake() }!  // now the most recently used
        #expect(again.transport === first.transport && again.evicted == nil)
        let third = pool.transport(for: addresses[2]) { Fake() }!
        #expect(third.evicted === second.transport)
        #expect(pool.count == 2)
        let notRemoved = pool.remove(addresses[0], if: second.transport)
        #expect(notRemoved == nil, "another transport: kept")
        let removed = pool.remove(addresses[0], if: first.transport)
        #expect(removed === first.transport)
        let closed = pool.close()
        #expect(closed.count == 1 && closed[0] === third.transport)
        let afterClose = pool.transport(for: addresses[0]) { Fake() }
        #expect(afterClose == nil)
    }

    @Test("a call may take maxHops redirects; one more fails naming every node")
    func hops() throws {
        let method = MethodDescriptor(service: "test.v1.Echo", method: "Echo", kind: .unary, allowedRoles: [], isIdempotent: true)
        let a = NodeAddress(host: "a", port: 1)
        let b = NodeAddress(host: "b", port: 2)
        var path = RedirectPath(start: a, maxHops: 4)
        for owner in [b, a, b, a] { try path.follow(to: owner, company: "acme", method: method) }
        let error = #expect(throws: RPCError.self) { try path.follow(to: b, company: "acme", method: method) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("redirected 4 times") == true)
        #expect(error?.message.contains("a:1 → b:2 → a:1 → b:2 → a:1 → b:2") == true)
        #expect(error?.message.contains("company 'acme'") == true)
    }

    @Test("a redirected call gets what is left of its timeout, and fails when nothing is")
    func deadlineOverRedirects() throws {
        let transport = RoutingClientTransport(host: "127.0.0.1", port: 1)  // never connects here
        defer { transport.close() }
        let method = MethodDescriptor(service: "test.v1.Echo", method: "Echo", kind: .unary, allowedRoles: [], isIdempotent: true)
        let twoSecondsAgo = ContinuousClock.now - .seconds(2)
        let left = try transport.remaining(CallOptions(timeout: .seconds(5)), since: twoSecondsAgo, method: method).timeout
        #expect(left.map { $0 > .milliseconds(2_500) && $0 <= .seconds(3) } == true, "\(String(describing: left))")
        #expect(try transport.remaining(CallOptions(), since: twoSecondsAgo, method: method).timeout == nil)
        let error = #expect(throws: RPCError.self) {
            try transport.remaining(CallOptions(timeout: .seconds(1)), since: twoSecondsAgo, method: method)
        }
        #expect(error?.code == .deadlineExceeded)
    }

    @Test("a moved status's trailers: the owner is required, the company optional")
    func redirectTrailers() throws {
        let method = MethodDescriptor(service: "test.v1.Echo", method: "Echo", kind: .unary, allowedRoles: [], isIdempotent: true)
        let node = NodeAddress(host: "a", port: 1)
        let full = try Redirect(
            RPCError(.moved, "m", trailers: [Metadata.ownerAddressKey: "[::1]:9", Metadata.ownerCompanyKey: "acme"]),
            from: node, method: method)
        #expect(full == Redirect(owner: NodeAddress(host: "::1", port: 9), company: "acme"))
        let noCompany = try Redirect(RPCError(.moved, "m", trailers: [Metadata.ownerAddressKey: "b:2"]), from: node, method: method)
        #expect(noCompany.company == nil)
        let longCompany = String(repeating: "c", count: 129)
        let tooLong = try Redirect(
            RPCError(.moved, "m", trailers: [Metadata.ownerAddressKey: "b:2", Metadata.ownerCompanyKey: longCompany]),
            from: node, method: method)
        #expect(tooLong.company == nil)
        #expect(throws: RPCError.self) { try Redirect(RPCError(.moved, "m"), from: node, method: method) }
    }
}

import Testing
@testable import MailSyncMailTransport
import MailSyncErrors
import TestSupport

@Suite("Outbound policy: which addresses the server may connect to")
struct OutboundPolicyTests {
    /// The issue's list, and more spellings of the same places: all refused before any look-up.
    @Test("special-purpose addresses in every spelling are refused before resolving", arguments: [
        "169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1", "172.31.255.255", "127.0.0.1", "0.0.0.0", "localhost",
        "LOCALHOST", "db.localhost", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.1", "100.64.0.1", "224.0.0.1",
        "255.255.255.255", "::1", "[::1]", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1", "fd00::1", "fc00::1",
        "ff02::1", "64:ff9b::a00:1", "::ffff:169.254.169.254", "192.0.2.1", "198.18.0.1",
    ])
    func refusedLiterals(host: String) {
        let refusal = OutboundPolicy.standard.refusalBeforeResolving(host: host, port: 993, plaintext: false)
        #expect(refusal != nil, "\(host) was not refused")
    }

    @Test("public addresses and names pass the pre-check", arguments: ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1", "imap.gmail.com", "metadata.google.internal"])
    func publicPasses(host: String) {
        #expect(OutboundPolicy.standard.refusalBeforeResolving(host: host, port: 993, plaintext: false) == nil)
    }

    @Test("a name is judged by the address it resolves to (DNS rebinding, cloud metadata)")
    func resolvedAddressDecides() throws {
        let policy = OutboundPolicy.standard
        #expect(policy.refusal(host: "metadata.google.internal", address: try #require(IPAddress("169.254.169.254")), port: 80, plaintext: false) != nil)
        #expect(policy.refusal(host: "mail.example.com", address: try #require(IPAddress("127.0.0.1")), port: 993, plaintext: false) != nil)
        #expect(policy.refusal(host: "mail.example.com", address: try #require(IPAddress("::ffff:192.168.0.1")), port: 993, plaintext: false) != nil)
        #expect(policy.refusal(host: "mail.example.com", address: try #require(IPAddress("93.184.216.34")), port: 993, plaintext: false) == nil)
    }

    @Test("operator networks and endpoints are exceptions; the rest stays refused")
    func exceptions() throws {
        let policy = try OutboundPolicy(allowing: ["10.0.0.0/8", "127.0.0.1", "exchange.corp:993", "[fd00::5]:143"])
        let ten = try #require(IPAddress("10.20.30.40"))
        #expect(policy.refusal(host: "mail.corp", address: ten, port: 993, plaintext: false) == nil)
        #expect(policy.refusal(host: "x", address: try #require(IPAddress("127.0.0.1")), port: 1143, plaintext: true) == nil)
        #expect(policy.refusal(host: "x", address: try #require(IPAddress("127.0.0.2")), port: 1143, plaintext: false) != nil)
        #expect(policy.refusal(host: "x", address: try #require(IPAddress("192.168.0.1")), port: 993, plaintext: false) != nil)
        // The endpoint: the name as typed, on its port only.
        let private172 = try #require(IPAddress("172.20.0.9"))
        #expect(policy.refusal(host: "Exchange.Corp", address: private172, port: 993, plaintext: false) == nil)
        #expect(policy.refusal(host: "exchange.corp", address: private172, port: 143, plaintext: false) != nil)
        #expect(policy.refusal(host: "anything", address: try #require(IPAddress("fd00::5")), port: 143, plaintext: false) == nil)
        #expect(policy.refusal(host: "anything", address: try #require(IPAddress("fd00::6")), port: 143, plaintext: false) != nil)
        #expect(policy.refusalBeforeResolving(host: "localhost", port: 143, plaintext: false) == nil)  // 127.0.0.1 is allowed
    }

    @Test("mail ports only, when the operator says so")
    func mailPorts() throws {
        let policy = OutboundPolicy(mailPortsOnly: true)
        let address = try #require(IPAddress("93.184.216.34"))
        for port in [25, 143, 465, 587, 993] { #expect(policy.refusal(host: "m", address: address, port: port, plaintext: false) == nil) }
        for port in [22, 80, 3306, 6379, 1143] { #expect(policy.refusal(host: "m", address: address, port: port, plaintext: false) != nil) }
        #expect(policy.refusalBeforeResolving(host: "imap.example.com", port: 22, plaintext: false) != nil)
    }

    @Test("plain text only where the operator allowed it")
    func plaintext() throws {
        let address = try #require(IPAddress("93.184.216.34"))
        #expect(OutboundPolicy.standard.refusal(host: "m", address: address, port: 143, plaintext: true) != nil)
        #expect(OutboundPolicy.standard.refusalBeforeResolving(host: "imap.example.com", port: 143, plaintext: true) != nil)
        #expect(OutboundPolicy(allowPlaintext: true).refusal(host: "m", address: address, port: 143, plaintext: true) == nil)
        let allowed = try OutboundPolicy(allowing: ["93.184.216.0/24"])
        #expect(allowed.refusal(host: "m", address: address, port: 143, plaintext: true) == nil)
        #expect(allowed.refusalBeforeResolving(host: "imap.example.com", port: 143, plaintext: true) == nil)  // may resolve into the range
    }

    @Test("operator entries that are neither a network nor a host:port are named", arguments: ["mail.example.com", "10.0.0.0/33", "::1/129", "host:0", "host:70000", ":993", "a b:993"])
    func badEntries(entry: String) {
        #expect(throws: OutboundPolicyError.self) { try OutboundPolicy(allowing: [entry]) }
    }

    @Test("CIDR edges")
    func networkEdges() throws {
        let network = try #require(IPNetwork("172.16.0.0/12"))
        #expect(network.contains(try #require(IPAddress("172.16.0.0"))))
        #expect(network.contains(try #require(IPAddress("172.31.255.255"))))
        #expect(!network.contains(try #require(IPAddress("172.32.0.0"))))
        #expect(!network.contains(try #require(IPAddress("::ffff:172.16.0.1"))))  // the family decides; the policy unwraps mapped forms
        let v6 = try #require(IPNetwork("fe80::/10"))
        #expect(v6.contains(try #require(IPAddress("febf:ffff::1"))))
        #expect(!v6.contains(try #require(IPAddress("fec0::1"))))
        #expect(try #require(IPNetwork("0.0.0.0/0")).contains(try #require(IPAddress("8.8.8.8"))))
        #expect(try #require(IPNetwork("2001:db8::1/128")).contains(try #require(IPAddress("2001:db8::1"))))
        #expect(IPAddress("::ffff:127.0.0.1")?.embeddedIPv4 == IPAddress("127.0.0.1"))
        #expect(IPAddress.parseLegacyIPv4("0x7f000001") == IPAddress("127.0.0.1"))
        #expect(IPAddress.parseLegacyIPv4("imap.example.com") == nil)
        #expect(IPAddress("127.0.0.1")?.description == "127.0.0.1")
        #expect(IPAddress("fd00::5")?.description == "fd00::5")
    }
}

@Suite("Outbound policy at connect time: libcurl's resolved address, counted at a loopback listener")
struct OutboundGateTests {
    /// A hostile DNS answer (a public-looking name that resolves to 127.0.0.1, as in DNS rebinding)
    /// is refused by the address, before any socket exists: the listener sees nothing. With the
    /// operator's exception, the same connection reaches it (so the counter can count).
    @Test("a name resolving to loopback is refused before connecting", .timeLimit(.minutes(1)))
    func rebinding() async throws {
        let listener = try await ConnectionCounter.start()
        defer { Task { await listener.stop() } }
        let answer = ["mail.rebind.example:\(listener.port):127.0.0.1"]
        do {
            _ = try await IMAPConnection.connect(
                host: "mail.rebind.example", port: listener.port, security: .tls, username: "a", credentials: .password("b"),
                timeout: .seconds(10), commandTimeout: .seconds(10), tls: .init(), loginOptions: nil, policy: .standard,
                dnsAnswers: answer)
            Issue.record("connected")
        } catch {
            guard case .connection(let failure) = error.failure else { Issue.record("\(error)"); return }
            #expect(failure.kind == .notAllowed)
            #expect(error.policyRefusal?.address == IPAddress("127.0.0.1"))
            #expect(error.diagnosis.errorClass == .configuration)
            // What a caller sees names neither the address nor the rule.
            #expect(!error.diagnosis.serverText.contains("127.0.0.1"))
            #expect(!error.diagnosis.serverText.lowercased().contains("loopback"))
        }
        #expect(listener.accepted == 0)

        // Allowed: curl really used the answer and connected (the listener closes at once).
        _ = try? await IMAPConnection.connect(
            host: "mail.rebind.example", port: listener.port, security: .tls, username: "a", credentials: .password("b"),
            timeout: .seconds(10), commandTimeout: .seconds(10), tls: .init(), loginOptions: nil, policy: .testLoopback,
            dnsAnswers: answer)
        #expect(listener.accepted == 1)
    }

    @Test("SMTP: a loopback server is refused before connecting unless allowed", .timeLimit(.minutes(1)))
    func smtp() async throws {
        let listener = try await ConnectionCounter.start()
        defer { Task { await listener.stop() } }
        let envelope = try SMTPEnvelope(from: "a@example.com", recipients: ["b@example.com"])
        let server = SMTPSender.Server(host: "127.0.0.1", port: listener.port, security: .tls, username: "a", credentials: .password("b"))
        do {
            _ = try await SMTPSender.send(Array("Subject: x\r\n\r\nx\r\n".utf8), envelope: envelope, server: server, timeout: .seconds(10))
            Issue.record("sent")
        } catch {
            guard case .connection(let failure) = error.failure else { Issue.record("\(error)"); return }
            #expect(failure.kind == .notAllowed)
            #expect(error.policyRefusal != nil)
        }
        #expect(listener.accepted == 0)
    }

    @Test("OAuth endpoints: a private token endpoint is refused before connecting", .timeLimit(.minutes(1)))
    func oauth() async throws {
        let listener = try await ConnectionCounter.start()
        defer { Task { await listener.stop() } }
        do {
            _ = try await OAuthTokenClient.requestToken(
                endpoint: "http://127.0.0.1:\(listener.port)/token", grant: .refreshToken("r", scope: nil),
                client: .init(id: "c", secret: "s"), timeout: .seconds(10))
            Issue.record("answered")
        } catch {
            guard case .connection(let failure) = error.failure else { Issue.record("\(error)"); return }
            #expect(failure.kind == .notAllowed)
        }
        #expect(listener.accepted == 0)
    }
}

import Foundation
import MailSyncClient
import MailSyncService
import NIOSSL
import Testing

/// What the Swift client adds for an app (Clients/Swift): `withMailSync` closing its connection,
/// readable `RPCError`s, `Timestamp` ↔ `Date`, memberwise initialisers, and the `MailSync`
/// namespace. The scoped client runs against a real server, with and without TLS.
@Suite("Swift client", .timeLimit(.minutes(2)))
struct SwiftClientTests {
    /// The error a call through `client` fails with; nil when it succeeds.
    static func callError(_ client: MailSync.Client) async -> RPCError? {
        do {
            let options = CallOptions(timeout: .seconds(10))
            _ = try await client.getServerInfo(MailSync.GetServerInfoRequest(), options: options)
            return nil
        } catch {
            return error as? RPCError
        }
    }

    @Test("withMailSync returns the body's value and closes its connection")
    func scopedClientCloses() async throws {
        let harness = try await ServiceHarness.start()
        let (version, escaped) = try await withMailSync(host: "127.0.0.1", port: harness.port, apiKey: nil) { client in
            (try await client.getServerInfo(MailSync.GetServerInfoRequest()).version, client)
        }
        #expect(!version.isEmpty)
        // The transport behind the client is closed: a later call is refused without connecting.
        #expect(await Self.callError(escaped)?.code == .unavailable)
        await harness.stop()
    }

    struct BodyFailed: Error {}

    @Test("withMailSync rethrows what the body throws and closes its connection")
    func scopedClientClosesOnThrow() async throws {
        let harness = try await ServiceHarness.start()
        let escapedBox = Box()
        await #expect(throws: BodyFailed.self) {
            try await withMailSync(host: "127.0.0.1", port: harness.port, apiKey: nil) { client in
                _ = try await client.getServerInfo(MailSync.GetServerInfoRequest())
                escapedBox.client = client
                throw BodyFailed()
            }
        }
        let escaped = try #require(escapedBox.client)
        #expect(await Self.callError(escaped)?.code == .unavailable)
        await harness.stop()
    }

    /// Holds the client the throwing body leaves behind.
    final class Box: @unchecked Sendable {
        var client: MailSync.Client?
    }

    @Test("withMailSync over TLS: trusting the server's certificate, a call goes through")
    func scopedClientTLS() async throws {
        try await ServerTLSTests.withTLSServer { harness, certificate in
            var tls = MailSync.TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
            let companies = try await withMailSync(
                host: "127.0.0.1", port: harness.port, apiKey: harness.operatorKey, tls: tls,
                configuration: ClientConfiguration(serverHostname: "localhost"), timeout: .seconds(10)
            ) { client in
                try await client.listCompanies(MailSync.ListCompaniesRequest())
            }
            #expect(companies.companies.isEmpty)
            // Without trusting it, the same call fails: the TLS really is checked.
            let refused = await #expect(throws: RPCError.self) {
                try await withMailSync(
                    host: "127.0.0.1", port: harness.port, apiKey: harness.operatorKey,
                    tls: .makeClientConfiguration(), configuration: ClientConfiguration(serverHostname: "localhost")
                ) { client in
                    try await client.listCompanies(MailSync.ListCompaniesRequest())
                }
            }
            #expect(refused?.code == .unavailable)
        }
    }

    @Test("RPCError reads as its status and message, also as localizedDescription")
    func readableError() async throws {
        let error = RPCError(.notFound, "Mailbox 123 does not exist")
        #expect(error.description == "not found: Mailbox 123 does not exist")
        #expect(error.errorDescription == "not found: Mailbox 123 does not exist")
        #expect(error.localizedDescription == "not found: Mailbox 123 does not exist")

        let harness = try await ServiceHarness.start()
        let fromServer = await #expect(throws: RPCError.self) {
            _ = try await harness.operatorClient.getCompany(MailSync.GetCompanyRequest(companyId: "no-such-company"))
        }
        let received = try #require(fromServer)
        #expect(received.code == .notFound)
        #expect(!received.message.isEmpty)
        #expect(received.localizedDescription == "not found: \(received.message)")
        await harness.stop()
    }

    @Test("Timestamp converts to and from Date, to the microsecond")
    func timestampDate() {
        let instant = MailSync.Timestamp(microsecondsSinceEpoch: 1_790_000_000_123_456)
        #expect(abs(instant.date.timeIntervalSince1970 - 1_790_000_000.123456) < 0.000_000_5)
        #expect(MailSync.Timestamp(date: instant.date) == instant)
        for microseconds: Int64 in [0, 1, -1, -2_208_988_800_000_001, 4_102_444_800_999_999] {
            let timestamp = MailSync.Timestamp(microsecondsSinceEpoch: microseconds)
            #expect(MailSync.Timestamp(date: timestamp.date) == timestamp, "\(microseconds) µs")
        }
        #expect(MailSync.Timestamp(date: Date(timeIntervalSince1970: 1.5)).microsecondsSinceEpoch == 1_500_000)
        // Finer than a microsecond rounds to the nearest one.
        #expect(MailSync.Timestamp(date: Date(timeIntervalSince1970: 0.0000014)).microsecondsSinceEpoch == 1)
        #expect(MailSync.Timestamp(date: Date(timeIntervalSince1970: 0.0000016)).microsecondsSinceEpoch == 2)
        // Out of range clamps instead of trapping.
        #expect(MailSync.Timestamp(date: Date(timeIntervalSince1970: 1e300)).microsecondsSinceEpoch == .max)
        #expect(MailSync.Timestamp(date: Date(timeIntervalSince1970: -1e300)).microsecondsSinceEpoch == .min)
        #expect(MailSync.Timestamp(date: Date(timeIntervalSince1970: .nan)) == .epoch)
    }

    @Test("a memberwise initialiser sets the fields it names and leaves the rest at their defaults")
    func memberwiseInit() {
        let updated = MailSync.Timestamp(microsecondsSinceEpoch: 42)
        let lead = MailSync.Lead(id: "lead-1", emailAddresses: ["a@example.com"], updatedAt: updated)
        var expected = MailSync.Lead()
        expected.id = "lead-1"
        expected.emailAddresses = ["a@example.com"]
        expected.updatedAt = updated
        #expect(lead == expected)
        #expect(lead.name.isEmpty && lead.companyName.isEmpty)
        #expect(MailSync.Lead() == MailSync.Lead(id: ""))
    }

    @Test("the schema's names live in the MailSync namespace; the server's short names are the same types")
    func namespace() {
        #expect(String(reflecting: MailSync.Company.self) == "MailSyncClient.MailSync.Company")
        #expect(String(reflecting: MailSync.Timestamp.self) == "MailSyncCoding.Timestamp")
        #expect(Company.self == MailSync.Company.self)
    }
}

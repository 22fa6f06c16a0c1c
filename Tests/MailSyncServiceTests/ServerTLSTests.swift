import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncService
import MailSyncTransport
import NIOSSL
import Testing
import TestSupport

/// The server's own TLS from `--tls-cert`/`--tls-key` files: modern versions and suites only,
/// plain text refused off loopback, and the `mailsync` command speaking TLS.
@Suite("Server TLS", .timeLimit(.minutes(2)))
struct ServerTLSTests {
    /// A throwaway EC certificate for localhost and 127.0.0.1, as PEM files in a new directory.
    static func certificateFiles() async throws -> (directory: String, cert: String, key: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-srv-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (cert, key) = (dir + "/cert.pem", dir + "/key.pem")
        let (status, output) = try await OffPool.output(of: "/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
            "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        #expect(status == 0, "\(output)")
        return (dir, cert, key)
    }

    static func withTLSServer(_ body: (ServiceHarness, String) async throws -> Void) async throws {
        let files = try await Self.certificateFiles()
        let harness = try await ServiceHarness.start(configure: {
            $0.tlsCertificateFile = files.cert
            $0.tlsPrivateKeyFile = files.key
        })
        do {
            try await body(harness, files.cert)
        } catch {
            Issue.record(error)
        }
        await harness.stop()
        try? FileManager.default.removeItem(atPath: files.directory)
    }

    /// A call with `tls` as the client's TLS; nil when it went through, else the error.
    static func call(_ harness: ServiceHarness, _ tls: TLSConfiguration) async -> RPCError? {
        let (client, transport) = MailSync.connect(
            host: "127.0.0.1", port: harness.port, apiKey: harness.operatorKey,
            configuration: ClientConfiguration(connectTimeout: .seconds(5), tls: tls, serverHostname: "localhost"), timeout: .seconds(10))
        defer { transport.close() }
        do {
            _ = try await client.listCompanies(ListCompaniesRequest())
            return nil
        } catch {
            return error as? RPCError
        }
    }

    @Test("TLS 1.2 with AEAD and 1.3 are served; TLS 1.1 and a CBC suite (AES128-SHA) are refused in the handshake")
    func versionsAndSuites() async throws {
        try await Self.withTLSServer { harness, cert in
            var base = TLSConfiguration.makeClientConfiguration()
            base.trustRoots = .file(cert)
            #expect(await Self.call(harness, base) == nil)

            var tls12 = base
            tls12.maximumTLSVersion = .tlsv12
            tls12.cipherSuites = "ECDHE-ECDSA-AES128-GCM-SHA256"
            #expect(await Self.call(harness, tls12) == nil)

            var cbc = base
            cbc.maximumTLSVersion = .tlsv12
            cbc.cipherSuites = "ECDHE-ECDSA-AES128-SHA:AES128-SHA"
            #expect(await Self.call(harness, cbc)?.code == .unavailable)

            var old = base
            old.minimumTLSVersion = .tlsv1
            old.maximumTLSVersion = .tlsv11
            #expect(await Self.call(harness, old)?.code == .unavailable)
        }
    }

    @Test("mailsync --tls --ca reaches a TLS server; without --ca (system roots) or without --tls it fails with a non-zero exit")
    func command() async throws {
        try await Self.withTLSServer { harness, cert in
            let server = "127.0.0.1:\(harness.port)"
            let environment = ["MAILSYNC_API_KEY": harness.operatorKey]
            let ok = try await CommandRunner.run(["companies", "list", "--server", server, "--tls", "--ca", cert, "--json"], environment: environment)
            #expect(ok.status == 0, "\(ok.output) \(ok.errors)")
            let viaEnvironment = try await CommandRunner.run(
                ["companies", "list", "--server", server, "--json"], environment: environment.merging(["MAILSYNC_TLS": "1", "MAILSYNC_CA": cert]) { $1 })
            #expect(viaEnvironment.status == 0, "\(viaEnvironment.output) \(viaEnvironment.errors)")
            let untrusted = try await CommandRunner.run(["companies", "list", "--server", server, "--tls", "--timeout", "5"], environment: environment)
            #expect(untrusted.status != 0)
            let plain = try await CommandRunner.run(["companies", "list", "--server", server, "--timeout", "5"], environment: environment)
            #expect(plain.status != 0)
        }
    }

    @Test("plain text is refused on a non-loopback address unless allowed; loopback and TLS are fine")
    func plaintextListen() async throws {
        var settings = ServerSettings()
        settings.listen = "0.0.0.0:7420"
        #expect { try settings.serverConfiguration() } throws: { "\($0)".contains("allowPlaintextListen") }
        settings.listen = "192.168.1.10:7420"
        #expect(throws: SettingsError.self) { try settings.serverConfiguration() }
        settings.allowPlaintextListen = true
        _ = try settings.serverConfiguration()
        for loopback in ["127.0.0.1:7420", "[::1]:7420", "localhost:7420", "127.8.9.10:1"] {
            var local = ServerSettings()
            local.listen = loopback
            _ = try local.serverConfiguration()
        }
        let files = try await Self.certificateFiles()
        var tls = ServerSettings()
        tls.listen = "0.0.0.0:7420"
        tls.tlsCertificateFile = files.cert
        tls.tlsPrivateKeyFile = files.key
        #expect(try tls.serverConfiguration().tls?.minimumTLSVersion == .tlsv12)
        try? FileManager.default.removeItem(atPath: files.directory)
    }
}

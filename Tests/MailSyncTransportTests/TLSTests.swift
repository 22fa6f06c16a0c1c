import Foundation
import MailSyncRPC
import MailSyncTransport
import NIOSSL
import Testing
import TestSupport

/// TLS through swift-nio-ssl, with a throwaway certificate made by openssl for this test.
@Suite("TLS")
struct TLSTests {
    /// A self-signed certificate for "localhost" and its key, in a temporary directory.
    static func makeCertificate() async throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (status, output) = try await OffPool.output(of: "/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", dir.appendingPathComponent("key.pem").path, "-out", dir.appendingPathComponent("cert.pem").path,
            "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ])
        #expect(status == 0, "\(output)")
        let cert = try NIOSSLCertificate.fromPEMFile(dir.appendingPathComponent("cert.pem").path)[0]
        let key = try NIOSSLPrivateKey(file: dir.appendingPathComponent("key.pem").path, format: .pem)
        return (cert, key)
    }

    @Test("calls succeed over TLS with a trusted certificate; a plaintext client is refused")
    func tls() async throws {
        let (cert, key) = try await Self.makeCertificate()
        let server = try await TestServer.start {
            $0.tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(cert)], privateKey: .privateKey(key))
        }
        var clientTLS = TLSConfiguration.makeClientConfiguration()
        clientTLS.trustRoots = .certificates([cert])
        let (client, transport) = server.client(configuration: ClientConfiguration(tls: clientTLS, serverHostname: "localhost"))
        var request = EchoRequest()
        request.text = "over tls"
        #expect(try await client.echo(request).text == "over tls")
        transport.close()

        let (plain, plainTransport) = server.client(configuration: ClientConfiguration(connectTimeout: .seconds(1)))
        await #expect {
            _ = try await plain.echo(request)
        } throws: { ($0 as? RPCError)?.code == .unavailable }
        plainTransport.close()
        await server.stop()
    }

    @Test("an untrusted certificate fails the call as unavailable")
    func untrusted() async throws {
        let (cert, key) = try await Self.makeCertificate()
        let server = try await TestServer.start {
            $0.tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(cert)], privateKey: .privateKey(key))
        }
        let (client, transport) = server.client(configuration: ClientConfiguration(
            tls: TLSConfiguration.makeClientConfiguration(), serverHostname: "localhost"))
        await #expect {
            _ = try await client.echo(EchoRequest())
        } throws: { error in
            guard let rpc = error as? RPCError else { return false }
            return rpc.code == .unavailable
        }
        transport.close()
        await server.stop()
    }
}

import MailSyncTransport
import NIOSSL

/// Loads PEM files into a server TLS configuration (TLS 1.2+, AEAD suites only:
/// `TLSConfiguration.mailSyncServer`).
enum TLSFiles {
    static func serverConfiguration(certificate: String, privateKey: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw SettingsError("cannot load the TLS certificate \(certificate): \(error)")
        }
        guard !chain.isEmpty else { throw SettingsError("the TLS certificate file \(certificate) holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw SettingsError("cannot load the TLS private key \(privateKey): \(error)")
        }
        return TLSConfiguration.mailSyncServer(certificateChain: chain, privateKey: key)
    }
}

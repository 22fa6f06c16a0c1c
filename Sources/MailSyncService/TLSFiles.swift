import Foundation
import MailSyncTransport
import NIOSSL

/// Loads PEM files into a server TLS configuration (TLS 1.2+, AEAD suites only:
/// `TLSConfiguration.mailSyncServer`), and checks the trust bundles given to libcurl.
enum TLSFiles {
    /// Checks, at start, that `file` (the setting `name`: `imapCAFile`, `oauthCAFile`) is a
    /// readable PEM bundle holding at least one certificate, the form libcurl's CAINFO takes.
    /// Otherwise every TLS connection using it would fail at the connection, with curl's words
    /// and this file's path shown in tenants' error logs as if their mail server had cut the
    /// connection.
    ///
    /// - Throws: `SettingsError` naming the setting, the file and what to give instead.
    static func checkTrustBundle(_ file: String, setting name: String) throws {
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw SettingsError("\(name) \(file) cannot be read; give a PEM bundle the server can read")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw SettingsError("\(name) \(file) is not a PEM bundle of certificates (\(error)); give the certificates to trust in PEM form (-----BEGIN CERTIFICATE-----)")
        }
        guard !certificates.isEmpty else {
            throw SettingsError("\(name) \(file) holds no certificate; give the certificates to trust in PEM form (-----BEGIN CERTIFICATE-----)")
        }
    }

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

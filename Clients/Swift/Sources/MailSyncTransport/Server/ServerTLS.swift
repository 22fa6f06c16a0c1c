public import NIOSSL

extension TLSConfiguration {
    /// The server TLS every Mail Sync server uses: TLS 1.2 at least, and for TLS 1.2 only AEAD
    /// suites with forward secrecy (ECDHE with AES-GCM or ChaCha20-Poly1305). TLS 1.3's suites are
    /// all AEAD. TLS 1.0/1.1 and CBC/RSA-key-exchange suites such as `AES128-SHA` are refused in
    /// the handshake.
    public static func mailSyncServer(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = mailSyncCipherSuites
        return configuration
    }

    /// The TLS 1.2 suites allowed (OpenSSL/BoringSSL cipher string).
    public static let mailSyncCipherSuites =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
}

import ArgumentParser
import Foundation
import MailSyncClient
import MailSyncTransport
import NIOSSL

/// How an admin command reaches the server: address, API key and TLS from flags or the
/// environment (`MAILSYNC_SERVER`, `MAILSYNC_API_KEY`, `MAILSYNC_TLS`, `MAILSYNC_CA`,
/// `MAILSYNC_SERVER_NAME`), and whether to print JSON.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server as host:port (default: $MAILSYNC_SERVER, else 127.0.0.1:7420).")
    var server: String?

    @Option(help: "The API key (default: $MAILSYNC_API_KEY). Prefer the variable: flags show up in process lists.")
    var key: String?

    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false

    @Flag(help: "Speak TLS to the server (default: $MAILSYNC_TLS=1; implied by --ca). The certificate is checked against the system's roots or --ca.")
    var tls = false

    @Option(help: "A PEM bundle to trust for the server's certificate instead of the system's (default: $MAILSYNC_CA).")
    var ca: String?

    @Option(help: "The name the server's certificate must carry (default: $MAILSYNC_SERVER_NAME, else the --server host).")
    var serverName: String?

    @Option(help: "Seconds to wait for the answer (default 30).")
    var timeout: Double = 30

    /// A client for the chosen server; the transport closes when the process ends.
    func client() throws -> MailSync.Client {
        let environment = ProcessInfo.processInfo.environment
        let address = server ?? environment["MAILSYNC_SERVER"] ?? "127.0.0.1:7420"
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port), colon != address.startIndex else {
            throw ValidationError("--server must be host:port, got '\(address)'")
        }
        guard let apiKey = key ?? environment["MAILSYNC_API_KEY"], !apiKey.isEmpty else {
            throw ValidationError("no API key: pass --key or set MAILSYNC_API_KEY")
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var configuration = ClientConfiguration()
        let caFile = ca ?? environment["MAILSYNC_CA"]
        if tls || caFile != nil || ["1", "true", "yes"].contains(environment["MAILSYNC_TLS"]?.lowercased() ?? "") {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.minimumTLSVersion = .tlsv12
            if let caFile {
                guard FileManager.default.isReadableFile(atPath: caFile) else {
                    throw ValidationError("--ca \(caFile) cannot be read; give a PEM file of the certificate(s) to trust")
                }
                tlsConfiguration.trustRoots = .file(caFile)
            }
            configuration.tls = tlsConfiguration
            configuration.serverHostname = serverName ?? environment["MAILSYNC_SERVER_NAME"] ?? host
        }
        return MailSync.connect(host: host, port: port, apiKey: apiKey, configuration: configuration, timeout: .milliseconds(Int64(timeout * 1000))).0
    }
}

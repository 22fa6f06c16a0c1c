import ArgumentParser
import Foundation
import MailSyncClient

/// How an admin command reaches the server: address and API key from flags or the environment
/// (`MAILSYNC_SERVER`, `MAILSYNC_API_KEY`), and whether to print JSON.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server as host:port (default: $MAILSYNC_SERVER, else 127.0.0.1:7420).")
    var server: String?

    @Option(help: "The API key (default: $MAILSYNC_API_KEY). Prefer the variable: flags show up in process lists.")
    var key: String?

    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false

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
        return MailSync.connect(host: host, port: port, apiKey: apiKey, timeout: .milliseconds(Int64(timeout * 1000))).0
    }
}

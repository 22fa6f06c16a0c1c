import Foundation
import MailSyncClient
import NIOCore

// The app's own types, named like the schema's: they do not collide with the client's, which live
// in the `MailSync` namespace.
struct Company { var name: String }
struct User { var email: String }
struct Timestamp { var seen: Date }

/// `SampleApp HOST PORT [CA-PEM-FILE]`, with the API key in MAILSYNC_API_KEY: prints the server's
/// version, then the company's users. With a CA file, connects over TLS trusting only that CA.
@main
struct SampleApp {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, let port = Int(arguments[2]) else {
            print("usage: SampleApp HOST PORT [CA-PEM-FILE]  (API key in MAILSYNC_API_KEY)")
            exit(2)
        }
        let host = arguments[1]
        let apiKey = ProcessInfo.processInfo.environment["MAILSYNC_API_KEY"]
        var tls: MailSync.TLSConfiguration?
        if arguments.count > 3 {
            var configuration = MailSync.TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(arguments[3])
            tls = configuration
        }

        // The app's own use of SwiftNIO, at its own version.
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        buffer.writeString("hello")

        do {
            let users: [User] = try await withMailSync(
                host: host, port: port, apiKey: apiKey, tls: tls, timeout: .seconds(10)
            ) { client in
                let info = try await client.getServerInfo(MailSync.GetServerInfoRequest())
                let started = Timestamp(seen: info.startedAt.date)
                print("Mail Sync \(info.version), up since \(started.seen)")
                let response = try await client.listUsers(MailSync.ListUsersRequest(pageSize: 50))
                return response.users.map { User(email: $0.email) }
            }
            let company = Company(name: "Acme")
            print("\(company.name): \(users.map(\.email).joined(separator: ", "))")
        } catch let error as RPCError {
            // "permission denied: ...", not "The operation could not be completed".
            print("Mail Sync refused: \(error.localizedDescription)")
            exit(1)
        }
    }
}

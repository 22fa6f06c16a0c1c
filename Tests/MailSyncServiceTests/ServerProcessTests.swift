import Foundation
import Logging
import MailSyncClient
import MailSyncService
import Testing

/// The real server: in process, and as the `mailsync` executable stopped by a signal.
@Suite("Mail Sync server", .timeLimit(.minutes(5)))
struct ServerProcessTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func tempDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-test-\(UUID().uuidString)").path
        return path
    }

    @Test("GetServerInfo needs no key; every other schema RPC is served and guarded by its roles")
    func inProcess() async throws {
        var settings = ServerSettings()
        settings.listen = "127.0.0.1:0"
        settings.dataDirectory = Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory!) }
        let server = try MailSyncServer(settings: settings, logger: Logger(label: "test"))
        let address = try await server.start()
        let (client, transport) = MailSync.connect(host: "127.0.0.1", port: address.port!, apiKey: nil)
        let info = try await client.getServerInfo(GetServerInfoRequest())
        #expect(info.version == MailSyncVersion.current)
        #expect(info.startedAt.secondsSinceEpoch > 1_700_000_000)
        // Without credentials, every method not open to anyone is refused before any handler runs.
        await #expect {
            _ = try await client.listCompanies(ListCompaniesRequest())
        } throws: { ($0 as? RPCError)?.code == .unauthenticated }
        let attrs = try FileManager.default.attributesOfItem(atPath: settings.dataDirectory!)
        #expect((attrs[.posixPermissions] as? Int) == 0o700)
        transport.close()
        await server.shutdown()
    }

    @Test("every RPC in the schema is registered with the router")
    func everyMethodServed() {
        let served = Set(ServiceMethods.make(environment: nil, startedAt: .epoch).map(\.descriptor))
        #expect(served == Set(MailSync.methods))
    }

    @Test("bad settings are refused with a message naming the problem", arguments: [
        ("listen", "no-port", "host:port"),
        ("listen", ":7420", "needs a host"),
        ("maxConnections", "0", "maxConnections"),
        ("tls", "half", "both tlsCertificateFile and tlsPrivateKeyFile"),
    ])
    func badSettings(field: String, value: String, message: String) throws {
        var settings = ServerSettings()
        switch field {
        case "listen": settings.listen = value
        case "maxConnections": settings.maxConnections = Int(value)
        default: settings.tlsCertificateFile = "/nonexistent.pem"
        }
        #expect {
            _ = try settings.serverConfiguration()
        } throws: { error in
            (error as? SettingsError)?.description.contains(message) == true
        }
    }

    @Test("a config file that is not JSON is refused naming the file")
    func badConfigFile() throws {
        let path = Self.tempDirectory() + ".json"
        try Data("{ listen: nope".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try ServerSettings.load(from: path)
        } throws: { error in
            (error as? SettingsError)?.description.contains(path) == true
        }
    }

    @Test("mailsync serve answers calls and stops gracefully on SIGTERM")
    func sigterm() async throws {
        let binary = Self.repoRoot.appendingPathComponent(".build/debug/mailsync")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the package first (swift build)")
        let port = Int.random(in: 20_000..<60_000)
        let dataDir = Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--data-dir", dataDir, "--shutdown-grace", "5"]
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let (client, transport) = MailSync.connect(
            host: "127.0.0.1", port: port, apiKey: nil,
            configuration: ClientConfiguration(initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(100)))
        var info: ServerInfo?
        for _ in 0..<100 where info == nil {
            info = try? await client.getServerInfo(GetServerInfoRequest())
            if info == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(info?.version == MailSyncVersion.current)
        transport.close()

        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        let log = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(log.contains("shutting down"))
        #expect(log.contains("stopped"))
    }
}

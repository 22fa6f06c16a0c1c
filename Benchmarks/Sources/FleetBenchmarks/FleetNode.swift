import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// One `mailsync serve` process of the benchmark's fleet, on a free loopback port.
final class FleetNode: @unchecked Sendable {
    let id: String
    let dataDirectory: String
    let port: Int
    private let binary: String
    private let config: String
    private let environment: [String: String]
    private(set) var process: Process?

    var address: String { "127.0.0.1:\(port)" }

    init(id: String, root: String, binary: String, etcd: [String], bucket: SeaweedFSServer, leaseSeconds: Int, environment: [String: String]) throws {
        self.id = id
        self.dataDirectory = root + "/" + id
        self.port = try DovecotServer.freePort()
        self.binary = binary
        self.environment = environment
        self.config = root + "/" + id + ".json"
        let settings = """
            {"cluster": {"etcd": [\(etcd.map { "\"\($0)\"" }.joined(separator: ", "))], "node": "\(id)",
             "leaseSeconds": \(leaseSeconds), "fenceMarginSeconds": 1}, "keyRequestsPerSecond": 0,
             "remoteBackup": {"s3": {"endpoint": "\(bucket.endpoint)", "bucket": "\(bucket.bucket)", "prefix": "fleet", "addressing": "path"},
                              "shipIntervalSeconds": 0.2}}
            """
        try Data(settings.utf8).write(to: URL(fileURLWithPath: config))
    }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", config, "--listen", address, "--data-dir", dataDirectory, "--log-level", "error"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    func waitUntilServing() async throws {
        for _ in 0..<600 {
            if DovecotServer.accepts(port: port) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchmarkError("node \(id) did not start listening on \(port)")
    }

    func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Milliseconds with two decimals.
func ms(_ duration: Duration) -> String {
    String(format: "%.2f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
}

func percentile(_ values: [Duration], _ p: Double) -> Duration {
    guard !values.isEmpty else { return .zero }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real etcd cluster for one test: Debian's `etcd-server` (3.4) members on 127.0.0.1 only,
/// every client and peer port free and chosen here, data in a fresh temporary directory.
///
/// ```swift
/// try await EtcdCluster.with(members: 3) { etcd in
///     // etcd.endpoints: ["http://127.0.0.1:PORT", …]
/// }
/// ```
///
/// Ready means every running member answers `GET /health` with `"health":"true"` (it has a
/// leader). Elections use etcd's default timing (heartbeat 100 ms, election timeout 1 s): quicker
/// settings made leaders flap on a loaded two-core machine. ``stopMember(_:)`` kills one (SIGKILL) for
/// good; ``pauseMember(_:)`` / ``resumeMember(_:)`` send SIGSTOP / SIGCONT. There is no restart
/// of a killed member on purpose: its ports are free once it is dead, and another test's server
/// may take them (a member must come back on the same peer address), so tests that need a member
/// back pause and resume it instead. Always call `stop()` (`with` does): every member is killed and the
/// directory removed.
public actor EtcdCluster {
    public static let binary = "/usr/bin/etcd"

    public nonisolated let directory: String
    public nonisolated let clientPorts: [Int]
    public nonisolated let peerPorts: [Int]
    /// `http://127.0.0.1:PORT` of each member, in member order.
    public nonisolated var endpoints: [String] { clientPorts.map { "http://127.0.0.1:\($0)" } }
    private var processes: [ChildProcess?]

    private init(directory: String, clientPorts: [Int], peerPorts: [Int]) {
        self.directory = directory
        self.clientPorts = clientPorts
        self.peerPorts = peerPorts
        self.processes = Array(repeating: nil, count: clientPorts.count)
    }

    public static func start(members: Int = 3, timeout: Duration = .seconds(30)) async throws -> EtcdCluster {
        PoolStallWatchdog.ensureStarted()
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw EtcdClusterError("\(binary) is missing: run scripts/install-deps.sh (installs Debian's etcd-server)")
        }
        var template = Array(URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mailsync-etcd-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { throw EtcdClusterError("mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        return try await FreePortLaunch.start(
            directory: directory,
            make: {
                let free = try (0..<(2 * members)).map { _ in try DovecotServer.freePort() }
                return EtcdCluster(directory: directory, clientPorts: Array(free[0..<members]), peerPorts: Array(free[members...]))
            },
            launch: { try await $0.launch(timeout: timeout) },
            stop: { await $0.stop(keepDirectory: $1) },
            noPort: EtcdClusterError("no free ports"))
    }

    /// Runs `body` with a started cluster and stops it afterwards, whether `body` returns or throws.
    public static func with<Result>(
        members: Int = 3, isolation: isolated (any Actor)? = #isolation, _ body: (EtcdCluster) async throws -> Result
    ) async throws -> Result {
        let cluster = try await start(members: members)
        do {
            let result = try await body(cluster)
            await cluster.stop()
            return result
        } catch {
            await cluster.stop()
            throw error
        }
    }

    public func stop() async {
        await stop(keepDirectory: false)
    }

    /// Kills member `index` (SIGKILL); its data stays for ``startMember(_:)``.
    public func stopMember(_ index: Int) async {
        guard var process = processes[index] else { return }
        process.signal(SIGKILL, group: true)
        await process.waitForExit(timeout: .seconds(10))
        processes[index] = nil
    }

    /// SIGSTOP: the member holds its ports and answers nothing (connections are accepted by the
    /// kernel and then hang), like a member cut off or frozen. ``resumeMember(_:)`` undoes it.
    public func pauseMember(_ index: Int) { processes[index]?.signal(SIGSTOP, group: true) }
    public func resumeMember(_ index: Int) { processes[index]?.signal(SIGCONT, group: true) }

    /// Member `index`'s log so far.
    public nonisolated func log(_ index: Int) -> String {
        (try? String(contentsOfFile: logPath(index), encoding: .utf8)) ?? ""
    }

    private nonisolated func logPath(_ index: Int) -> String { directory + "/member\(index).log" }

    private func launch(timeout: Duration) async throws {
        // A launch retried on new ports (one was taken) must not find the failed attempt's data:
        // etcd would ignore the new --initial-cluster for the membership it stored.
        for index in clientPorts.indices { try? FileManager.default.removeItem(atPath: "\(directory)/m\(index)") }
        for index in clientPorts.indices { try spawn(index, state: "new") }
        try await waitHealthy(Array(clientPorts.indices), timeout: timeout)
    }

    private func spawn(_ index: Int, state: String) throws {
        // Each member gets its own directory of data; the cluster token is the test's directory,
        // so members of two tests' clusters that reach each other refuse each other.
        let cluster = peerPorts.indices.map { "m\($0)=http://127.0.0.1:\(peerPorts[$0])" }.joined(separator: ",")
        let arguments = [
            "--name", "m\(index)", "--data-dir", "\(directory)/m\(index)",
            "--listen-client-urls", "http://127.0.0.1:\(clientPorts[index])",
            "--advertise-client-urls", "http://127.0.0.1:\(clientPorts[index])",
            "--listen-peer-urls", "http://127.0.0.1:\(peerPorts[index])",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(peerPorts[index])",
            "--initial-cluster", cluster, "--initial-cluster-state", state,
            "--initial-cluster-token", URL(fileURLWithPath: directory).lastPathComponent,
            "--heartbeat-interval", "100", "--election-timeout", "1000",
            "--logger", "zap", "--log-outputs", "stderr",
        ]
        processes[index] = try ChildProcess(
            executable: Self.binary, arguments: arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": directory],
            output: logPath(index))
    }

    private func waitHealthy(_ members: [Int], timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            var healthy = true
            for index in members {
                if var process = processes[index], process.exited() {
                    processes[index] = nil
                    throw EtcdClusterError("etcd member \(index) exited (wait status \(process.status ?? -1)) before it was ready\n\(log(index).suffix(4000))")
                }
                let reply = await SeaweedFSServer.request("GET", port: clientPorts[index], path: "/health")
                if reply?.status != 200 || reply?.body.contains("\"health\":\"true\"") != true { healthy = false }
            }
            if healthy { return }
            if ContinuousClock.now >= deadline {
                let logs = members.map { "--- member \($0)\n\(log($0).suffix(3000))" }.joined(separator: "\n")
                throw EtcdClusterError("etcd was not healthy on 127.0.0.1 within \(timeout)\n\(logs)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func stop(keepDirectory: Bool) async {
        for index in processes.indices {
            if var process = processes[index] {
                process.signal(SIGCONT, group: true)
                process.signal(SIGKILL, group: true)
                await process.waitForExit(timeout: .seconds(10))
                processes[index] = nil
            }
        }
        if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }
}

public struct EtcdClusterError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

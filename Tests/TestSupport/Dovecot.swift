import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real Dovecot IMAP server for one test, on a free loopback port, with its own config and data
/// in a fresh temporary directory.
///
/// ```swift
/// let dovecot = try await DovecotServer.start(users: [("alice", "secret")])
/// try await dovecot.append(user: "alice", message: "Subject: hi\r\n\r\nbody\r\n")
/// // … connect to 127.0.0.1:dovecot.port …
/// await dovecot.stop()
/// ```
///
/// Nothing is read from /etc/dovecot. Everything listens on 127.0.0.1 only. Needs the
/// `dovecot-imapd` package (scripts/install-deps.sh). As root the mail processes run as the `dovecot`
/// user (Dovecot refuses uid 0 for mail); as any other user, everything runs as that user.
/// Always call `stop()`, even after `kill()`: it removes the temporary directory.
public actor DovecotServer {
    /// The temporary directory holding config, users, maildirs, runtime sockets and the log.
    public nonisolated let directory: String
    /// The `-c` argument of the master process; `pgrep -f configPath` finds it.
    public nonisolated let configPath: String
    /// Plain IMAP (or STARTTLS with `Options.TLS.required`).
    public nonisolated let port: Int
    /// Implicit TLS (imaps); only with `Options.TLS.required`.
    public nonisolated let tlsPort: Int?
    /// The self-signed certificate (PEM) clients must trust; only with `Options.TLS.required`.
    public nonisolated var certificatePath: String? { tlsPort == nil ? nil : directory + "/tls/cert.pem" }
    /// Dovecot's log (`log_path`): logins, errors, disconnects.
    public nonisolated var logPath: String { directory + "/dovecot.log" }

    let owner: MailOwner
    private var process: ChildProcess?
    /// The last maildir file name stamp, so seeded messages sort (and get UIDs) in append order.
    var lastStamp: (seconds: Int, microseconds: Int) = (0, 0)

    static let executable = "/usr/sbin/dovecot"

    private init(directory: String, port: Int, tlsPort: Int?, owner: MailOwner) {
        self.directory = directory
        self.configPath = directory + "/dovecot.conf"
        self.port = port
        self.tlsPort = tlsPort
        self.owner = owner
    }

    /// Writes a config for `users` (plain-text passwords; no `:` in names or passwords) into a new
    /// temporary directory, starts `dovecot -F`, and returns once its port(s) accept connections.
    ///
    /// Ports are found by binding port 0; if Dovecot still loses a race for one, it is retried on
    /// new ports. Throws `DovecotError` with Dovecot's log if it does not come up within `timeout`.
    public static func start(
        users: [(name: String, password: String)],
        options: Options = Options(),
        timeout: Duration = .seconds(15)
    ) async throws -> DovecotServer {
        PoolStallWatchdog.ensureStarted()
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw DovecotError("\(executable) is missing: run scripts/install-deps.sh (package dovecot-imapd)")
        }
        for (name, password) in users where name.contains(":") || password.contains(":") || name.contains("/") {
            throw DovecotError("user \(name): no ':' in names or passwords, no '/' in names")
        }
        let owner = try MailOwner.current()
        let tls = options.tls
        let directory = try await OffPool.run { try makeDirectory(users: users, owner: owner, tls: tls) }  // openssl req waits
        if let oauth = options.oauth { try writeOAuthFiles(directory: directory, oauth) }
        return try await FreePortLaunch.start(
            directory: directory,
            make: {
                let port = try freePort()
                let tlsPort = options.tls == .required ? try freePort() : nil
                let server = DovecotServer(directory: directory, port: port, tlsPort: tlsPort, owner: owner)
                let config = configuration(directory: directory, port: port, tlsPort: tlsPort, owner: owner, options: options)
                try Data(config.utf8).write(to: URL(fileURLWithPath: server.configPath))
                return server
            },
            launch: { try await $0.launch(timeout: timeout) },
            stop: { await $0.stop(keepDirectory: $1) },
            noPort: DovecotError("no free port"))
    }

    /// Runs `body` with a started server and stops it afterwards, whether `body` returns or throws.
    public static func withServer<Result>(
        users: [(name: String, password: String)],
        options: Options = Options(),
        isolation: isolated (any Actor)? = #isolation,
        _ body: (DovecotServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(users: users, options: options)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Stops the server (SIGTERM to the master, SIGKILL after 5 s) and removes the temporary directory.
    public func stop() async {
        await stop(keepDirectory: false)
    }

    /// SIGKILLs the master and every process it started, at once, as if the server vanished:
    /// open connections are reset and new ones refused. Data stays; `restart()` brings it back.
    public func kill() async {
        guard var process else { return }
        let children = Self.descendants(of: process.pid)
        process.signal(SIGKILL, group: true)
        for child in children { _ = Glibc.kill(child, SIGKILL) }
        await process.waitForExit(timeout: .seconds(5))
        self.process = nil
    }

    /// Starts the server again on the same port(s) with the same data; stops it first if it runs.
    public func restart(timeout: Duration = .seconds(15)) async throws {
        await stop(keepDirectory: true)
        try await launch(timeout: timeout)
    }

    /// Dovecot's log so far (empty if it wrote none).
    public nonisolated func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    // MARK: - Process

    private func launch(timeout: Duration) async throws {
        // INTERNALDATE and log times in UTC whatever the machine's zone (Dovecot imports TZ).
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = "UTC"
        // Errors before the log is open (a bad config) go to stderr.
        var process = try ChildProcess(
            executable: Self.executable, arguments: ["-F", "-c", configPath],
            environment: environment, output: directory + "/dovecot.stderr"
        )
        self.process = process

        let ports = [port] + (tlsPort.map { [$0] } ?? [])
        let deadline = ContinuousClock.now + timeout
        while true {
            if process.exited() {
                self.process = nil
                throw DovecotError("dovecot exited (wait status \(process.status ?? -1)) before listening\n" + diagnostics())
            }
            if ports.allSatisfy(Self.accepts(port:)) { return }
            if ContinuousClock.now >= deadline {
                await stop(keepDirectory: true)
                throw DovecotError("dovecot did not listen on 127.0.0.1:\(ports) within \(timeout)\n" + diagnostics())
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func stop(keepDirectory: Bool) async {
        if var process {
            let children = Self.descendants(of: process.pid)
            // The master ends its children on SIGTERM and exits once they are gone.
            process.signal(SIGTERM)
            if !(await process.waitForExit(timeout: .seconds(5))) {
                process.signal(SIGKILL, group: true)
                await process.waitForExit(timeout: .seconds(5))
            }
            // No child may outlive it (e.g. a stuck imap process, or one that left the group).
            for child in children where Self.isAlive(child) { _ = Glibc.kill(child, SIGKILL) }
            self.process = nil
        }
        if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    private func diagnostics() -> String {
        let stderr = (try? String(contentsOfFile: directory + "/dovecot.stderr", encoding: .utf8)) ?? ""
        return "--- \(logPath)\n\(log())--- stderr\n\(stderr)"
    }

    /// Every live process below `root`, from /proc (belt and braces: a child could leave the group).
    static func descendants(of root: pid_t) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // "pid (comm) state ppid …": comm may contain spaces, so parse after the last ')'.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { children[parent, default: []].append(pid) }
        }
        var result: [pid_t] = []
        var queue = [root]
        while let next = queue.popLast() {
            for child in children[next] ?? [] {
                result.append(child)
                queue.append(child)
            }
        }
        return result
    }

    static func isAlive(_ pid: pid_t) -> Bool {
        guard Glibc.kill(pid, 0) == 0 else { return false }
        // A zombie (reparented, not yet reaped) is dead for our purposes.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    // MARK: - Sockets

    /// A port nobody listens on now: bind 127.0.0.1:0, read the port, close.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DovecotError("socket(): errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw DovecotError("bind(127.0.0.1:0): errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether 127.0.0.1:`port` accepts a TCP connection now (loopback: answers at once).
    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    // MARK: - Files

    private static func makeDirectory(
        users: [(name: String, password: String)], owner: MailOwner, tls: Options.TLS
    ) throws -> String {
        var template = Array((URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mailsync-dovecot-XXXXXX").path).utf8CString)
        guard let made = mkdtemp(&template) else { throw DovecotError("mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        // Dovecot's auth process (the internal user) must reach the users file.
        chmod(directory, 0o755)
        let usersFile = directory + "/users"
        let lines = users.map { "\($0.name):{PLAIN}\($0.password)\n" }.joined()
        try Data(lines.utf8).write(to: URL(fileURLWithPath: usersFile))
        chmod(usersFile, 0o600)
        chown(usersFile, owner.uid, owner.gid)
        try FileManager.default.createDirectory(atPath: directory + "/mail", withIntermediateDirectories: false)
        chmod(directory + "/mail", 0o700)
        chown(directory + "/mail", owner.uid, owner.gid)
        if tls == .required { try makeCertificate(in: directory + "/tls") }
        return directory
    }

    /// A self-signed certificate for localhost and 127.0.0.1, valid for two days.
    private static func makeCertificate(in directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw DovecotError("openssl req failed (\(openssl.terminationStatus))") }
    }
}

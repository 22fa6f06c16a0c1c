#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A benchmark server in a child process: this executable run again as
/// `MailSyncBenchmarks --serve KIND --payload BYTES [...]` (see `Serve`), so that client and server
/// never share a process, an event-loop group or a concurrency pool, for any side.
///
/// The child writes `port N` on its standard output once it listens; `start` waits for that line
/// (it throws if the child exits first). `stop` kills the child and reaps it. If this process dies
/// without stopping it, the child notices within a second (its parent changes) and exits.
final class ServerProcess: @unchecked Sendable {
    let pid: pid_t
    let port: Int

    private init(pid: pid_t, port: Int) {
        self.pid = pid
        self.port = port
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts a child serving `kind` and returns once it has printed its port. Blocks the calling
    /// thread until then (a few milliseconds; the benchmark does nothing else meanwhile).
    static func start(kind: String, payloadSize: Int, extraArguments: [String] = []) throws -> ServerProcess {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Failure(description: "pipe failed: errno \(errno)") }
        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])

        let executable = executablePath()
        let arguments = [executable, "--serve", kind, "--payload", String(payloadSize)] + extraArguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard spawned == 0 else { throw Failure(description: "posix_spawn \(executable) failed: \(spawned)") }

        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fds[0], &byte, 1) == 1, byte != 10 { line.append(byte) }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("port "), let port = Int(text.dropFirst(5)) else {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            throw Failure(description: "the \(kind) server did not start (it said '\(text)')")
        }
        return ServerProcess(pid: pid, port: port)
    }

    /// User plus system CPU seconds the child has used so far (Linux: /proc/PID/stat; nil elsewhere).
    func cpuTime() -> Double? {
        guard let line = readFirstLine("/proc/\(pid)/stat"), let close = line.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = line[line.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / (ticks > 0 ? ticks : 100)
    }

    /// Kills the child and waits for it to exit.
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    private static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

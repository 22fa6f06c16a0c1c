import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn` in its own process group, with no signal blocked.
///
/// Not Foundation's `Process`: on Linux it spawns from a thread that blocks most signals, and the
/// child inherits that mask — a Dovecot master started that way ignores SIGTERM. Here the child
/// gets an empty mask and default handlers, and the whole group can be signalled at once.
/// The caller reaps it (`exited`, `waitForExit`); not thread-safe (owned by one actor).
public struct ChildProcess: Sendable {
    public let pid: pid_t
    public private(set) var status: Int32?

    /// Starts `executable` with `arguments`; stdin is /dev/null, stdout appends to `output`, stderr
    /// to `errors` (default: `output` too).
    public init(executable: String, arguments: [String], environment: [String: String], output: String, errors: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let errors {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // Sockets and files of the test process must not leak into the server (Glibc's
        // addclosefrom_np is not visible to Swift: close each open descriptor not marked CLOEXEC).
        for fd in 3..<Int32(1024) {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0, flags & FD_CLOEXEC == 0 { posix_spawn_file_actions_addclose(&actions, fd) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
        )

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw DovecotError("posix_spawn \(executable): error \(result)") }
        self.pid = pid
    }

    /// Whether it has exited (reaps it if so).
    public mutating func exited() -> Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid {
            status = raw
            return true
        }
        return false
    }

    /// Sends `signal` to the process, or to its whole process group.
    public func signal(_ signal: Int32, group: Bool = false) {
        _ = Glibc.kill(group ? -pid : pid, signal)
    }

    /// Polls until it exits; returns false if `timeout` passed first.
    @discardableResult
    public mutating func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !exited() {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}

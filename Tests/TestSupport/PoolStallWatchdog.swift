import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Watches Swift's cooperative pool in a test process and reports when it runs nothing for a while.
///
/// A thread of its own starts a tiny task every 250 ms and waits for it to run. When one waits
/// longer than `threshold` (5 s), something is blocking every pool thread (see ``OffPool``): the
/// watchdog prints one line to standard error and, when `MAILSYNC_STALL_LOG` names a file, appends
/// every thread's stack to it (`gdb -batch`, attached to this process for a moment; nothing is
/// written when gdb is missing or may not attach). One report per stall. `scripts/test.sh` sets the
/// variable and prints the test code found in those stacks when a run fails, so a CI log names the
/// blocking wait instead of a dozen unrelated timeouts.
///
/// Started once per process by ``ensureStarted()``, which the fixtures call (the Dovecot fixture,
/// the service harness); idle cost: one wake-up every 250 ms.
public enum PoolStallWatchdog {
    /// How long the pool may run nothing before it is reported.
    public static let threshold: Duration = .seconds(5)

    private static let started: Bool = {
        let thread = Thread { watch() }
        thread.name = "pool-watchdog"
        thread.start()
        return true
    }()

    /// Starts the watchdog thread the first time it is called; later calls do nothing.
    public static func ensureStarted() {
        _ = started
    }

    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var set = false
        func raise() { lock.withLock { set = true } }
        var isRaised: Bool { lock.withLock { set } }
    }

    private static func watch() {
        while true {
            let flag = Flag()
            let asked = ContinuousClock.now
            Task.detached { flag.raise() }
            var reported = false
            while !flag.isRaised {
                usleep(50_000)
                let waited = ContinuousClock.now - asked
                if !reported, waited > threshold {
                    reported = true
                    report(waited)
                }
            }
            if reported {
                let total = ContinuousClock.now - asked
                FileHandle.standardError.write(Data("pool stall: the cooperative pool ran again after \(total)\n".utf8))
            }
            usleep(250_000)
        }
    }

    private static func report(_ waited: Duration) {
        let path = ProcessInfo.processInfo.environment["MAILSYNC_STALL_LOG"] ?? ""
        FileHandle.standardError.write(Data(
            "pool stall: Swift's cooperative pool has run nothing for \(waited): a test or the server blocks every pool thread\(path.isEmpty ? "" : "; stacks in \(path)")\n".utf8))
        guard !path.isEmpty, FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gdb")
        process.arguments = ["-p", "\(getpid())", "-batch", "-nx", "-ex", "set pagination off", "-ex", "thread apply all bt 40"]
        // gdb writes to a file, never to a pipe this process reads: while gdb holds this process
        // stopped it cannot drain a pipe, and with many threads the stacks pass a pipe's 64 KiB,
        // so gdb and this process waited on each other forever (seen on a loaded machine).
        let output = path + ".gdb-\(getpid())"
        guard FileManager.default.createFile(atPath: output, contents: nil), let file = FileHandle(forWritingAtPath: output) else { return }
        process.standardOutput = file
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
        try? file.close()
        let stacks = FileManager.default.contents(atPath: output) ?? Data()
        try? FileManager.default.removeItem(atPath: output)
        var text = Data("==== pool stall after \(waited), \(Date()) ====\n".utf8)
        text.append(stacks)
        if let handle = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() {
            handle.seekToEndOfFile()
            handle.write(text)
            try? handle.close()
        }
    }
}

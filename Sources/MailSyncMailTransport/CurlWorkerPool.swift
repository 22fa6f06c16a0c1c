import Foundation

/// A fixed-size pool of threads for blocking libcurl transfers (SMTP sends), off Swift's
/// cooperative pool.
///
/// Threads start on demand, one per job that finds no idle thread, up to `maxThreads`; then they
/// stay (an idle one waits on a condition and costs no CPU) until ``shutdown()``. Jobs beyond
/// `maxThreads` wait in the pool's queue, first in first out, so however many sends are asked for
/// at once the process never holds more than `maxThreads` of these threads. Callers that must not
/// queue here (Smart Mail's per-user and per-company limits) bound their own concurrency to
/// `maxThreads` in front of the pool.
public final class CurlWorkerPool: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    /// The most threads this pool runs at once.
    public let maxThreads: Int
    private let name: String
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [Job] = []
    private var threads = 0
    private var idle = 0
    private var shuttingDown = false

    /// A pool for the SMTP sends of callers that give none (tools, tests): 16 threads.
    public static let sharedSMTP = CurlWorkerPool(name: "smtp send", maxThreads: 16)

    /// - Parameters:
    ///   - name: the threads' name (Linux keeps 15 bytes), for `top -H` and /proc.
    ///   - maxThreads: at least 1 (a smaller value is taken as 1).
    public init(name: String, maxThreads: Int) {
        self.name = String(name.prefix(15))
        self.maxThreads = max(1, maxThreads)
    }

    /// Threads alive now (busy or idle).
    public var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return threads
    }

    /// Queues `job`; returns false (and drops it) after ``shutdown()``.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !shuttingDown else { return false }
        jobs.append(job)
        if idle < jobs.count, threads < maxThreads {
            threads += 1
            let thread = Thread { [self] in run() }
            thread.name = name
            thread.start()
        } else {
            condition.signal()
        }
        return true
    }

    /// Refuses new jobs; each thread ends once the queued jobs are done. Does not wait.
    public func shutdown() {
        condition.lock()
        shuttingDown = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
            while jobs.isEmpty, !shuttingDown {
                idle += 1
                condition.wait()
                idle -= 1
            }
            guard !jobs.isEmpty else {
                threads -= 1
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()  // few: callers bound their concurrency to maxThreads
            condition.unlock()
            job()
            condition.lock()
        }
    }
}

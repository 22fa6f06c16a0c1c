import CCurl
import Foundation

/// One thread that runs a connection's libcurl work, in submission order, off Swift's cooperative
/// pool: curl_easy_perform blocks, and waiting on the socket blocks in poll().
///
/// Same idea as `DatabaseExecutor` in MailSyncStorage: a thread per open connection is bounded by
/// the number of open connections (a few per mailbox), an idle one costs no CPU, and a slow server
/// stalls only its own connection.
final class CurlThread: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [Job] = []
    private var finishing = false

    init(name: String) {
        let thread = Thread { [self] in self.run() }
        thread.name = String(name.prefix(15))  // Linux thread names hold 15 bytes.
        thread.start()
    }

    /// Queues `job`; returns false (and drops it) once `finish()` was called.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !finishing else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Runs `job` last, then ends the thread. Later submissions are refused.
    @discardableResult
    func finish(with job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !finishing else { return false }
        jobs.append(job)
        finishing = true
        condition.signal()
        return true
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            let last = finishing && jobs.isEmpty
            condition.unlock()
            job()
            if last { return }
        }
    }
}

/// `curl_global_init` once per process, before the first handle (thread-safe since curl 7.84).
enum CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

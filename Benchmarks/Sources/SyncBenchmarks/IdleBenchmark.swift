import Foundation
import MailSyncEngine
import MailSyncService
import TestSupport

/// Memory held by IMAP IDLE watchers: N mailboxes (companies of 10) on one Dovecot over
/// loopback, synced once by a server with IDLE off; that server is stopped and a second one
/// started on the same data with IDLE on, which syncs them again and then holds one IDLE
/// connection per mailbox. Resident memory (VmRSS) and threads of this process are read after
/// each server's second pass; the difference divided by N is the cost of one watched mailbox
/// (its connection's thread, curl handle, buffers and the watcher task).
///
/// The first server's memory is freed but mostly kept by malloc, and the second reuses it, so
/// the difference is the watchers' own cost plus noise of a few MiB; run with N ≥ 50.
struct IdleBenchmark {
    let dovecot: DovecotServer
    let password: String
    let users: [String]

    /// One imap process per connection (Dovecot's default allows 100 processes per service).
    static let dovecotConfig = """
        default_process_limit = 2000
        default_client_limit = 8000
        mail_max_userip_connections = 20
        mailbox_idle_check_interval = 1 secs

        """

    func run() async throws {
        let n = users.count
        print("IDLE watchers: \(n) mailboxes on one Dovecot (127.0.0.1), companies of 10")
        var off = SyncSettings()
        off.idleEnabled = false
        let first = try await OurServer.start(sync: off)
        let directory = first.dataDirectory
        do {
            for start in stride(from: 0, to: n, by: 10) {
                let domain = "idle\(start / 10).example"
                let admin = try await first.makeCompany(name: "Idle \(start / 10)", domain: domain)
                for user in users[start..<min(n, start + 10)] {
                    try await first.makeUser(admin, id: user, email: "\(user)@\(domain)")
                    try await first.connectMailbox(admin, userID: user, email: "\(user)@\(domain)", login: user, password: password, imapPort: dovecot.port)
                }
            }
            try await pass(first, n, "first sync")
            first.clock.advance(seconds: 3600)
            try await pass(first, n, "poll")
        } catch {
            await first.stop()
            throw error
        }
        let before = (rss: ProcessMemory.resident() ?? 0, threads: Self.threads())
        await first.stop(keepData: true)

        var on = SyncSettings()
        on.idleEnabled = true
        on.maxIdleConnections = n
        on.maxIdleConnectionsPerServer = n
        // Two hours later: every mailbox is due again.
        let second = try await OurServer.start(sync: on, dataDirectory: directory, clockStart: Corpus.start + 7200)
        do {
            let started = ContinuousClock.now
            try await pass(second, n, "poll with IDLE on")
            let deadline = ContinuousClock.now + .seconds(max(60, n))
            while await second.scheduler.idlingWatcherCount < n {
                guard ContinuousClock.now < deadline else {
                    throw BenchmarkFailure("only \(await second.scheduler.idlingWatcherCount) of \(n) watchers idle after \(max(60, n)) s")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let ready = ContinuousClock.now - started
            // The wakes each watcher asks for once connected: let their runs finish, then settle.
            second.clock.advance(seconds: 1)
            _ = await second.scheduler.runDue()
            try await Task.sleep(for: .seconds(2))
            let after = (rss: ProcessMemory.resident() ?? 0, threads: Self.threads())
            let perWatcher = Double(after.rss - before.rss) / Double(n)
            print(String(format: "  resident before: %.1f MiB, %d threads (IDLE off, after a poll of all)", Double(before.rss) / 1_048_576, before.threads))
            print(String(format: "  resident with %d watchers idling: %.1f MiB, %d threads", n, Double(after.rss) / 1_048_576, after.threads))
            print(String(format: "  per watched mailbox: %.0f KiB resident, %.2f threads; all idling %.1f s after the pass started",
                         perWatcher / 1024, Double(after.threads - before.threads) / Double(n), seconds(ready)))
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()
    }

    private func pass(_ server: OurServer, _ n: Int, _ name: String) async throws {
        let (ran, elapsed) = await server.timedRunDue()
        let runs = await server.scheduler.recentRuns.suffix(ran)
        // With IDLE on, watchers started from the schedule ask for a run each: some run twice.
        guard Set(runs.map(\.mailboxID)).count == n, runs.allSatisfy(\.succeeded) else {
            throw BenchmarkFailure("\(name): ran \(ran) of \(n), \(runs.filter { !$0.succeeded }.count) failed")
        }
        print("  \(name): \(ran) runs in " + String(format: "%.2f s", seconds(elapsed)))
    }

    /// This process's threads now (`Threads:` in /proc/self/status).
    static func threads() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(line.dropFirst(8).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}

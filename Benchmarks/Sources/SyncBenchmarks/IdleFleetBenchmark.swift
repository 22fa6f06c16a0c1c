import Foundation
import MailSyncClient
import MailSyncEngine
import MailSyncService
import TestSupport

/// Memory per scheduled idle mailbox: N mailboxes (companies of ``perCompany``, plan Ultimate)
/// on one Dovecot over loopback, each polled once and then waiting for its next poll, with IDLE
/// off (watchers are IdleBenchmark's case). What stays is the scheduler's entry per mailbox, the
/// server's caches and the tenant pool's open databases (one per company, up to
/// `openTenantLimit`, default 100).
///
/// Resident memory (VmRSS) is read after a warm-up company of one mailbox (created and polled, so
/// code paths and first-use allocations are in), then after creating the N, then after the poll
/// of all N, then (N ≤ 1,000) after a second poll an hour later, each time as it is and
/// after glibc's `malloc_trim` (which returns what the passes freed but malloc kept: the figure
/// that stays). The difference over N is the cost of one scheduled idle mailbox.
struct IdleFleetBenchmark {
    let dovecot: DovecotServer
    let password: String
    let users: [String]
    let perCompany = 100
    /// Companies created at once.
    let creators = 4

    func run() async throws {
        let n = users.count
        print("Idle fleet: \(n) mailboxes on one Dovecot (127.0.0.1), companies of \(perCompany), IDLE off; load \(loadAverage())")
        var sync = SyncSettings()
        sync.idleEnabled = false
        let server = try await OurServer.start(sync: sync)
        do {
            try await measure(server, n)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func measure(_ server: OurServer, _ n: Int) async throws {
        // Warm-up: one company, one mailbox (Dovecot's alice), created and polled.
        let warm = try await server.makeCompany(name: "Warm-up", domain: "warm.example", plan: .ultimate)
        try await server.makeUser(warm, id: "warm", email: "warm@warm.example")
        try await server.connectMailbox(warm, userID: "warm", email: "warm@warm.example", login: "alice", password: password, imapPort: dovecot.port)
        _ = await server.scheduler.runDue()
        let base = Reading.now()
        print("  after start and a warm-up mailbox: \(base)")

        let started = ContinuousClock.now
        let companies = stride(from: 0, to: n, by: perCompany).map { $0 }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let start = companies[next]
                next += 1
                group.addTask { try await makeCompany(server, start: start, n: n) }
            }
            while next < min(creators, companies.count) { add() }
            while try await group.next() != nil {
                if next < companies.count { add() }
            }
        }
        let created = Reading.now()
        print("  created \(n) mailboxes in \(companies.count) companies in " + String(format: "%.1f s", seconds(ContinuousClock.now - started))
            + ": \(created), \(created.perMailbox(from: base, n)) per mailbox")

        try await pass(server, n, "first poll")  // the warm-up mailbox is not due yet
        let polled = Reading.now()
        let stats = server.server.environment?.tenants.statistics
        print("  after one poll each: \(polled), \(polled.perMailbox(from: base, n)) per mailbox; "
            + "\(await server.scheduler.scheduledCount) scheduled, \(stats?.openCount ?? -1) tenant databases open")

        if n <= 1_000 {  // a second pass of 10,000 polls takes ten minutes here: skipped
            server.clock.advance(seconds: 3600)
            try await pass(server, n + 1, "second poll, an hour later")
            let steady = Reading.now()
            print("  after a second poll each: \(steady), \(steady.perMailbox(from: base, n)) per mailbox")
        }
    }

    private func makeCompany(_ server: OurServer, start: Int, n: Int) async throws {
        let company = start / perCompany
        let domain = "fleet\(company).example"
        let admin = try await server.makeCompany(name: "Fleet \(company)", domain: domain, plan: .ultimate)
        for user in users[start..<min(n, start + perCompany)] {
            try await server.makeUser(admin, id: user, email: "\(user)@\(domain)")
            try await server.connectMailbox(admin, userID: user, email: "\(user)@\(domain)", login: user, password: password, imapPort: dovecot.port)
        }
    }

    private func pass(_ server: OurServer, _ n: Int, _ name: String) async throws {
        let (ran, elapsed) = await server.timedRunDue()
        let runs = await server.scheduler.recentRuns.suffix(min(ran, SyncScheduler.recentRunLimit))
        guard ran == n, runs.allSatisfy(\.succeeded) else {
            throw BenchmarkFailure("\(name): ran \(ran) of \(n), \(runs.filter { !$0.succeeded }.count) of the last \(runs.count) failed")
        }
        print("  \(name): \(ran) runs in " + String(format: "%.1f s", seconds(elapsed)))
    }

    /// Resident memory as it is, and after `malloc_trim`.
    struct Reading: CustomStringConvertible {
        var resident: Int
        var trimmed: Int

        static func now() -> Reading {
            let resident = ProcessMemory.resident() ?? 0
            _ = glibcMallocTrim(0)
            return Reading(resident: resident, trimmed: ProcessMemory.resident() ?? 0)
        }

        var description: String {
            String(format: "resident %.1f MiB (%.1f MiB after malloc_trim)", Double(resident) / 1_048_576, Double(trimmed) / 1_048_576)
        }

        func perMailbox(from base: Reading, _ n: Int) -> String {
            String(format: "%.1f KiB (%.1f KiB trimmed)", Double(resident - base.resident) / 1024 / Double(n),
                   Double(trimmed - base.trimmed) / 1024 / Double(n))
        }
    }
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

/// glibc's `malloc_trim(3)`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
func glibcMallocTrim(_ pad: Int) -> Int32

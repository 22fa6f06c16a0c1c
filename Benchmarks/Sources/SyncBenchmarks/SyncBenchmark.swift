import Foundation
import MailSyncClient
import MailSyncEngine
import MailSyncService
import TestSupport

struct SyncBenchmark {
    let settings: Settings
    let dovecot: DovecotServer
    let password: String
    let fleetUsers: [String]

    static let owner = "alice@acme.example"
    /// Poll interval of an Essential company (5 min) plus the default 10% jitter, and some.
    static let pollStep = 400.0

    func run() async throws {
        print("Mail Sync sync-engine benchmarks — Dovecot on 127.0.0.1:\(dovecot.port), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("first sync: \(grouped(settings.messages)) messages, \(grouped(settings.leadMessages)) from \(settings.leads) leads, "
            + "\(settings.rounds) round(s) per side; \(settings.polls) idle polls; idle fleet of \(settings.mailboxes) mailboxes")
        print("")

        // MARK: Seed and warm up
        let leads = (0..<settings.leads).map { Corpus.leadAddress($0) }
        var started = ContinuousClock.now
        try await Corpus.seed(dovecot, user: "alice", owner: Self.owner, count: settings.messages, leads: leads, seed: 42)
        print("seeded \(grouped(settings.messages)) messages in \(String(format: "%.1f", seconds(ContinuousClock.now - started))) s")
        let port = dovecot.port
        let pw = password
        // Warm-up: the first FETCH indexes the folder and adds the envelope to Dovecot's cache as a
        // temporary field; the second makes it permanent. After that a FETCH takes the same time
        // every round.
        var warmUps: [String] = []
        for _ in 0..<2 {
            started = ContinuousClock.now
            try await onThreads(1) { _ in _ = try RawIMAP.fetchAllHeaders(port: port, user: "alice", password: pw) }
            warmUps.append(String(format: "%.2f s", seconds(ContinuousClock.now - started)))
        }
        print("Dovecot indexed INBOX (warm-up LOGIN + EXAMINE + FETCH, twice): \(warmUps.joined(separator: ", "))")

        // MARK: First sync, rounds
        var floorTimes: [Double] = []
        var floorBytes = 0
        var oursTimes: [Double] = []
        var headerOnlyTimes: [Double] = []
        var oursCPU: [Double] = []
        var headerOnlyCPU: [Double] = []
        var firstSyncTrips = 0
        var shippedTimes: [Double] = []
        var catchUpTimes: [Double] = []
        var kept: OurServer?
        do {
            for round in 0..<settings.rounds {
                let sides = (round % 2 == 0 ? ["floor", "ours", "shipped", "headers"] : ["headers", "shipped", "ours", "floor"])
                    .filter { settings.only == nil || settings.only == $0 }
                progress("round \(round + 1):")
                for side in sides {
                    switch side {
                    case "floor":
                        let (time, bytes) = try await floorFirstSync()
                        floorTimes.append(time)
                        floorBytes = bytes
                        progress(String(format: "  floor %.3f s", time))
                    case "ours":
                        let keep = round == settings.rounds - 1
                        let (time, cpu, trips, server) = try await oursFirstSync(leads: leads, keep: keep && settings.only == nil)
                        oursTimes.append(time)
                        oursCPU.append(cpu)
                        firstSyncTrips = trips
                        if keep { kept = server }
                        progress(String(format: "  ours %.3f s (CPU %.3f s)", time, cpu))
                    case "shipped":
                        let (time, catchUp) = try await shippedFirstSync(leads: leads)
                        shippedTimes.append(time)
                        catchUpTimes.append(catchUp)
                        progress(String(format: "  ours+shipping %.3f s (shipped %.3f s after)", time, catchUp))
                    default:
                        let (time, cpu, _, _) = try await oursFirstSync(leads: [], keep: false)
                        headerOnlyTimes.append(time)
                        headerOnlyCPU.append(cpu)
                        progress(String(format: "  ours-no-leads %.3f s (CPU %.3f s)", time, cpu))
                    }
                }
                print("")
            }
        } catch {
            await kept?.stop()
            throw error
        }

        if settings.only != nil { return }  // profiling one side

        // MARK: Idle polls of the big mailbox
        guard let server = kept else { throw BenchmarkFailure("no server kept for the polls") }
        var pollTimes: [Double] = []
        var pollTrips = 0
        var floorPollTimes: [Double] = []
        do {
            for _ in 0..<settings.polls {
                server.clock.advance(seconds: Self.pollStep)
                let (ran, elapsed) = await server.timedRunDue()
                guard ran == 1, let last = await server.scheduler.recentRuns.last, last.succeeded, last.recorded == 0 else {
                    throw BenchmarkFailure("an idle poll ran \(ran) mailbox(es): \(String(describing: await server.scheduler.recentRuns.last))")
                }
                pollTimes.append(seconds(elapsed) * 1000)
                pollTrips = last.roundTrips
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        let times = TimeList()
        try await onThreads(1) { _ in
            for _ in 0..<settings.polls {
                let started = ContinuousClock.now
                try RawIMAP.poll(port: port, user: "alice", password: pw)
                times.add(seconds(ContinuousClock.now - started) * 1000)
            }
        }
        floorPollTimes = times.all

        // MARK: Idle fleet
        let fleet = try await idleFleet()

        // MARK: Report
        print("")
        print("First sync of INBOX: \(grouped(settings.messages)) messages, \(grouped(settings.leadMessages)) from \(settings.leads) leads "
            + "(\(settings.rounds) round(s), a fresh server data directory each)")
        print("  case                                         best        median   ours/floor (median)")
        let floorMedian = median(floorTimes)
        func row(_ name: String, _ samples: [Double], ratio: Bool) {
            let text = ratio ? String(format: "%.2fx", median(samples) / floorMedian) : ""
            print("  " + name.padding(toLength: 42, withPad: " ", startingAt: 0)
                + String(format: "%8.3f s  %8.3f s   ", samples.min()!, median(samples)) + text)
        }
        row("floor: raw LOGIN/EXAMINE/UID FETCH 1:*", floorTimes, ratio: false)
        row("ours: first sync (runDue)", oursTimes, ratio: true)
        row("ours, no leads (headers only, no bodies)", headerOnlyTimes, ratio: true)
        if !shippedTimes.isEmpty {
            row("ours + remote backup shipping (1 s rounds)", shippedTimes, ratio: true)
            print(String(format: "  shipping: %.2fx the first sync without it (median); everything shipped %.3f s after the sync ended (median)",
                         median(shippedTimes) / median(oursTimes), median(catchUpTimes)))
        }
        print("  floor read \(grouped(floorBytes)) bytes; ours: \(grouped(settings.leadMessages)) recorded (all lead messages), "
            + "\(firstSyncTrips) IMAP round trips after login; "
            + String(format: "%.0f messages/s", Double(settings.messages) / median(oursTimes)))
        print(String(format: "  CPU of this process during the sync (median): ours %.3f s, no leads %.3f s (Dovecot's is not counted)",
                     median(oursCPU), median(headerOnlyCPU)))
        print("")
        print("A poll that finds nothing new (median of \(settings.polls))")
        print(String(format: "  floor: raw LOGIN + 2 STATUS pipelined + LOGOUT   %7.2f ms", median(floorPollTimes)))
        print(String(format: "  ours: runDue(), 1 mailbox                      %7.2f ms   %.2fx   %d round trips after login",
                     median(pollTimes), median(pollTimes) / median(floorPollTimes), pollTrips))
        print("")
        print("Idle mailboxes: \(settings.mailboxes) synced mailboxes, nothing new, \(SyncSettings().maxConcurrentSyncs) at a time "
            + "(median of \(settings.fleetRounds) passes)")
        print("  case                  polls/s   kept on a 5-min schedule   on a 10-min (Gmail) schedule")
        for (name, rate) in [("floor: raw polls", fleet.floorRate), ("ours: runDue()", fleet.oursRate)] {
            print("  " + name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "%11.1f", rate)
                + right(grouped(Int(rate * 300)), 27) + right(grouped(Int(rate * 600)), 31))
        }
        print("  ours: at most \(fleet.maxTrips) round trips after login per poll; first sync of the fleet took "
            + String(format: "%.2f s", fleet.firstSync))
    }

    // MARK: - First sync

    /// The floor once: returns seconds and bytes received.
    func floorFirstSync() async throws -> (Double, Int) {
        let port = dovecot.port
        let pw = password
        let result = TimeList()
        try await onThreads(1) { _ in
            let started = ContinuousClock.now
            let bytes = try RawIMAP.fetchAllHeaders(port: port, user: "alice", password: pw)
            result.add(seconds(ContinuousClock.now - started))
            result.bytes = bytes
        }
        return (result.all[0], result.bytes)
    }

    /// Ours once, on a new server with a fresh data directory: a company, `leads`, alice's
    /// mailbox, then one timed `runDue()`. Checks the run recorded every lead message.
    func oursFirstSync(leads: [String], keep: Bool) async throws -> (Double, Double, Int, OurServer?) {
        let server = try await OurServer.start()
        do {
            let admin = try await server.makeCompany(name: "Acme", domain: "acme.example")
            if !leads.isEmpty { try await server.upsertLeads(admin, leads) }
            let mailboxID = try await server.connectMailbox(admin, email: Self.owner, login: "alice", password: password, imapPort: dovecot.port)
            let cpuBefore = processCPUSeconds()
            let (ran, elapsed) = await server.timedRunDue()
            let cpu = processCPUSeconds() - cpuBefore
            let expected = leads.isEmpty ? 0 : settings.leadMessages
            guard ran == 1, let summary = await server.scheduler.recentRuns.last else {
                throw BenchmarkFailure("the first sync ran \(ran) mailboxes")
            }
            guard summary.succeeded, summary.recorded == expected else {
                throw BenchmarkFailure("the first sync recorded \(summary.recorded) emails, expected \(expected) (succeeded: \(summary.succeeded))\n"
                    + (await server.errors(admin, mailboxID: mailboxID)))
            }
            if !keep { await server.stop() }
            return (seconds(elapsed), cpu, summary.roundTrips, keep ? server : nil)
        } catch {
            await server.stop()
            throw error
        }
    }

    /// ``oursFirstSync`` with `remoteBackup` shipping to a fresh directory; also how long after
    /// the sync's end shipping had caught up (every commit in the directory).
    func shippedFirstSync(leads: [String]) async throws -> (Double, Double) {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-ship-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: target) }
        let server = try await OurServer.start(shipTo: target)
        do {
            let admin = try await server.makeCompany(name: "Acme", domain: "acme.example")
            if !leads.isEmpty { try await server.upsertLeads(admin, leads) }
            _ = try await server.connectMailbox(admin, email: Self.owner, login: "alice", password: password, imapPort: dovecot.port)
            let (ran, elapsed) = await server.timedRunDue()
            guard ran == 1, let summary = await server.scheduler.recentRuns.last, summary.succeeded, summary.recorded == settings.leadMessages else {
                throw BenchmarkFailure("the shipped first sync did not record every lead message")
            }
            let ended = ContinuousClock.now
            guard let shipping = server.server.environment?.shipping else { throw BenchmarkFailure("shipping is off") }
            let start = await shipping.completedRounds
            while true {
                let rounds = await shipping.completedRounds
                if rounds >= start + 2, await shipping.maxLag == nil { break }
                if ContinuousClock.now - ended > .seconds(300) { throw BenchmarkFailure("shipping did not catch up within 300 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let catchUp = seconds(ContinuousClock.now - ended)
            await server.stop()
            return (seconds(elapsed), catchUp)
        } catch {
            await server.stop()
            throw error
        }
    }

    // MARK: - Idle fleet

    struct Fleet {
        var oursRate: Double
        var floorRate: Double
        var maxTrips: Int
        var firstSync: Double
    }

    /// K small mailboxes (10 messages, 1 from a lead) in companies of 10, all synced once; then
    /// timed passes of `runDue()` with nothing new, and the floor polling the same accounts with
    /// the same concurrency.
    func idleFleet() async throws -> Fleet {
        let server = try await OurServer.start()
        do {
            let perCompany = 10
            var seed: UInt64 = 1000
            for companyStart in stride(from: 0, to: fleetUsers.count, by: perCompany) {
                let company = companyStart / perCompany
                let domain = "fleet\(company).example"
                let admin = try await server.makeCompany(name: "Fleet \(company)", domain: domain)
                let leads = (0..<5).map { Corpus.leadAddress($0, company: company) }
                try await server.upsertLeads(admin, leads)
                for user in fleetUsers[companyStart..<min(fleetUsers.count, companyStart + perCompany)] {
                    let email = "\(user)@\(domain)"
                    try await Corpus.seed(dovecot, user: user, owner: email, count: 10, leads: leads, seed: seed)
                    seed += 1
                    try await server.makeUser(admin, id: user, email: email)
                    try await server.connectMailbox(admin, userID: user, email: email, login: user, password: password, imapPort: dovecot.port)
                }
            }
            let (ran, first) = await server.timedRunDue()
            guard ran == fleetUsers.count else { throw BenchmarkFailure("the fleet's first sync ran \(ran) of \(fleetUsers.count)") }
            let firstRuns = await server.scheduler.recentRuns.suffix(ran)
            guard firstRuns.allSatisfy({ $0.succeeded && $0.recorded == 1 }) else {
                throw BenchmarkFailure("a fleet mailbox's first sync failed or recorded other than 1: \(firstRuns.filter { !$0.succeeded || $0.recorded != 1 }.prefix(3))")
            }
            var rates: [Double] = []
            var maxTrips = 0
            for _ in 0..<settings.fleetRounds {
                server.clock.advance(seconds: Self.pollStep)
                let (ran, elapsed) = await server.timedRunDue()
                let runs = await server.scheduler.recentRuns.suffix(ran)
                guard ran == fleetUsers.count, runs.allSatisfy({ $0.succeeded && $0.recorded == 0 }) else {
                    throw BenchmarkFailure("an idle pass ran \(ran) of \(fleetUsers.count), or one failed")
                }
                maxTrips = max(maxTrips, runs.map(\.roundTrips).max() ?? 0)
                rates.append(Double(ran) / seconds(elapsed))
            }
            await server.stop()

            // The floor: the same accounts, the same number at a time, a raw poll each.
            var floorRates: [Double] = []
            let users = fleetUsers
            let port = dovecot.port
            let pw = password
            for _ in 0..<settings.fleetRounds {
                let next = Counter()
                let started = ContinuousClock.now
                try await onThreads(SyncSettings().maxConcurrentSyncs) { _ in
                    while let index = next.take(below: users.count) {
                        try RawIMAP.poll(port: port, user: users[index], password: pw)
                    }
                }
                floorRates.append(Double(users.count) / seconds(ContinuousClock.now - started))
            }
            return Fleet(oursRate: median(rates), floorRate: median(floorRates), maxTrips: maxTrips, firstSync: seconds(first))
        } catch {
            await server.stop()
            throw error
        }
    }
}

final class TimeList: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    private var _bytes = 0
    func add(_ value: Double) { lock.withLock { values.append(value) } }
    var all: [Double] { lock.withLock { values } }
    var bytes: Int {
        get { lock.withLock { _bytes } }
        set { lock.withLock { _bytes = newValue } }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

/// `text` right-aligned in `width` columns.
func right(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// This process's user + system CPU time so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Writes `text` without a line end, at once.
func progress(_ text: String) {
    print(text, terminator: "")
}

/// `Swift.print`, flushed at once: progress shows up also when the output goes to a pipe or file.
func print(_ text: String, terminator: String = "\n") {
    Swift.print(text, terminator: terminator)
    fflush(nil)
}

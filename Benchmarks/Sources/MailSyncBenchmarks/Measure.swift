#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Round-trip times of one latency run, in nanoseconds, sorted.
struct LatencySamples {
    let sorted: [Int64]

    init(_ samples: [Int64]) { sorted = samples.sorted() }

    /// Nearest-rank percentile (`p` in 0...100).
    func percentile(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1])
    }

    var mean: Double {
        guard !sorted.isEmpty else { return .nan }
        return Double(sorted.reduce(0, +)) / Double(sorted.count)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var secondsDouble: Double { Double(nanoseconds) / 1e9 }
}

/// Times `count` calls made one after another, after `warmup` untimed ones.
func measureLatency(warmup: Int, count: Int, _ call: @Sendable () async throws -> Void) async throws -> LatencySamples {
    for _ in 0..<warmup { try await call() }
    let clock = ContinuousClock()
    var samples: [Int64] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        let start = clock.now
        try await call()
        samples.append((clock.now - start).nanoseconds)
    }
    return LatencySamples(samples)
}

/// The outcome of a throughput run.
struct Throughput {
    var calls: Int
    var elapsed: Duration
    /// CPU time (user + system) of this process and the server's over wall time, as a share of all
    /// cores (0...1; this process's alone if the server's is not known).
    var cpuShare: Double
    /// The whole machine's busy time over the same interval, all processes, as a share of all
    /// cores (0...1; nan where /proc/stat is not available). Above `cpuShare` means something else
    /// was running too.
    var systemBusy: Double

    var callsPerSecond: Double { Double(calls) / elapsed.secondsDouble }
}

/// Runs `connections` × `callersPerConnection` tasks, each making calls back to back on its
/// connection until `duration` has passed (after an untimed warm-up of `warmup`), and counts them.
func measureThroughput(
    connections: Int, callersPerConnection: Int, warmup: Duration, duration: Duration, cores: Int,
    serverCPUTime: () -> Double? = { nil },
    call: @escaping @Sendable (_ connection: Int) async throws -> Void
) async throws -> Throughput {
    let clock = ContinuousClock()
    @Sendable func run(until end: ContinuousClock.Instant) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for connection in 0..<connections {
                for _ in 0..<callersPerConnection {
                    group.addTask {
                        var made = 0
                        while clock.now < end {
                            try await call(connection)
                            made += 1
                        }
                        return made
                    }
                }
            }
            return try await group.reduce(0, +)
        }
    }
    _ = try await run(until: clock.now + warmup)
    let cpuBefore = processCPUTime()
    let serverBefore = serverCPUTime()
    let systemBefore = systemCPUTicks()
    let start = clock.now
    let calls = try await run(until: start + duration)
    let elapsed = clock.now - start
    var cpu = processCPUTime() - cpuBefore
    if let before = serverBefore, let after = serverCPUTime() { cpu += after - before }
    let systemAfter = systemCPUTicks()
    var systemBusy = Double.nan
    if let before = systemBefore, let after = systemAfter, after.total > before.total {
        systemBusy = Double(after.busy - before.busy) / Double(after.total - before.total)
    }
    return Throughput(
        calls: calls, elapsed: elapsed, cpuShare: cpu / elapsed.secondsDouble / Double(cores), systemBusy: systemBusy)
}

/// User plus system CPU seconds this process has used, all threads.
func processCPUTime() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Busy and total CPU ticks of the whole machine, from the first line of /proc/stat (Linux only).
func systemCPUTicks() -> (busy: UInt64, total: UInt64)? {
    guard let line = readFirstLine("/proc/stat"), line.hasPrefix("cpu ") else { return nil }
    let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
    guard fields.count >= 5 else { return nil }
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let counted = fields.prefix(8)
    let total = counted.reduce(0, +)
    let idle = fields[3] + fields[4]
    return (total - idle, total)
}

/// The 1-minute load average, from /proc/loadavg ("n/a" elsewhere).
func loadAverage() -> String {
    guard let line = readFirstLine("/proc/loadavg"), let first = line.split(separator: " ").first else { return "n/a" }
    return String(first)
}

func readFirstLine(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 1024)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    let bytes = buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

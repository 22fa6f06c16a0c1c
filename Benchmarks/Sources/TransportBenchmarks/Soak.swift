import Foundation
import MailSyncRPC
import MailSyncTransport
import NIOConcurrencyHelpers
import TestSupport

/// `connections` generated clients, each on its own connection, making calls one after another
/// for `duration`: 60% small unary Echo, 10% Echo with 16 KiB, 10% server streaming (8 × 512 B),
/// 10% client streaming (8 × 512 B), 10% a 5 ms Sleep. Every 10 s it prints the calls per second,
/// errors, p50/p99 latency of that window and RSS; at the end the totals. Errors must be 0 and RSS
/// flat once warm.
enum Soak {
    final class Window: Sendable {
        private struct State {
            var latencies: [Int64] = []
            var errors = 0
            var firstErrors: [String] = []
        }
        private let state = NIOLockedValueBox(State())
        func record(_ nanoseconds: Int64) { state.withLockedValue { $0.latencies.append(nanoseconds) } }
        func fail(_ error: any Error) {
            state.withLockedValue {
                $0.errors += 1
                if $0.firstErrors.count < 5 { $0.firstErrors.append("\(error)") }
            }
        }
        func take() -> (latencies: [Int64], errors: Int, firstErrors: [String]) {
            state.withLockedValue { state in
                defer { state = State() }
                return (state.latencies, state.errors, state.firstErrors)
            }
        }
    }

    static func run(connections: Int, duration: Duration) async throws {
        Report.header("Transport soak: \(connections) connections × mixed calls for \(duration)")
        let server = try await TestServer.start()
        var clients: [(Echo.Client, TCPClientTransport)] = []
        for _ in 0..<connections { clients.append(server.client()) }
        // Open every connection before timing starts.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (client, _) in clients { group.addTask { try await call(client, kind: 0) } }
            try await group.waitForAll()
        }
        print("connections open: \(server.server.connectionCount); RSS: \(Report.mebibytes(Report.rss()))")
        print("  time   calls/s  errors  p50 ms  p99 ms    RSS (after malloc_trim; before it)")
        let window = Window()
        let end = ContinuousClock.now + duration
        let counter = NIOLockedValueBox(0)
        var histogram = Histogram()  // fixed size, so the totals do not grow RSS
        var totalErrors = 0
        var firstErrors: [String] = []
        var rssSamples: [Int] = []
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (client, _) in clients {
                group.addTask {
                    while ContinuousClock.now < end {
                        let kind = counter.withLockedValue { value -> Int in
                            value += 1
                            return value % 10
                        }
                        let start = ContinuousClock.now
                        do {
                            try await call(client, kind: kind)
                            window.record(nanoseconds(ContinuousClock.now - start))
                        } catch {
                            window.fail(error)
                        }
                    }
                }
            }
            var last = ContinuousClock.now
            while ContinuousClock.now < end {
                try await Task.sleep(until: min(last + .seconds(10), end), clock: .continuous)
                let now = ContinuousClock.now
                let (latencies, errors, first) = window.take()
                let seconds = Double(nanoseconds(now - last)) / 1e9
                last = now
                for latency in latencies { histogram.add(latency) }
                totalErrors += errors
                firstErrors += first
                let raw = Report.rss() ?? 0
                Report.trim()
                let rss = Report.rss() ?? 0
                rssSamples.append(rss)
                let sorted = latencies.sorted()
                print(String(format: "%5.0fs  %8.0f  %6d  %6.2f  %6.2f  ", Double(nanoseconds(now - started)) / 1e9,
                    Double(latencies.count) / seconds, errors, percentile(sorted, 50) / 1e6, percentile(sorted, 99) / 1e6)
                    + Report.mebibytes(rss) + " (" + Report.mebibytes(raw) + ")")
                fflush(nil)  // each line as it comes, also into a file or pipe
            }
            try await group.waitForAll()
        }
        let elapsed = Double(nanoseconds(ContinuousClock.now - started)) / 1e9
        print("")
        print("total: \(histogram.count) calls in \(String(format: "%.0f", elapsed)) s = \(String(format: "%.0f", Double(histogram.count) / elapsed)) calls/s; errors: \(totalErrors)")
        print(String(format: "latency (±2%%): p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
            histogram.percentile(50) / 1e6, histogram.percentile(99) / 1e6, histogram.percentile(99.9) / 1e6, Double(histogram.max) / 1e6))
        if rssSamples.count >= 2 {
            let half = Array(rssSamples.suffix(rssSamples.count / 2))
            print("RSS after malloc_trim: first sample \(Report.mebibytes(rssSamples.first)), last \(Report.mebibytes(rssSamples.last)); second half min \(Report.mebibytes(half.min())), max \(Report.mebibytes(half.max()))")
        }
        for error in firstErrors { print("error: \(error)") }
        for (_, transport) in clients { transport.close() }
        await server.stop()
        print("load average at the end: \(Report.loadAverage())")
        if totalErrors > 0 { exit(1) }
    }

    static let smallText = "sixteen bytes!!!"
    static let payload16K = [UInt8](repeating: 0x5A, count: 16_384)
    static let item = { var item = CollectItem(); item.payload = [UInt8](repeating: 7, count: 512); return item }()

    static func call(_ client: Echo.Client, kind: Int) async throws {
        switch kind {
        case 6:
            var request = EchoRequest()
            request.payload = payload16K
            let response = try await client.echo(request)
            guard response.payload.count == payload16K.count else { throw SoakError.wrongAnswer("echo 16 KiB") }
        case 7:
            var request = ExpandRequest()
            request.count = 8
            request.payloadSize = 512
            var items = 0
            for try await _ in try await client.expand(request) { items += 1 }
            guard items == 8 else { throw SoakError.wrongAnswer("expand gave \(items) items") }
        case 8:
            let summary = try await client.collect { writer in
                for _ in 0..<8 { try await writer.write(item) }
            }
            guard summary.count == 8 else { throw SoakError.wrongAnswer("collect counted \(summary.count)") }
        case 9:
            var request = SleepRequest()
            request.milliseconds = 5
            _ = try await client.sleep(request)
        default:
            var request = EchoRequest()
            request.text = smallText
            guard try await client.echo(request).text == smallText else { throw SoakError.wrongAnswer("echo") }
        }
    }

    /// Latencies in buckets 2% wide (1 µs to about 20 min).
    struct Histogram {
        private var buckets = [Int](repeating: 0, count: 1_100)
        private(set) var count = 0
        private(set) var max: Int64 = 0
        private static let base = log(1.02)

        mutating func add(_ nanoseconds: Int64) {
            let index = Swift.min(buckets.count - 1, Swift.max(0, Int(log(Double(Swift.max(nanoseconds, 1_000)) / 1_000) / Self.base)))
            buckets[index] += 1
            count += 1
            max = Swift.max(max, nanoseconds)
        }

        /// The upper edge of the bucket holding the nearest-rank percentile, in nanoseconds.
        func percentile(_ p: Double) -> Double {
            guard count > 0 else { return .nan }
            let rank = Swift.max(1, Int((p / 100 * Double(count)).rounded(.up)))
            var seen = 0
            for (index, n) in buckets.enumerated() {
                seen += n
                if seen >= rank { return 1_000 * exp(Double(index + 1) * Self.base) }
            }
            return Double(max)
        }
    }

    enum SoakError: Error { case wrongAnswer(String) }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    static func percentile(_ sorted: [Int64], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1])
    }
}

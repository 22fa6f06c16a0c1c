import Foundation
import Synchronization

/// Per-key token buckets: how many calls each API key may make, sustained and in a burst.
///
/// Memory: one bucket per key that called recently; buckets full again (idle keys) are dropped
/// whenever there are more than 10,000. Time comes from `now` (seconds on a monotonic clock;
/// injected so tests decide it).
final class RequestRate: Sendable {
    private struct Bucket {
        var tokens: Double
        var last: Double
    }

    let perSecond: Double
    let burst: Double
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(perSecond: Double, burst: Int, now: @escaping @Sendable () -> Double = RequestRate.monotonicSeconds) {
        self.perSecond = perSecond
        self.burst = Double(max(1, burst))
        self.now = now
    }

    /// Whether the limit is on (a positive rate).
    var isOn: Bool { perSecond > 0 }

    /// Takes one call from `key`'s bucket; nil when allowed, else the seconds until one is.
    func take(_ key: String) -> Double? {
        guard isOn else { return nil }
        let time = now()
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, last: time)
            bucket.tokens = min(burst, bucket.tokens + max(0, time - bucket.last) * perSecond)
            bucket.last = time
            defer {
                buckets[key] = bucket
                if buckets.count > 10_000 { prune(&buckets, at: time) }
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / perSecond }
            bucket.tokens -= 1
            return nil
        }
    }

    private func prune(_ buckets: inout [String: Bucket], at time: Double) {
        buckets = buckets.filter { _, bucket in bucket.tokens + (time - bucket.last) * perSecond < burst }
    }

    static let monotonicSeconds: @Sendable () -> Double = {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

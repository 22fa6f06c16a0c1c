import NIOCore

/// Counts events against a budget that refills over time; used to spot floods (pings, resets,
/// empty frames) without punishing an ordinary burst.
struct TokenBucket {
    let capacity: Double
    let refillPerSecond: Double
    private var tokens: Double
    private var last: NIODeadline

    init(capacity: Int, refillPerSecond: Int, now: NIODeadline) {
        self.capacity = Double(capacity)
        self.refillPerSecond = Double(refillPerSecond)
        self.tokens = Double(capacity)
        self.last = now
    }

    /// Takes one token; false when the budget is spent.
    mutating func take(now: NIODeadline) -> Bool {
        let elapsed = Double((now - last).nanoseconds) / 1e9
        last = now
        tokens = min(capacity, tokens + elapsed * refillPerSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

import Foundation

/// Which generations of a database retention keeps (``ReplicaCatalog``): a pure function of the
/// generations' start times and the clock, so it is tested as a value.
///
/// - `window`: every moment of the last `window` stays restorable (the generation covering the
///   window's start and all newer). Default 7 days.
/// - `dailySnapshots`: also the newest generation started in each of the last N days (24-hour
///   periods counted back from now). Default 0.
/// - `weeklySnapshots`: also the newest generation started in each of the last N weeks (7-day
///   periods counted back from now). Default 0.
/// The newest generation is always kept.
public struct RetentionPolicy: Sendable, Equatable {
    public var window: Duration
    public var dailySnapshots: Int
    public var weeklySnapshots: Int

    public init(window: Duration = .seconds(7 * 86_400), dailySnapshots: Int = 0, weeklySnapshots: Int = 0) {
        self.window = window
        self.dailySnapshots = max(0, dailySnapshots)
        self.weeklySnapshots = max(0, weeklySnapshots)
    }

    /// The ids kept among `generations` (any order).
    public func kept(_ generations: [(id: String, snapshotAt: Date)], now: Date) -> Set<String> {
        let sorted = generations.sorted { $0.snapshotAt < $1.snapshotAt }
        guard let newest = sorted.last else { return [] }
        var kept: Set<String> = [newest.id]
        let windowStart = now.addingTimeInterval(-Double(window.components.seconds))
        let covering = sorted.lastIndex { $0.snapshotAt <= windowStart } ?? 0
        for generation in sorted[covering...] { kept.insert(generation.id) }
        // The newest generation of each period (a day, a week) among the last `count` periods.
        func keepNewest(per period: TimeInterval, count: Int) {
            guard count > 0 else { return }
            var newestInPeriod: [Int: String] = [:]
            for generation in sorted {  // oldest first: later ones replace earlier ones
                let age = now.timeIntervalSince(generation.snapshotAt)
                guard age >= 0 else { continue }
                let index = Int(age / period)
                if index < count { newestInPeriod[index] = generation.id }
            }
            kept.formUnion(newestInPeriod.values)
        }
        keepNewest(per: 86_400, count: dailySnapshots)
        keepNewest(per: 7 * 86_400, count: weeklySnapshots)
        return kept
    }
}

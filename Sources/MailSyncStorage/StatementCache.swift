/// A bounded least-recently-used cache of prepared statements, keyed by SQL text.
///
/// Default capacity 64 (``SQLiteConnection/Options/statementCacheCapacity``). Lookup is a hash
/// lookup; eviction scans for the oldest entry, which is cheap at this size and only happens on a
/// miss when full. Evicted statements are finalized when released. Owned by one connection and
/// used only on its thread.
struct StatementCache {
    private var entries: [String: (statement: Statement, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }

    mutating func lookup(_ sql: String) -> Statement? {
        guard let entry = entries[sql] else { return nil }
        clock &+= 1
        entries[sql] = (entry.statement, clock)
        return entry.statement
    }

    mutating func insert(_ statement: Statement) {
        guard capacity > 0 else { return }
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
        }
        clock &+= 1
        entries[statement.sql] = (statement, clock)
    }

    mutating func removeAll() {
        entries.removeAll()
    }
}

import MailSyncStorage
import MailSyncTenantData
import NIOConcurrencyHelpers

/// A per-company "something was written" signal, for `WatchSyncEvents`.
///
/// Holds no events, only a generation counter per company and the tasks waiting for it to move:
/// watchers read the events themselves from the database. The pattern that loses nothing is
/// "take `generation(_:)`, read, then `wait(_:after:)` with the generation taken": a write that
/// committed after the read began has signalled after the generation was taken, so the wait
/// returns at once.
///
/// Memory: one counter per company written to since start (a few bytes each) and one entry per
/// waiting call, removed when it wakes, is cancelled or the bus closes.
package final class SyncEventBus: Sendable {
    private struct State {
        var generations: [TenantID: UInt64] = [:]
        /// Waiting calls by company, each under its own id.
        var waiters: [TenantID: [UInt64: CheckedContinuation<Bool, Never>]] = [:]
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    /// The company's current generation: 0 until its first signal, then one more per signal.
    package func generation(_ tenant: TenantID) -> UInt64 {
        state.withLockedValue { $0.generations[tenant] ?? 0 }
    }

    /// Records that the company's database changed and wakes everyone waiting on it. Cheap; call
    /// after every committed write (a write that added no event only causes an empty read).
    package func signal(_ tenant: TenantID) {
        let woken: [CheckedContinuation<Bool, Never>] = state.withLockedValue { state in
            state.generations[tenant, default: 0] &+= 1
            return state.waiters.removeValue(forKey: tenant).map { Array($0.values) } ?? []
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Suspends until the company's generation is past `generation`.
    ///
    /// - Returns: `true` when it is (at once if it already was); `false` when the calling task is
    ///   cancelled or the bus is closed, which is when the watcher should stop. Never throws, and a
    ///   cancelled waiter is removed at once.
    package func wait(_ tenant: TenantID, after generation: UInt64) async -> Bool {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiterID &+= 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLockedValue { state in
                    if state.closed || Task.isCancelled { return false }
                    if state.generations[tenant] ?? 0 > generation { return true }
                    state.waiters[tenant, default: [:]][id] = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            // Runs after the task is marked cancelled: either the waiter is registered (removed
            // here) or it is not yet, and registration sees `Task.isCancelled`.
            let continuation = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
                let removed = state.waiters[tenant]?.removeValue(forKey: id)
                if state.waiters[tenant]?.isEmpty == true { state.waiters[tenant] = nil }
                return removed
            }
            continuation?.resume(returning: false)
        }
    }

    /// Moves every company's generation and wakes every waiter with `true`: access may have been
    /// taken away (a key revoked, a company suspended), so each watcher checks its caller again.
    /// Rare; costs each watcher one read.
    package func wakeAll() {
        let woken = state.withLockedValue { state in
            for key in state.generations.keys { state.generations[key]! &+= 1 }
            for key in state.waiters.keys where state.generations[key] == nil { state.generations[key] = 1 }
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Wakes every waiter with `false` and makes later waits return `false` at once: the server is
    /// shutting down, so watchers end their streams normally instead of holding the drain up.
    package func close() {
        let woken = state.withLockedValue { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for continuation in woken { continuation.resume(returning: false) }
    }

    /// Calls waiting right now (for tests: none should be left once calls end).
    package var waiterCount: Int { state.withLockedValue { $0.waiters.values.reduce(0) { $0 + $1.count } } }
}

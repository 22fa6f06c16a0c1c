import Foundation
import NIOConcurrencyHelpers

/// Admits Smart Mail sends to the send workers under the per-server, per-company and per-user
/// limits of a ``SendQueue``, letting a send over a limit wait up to ``maxWait`` for a slot.
///
/// - A send that gets no slot within `maxWait` (at once when `maxWait` is zero, or when 1,000
///   sends already wait) is refused with ``Refusal``, which names the limit and how long to wait
///   before retrying (the recent average send time, 1–120 s).
/// - A waiting send whose task is cancelled (the caller went away, or its deadline passed) leaves
///   the queue at once and never sends; ``withSlot(for:_:)`` throws `CancellationError`.
/// - A send that got its slot is not interrupted by cancellation: it keeps the slot until its body
///   returns (the SMTP send is bounded by its own timeout).
///
/// Thread-safe; waiting does not block a thread.
final class SendGate: Sendable {
    /// A send refused because a limit stayed reached for as long as it could wait.
    struct Refusal: Error, Sendable, Hashable {
        var limit: SendQueue.Limit
        /// The limit's value (sends at once).
        var allowed: Int
        /// A sensible time to wait before trying again, whole seconds, at least 1.
        var retryAfterSeconds: Int
    }

    /// Why a send did not get a slot; its body never ran.
    enum NotAdmitted: Error, Sendable, Hashable {
        /// A limit stayed reached for as long as the send could wait.
        case refused(Refusal)
        /// The task was cancelled while waiting (the caller went away or its deadline passed).
        case cancelled
    }

    /// How long a send over a limit waits for a slot. Zero: refused at once.
    let maxWait: Duration
    private let state: NIOLockedValueBox<State>

    private struct State {
        var queue: SendQueue
        var nextID: UInt64 = 0
        var waiting: [UInt64: Waiter] = [:]
        /// Exponentially weighted average of recent sends' durations, for the retry hint.
        var averageSendSeconds = 5.0
    }

    private struct Waiter {
        var continuation: CheckedContinuation<Void, any Error>
        var timer: Task<Void, Never>?
    }

    init(limits: SendQueue.Limits, maxWait: Duration) {
        self.maxWait = max(.zero, maxWait)
        self.state = NIOLockedValueBox(State(queue: SendQueue(limits: limits)))
    }

    var limits: SendQueue.Limits { state.withLockedValue { $0.queue.limits } }

    /// Sends in progress and sends waiting, at one moment.
    struct Load: Sendable, Hashable {
        var running: Int
        var waiting: Int
    }

    /// Sends in progress and sends waiting, now.
    var load: Load {
        state.withLockedValue { Load(running: $0.queue.running, waiting: $0.queue.waiting) }
    }

    /// Runs `body` once `sender` has a slot, and frees the slot when `body` returns or throws.
    ///
    /// - Throws: ``NotAdmitted`` when no slot came within ``maxWait`` or the task was cancelled
    ///   before `body` started (then `body` never ran); otherwise whatever `body` throws.
    func withSlot<T: Sendable>(for sender: SendQueue.Sender, _ body: () async throws -> T) async throws -> T {
        do {
            try await acquire(sender)
        } catch let refusal as Refusal {
            throw NotAdmitted.refused(refusal)
        } catch {
            throw NotAdmitted.cancelled
        }
        let started = ContinuousClock.now
        defer { release(sender, after: ContinuousClock.now - started) }
        // Granted at the moment the caller went away: it still must not send.
        guard !Task.isCancelled else { throw NotAdmitted.cancelled }
        return try await body()
    }

    private func acquire(_ sender: SendQueue.Sender) async throws {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextID &+= 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                state.withLockedValue { state in
                    switch state.queue.arrive(id, sender) {
                    case .run:
                        continuation.resume()
                    case .refused(let limit):
                        continuation.resume(throwing: refusal(limit, state))
                    case .wait(let limit):
                        if maxWait == .zero {
                            _ = state.queue.leave(id)
                            continuation.resume(throwing: refusal(limit, state))
                        } else if Task.isCancelled {
                            _ = state.queue.leave(id)
                            continuation.resume(throwing: CancellationError())
                        } else {
                            let wait = maxWait
                            let timer = Task { [self] in
                                do {
                                    try await Task.sleep(for: wait)
                                } catch {
                                    return  // granted or cancelled first
                                }
                                timeOut(id)
                            }
                            state.waiting[id] = Waiter(continuation: continuation, timer: timer)
                        }
                    }
                }
            }
        } onCancel: {
            leave(id, with: CancellationError())
        }
    }

    private func timeOut(_ id: UInt64) {
        state.withLockedValue { state in
            guard let limit = state.queue.limit(holding: id) else { return }
            let refusal = refusal(limit, state)
            guard state.queue.leave(id), let waiter = state.waiting.removeValue(forKey: id) else { return }
            waiter.continuation.resume(throwing: refusal)
        }
    }

    private func leave(_ id: UInt64, with error: any Error) {
        state.withLockedValue { state in
            guard state.queue.leave(id), let waiter = state.waiting.removeValue(forKey: id) else { return }
            waiter.timer?.cancel()
            waiter.continuation.resume(throwing: error)
        }
    }

    private func release(_ sender: SendQueue.Sender, after duration: Duration) {
        state.withLockedValue { state in
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            state.averageSendSeconds = state.averageSendSeconds * 0.8 + min(seconds, 600) * 0.2
            for id in state.queue.release(sender) {
                guard let waiter = state.waiting.removeValue(forKey: id) else { continue }
                waiter.timer?.cancel()
                waiter.continuation.resume()
            }
        }
    }

    private func refusal(_ limit: SendQueue.Limit, _ state: State) -> Refusal {
        let allowed = switch limit {
        case .server: state.queue.limits.total
        case .company: state.queue.limits.perCompany
        case .user: state.queue.limits.perUser
        }
        let seconds = state.averageSendSeconds.rounded(.up)
        return Refusal(limit: limit, allowed: allowed, retryAfterSeconds: seconds.isFinite ? Int(min(max(seconds, 1), 120)) : 5)
    }
}

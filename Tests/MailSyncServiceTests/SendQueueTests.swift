import Foundation
@testable import MailSyncService
import Testing

/// The Smart Mail queue's transitions one by one (``SendQueue``), and the gate that waits on it
/// (``SendGate``): limits per server, company and user, first come first served, waiters that
/// give up or time out.
@Suite("Smart Mail send queue", .timeLimit(.minutes(5)))
struct SendQueueTests {
    static let alice = SendQueue.Sender(company: "acme", user: "alice")
    static let bob = SendQueue.Sender(company: "acme", user: "bob")
    static let carol = SendQueue.Sender(company: "acme", user: "carol")
    static let dave = SendQueue.Sender(company: "globex", user: "dave")
    static let erin = SendQueue.Sender(company: "globex", user: "erin")

    @Test("a user gets at most perUser slots; the next waits, held by the user limit, and runs when one is freed")
    func perUser() {
        var queue = SendQueue(limits: .init(total: 10, perCompany: 10, perUser: 2))
        #expect(queue.arrive(1, Self.alice) == .run)
        #expect(queue.arrive(2, Self.alice) == .run)
        #expect(queue.arrive(3, Self.alice) == .wait(.user))
        #expect(queue.arrive(4, Self.bob) == .run)  // another user is not held up
        #expect(queue.running(for: Self.alice) == 2)
        #expect(queue.release(Self.bob) == [])
        #expect(queue.release(Self.alice) == [3])
        #expect(queue.running(for: Self.alice) == 2)
        #expect(queue.waiting == 0)
    }

    @Test("a company gets at most perCompany slots over all its users; another company is not held up")
    func perCompany() {
        var queue = SendQueue(limits: .init(total: 10, perCompany: 2, perUser: 2))
        #expect(queue.arrive(1, Self.alice) == .run)
        #expect(queue.arrive(2, Self.bob) == .run)
        #expect(queue.arrive(3, Self.carol) == .wait(.company))
        #expect(queue.arrive(4, Self.dave) == .run)
        #expect(queue.running(company: "acme") == 2)
        #expect(queue.release(Self.dave) == [])
        #expect(queue.release(Self.bob) == [3])
        #expect(queue.running(company: "acme") == 2)
    }

    @Test("the server's total: waiters run in the order they came as slots are freed")
    func fifoOnTotal() {
        var queue = SendQueue(limits: .init(total: 2, perCompany: 10, perUser: 10))
        #expect(queue.arrive(1, Self.alice) == .run)
        #expect(queue.arrive(2, Self.dave) == .run)
        #expect(queue.arrive(3, Self.erin) == .wait(.server))
        #expect(queue.arrive(4, Self.bob) == .wait(.server))
        #expect(queue.arrive(5, Self.carol) == .wait(.server))
        #expect(queue.release(Self.alice) == [3])
        #expect(queue.release(Self.dave) == [4])
        #expect(queue.release(Self.erin) == [5])
        #expect(queue.waiting == 0)
        #expect(queue.running == 2)
    }

    @Test("a waiter held by its own user's limit does not hold up a later one; earlier eligible waiters go first")
    func noHeadOfLineBlocking() {
        var queue = SendQueue(limits: .init(total: 2, perCompany: 10, perUser: 1))
        #expect(queue.arrive(1, Self.alice) == .run)
        #expect(queue.arrive(2, Self.bob) == .run)
        #expect(queue.arrive(3, Self.alice) == .wait(.server))
        #expect(queue.arrive(4, Self.dave) == .wait(.server))
        #expect(queue.arrive(5, Self.erin) == .wait(.server))
        // Bob's slot frees: Alice (3) is still at her user limit, so Dave (4), the next in line, runs.
        #expect(queue.release(Self.bob) == [4])
        #expect(queue.limit(holding: 3) == .server)
        // Alice's slot frees: her waiter (3) is first in line and runs; Erin keeps waiting.
        #expect(queue.release(Self.alice) == [3])
        #expect(queue.limit(holding: 5) == .server)
        #expect(queue.release(Self.dave) == [5])
    }

    @Test("a waiter that leaves never runs; leaving twice or after running changes nothing")
    func leave() {
        var queue = SendQueue(limits: .init(total: 1, perCompany: 1, perUser: 1))
        #expect(queue.arrive(1, Self.alice) == .run)
        #expect(queue.arrive(2, Self.bob) == .wait(.server))
        #expect(queue.arrive(3, Self.carol) == .wait(.server))
        let first = queue.leave(2)
        let again = queue.leave(2)
        let running = queue.leave(1)  // running, not waiting
        #expect(first && !again && !running)
        #expect(queue.release(Self.alice) == [3])
        #expect(queue.waiting == 0)
        #expect(queue.running == 1)
    }

    @Test("a full queue refuses at once; a release for a sender with nothing running is ignored")
    func fullQueueAndStrayRelease() {
        var queue = SendQueue(limits: .init(total: 1, perCompany: 1, perUser: 1, maxWaiting: 1))
        #expect(queue.arrive(1, Self.alice) == .run)
        #expect(queue.arrive(2, Self.alice) == .wait(.server))
        #expect(queue.arrive(3, Self.dave) == .refused(.server))
        #expect(queue.release(Self.dave) == [])
        #expect(queue.running == 1)
        #expect(queue.release(Self.alice) == [2])
    }

    @Test("limits below 1 are taken as 1")
    func limitsFloor() {
        let limits = SendQueue.Limits(total: 0, perCompany: -3, perUser: 0)
        #expect(limits.total == 1 && limits.perCompany == 1 && limits.perUser == 1)
    }

    // MARK: - The gate

    @Test("gate: over the limit with no wait, refused at once naming the limit with a retry hint; the slot is freed after the body")
    func gateRefusesAtOnce() async throws {
        let gate = SendGate(limits: .init(total: 4, perCompany: 4, perUser: 1), maxWait: .zero)
        let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
        let (finish, finishContinuation) = AsyncStream.makeStream(of: Void.self)
        let first = Task {
            try await gate.withSlot(for: Self.alice) {
                enteredContinuation.yield()
                for await _ in finish { break }
            }
        }
        for await _ in entered { break }
        await #expect(throws: SendGate.NotAdmitted.refused(.init(limit: .user, allowed: 1, retryAfterSeconds: 5))) {
            try await gate.withSlot(for: Self.alice) {}
        }
        finishContinuation.yield()
        try await first.value
        #expect(gate.load == .init(running: 0, waiting: 0))
        try await gate.withSlot(for: Self.alice) {}
    }

    @Test("gate: a waiter gets the slot when it is freed, in the order waiters came")
    func gateWaitsInOrder() async throws {
        let gate = SendGate(limits: .init(total: 1, perCompany: 1, perUser: 1), maxWait: .seconds(30))
        let order = Recorder()
        let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
        let (finish, finishContinuation) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await gate.withSlot(for: Self.alice) {
                enteredContinuation.yield()
                for await _ in finish { break }
            }
        }
        for await _ in entered { break }
        var waiters: [Task<Void, any Error>] = []
        for (i, sender) in [Self.bob, Self.dave, Self.erin].enumerated() {
            waiters.append(Task { try await gate.withSlot(for: sender) { order.append(i) } })
            try await waitUntil { gate.load.waiting == i + 1 }
        }
        finishContinuation.yield()
        try await holder.value
        for waiter in waiters { try await waiter.value }
        #expect(order.values == [0, 1, 2])
        #expect(gate.load == .init(running: 0, waiting: 0))
    }

    @Test("gate: a cancelled waiter leaves the queue at once and its body never runs; the next waiter gets the slot")
    func gateCancelledWaiter() async throws {
        let gate = SendGate(limits: .init(total: 1, perCompany: 1, perUser: 1), maxWait: .seconds(30))
        let ran = Recorder()
        let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
        let (finish, finishContinuation) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await gate.withSlot(for: Self.alice) {
                enteredContinuation.yield()
                for await _ in finish { break }
            }
        }
        for await _ in entered { break }
        let cancelled = Task { try await gate.withSlot(for: Self.bob) { ran.append(1) } }
        try await waitUntil { gate.load.waiting == 1 }
        let next = Task { try await gate.withSlot(for: Self.dave) { ran.append(2) } }
        try await waitUntil { gate.load.waiting == 2 }
        cancelled.cancel()
        await #expect(throws: SendGate.NotAdmitted.cancelled) { try await cancelled.value }
        #expect(gate.load == .init(running: 1, waiting: 1))
        finishContinuation.yield()
        try await holder.value
        try await next.value
        #expect(ran.values == [2])
    }

    @Test("gate: a task cancelled before it asks never runs its body")
    func gateAlreadyCancelled() async throws {
        let gate = SendGate(limits: .init(total: 1, perCompany: 1, perUser: 1), maxWait: .seconds(30))
        let ran = Recorder()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await gate.withSlot(for: Self.alice) { ran.append(1) }
        }
        await #expect(throws: SendGate.NotAdmitted.cancelled) { try await task.value }
        #expect(ran.values.isEmpty)
        #expect(gate.load == .init(running: 0, waiting: 0))
    }

    @Test("gate: a waiter that gets no slot within maxWait is refused and leaves the queue")
    func gateTimesOut() async throws {
        let gate = SendGate(limits: .init(total: 1, perCompany: 1, perUser: 1), maxWait: .milliseconds(100))
        let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
        let (finish, finishContinuation) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await gate.withSlot(for: Self.alice) {
                enteredContinuation.yield()
                for await _ in finish { break }
            }
        }
        for await _ in entered { break }
        let started = ContinuousClock.now
        await #expect(throws: SendGate.NotAdmitted.refused(.init(limit: .server, allowed: 1, retryAfterSeconds: 5))) {
            try await gate.withSlot(for: Self.dave) {}
        }
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        #expect(gate.load == .init(running: 1, waiting: 0))
        finishContinuation.yield()
        try await holder.value
    }

    /// Polls `condition` every 5 ms; fails after 10 s.
    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 10 s")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Values appended from several tasks.
private final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int] = []
    func append(_ value: Int) { lock.withLock { stored.append(value) } }
    var values: [Int] { lock.withLock { stored } }
}

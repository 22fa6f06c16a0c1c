import Foundation
import MailSyncClient
import MailSyncCoding
import Synchronization

/// Reads a `WatchSyncEvents` call in the background and keeps every event it delivers, in order,
/// so a test can wait for one (``waitUntil(_:_:)``, always with a deadline) without giving up the
/// call when a wait ends. The call's own deadline ends the reading at the latest; ``cancel()``
/// ends it sooner.
final class EventCollector: Sendable {
    private struct State {
        var events: [SyncEvent] = []
        var failure: String?
    }

    private let state = Mutex(State())
    private let call: any ClientCall
    private let reader = Mutex<Task<Void, Never>?>(nil)

    init(_ call: any ClientCall) {
        self.call = call
        let collector = self
        let task = Task {
            do {
                while let bytes = try await call.receive() {
                    let event = try SyncEvent(serializedBytes: bytes)
                    collector.state.withLock { $0.events.append(event) }
                }
                collector.state.withLock { $0.failure = "the stream ended" }
            } catch {
                collector.state.withLock { $0.failure = "\(error)" }
            }
        }
        reader.withLock { $0 = task }
    }

    /// The events received so far, oldest first.
    var events: [SyncEvent] { state.withLock { $0.events } }

    /// Why reading stopped, once it has.
    var failure: String? { state.withLock { $0.failure } }

    func cancel() {
        call.cancel()
        reader.withLock { $0?.cancel() }
    }

    /// Whether `condition` held within `timeout` (checked every 20 ms).
    static func waitUntil(_ timeout: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

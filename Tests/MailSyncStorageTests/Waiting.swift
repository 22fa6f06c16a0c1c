import Foundation

/// Waits until `condition` holds, checking every few milliseconds; throws, naming `what`, when
/// `timeout` (default 20 s, generous for a loaded two-core machine) passes first. Tests wait for
/// events with it, so an outcome never depends on how long a sleep was.
struct WaitTimedOut: Error, CustomStringConvertible {
    let description: String
}

func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(description: "gave up after \(timeout) waiting for: \(what)") }
        try await Task.sleep(for: .milliseconds(2))
    }
}

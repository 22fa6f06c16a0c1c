/// Polls `condition` every 5 ms until it holds; throws once `limit` has passed. Every wait in the
/// suites has such a deadline, so a regression fails the test instead of hanging CI.
func waitUntil(_ limit: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !(try await condition()) {
        guard ContinuousClock.now < deadline else { throw WaitTimeout(limit: limit) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

struct WaitTimeout: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "the condition did not hold within \(limit)" }
}

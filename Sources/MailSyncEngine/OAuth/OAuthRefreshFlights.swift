/// At most one token refresh per mailbox at a time: callers that arrive while one runs wait for
/// its result instead of starting another (a refresh token that rotates may be used only once).
package actor OAuthRefreshFlights {
    private var flights: [String: Task<String, any Error>] = [:]

    package init() {}

    /// Runs `body` for `key` unless a run for `key` is in flight, in which case its result (or
    /// error) is returned.
    package func run(_ key: String, _ body: @escaping @Sendable () async throws -> String) async throws -> String {
        if let flight = flights[key] { return try await flight.value }
        let flight = Task { try await body() }
        flights[key] = flight
        defer { flights[key] = nil }
        return try await flight.value
    }
}

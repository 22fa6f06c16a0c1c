import Foundation

/// Starting a loopback test server on a free port: ports are found by binding port 0, so another
/// process can take one before the server binds it. Then the server is tried again on new ports,
/// up to five times; any other failure stops at once.
enum FreePortLaunch {
    /// Makes a server (`make`, which picks its ports), launches it, and retries when the failure
    /// says a port was taken. Stops a failed attempt (keeping `directory` between attempts) and
    /// removes `directory` when giving up.
    static func start<Server>(
        directory: String,
        make: () throws -> Server,
        launch: (Server) async throws -> Void,
        stop: (Server, _ keepDirectory: Bool) async -> Void,
        noPort: @autoclosure () -> any Error
    ) async throws -> Server {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = try make()
            do {
                try await launch(server)
                return server
            } catch where Self.portTaken(error) {
                lastError = error
                await stop(server, true)
            } catch {
                await stop(server, false)
                throw error
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastError ?? noPort()
    }

    /// Whether `error` (with the server's log) says a port was taken: Dovecot's "Address already
    /// in use", Python's "[Errno 98] ... address already in use".
    static func portTaken(_ error: any Error) -> Bool {
        let text = "\(error)".lowercased()
        return text.contains("address already in use") || text.contains("errno 98")
    }
}

import NIOConcurrencyHelpers
import NIOCore

/// The server's list of open connections: enforces `maxConnections` and reaches every connection
/// for a graceful shutdown.
final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: ServerConnectionHandler.Handle] = [:]
        var shuttingDown = false
    }
    private let state = NIOLockedValueBox(State())
    let maxConnections: Int

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    /// Adds a connection; false when the server is full or shutting down.
    func register(_ handle: ServerConnectionHandler.Handle) -> Bool {
        state.withLockedValue {
            guard !$0.shuttingDown, $0.connections.count < maxConnections else { return false }
            $0.connections[handle.id] = handle
            return true
        }
    }

    func unregister(_ id: ObjectIdentifier) {
        state.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
    }

    var count: Int { state.withLockedValue { $0.connections.count } }

    /// Marks the server as shutting down and returns every open connection.
    func beginShutdown() -> [ServerConnectionHandler.Handle] {
        state.withLockedValue {
            $0.shuttingDown = true
            return Array($0.connections.values)
        }
    }

    func all() -> [ServerConnectionHandler.Handle] {
        state.withLockedValue { Array($0.connections.values) }
    }
}

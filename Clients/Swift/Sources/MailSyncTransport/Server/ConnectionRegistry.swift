import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore

/// The server's list of open connections: enforces `maxConnections`, reaches every connection
/// for a graceful shutdown, and keeps the `mailsync_rpc_open_connections` gauge (a swift-metrics
/// `Meter`) equal to its count.
final class ConnectionRegistry: Sendable {
    static let openConnectionsLabel = "mailsync_rpc_open_connections"
    private struct State {
        var connections: [ObjectIdentifier: ServerConnectionHandler.Handle] = [:]
        var shuttingDown = false
    }
    private let state = NIOLockedValueBox(State())
    let maxConnections: Int
    private let gauge: Meter

    init(maxConnections: Int, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.maxConnections = maxConnections
        self.gauge = Meter(label: Self.openConnectionsLabel, dimensions: [], factory: metrics)
        gauge.set(0)
    }

    /// Adds a connection; false when the server is full or shutting down.
    func register(_ handle: ServerConnectionHandler.Handle) -> Bool {
        state.withLockedValue {
            guard !$0.shuttingDown, $0.connections.count < maxConnections else { return false }
            $0.connections[handle.id] = handle
            gauge.set($0.connections.count)
            return true
        }
    }

    func unregister(_ id: ObjectIdentifier) {
        state.withLockedValue {
            guard $0.connections.removeValue(forKey: id) != nil else { return }
            gauge.set($0.connections.count)
        }
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

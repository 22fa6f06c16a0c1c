import Logging
import NIOConcurrencyHelpers

/// Keeps every log line (message and metadata) so tests can search them for secrets.
struct CapturingLogHandler: LogHandler {
    final class Store: Sendable {
        let lines = NIOLockedValueBox<[String]>([])
        var all: String { lines.withLockedValue { $0.joined(separator: "\n") } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(store: Store) { self.store = store }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.lines.withLockedValue { $0.append("\(event.level) \(event.message) \(merged)") }
    }
}

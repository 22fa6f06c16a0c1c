import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP listener on a free 127.0.0.1 port that counts the connections it accepts and closes
/// each at once: the witness for "refused before any connection was made".
///
/// Stop it with ``stop()`` in the test that started it.
public final class ConnectionCounter: Sendable {
    public let port: Int
    private let channel: any Channel
    private let counter: NIOLockedValueBox<Int>

    private init(port: Int, channel: any Channel, counter: NIOLockedValueBox<Int>) {
        self.port = port
        self.channel = channel
        self.counter = counter
    }

    /// Connections accepted so far.
    public var accepted: Int { counter.withLockedValue { $0 } }

    public static func start() async throws -> ConnectionCounter {
        let counter = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                counter.withLockedValue { $0 += 1 }
                return child.close()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ConnectionCounter(port: channel.localAddress!.port!, channel: channel, counter: counter)
    }

    public func stop() async {
        try? await channel.close()
    }
}

import NIOCore

/// Pings a peer that has been silent for `interval`, and reports when a ping goes unanswered for
/// `timeout`. Event-loop bound (hence `@unchecked Sendable`: every call is made on the
/// connection's loop); one per connection, on both sides.
final class Keepalive: @unchecked Sendable {
    private var task: RepeatedTask?
    private var timeoutTimer: Scheduled<Void>?
    private var lastRead = NIODeadline.now()

    /// Starts the checks. `sendPing` writes and flushes a PING; `onTimeout` fails the connection.
    func start(
        on loop: any EventLoop, interval: TimeAmount, timeout: TimeAmount,
        sendPing: @escaping @Sendable () -> Void, onTimeout: @escaping @Sendable () -> Void
    ) {
        task = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [unowned self] _ in
            guard timeoutTimer == nil, NIODeadline.now() - lastRead >= interval else { return }
            sendPing()
            timeoutTimer = loop.scheduleTask(in: timeout, onTimeout)
        }
    }

    /// Anything arrived from the peer.
    func readHappened() { lastRead = .now() }

    /// Whether a ping of ours is waiting for its ACK (a PING ACK arriving otherwise answers nothing).
    var awaitingAnswer: Bool { timeoutTimer != nil }

    /// The peer answered our ping.
    func pingAnswered() {
        timeoutTimer?.cancel()
        timeoutTimer = nil
    }

    func stop() {
        task?.cancel()
        timeoutTimer?.cancel()
        task = nil
        timeoutTimer = nil
    }
}

import MailSyncRPC
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import MailSyncTransport

/// The queue between a stream's event loop and its reader: `single` (a unary response, one wake
/// per call) and the credit `next` reports.
@Suite("Inbound queue")
struct InboundQueueTests {
    static func item(_ bytes: [UInt8]) -> InboundQueue.Item {
        InboundQueue.Item(bytes: ByteBuffer(bytes: bytes), compressed: false, wireSize: bytes.count)
    }

    /// The credit a queue reported, in order.
    final class Credit: Sendable {
        private let box = NIOLockedValueBox<[Int]>([])
        func add(_ size: Int) { box.withLockedValue { $0.append(size) } }
        var reported: [Int] { box.withLockedValue { $0 } }
    }

    static func queue(_ credit: Credit = Credit()) -> InboundQueue {
        InboundQueue(maxMessageSize: 1024) { credit.add($0) }
    }

    enum Seen: Equatable { case none, one([UInt8]), several }

    static func seen(_ queue: InboundQueue, _ single: InboundQueue.Single) throws -> Seen {
        switch single {
        case .none: return .none
        case .one(let item): return .one(try queue.bytes(of: item))
        case .several: return .several
        }
    }

    @Test("single: one message, then the end")
    func oneMessage() async throws {
        let credit = Credit()
        let queue = Self.queue(credit)
        #expect(queue.push(Self.item([1, 2, 3])))
        queue.finish(.success(()), discardBuffered: false)
        #expect(try Self.seen(queue, await queue.single()) == .one([1, 2, 3]))
        #expect(credit.reported.isEmpty)
    }

    @Test("single: the end without a message")
    func noMessage() async throws {
        let queue = Self.queue()
        queue.finish(.success(()), discardBuffered: false)
        #expect(try Self.seen(queue, await queue.single()) == .none)
    }

    @Test("single: a waiting reader is woken by the end, with the message that came first")
    func wokenByEnd() async throws {
        let queue = Self.queue()
        let reader = Task { try Self.seen(queue, await queue.single()) }
        // Whether the reader waits already or not, the outcome is the same.
        try await Task.sleep(for: .milliseconds(20))
        #expect(queue.push(Self.item([7])))
        try await Task.sleep(for: .milliseconds(20))
        queue.finish(.success(()), discardBuffered: false)
        #expect(try await reader.value == .one([7]))
    }

    @Test("single: a second message wakes the reader before any end")
    func secondMessage() async throws {
        let queue = Self.queue()
        let reader = Task { try Self.seen(queue, await queue.single()) }
        try await Task.sleep(for: .milliseconds(20))
        #expect(queue.push(Self.item([1])))
        #expect(queue.push(Self.item([2])))
        #expect(try await reader.value == .several)
    }

    @Test("single: an error end is thrown, even after a message")
    func errorEnd() async throws {
        let queue = Self.queue()
        #expect(queue.push(Self.item([1])))
        queue.finish(.failure(RPCError(.notFound, "gone")), discardBuffered: false)
        await #expect {
            _ = try await queue.single()
        } throws: { error in
            (error as? RPCError)?.code == .notFound
        }
    }

    @Test("single: cancelling the reader throws cancelled and runs onCancel")
    func cancelled() async throws {
        let queue = Self.queue()
        let cancelledFlag = NIOLockedValueBox(false)
        let reader = Task { try await queue.single(onCancel: { cancelledFlag.withLockedValue { $0 = true } }) }
        try await Task.sleep(for: .milliseconds(20))
        reader.cancel()
        await #expect {
            _ = try await reader.value
        } throws: { error in
            (error as? RPCError)?.code == .cancelled
        }
        #expect(cancelledFlag.withLockedValue { $0 })
    }

    @Test("next reports credit while the sender may send more, not once it has finished")
    func creditUntilEnd() async throws {
        let credit = Credit()
        let queue = Self.queue(credit)
        #expect(queue.push(Self.item([1, 2])))
        #expect(try await queue.next() == [1, 2])
        #expect(credit.reported == [2])
        #expect(queue.push(Self.item([3, 4, 5])))
        queue.finish(.success(()), discardBuffered: false)
        #expect(try await queue.next() == [3, 4, 5])
        #expect(credit.reported == [2])
        #expect(try await queue.next() == nil)
    }
}

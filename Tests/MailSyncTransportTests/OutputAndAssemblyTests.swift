import MailSyncRPC
import MailSyncWire
@testable import MailSyncTransport
import NIOCore
import Testing

/// The copy-saving paths put the same bytes on the wire, and hand the reader the same message, as
/// encoding into one buffer and joining fragments would.
@Suite("Outbound parts and inbound fragments")
struct OutputAndAssemblyTests {
    /// Bytes 0, 1, 2, … (mod 251), so a misplaced fragment shows.
    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }

    /// All parts of `output`, in order, as one array.
    static func wire(_ output: inout OutboundBytes) -> [UInt8] {
        let (parts, last) = output.take(next: ByteBuffer())
        return (parts + [last]).flatMap { Array($0.readableBytesView) }
    }

    @Test(arguments: [0, 1, OutboundBytes.separateWriteThreshold - 1, OutboundBytes.separateWriteThreshold, 65_540, 200_000])
    func drainingWritesWhatOneBufferWould(size: Int) {
        let message = ByteBuffer(bytes: Self.pattern(size))
        let maxFrame = 65_536
        var expected = ByteBuffer()
        FrameEncoder.write(.endStream(streamID: 3), to: &expected)
        FrameEncoder.writeMessage(message, compressed: false, streamID: 5, maxFrameSize: maxFrame, to: &expected)
        FrameEncoder.write(.endStream(streamID: 5), to: &expected)

        var scheduler = OutboundScheduler(connectionWindow: 1 << 30, maxFrameSize: UInt32(maxFrame))
        let first = StreamOutbound(initialWindow: 1 << 30)
        let second = StreamOutbound(initialWindow: 1 << 30)
        scheduler.enqueue(.frame(.endStream(streamID: 3)), streamID: 3, on: first)
        scheduler.enqueue(.message(message, compressed: false, promise: nil), streamID: 5, on: second)
        scheduler.enqueue(.frame(.endStream(streamID: 5)), streamID: 5, on: second)
        var output = OutboundBytes()
        _ = scheduler.drain(into: &output) { $0 == 3 ? first : second }

        #expect(Self.wire(&output) == Array(expected.readableBytesView))
        #expect(!output.hasBytes)
    }

    @Test func largePayloadsAreNotCopied() {
        let chunk = ByteBuffer(bytes: Self.pattern(OutboundBytes.separateWriteThreshold))
        var output = OutboundBytes()
        output.write(.endStream(streamID: 1))
        output.writeMessage(streamID: 1, flags: [], chunk: chunk)
        let (parts, last) = output.take(next: ByteBuffer())
        #expect(parts.count == 2)
        #expect(parts[0].readableBytes == 2 * FrameHeader.size)
        #expect(parts[1] == chunk)
        #expect(last.readableBytes == 0)
    }

    /// One fragment; a large one and a small last one (kept as slices); small ones (joined); more
    /// large ones than are kept as slices (joined from the ninth on).
    @Test(arguments: [[5], [65_536, 4], [3, 0, 7, 1000], [8192, 3, 9000], Array(repeating: 8192, count: 12) + [1]])
    func fragmentsJoinInOrder(sizes: [Int]) throws {
        let message = Self.pattern(sizes.reduce(0, +))
        var assembler = MessageAssembler()
        var offset = 0
        var item: InboundQueue.Item?
        for (index, size) in sizes.enumerated() {
            let fragment = ByteBuffer(bytes: message[offset..<(offset + size)])
            offset += size
            let flags: FrameFlags = index < sizes.count - 1 ? .more : []
            switch assembler.append(flags: flags, bytes: fragment, maxMessageSize: 1 << 20) {
            case .success(let done): item = done
            case .failure: Issue.record("fragment \(index) refused")
            }
            #expect((item == nil) == (index < sizes.count - 1))
        }
        let complete = try #require(item)
        #expect(complete.plainBytes() == message)
        #expect(Array(complete.joined().readableBytesView) == message)
        #expect(complete.wireSize == message.count)
        #expect(!assembler.isMidMessage)
    }

    @Test func anOversizedMessageIsRefusedAndForgotten() {
        var assembler = MessageAssembler()
        _ = assembler.append(flags: .more, bytes: ByteBuffer(bytes: Self.pattern(60)), maxMessageSize: 100)
        guard case .failure(.stream(let error)) = assembler.append(
            flags: [], bytes: ByteBuffer(bytes: Self.pattern(41)), maxMessageSize: 100)
        else {
            Issue.record("a 101-byte message was accepted under a 100-byte limit")
            return
        }
        #expect(error.code == .resourceExhausted)
        #expect(!assembler.isMidMessage)
        guard case .success(let item?) = assembler.append(flags: [], bytes: ByteBuffer(bytes: [7]), maxMessageSize: 100) else {
            Issue.record("the next message was not accepted")
            return
        }
        #expect(item.plainBytes() == [7])
    }
}

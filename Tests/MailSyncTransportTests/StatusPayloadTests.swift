import MailSyncRPC
@testable import MailSyncTransport
import MailSyncWire
import NIOCore
import Testing

/// A STATUS always fits what the client announced: one frame of its `maxFrameSize`, trailing
/// metadata within its `maxMetadataSize`.
@Suite("STATUS within the client's limits")
struct StatusPayloadTests {
    func encodedLength(_ payload: StatusPayload) -> Int {
        var buffer = ByteBuffer()
        FrameEncoder.write(.status(streamID: 1, payload), to: &buffer)
        return buffer.readableBytes - 12
    }

    @Test("a message longer than the frame is cut at a character boundary and marked", arguments: [0, 100, 20_000])
    func longMessage(detailsSize: Int) {
        let status = Status(code: .internal, message: String(repeating: "é", count: 20_000), details: [UInt8](repeating: 1, count: detailsSize))
        let payload = ServerConnectionHandler.payload(status, requestID: "req-1", peerMaxMetadataSize: 8192, peerMaxFrameSize: 16_384)
        #expect(encodedLength(payload) <= 16_384)
        #expect(payload.message.hasSuffix("…"))
        #expect(payload.message.dropLast().allSatisfy { $0 == "é" })
        #expect(payload.message.utf8.count > 15_000, "as much of the message as fits is kept")
        #expect(payload.details.count == (detailsSize <= 100 ? detailsSize : 0))
        #expect(payload.metadata.map(\.value) == ["req-1"])
    }

    @Test("a status that fits is sent as it is")
    func fits() {
        let status = Status(code: .notFound, message: "no mailbox with id 42", details: [1, 2, 3])
        let payload = ServerConnectionHandler.payload(status, requestID: "r1", peerMaxMetadataSize: 12, peerMaxFrameSize: 16_384)
        #expect(payload.message == status.message && payload.details == status.details)
        #expect(payload.metadata.map(\.key) == ["request-id"])  // 10 + 2 bytes: exactly the limit
        #expect(ServerConnectionHandler.payload(status, requestID: "r1", peerMaxMetadataSize: 11).metadata.isEmpty)
    }
}

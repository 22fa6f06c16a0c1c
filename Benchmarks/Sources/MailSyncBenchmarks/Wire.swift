import MailSyncCoding
import MailSyncRPC
import MailSyncWire
import NIOCore

/// The one message the benchmark sends: `message BenchMessage { bytes payload = 1; }`, written by
/// hand so the benchmark does not depend on a schema or the test fixtures.
struct BenchMessage: Message {
    var payload: [UInt8] = []
    var unknownFields = UnknownFields()

    init() {}

    init(payload: [UInt8]) { self.payload = payload }

    init(from reader: inout WireReader) throws {
        while let (field, wireType) = try reader.nextTag() {
            switch field {
            case 1: payload = try reader.readBytes(field: field, wireType: wireType)
            default: try reader.skip(field: field, wireType: wireType, into: &unknownFields)
            }
        }
    }

    func encode(to writer: inout WireWriter) {
        if !payload.isEmpty { writer.writeBytes(payload, field: 1) }
        writer.writeUnknownFields(unknownFields)
    }
}

enum BenchService {
    /// `bench.v1.Bench/Echo`: answers with the request's payload. Open to anyone, so the router's
    /// role check is the cheapest path (no authenticator).
    static let echo = MethodDescriptor(
        service: "bench.v1.Bench", method: "Echo", kind: .unary,
        allowedRoles: [MethodDescriptor.anyoneRole], isIdempotent: true)

    static var methods: [ServerMethod] {
        [ServerMethod.unary(echo) { (request: BenchMessage, _: ServerContext) -> BenchMessage in request }]
    }
}

/// The bytes one unary call of the echo method puts on the wire, built with the protocol's own frame
/// encoder, so the floor moves exactly as much as our transport does per call.
///
/// Request: CALL_START (timeout 0, the method name, a 16-hex-digit `request-id` as the client adds),
/// the request message in MESSAGE frames of at most 64 KiB, END_STREAM. Response: the response
/// message in MESSAGE frames, STATUS ok. Not counted: the once-per-connection preface and SETTINGS,
/// and the WINDOW_UPDATE frames (16 bytes per 128 KiB to 512 KiB received), which the floor does not send.
struct CallShape {
    let payloadSize: Int
    let request: ByteBuffer
    let response: ByteBuffer

    init(payloadSize: Int) {
        self.payloadSize = payloadSize
        let message = BenchMessage(payload: [UInt8](repeating: 0xA5, count: payloadSize)).serializedBytes()
        let body = ByteBuffer(bytes: message)
        let maxFrame = Int(ConnectionSettings.defaults.maxFrameSize)
        var request = ByteBuffer()
        let start = CallStart(
            method: BenchService.echo.fullName, timeoutMicroseconds: 0,
            metadata: [(key: Metadata.requestIDKey, value: "0123456789abcdef")])
        FrameEncoder.write(.callStart(streamID: 1, start), to: &request)
        FrameEncoder.writeMessage(body, compressed: false, streamID: 1, maxFrameSize: maxFrame, to: &request)
        FrameEncoder.write(.endStream(streamID: 1), to: &request)
        var response = ByteBuffer()
        FrameEncoder.writeMessage(body, compressed: false, streamID: 1, maxFrameSize: maxFrame, to: &response)
        FrameEncoder.write(.status(streamID: 1, StatusPayload(code: 0, message: "")), to: &response)
        self.request = request
        self.response = response
    }
}

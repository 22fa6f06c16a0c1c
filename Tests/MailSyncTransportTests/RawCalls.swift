import MailSyncRPC
import MailSyncWire
import NIOCore
import TestSupport

/// Small helpers for tests that speak the protocol byte by byte through `RawConnection`.
extension RawConnection {
    /// Writes a whole unary Echo call (CALL_START, MESSAGE, END_STREAM) on `id`.
    func sendEcho(_ text: String, on id: UInt32) async throws {
        var request = EchoRequest()
        request.text = text
        try await send { b in
            FrameEncoder.write(.callStart(streamID: id, CallStart(method: Echo.Method.echo.fullName)), to: &b)
            FrameEncoder.write(.message(streamID: id, flags: [], bytes: ByteBuffer(bytes: request.serializedBytes())), to: &b)
            FrameEncoder.write(.endStream(streamID: id), to: &b)
        }
    }

    /// The STATUS received for `id`, if any yet.
    func status(of id: UInt32) -> StatusPayload? {
        for case .status(id, let payload) in (try? frames()) ?? [] { return payload }
        return nil
    }

    /// The MESSAGE frames received for `id`.
    func messages(of id: UInt32) -> [ByteBuffer] {
        var found: [ByteBuffer] = []
        for case .message(id, _, let bytes) in (try? frames()) ?? [] { found.append(bytes) }
        return found
    }

    /// Waits (5 s at most) for the STATUS of `id` or the end of the connection.
    func awaitStatus(of id: UInt32, timeout: Duration = .seconds(5)) async -> StatusPayload? {
        await wait(timeout: timeout) { $0.status(of: id) != nil || $0.isClosed }
        return status(of: id)
    }
}

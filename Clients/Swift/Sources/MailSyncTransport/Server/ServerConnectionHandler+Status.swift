import MailSyncRPC
import MailSyncWire

extension ServerConnectionHandler {
    /// The STATUS of a call that ran: its request id, when known, goes back as trailing metadata
    /// (`request-id`), so a client that let the server make one up can still quote it.
    ///
    /// The trailer is optional: it is left out when its bytes (key + value) exceed the client's
    /// announced `maxMetadataSize` (a client that announced 0 gets none). A STATUS must fit one
    /// frame of the client's `maxFrameSize`: a message or details that would not fit are cut
    /// (the message at a character boundary, marked with "…"); details that cannot fit are dropped.
    static func payload(
        _ status: Status, requestID: String? = nil, peerMaxMetadataSize: Int = Int.max, peerMaxFrameSize: Int = Int.max
    ) -> StatusPayload {
        var metadata: [(key: String, value: String)] = []
        var used = 0
        if let requestID, Metadata.requestIDKey.utf8.count + requestID.utf8.count <= peerMaxMetadataSize {
            metadata = [(key: Metadata.requestIDKey, value: requestID)]
            used = Metadata.requestIDKey.utf8.count + requestID.utf8.count
        }
        // The handler's trailers (a retry hint), each only while the peer's limit allows.
        for (key, value) in status.trailers where key != Metadata.requestIDKey {
            let size = key.utf8.count + value.utf8.count
            guard used + size <= peerMaxMetadataSize else { continue }
            metadata.append((key: key, value: value))
            used += size
        }
        // code (2) + message length (4) + details length (4) + pair count (2) + each pair's framing.
        let fixed = 12 + metadata.reduce(0) { $0 + 1 + $1.key.utf8.count + 2 + $1.value.utf8.count }
        var message = status.message
        var details = status.details
        if fixed + message.utf8.count + details.count > peerMaxFrameSize {
            // Details are kept only when they leave room for a useful message.
            if fixed + details.count + 256 > peerMaxFrameSize { details = [] }
            let room = max(0, peerMaxFrameSize - fixed - details.count - 3)  // "…" is 3 bytes
            if message.utf8.count > room {
                var cut = ""
                for character in message {
                    guard cut.utf8.count + character.utf8.count <= room else { break }
                    cut.append(character)
                }
                message = cut + "…"
            }
        }
        return StatusPayload(code: status.code.rawValue, message: message, details: details, metadata: metadata)
    }
}

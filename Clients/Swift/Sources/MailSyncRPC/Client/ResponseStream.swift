public import MailSyncCoding

/// The responses of a server-streaming call, as an `AsyncSequence`.
///
/// Iteration ends normally when the server sends `ok`; it throws `RPCError` for any other status.
/// The stream can be iterated once. Dropping it before the end cancels the call.
public struct ResponseStream<Response: Message>: AsyncSequence, Sendable {
    public typealias Element = Response

    let box: CallBox
    let method: MethodDescriptor

    init(call: any ClientCall, method: MethodDescriptor) {
        self.box = CallBox(call)
        self.method = method
    }

    /// Cancels the call.
    public func cancel() { box.call.cancel() }

    public func makeAsyncIterator() -> Iterator { Iterator(box: box, method: method) }

    public struct Iterator: AsyncIteratorProtocol {
        let box: CallBox
        let method: MethodDescriptor

        public mutating func next() async throws -> Response? {
            guard let bytes = try await box.call.receive() else { return nil }
            return try decodeResponse(bytes, method: method)
        }
    }
}

/// Cancels the call when the last reference to its stream goes away.
final class CallBox: Sendable {
    let call: any ClientCall
    init(_ call: any ClientCall) { self.call = call }
    deinit { call.cancel() }
}

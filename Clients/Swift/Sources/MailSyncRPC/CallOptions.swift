/// Per-call settings a client passes to a generated stub.
public struct CallOptions: Sendable {
    /// How long the call may take, measured from when it starts. Sent to the server as a relative
    /// timeout and enforced on both sides: the client fails the call with `deadline exceeded` and
    /// cancels it; the server cancels its handler. `nil` (the default) means no deadline.
    public var timeout: Duration?
    /// Metadata to send (credentials, a request id). A request id is generated when absent.
    public var metadata: Metadata
    /// Compress request messages at or above this many bytes with zlib. `nil` (the default) never
    /// compresses; responses are compressed as the server decides.
    public var compressionThreshold: Int?

    public init(timeout: Duration? = nil, metadata: Metadata = [:], compressionThreshold: Int? = nil) {
        self.timeout = timeout
        self.metadata = metadata
        self.compressionThreshold = compressionThreshold
    }

    public static let defaults = CallOptions()
}

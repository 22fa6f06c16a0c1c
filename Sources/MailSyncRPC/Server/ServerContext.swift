/// What a handler knows about the call it is serving.
public struct ServerContext: Sendable {
    public let method: MethodDescriptor
    public let metadata: Metadata
    /// When the call must be finished; the handler's task is cancelled at that moment.
    public let deadline: ContinuousClock.Instant?
    /// The client's `request-id`, or one the server made up. Log it with everything.
    public let requestID: String
    /// The remote address, for logs.
    public let peer: String
    /// The authenticated caller; nil only for methods open to `anyone`.
    public let caller: (any CallerIdentity)?

    public init(
        method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        requestID: String, peer: String, caller: (any CallerIdentity)?
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.requestID = requestID
        self.peer = peer
        self.caller = caller
    }
}

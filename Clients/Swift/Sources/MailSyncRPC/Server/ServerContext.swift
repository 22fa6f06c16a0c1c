public import Logging

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
    /// The server's logger with this call's `request-id` and `method` in its metadata: what a
    /// handler logs through it can be found by the id the client sent (or was told in an
    /// `internal` error). Default: a logger that drops everything.
    public let logger: Logger

    public init(
        method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        requestID: String, peer: String, caller: (any CallerIdentity)?, logger: Logger = ServerContext.silentLogger
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.requestID = requestID
        self.peer = peer
        self.caller = caller
        self.logger = logger
    }

    /// A logger that drops everything (contexts made without one, in tests).
    public static let silentLogger = Logger(label: "mailsync.silent", factory: { _ in SwiftLogNoOpLogHandler() })
}

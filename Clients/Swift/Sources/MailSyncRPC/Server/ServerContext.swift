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
    ///
    /// Made when read, not per call: most calls log nothing, and setting metadata on a logger
    /// costs (swift-log's `StreamLogHandler` re-renders its metadata on every set). Each read
    /// makes it again, so a handler that logs many lines keeps it in a local.
    public var logger: Logger {
        guard let callMethod else { return baseLogger }
        return Self.callLogger(baseLogger, requestID: requestID, method: callMethod)
    }

    private let baseLogger: Logger
    /// The method label added to `logger`'s metadata (with `requestID`); nil: `baseLogger` as is.
    private let callMethod: String?

    /// A context whose `logger` is `logger` as given.
    public init(
        method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        requestID: String, peer: String, caller: (any CallerIdentity)?, logger: Logger = ServerContext.silentLogger
    ) {
        self.init(
            method: method, metadata: metadata, deadline: deadline, requestID: requestID, peer: peer, caller: caller,
            serverLogger: logger, callMethod: nil)
    }

    /// A context whose `logger` is `serverLogger` with `request-id` and, when not nil, `method`
    /// added to its metadata when it is read (the router's).
    init(
        method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        requestID: String, peer: String, caller: (any CallerIdentity)?, serverLogger: Logger, callMethod: String?
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.requestID = requestID
        self.peer = peer
        self.caller = caller
        self.baseLogger = serverLogger
        self.callMethod = callMethod
    }

    /// `logger` with the call's `request-id` and `method` in its metadata.
    static func callLogger(_ logger: Logger, requestID: String, method: String) -> Logger {
        var callLogger = logger
        callLogger[metadataKey: "request-id"] = "\(requestID)"
        callLogger[metadataKey: "method"] = "\(method)"
        return callLogger
    }

    /// A logger that drops everything (contexts made without one, in tests).
    public static let silentLogger = Logger(label: "mailsync.silent", factory: { _ in SwiftLogNoOpLogHandler() })
}

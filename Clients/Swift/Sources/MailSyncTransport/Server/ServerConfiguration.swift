public import MailSyncWire
public import NIOCore
public import NIOSSL

/// How the server listens and what it tolerates. Every limit has a default suited to production;
/// tests shorten the timeouts.
public struct ServerConfiguration: Sendable {
    /// Where to listen. Default 127.0.0.1:7420.
    public var host: String
    public var port: Int
    /// What each connection announces and enforces (frame, message and metadata sizes,
    /// concurrent calls, windows). See `ConnectionSettings` for defaults.
    public var settings: ConnectionSettings
    /// Connections open at once; one more is answered with GOAWAY `tooManyConnections`. Default 4096.
    public var maxConnections: Int
    /// Time for a new connection to send its preface and SETTINGS. Default 10 s.
    public var handshakeTimeout: TimeAmount
    /// Time a frame may stay incomplete (a stalled or trickling sender). Default 30 s.
    public var readTimeout: TimeAmount
    /// A connection with no calls for this long is closed with GOAWAY `noError`. Default 5 min.
    public var idleTimeout: TimeAmount
    /// Silence after which the server pings the client. Default 2 min.
    public var keepaliveInterval: TimeAmount
    /// Time the client has to answer that ping before the connection is closed. Default 20 s.
    public var keepaliveTimeout: TimeAmount
    /// On shutdown, how long calls in flight may run before they are cancelled. Default 30 s.
    public var shutdownGracePeriod: TimeAmount
    /// Responses at least this large are zlib-compressed; nil (default) never compresses.
    public var compressionThreshold: Int?
    /// TLS, when a certificate is configured; nil (default) serves plain TCP.
    public var tls: TLSConfiguration?
    /// Run each call's handler task on its connection's event loop instead of the cooperative
    /// pool: two thread hops fewer per call (see docs/benchmarks.md). Off by default: a
    /// CPU-heavy handler (a large upload's validation, decompression) would delay every other
    /// connection of that loop, including their deadlines and keepalives. Turn it on only where
    /// every handler is cheap and non-blocking.
    public var runsHandlersOnEventLoop: Bool = false
    /// Start unary handlers on their connection's event loop: the request is decoded, the handler
    /// runs and its response and status are queued without a hop to the cooperative pool and back
    /// (see docs/benchmarks.md). On by default. Bounded by `eventLoopJobLimit`: a job of a unary
    /// method (its code between two suspension points) longer than that in wall time makes the
    /// method's next 1,000 jobs be timed in thread CPU time; three of those over the limit, and the
    /// rest of that call and every later call of the method run on the pool, and a `notice` is
    /// logged. So a CPU-heavy unary handler delays the other connections of its loop for four jobs
    /// per method and server, and an only sometimes heavy one for at most three jobs in 1,000,
    /// before it moves (`LoopSliceWatch`). Streaming calls always run on the pool (unless
    /// `runsHandlersOnEventLoop`). Handlers must not block in either place; blocking C calls go to
    /// their own threads.
    public var runsUnaryHandlersOnEventLoop: Bool = true
    /// The longest one job of a unary handler may run on an event loop without counting against
    /// its method (see `runsUnaryHandlersOnEventLoop`). Default 2 ms.
    public var eventLoopJobLimit: TimeAmount = .milliseconds(2)

    public init(
        host: String = "127.0.0.1", port: Int = 7420, settings: ConnectionSettings = .defaults,
        maxConnections: Int = 4096, handshakeTimeout: TimeAmount = .seconds(10),
        readTimeout: TimeAmount = .seconds(30), idleTimeout: TimeAmount = .minutes(5),
        keepaliveInterval: TimeAmount = .minutes(2), keepaliveTimeout: TimeAmount = .seconds(20),
        shutdownGracePeriod: TimeAmount = .seconds(30), compressionThreshold: Int? = nil,
        tls: TLSConfiguration? = nil
    ) {
        self.host = host
        self.port = port
        self.settings = settings
        self.maxConnections = maxConnections
        self.handshakeTimeout = handshakeTimeout
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
        self.compressionThreshold = compressionThreshold
        self.tls = tls
    }
}

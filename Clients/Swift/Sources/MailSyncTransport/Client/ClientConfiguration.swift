public import MailSyncWire
public import NIOCore
public import NIOSSL

/// How a client connects and what it tolerates.
public struct ClientConfiguration: Sendable {
    /// What the client announces (see `ConnectionSettings` for defaults).
    public var settings: ConnectionSettings
    /// Time allowed for the TCP connect, and again for TLS plus the protocol handshake (so at most
    /// twice this in all). Default 5 s.
    public var connectTimeout: TimeAmount
    /// TLS; nil (default) connects over plain TCP.
    public var tls: TLSConfiguration?
    /// Name checked against the server's certificate; default the host connected to.
    public var serverHostname: String?
    /// First wait after a failed connection attempt. Default 200 ms; grows by `backoffMultiplier`
    /// (default 1.6) per failure up to `maxBackoff` (default 30 s), with ±20% jitter. While waiting,
    /// calls fail at once with `unavailable` naming the last error.
    public var initialBackoff: TimeAmount
    public var backoffMultiplier: Double
    public var maxBackoff: TimeAmount
    /// Silence after which the client pings the server. Default 2 min.
    public var keepaliveInterval: TimeAmount
    /// Time the server has to answer before the connection is dropped. Default 20 s.
    public var keepaliveTimeout: TimeAmount

    public init(
        settings: ConnectionSettings = .defaults, connectTimeout: TimeAmount = .seconds(5),
        tls: TLSConfiguration? = nil, serverHostname: String? = nil,
        initialBackoff: TimeAmount = .milliseconds(200), backoffMultiplier: Double = 1.6,
        maxBackoff: TimeAmount = .seconds(30), keepaliveInterval: TimeAmount = .minutes(2),
        keepaliveTimeout: TimeAmount = .seconds(20)
    ) {
        self.settings = settings
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.serverHostname = serverHostname
        self.initialBackoff = initialBackoff
        self.backoffMultiplier = backoffMultiplier
        self.maxBackoff = maxBackoff
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
    }
}

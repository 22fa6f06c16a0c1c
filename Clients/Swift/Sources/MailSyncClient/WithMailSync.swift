public import NIOSSL

/// Runs `body` with a client for the Mail Sync server at `host:port`, and closes the client's
/// connection when `body` returns or throws.
///
/// The connection is made on the first call; `apiKey` (nil: none, for `getServerInfo` only) is sent
/// with every call. With `tls`, the connection is TLS and the server's certificate is checked
/// against `host` (or `configuration.serverHostname`); nil (default) is plain TCP, for loopback or
/// a private network. `host:port` may be any node of a fleet: calls are redirected to the node that
/// owns the company (see `MailSync.connect(host:port:apiKey:configuration:timeout:)`). Calls made
/// through `client` after the function returns fail with `RPCError(.unavailable)`.
///
/// ```swift
/// let info = try await withMailSync(host: "mailsync.example.com", port: 7420, apiKey: key,
///                                   tls: .makeClientConfiguration()) { client in
///     try await client.getServerInfo(MailSync.GetServerInfoRequest())
/// }
/// ```
///
/// - Parameters:
///   - configuration: timeouts, backoff and keepalive (see `ClientConfiguration`); its `tls` is
///     replaced by `tls` when that is not nil.
///   - timeout: the default deadline of every call (nil: none); a call's `CallOptions` override it.
/// - Returns: what `body` returns.
/// - Throws: what `body` throws, such as an `RPCError` from a call.
public func withMailSync<Value>(
    host: String, port: Int, apiKey: String?, tls: TLSConfiguration? = nil,
    configuration: ClientConfiguration = ClientConfiguration(), timeout: Duration? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (MailSync.Client) async throws -> Value
) async throws -> Value {
    var configuration = configuration
    if let tls { configuration.tls = tls }
    let (client, transport) = MailSync.connect(
        host: host, port: port, apiKey: apiKey, configuration: configuration, timeout: timeout)
    defer { transport.close() }
    return try await body(client)
}

extension MailSync {
    /// NIOSSL's TLS settings, named here so an app need not import NIOSSL for the common case:
    /// `.makeClientConfiguration()` trusts the system's certificate authorities.
    public typealias TLSConfiguration = NIOSSL.TLSConfiguration
}

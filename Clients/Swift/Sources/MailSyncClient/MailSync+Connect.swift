/// Connecting a CRM frontend to a Mail Sync server.
extension MailSync {
    /// A client for the server at `host:port`, sending `apiKey` with every call.
    ///
    /// The connection is made on the first call and remade after a failure (see
    /// `ClientConfiguration` for timeouts, TLS and backoff). `host:port` may be any node of a
    /// fleet: calls for a company another node owns are redirected there and the owner is
    /// remembered (`RoutingClientTransport`: at most 4 redirects per call, up to 64 owner
    /// connections). Close the returned transport when done;
    /// `withMailSync(host:port:apiKey:tls:configuration:timeout:isolation:_:)` does that for a scope.
    ///
    /// ```swift
    /// let (client, transport) = MailSync.connect(host: "127.0.0.1", port: 7420, apiKey: key)
    /// defer { transport.close() }
    /// let info = try await client.getServerInfo(MailSync.GetServerInfoRequest())
    /// ```
    public static func connect(
        host: String, port: Int, apiKey: String?, configuration: ClientConfiguration = ClientConfiguration(),
        timeout: Duration? = nil
    ) -> (Client, RoutingClientTransport) {
        let transport = RoutingClientTransport(host: host, port: port, configuration: configuration)
        var options = CallOptions(timeout: timeout)
        if let apiKey { options.metadata.add(Metadata.authorizationKey, apiKey) }
        return (Client(RPCClient(transport: transport, defaultOptions: options)), transport)
    }
}

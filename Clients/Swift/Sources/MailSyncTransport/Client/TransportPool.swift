/// The transports a routing client holds to owner nodes, one per address, least recently used
/// first out.
///
/// At most `capacity` transports (default 64); making one more evicts the one used longest ago,
/// which the caller closes (gracefully: its calls in flight finish). After `close()`, no transport
/// is handed out. A value type, generic over the transport, so that its rules are tested without
/// sockets (`RoutingClientTransport` holds `TCPClientTransport`s).
struct TransportPool<Transport: AnyObject> {
    let capacity: Int
    private var entries: [NodeAddress: (transport: Transport, lastUse: UInt64)] = [:]
    private var uses: UInt64 = 0
    private(set) var isClosed = false

    init(capacity: Int = 64) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The transport for `address`, made with `make` when there is none; `evicted` must be closed.
    /// Nil once the pool is closed.
    mutating func transport(
        for address: NodeAddress, make: () -> Transport
    ) -> (transport: Transport, evicted: Transport?)? {
        guard !isClosed else { return nil }
        uses += 1
        if let existing = entries[address] {
            entries[address] = (existing.transport, uses)
            return (existing.transport, nil)
        }
        var evicted: Transport?
        if entries.count >= capacity,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            evicted = entries.removeValue(forKey: oldest)?.transport
        }
        let transport = make()
        entries[address] = (transport, uses)
        return (transport, evicted)
    }

    /// Removes the transport for `address` if it is still `transport`, and returns it to be closed.
    mutating func remove(_ address: NodeAddress, if transport: Transport) -> Transport? {
        guard let entry = entries[address], entry.transport === transport else { return nil }
        entries[address] = nil
        return transport
    }

    /// Closes the pool and returns every transport, to be closed by the caller.
    mutating func close() -> [Transport] {
        isClosed = true
        defer { entries = [:] }
        return entries.values.map(\.transport)
    }
}

extension TransportPool: Sendable where Transport: Sendable {}

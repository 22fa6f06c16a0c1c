/// Whether one more IDLE connection may be opened: at most `maxTotal` in all, `maxPerCompany` for
/// one company and `maxPerServer` to one IMAP host (compared case-insensitively).
///
/// A value with no I/O, so each bound has a direct test. A mailbox refused here keeps polling
/// and is considered again after its next successful run.
package struct IdleBounds: Sendable {
    package var maxTotal: Int
    package var maxPerCompany: Int
    package var maxPerServer: Int

    package init(_ settings: SyncSettings) {
        maxTotal = settings.maxIdleConnections
        maxPerCompany = settings.maxIdleConnectionsPerCompany
        maxPerServer = settings.maxIdleConnectionsPerServer
    }

    package init(maxTotal: Int, maxPerCompany: Int, maxPerServer: Int) {
        self.maxTotal = maxTotal
        self.maxPerCompany = maxPerCompany
        self.maxPerServer = maxPerServer
    }

    /// Which bound, if any, refuses a connection for `company` to `host`, given the ones held.
    package func refusal<Company: Equatable>(company: Company, host: String, held: [(company: Company, host: String)]) -> String? {
        if held.count >= maxTotal { return "maxIdleConnections (\(maxTotal))" }
        if held.lazy.filter({ $0.company == company }).count >= maxPerCompany {
            return "maxIdleConnectionsPerCompany (\(maxPerCompany))"
        }
        let server = host.lowercased()
        if held.lazy.filter({ $0.host.lowercased() == server }).count >= maxPerServer {
            return "maxIdleConnectionsPerServer (\(maxPerServer))"
        }
        return nil
    }
}

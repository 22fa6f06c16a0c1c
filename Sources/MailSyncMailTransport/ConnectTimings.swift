import CCurl

/// How long each phase of connecting and logging in took, as libcurl measured it
/// (`CURLINFO_*_TIME_T`), from the start of the attempt. A phase that did not complete is nil:
/// a failed look-up has no `connected`; a plain-text connection has no `tlsDone`.
public struct ConnectTimings: Sendable, Equatable {
    /// The name resolved (for an address literal: almost at once).
    public var resolved: Duration?
    /// The TCP connection established.
    public var connected: Duration?
    /// The TLS handshake done (implicit TLS, or STARTTLS after the greeting).
    public var tlsDone: Duration?
    /// The whole attempt: greeting and login included, or up to the failure.
    public var total: Duration

    public init(resolved: Duration? = nil, connected: Duration? = nil, tlsDone: Duration? = nil, total: Duration = .zero) {
        self.resolved = resolved
        self.connected = connected
        self.tlsDone = tlsDone
        self.total = total
    }

    /// Reads the times of `handle`'s last transfer; call before the handle is cleaned up.
    static func read(_ handle: UnsafeMutableRawPointer) -> ConnectTimings {
        func time(_ get: (UnsafeMutableRawPointer, UnsafeMutablePointer<curl_off_t>) -> CURLcode) -> Duration? {
            var value: curl_off_t = 0
            guard get(handle, &value) == CURLE_OK, value > 0 else { return nil }
            return .microseconds(value)
        }
        return ConnectTimings(
            resolved: time(ccurl_getinfo_namelookup_time_t), connected: time(ccurl_getinfo_connect_time_t),
            tlsDone: time(ccurl_getinfo_appconnect_time_t), total: time(ccurl_getinfo_total_time_t) ?? .zero)
    }
}

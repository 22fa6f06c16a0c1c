import CCurl
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The outbound policy at the one place it cannot be bypassed: libcurl's open-socket callback,
/// called with the resolved address of every connection attempt (each address of a name, each
/// happy-eyeballs try) before the socket exists.
///
/// One gate per curl handle and transfer. Install it with ``install(on:)`` and keep the gate alive
/// until the transfer ends (the handle holds an unretained pointer). After a failed transfer,
/// ``refusal`` says whether the policy, not the network, stopped it.
final class OutboundGate: @unchecked Sendable {
    let policy: OutboundPolicy
    let host: String
    let plaintext: Bool
    private let state = Mutex<(refusal: OutboundPolicy.Refusal?, connects: Int)>((nil, 0))

    init(policy: OutboundPolicy, host: String, plaintext: Bool) {
        self.policy = policy
        self.host = host
        self.plaintext = plaintext
    }

    /// The first attempt the policy refused, if any.
    var refusal: OutboundPolicy.Refusal? { state.withLock { $0.refusal } }
    /// Sockets opened (attempts the policy allowed).
    var connects: Int { state.withLock { $0.connects } }

    /// Sets the callback on `handle`. The caller keeps `self` alive while the handle may connect.
    func install(on handle: UnsafeMutableRawPointer) {
        _ = ccurl_setopt_opensocketfunction(handle, openSocketCallback)
        _ = ccurl_setopt_opensocketdata(handle, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Removes the callback (before the gate goes away; the handle may live on).
    static func uninstall(from handle: UnsafeMutableRawPointer) {
        _ = ccurl_setopt_opensocketfunction(handle, nil)
        _ = ccurl_setopt_opensocketdata(handle, nil)
    }

    fileprivate func open(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        var bytes = [UInt8](repeating: 0, count: 16)
        var family: Int32 = 0
        var port: Int32 = 0
        let parsed = ccurl_sockaddr_ip(address, &bytes, &family, &port)
        guard parsed == 0, let ip = IPAddress(bytes: Array(bytes.prefix(family == AF_INET ? 4 : 16))) else {
            state.withLock { $0.refusal = $0.refusal ?? OutboundPolicy.Refusal(host: host, address: nil, port: 0, reason: "not an IP address") }
            return CURL_SOCKET_BAD
        }
        if let refusal = policy.refusal(host: host, address: ip, port: Int(port), plaintext: plaintext) {
            state.withLock { $0.refusal = $0.refusal ?? refusal }
            return CURL_SOCKET_BAD
        }
        state.withLock { $0.connects += 1 }
        return ccurl_open_socket(address)
    }
}

private let openSocketCallback: ccurl_opensocket_callback = { clientp, _, address in
    guard let clientp, let address else { return CURL_SOCKET_BAD }
    return Unmanaged<OutboundGate>.fromOpaque(clientp).takeUnretainedValue().open(address)
}

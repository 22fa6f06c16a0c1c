import MailSyncClient
import MailSyncMailTransport
import MailSyncRPC

extension Validate {
    /// Refuses, at the request, a mail server the outbound policy will never let the server reach:
    /// an address literal in any spelling (`10.0.0.1`, `2130706433`, `0x7f000001`, `127.1`) in a
    /// range the policy refuses, a loopback name, a port outside the mail ports when only those
    /// are allowed, plain text where it is off. Names are judged again at connect time by their
    /// resolved addresses (that check cannot be bypassed; this one only answers sooner).
    ///
    /// The message says which rule applies in general terms and never echoes what the server
    /// knows about its own network. Numeric IPv4 forms other than the dotted quad are refused
    /// outright: no mail server is named that way.
    static func destination(_ endpoint: ServerEndpoint, _ field: String, policy: OutboundPolicy) throws {
        let host = endpoint.host
        if IPAddress(host) == nil, IPAddress.parseLegacyIPv4(host) != nil {
            throw RPCError(.invalidArgument, "\(field).host must be a host name or an address written as four decimal numbers (a.b.c.d), got '\(host.prefix(80))'")
        }
        let plaintext = endpoint.security == .none
        guard let refusal = policy.refusalBeforeResolving(host: host, port: Int(endpoint.port), plaintext: plaintext) else { return }
        if plaintext, policy.refusalBeforeResolving(host: host, port: Int(endpoint.port), plaintext: false) == nil {
            throw RPCError(.invalidArgument, "\(field).security NONE would send the password without encryption, which this server does not allow for \(field).host '\(host.prefix(80))'; choose TLS or STARTTLS")
        }
        _ = refusal
        throw RPCError(.invalidArgument, "\(field).host '\(host.prefix(80))' port \(endpoint.port) is not allowed by this server's policy: use the mail server's public name (private, loopback and link-local addresses are refused unless the server's operators allow them)")
    }
}

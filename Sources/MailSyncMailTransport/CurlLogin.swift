import CCurl

/// What IMAP and SMTP connections tell libcurl alike: the URL, as whom to log in, and how much
/// TLS (none, or required — implicit by the URL's scheme, else STARTTLS — with the certificate
/// checks of ``IMAPConnection/TLSOptions``).
struct CurlLogin {
    /// `imap`, `imaps`, `smtp` or `smtps`.
    var scheme: String
    var host: String
    var port: Int
    /// Appended after the port (`/` for IMAP, nothing for SMTP).
    var path: String = ""
    var username: String
    var credentials: IMAPConnection.Credentials
    var loginOptions: String?
    /// False only for plain text (`CURLUSESSL_NONE`).
    var requiresTLS: Bool
    var tls: IMAPConnection.TLSOptions
    /// Where the connection may go (judged again on every resolved address by the gate).
    var policy: OutboundPolicy
    /// Answers that take the place of DNS for this transfer (`CURLOPT_RESOLVE`, `host:port:address`):
    /// how the tests play a hostile DNS (a public-looking name resolving to loopback) without a
    /// resolver of their own. Empty in production.
    var dnsAnswers: [String] = []

    /// The gate to install with ``apply(to:errorBuffer:gate:)``; keep it alive for the transfer.
    func makeGate() -> OutboundGate {
        OutboundGate(policy: policy, host: host, plaintext: !requiresTLS)
    }

    /// What the policy refuses before any look-up (address literals, loopback names, plain text
    /// where no exception can apply); nil when only the resolved address can tell.
    func refusalBeforeResolving() -> OutboundPolicy.Refusal? {
        policy.refusalBeforeResolving(host: host, port: port, plaintext: !requiresTLS)
    }

    /// Sets the URL (and only this scheme's protocols, no redirects), `NOSIGNAL`, the error
    /// buffer, the outbound gate, the login and the TLS options on `handle`.
    func apply(to handle: UnsafeMutableRawPointer, errorBuffer: UnsafeMutablePointer<CChar>, gate: OutboundGate) {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        _ = ccurl_setopt_url(handle, "\(scheme)://\(hostPart):\(port)\(path)")
        let plain = scheme.hasSuffix("s") ? String(scheme.dropLast()) : scheme
        _ = ccurl_setopt_protocols_str(handle, "\(plain),\(plain)s")
        _ = ccurl_setopt_redir_protocols_str(handle, "\(plain)s")
        gate.install(on: handle)
        if !dnsAnswers.isEmpty {
            var list: UnsafeMutablePointer<curl_slist>?
            for answer in dnsAnswers { list = curl_slist_append(list, answer) ?? list }
            // libcurl copies the entries into its DNS cache when the transfer starts; the list must
            // live until then and is not freed (a few bytes, tests only).
            _ = ccurl_setopt_resolve(handle, list)
        }
        _ = ccurl_setopt_nosignal(handle, 1)
        _ = ccurl_setopt_errorbuffer(handle, errorBuffer)
        _ = ccurl_setopt_username(handle, username)
        switch credentials {
        case .password(let password): _ = ccurl_setopt_password(handle, password)
        case .oauthBearer(let token): _ = ccurl_setopt_xoauth2_bearer(handle, token)
        }
        if let loginOptions { _ = ccurl_setopt_login_options(handle, loginOptions) }
        _ = ccurl_setopt_use_ssl(handle, Int(requiresTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_NONE.rawValue))
        if requiresTLS {
            _ = ccurl_setopt_ssl_verifypeer(handle, tls.verifyPeer ? 1 : 0)
            _ = ccurl_setopt_ssl_verifyhost(handle, tls.verifyHost ? 2 : 0)
            if let caFile = tls.caFile { _ = ccurl_setopt_cainfo(handle, caFile) }
        }
    }
}

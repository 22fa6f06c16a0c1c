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

    /// Sets the URL, `NOSIGNAL`, the error buffer, the login and the TLS options on `handle`.
    func apply(to handle: UnsafeMutableRawPointer, errorBuffer: UnsafeMutablePointer<CChar>) {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        _ = ccurl_setopt_url(handle, "\(scheme)://\(hostPart):\(port)\(path)")
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

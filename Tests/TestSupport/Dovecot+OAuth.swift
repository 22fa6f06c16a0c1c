import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension DovecotServer.Options {
    /// Dovecot's oauth2 passdb validating JWT access tokens locally (Dovecot ≥ 2.3.16,
    /// `introspection_mode = local`): an HS256 token signed with ``validationKey`` whose `exp` is in
    /// the future (by the machine's real clock) and whose ``usernameAttribute`` claim equals the
    /// login name is accepted for XOAUTH2 and OAUTHBEARER; the user need not be in `users`.
    /// Password logins (PLAIN, LOGIN) keep working for `users`.
    ///
    /// Verified against Dovecot 2.3.19: the key is looked up as
    /// `shared/<azp or default>/<alg>/<kid or default>` in `local_validation_key_dict`, here
    /// `fs:posix:prefix=<dir>/oauth2-keys/` holding `default/HS256/default` = base64(key). An expired
    /// token is refused with `Local validation failed: Token has expired` in Dovecot's log.
    public struct OAuth: Sendable {
        /// The HMAC-SHA256 key tokens are signed with.
        public var validationKey: [UInt8]
        /// The claim holding the login name. Default `email`.
        public var usernameAttribute: String

        public init(validationKey: [UInt8], usernameAttribute: String = "email") {
            self.validationKey = validationKey
            self.usernameAttribute = usernameAttribute
        }
    }
}

extension DovecotServer {
    /// The key file and `dovecot-oauth2.conf.ext` for ``Options/OAuth``, readable by the auth process.
    static func writeOAuthFiles(directory: String, _ oauth: Options.OAuth) throws {
        let keys = directory + "/oauth2-keys/default/HS256"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        for path in [directory + "/oauth2-keys", directory + "/oauth2-keys/default", keys] { chmod(path, 0o755) }
        try Data(Data(oauth.validationKey).base64EncodedString().utf8).write(to: URL(fileURLWithPath: keys + "/default"))
        chmod(keys + "/default", 0o644)
        let conf = """
            introspection_mode = local
            local_validation_key_dict = fs:posix:prefix=\(directory)/oauth2-keys/
            username_attribute = \(oauth.usernameAttribute)

            """
        try Data(conf.utf8).write(to: URL(fileURLWithPath: directory + "/dovecot-oauth2.conf.ext"))
        chmod(directory + "/dovecot-oauth2.conf.ext", 0o644)
    }

    static func oauthPassdb(directory: String, _ oauth: Options.OAuth) -> String {
        """
        auth_verbose = yes
        passdb {
          driver = oauth2
          mechanisms = xoauth2 oauthbearer
          args = \(directory)/dovecot-oauth2.conf.ext
        }
        """
    }
}

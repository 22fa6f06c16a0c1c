import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension DovecotServer {
    /// How a test's Dovecot is set up; the defaults give a plain-text IMAP server on one loopback port.
    public struct Options: Sendable {
        /// Whether clients must use TLS.
        public enum TLS: Sendable {
            /// `ssl = no`: plain IMAP, plain-text logins allowed.
            case off
            /// `ssl = required` with a self-signed certificate for `localhost` and `127.0.0.1`
            /// (`DovecotServer.certificatePath`): STARTTLS on `port`, implicit TLS on `tlsPort`.
            /// Caution: Dovecot counts a client whose IP equals the server's (always so on
            /// loopback) as secured, so it still accepts plain-text LOGIN on `port` without
            /// STARTTLS and does not advertise LOGINDISABLED. Test "TLS required" on the client side.
            case required
        }

        public var tls: TLS = .off
        /// Dovecot waits this long before answering a failed login (its own default is 2 s);
        /// 0 keeps wrong-password tests fast.
        public var authFailureDelay: Duration = .zero
        /// Dovecot's anvil "auth penalty": after failed logins from an IP, every later login from it
        /// waits up to 15 s (doubling per failure). Off by default: all tests come from 127.0.0.1.
        public var authPenalty = false
        /// Appended verbatim to the generated config (e.g. `mail_max_userip_connections`).
        public var extraConfig: String = ""
        /// Also accept OAuth 2.0 bearer tokens (XOAUTH2, OAUTHBEARER); see ``OAuth``.
        public var oauth: OAuth?

        public init(tls: TLS = .off, authFailureDelay: Duration = .zero, authPenalty: Bool = false, extraConfig: String = "", oauth: OAuth? = nil) {
            self.tls = tls
            self.authFailureDelay = authFailureDelay
            self.authPenalty = authPenalty
            self.extraConfig = extraConfig
            self.oauth = oauth
        }
    }

    /// Who the mail processes run as. As root they run as the `dovecot` system user (Dovecot refuses
    /// mail access as uid 0); otherwise everything runs as the current user.
    struct MailOwner: Sendable {
        let uid: uid_t
        let gid: gid_t
        let loginUser: String
        let internalUser: String
        /// Files this fixture writes into maildirs must be chowned to `uid`/`gid`.
        let needsChown: Bool

        static func current() throws -> MailOwner {
            if getuid() == 0 {
                guard let dovecot = account(named: "dovecot"), account(named: "dovenull") != nil else {
                    throw DovecotError("users dovecot and dovenull are missing: run scripts/install-deps.sh")
                }
                return MailOwner(uid: dovecot.uid, gid: dovecot.gid, loginUser: "dovenull", internalUser: "dovecot", needsChown: true)
            }
            let name = account(uid: getuid())?.name ?? "\(getuid())"
            return MailOwner(uid: getuid(), gid: getgid(), loginUser: name, internalUser: name, needsChown: false)
        }

        /// The passwd entry of `name`, through the reentrant getpwnam_r: tests start servers in
        /// parallel, and getpwnam's shared static buffer once gave one Dovecot another user's ids
        /// (its auth process then could not read the users file: "Temporary authentication failure").
        static func account(named name: String) -> (uid: uid_t, gid: gid_t, name: String)? {
            withPasswdBuffer { entry, buffer, result in getpwnam_r(name, &entry, buffer.baseAddress!, buffer.count, &result) }
        }

        /// The passwd entry of `uid`, through getpwuid_r.
        static func account(uid: uid_t) -> (uid: uid_t, gid: gid_t, name: String)? {
            withPasswdBuffer { entry, buffer, result in getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result) }
        }

        private static func withPasswdBuffer(
            _ lookup: (inout passwd, UnsafeMutableBufferPointer<CChar>, inout UnsafeMutablePointer<passwd>?) -> Int32
        ) -> (uid: uid_t, gid: gid_t, name: String)? {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 16_384) { buffer in
                guard lookup(&entry, buffer, &result) == 0, result != nil else { return nil }
                return (entry.pw_uid, entry.pw_gid, String(cString: entry.pw_name))
            }
        }
    }

    /// The whole `dovecot.conf`: nothing is read from /etc/dovecot.
    static func configuration(
        directory: String, port: Int, tlsPort: Int?, owner: MailOwner, options: Options
    ) -> String {
        var text = """
            # Written by TestSupport/DovecotServer for one test; self-contained.
            protocols = imap
            listen = 127.0.0.1
            base_dir = \(directory)/run
            state_dir = \(directory)/state
            log_path = \(directory)/dovecot.log
            info_log_path = \(directory)/dovecot.log
            default_login_user = \(owner.loginUser)
            default_internal_user = \(owner.internalUser)
            first_valid_uid = \(owner.uid)
            last_valid_uid = \(owner.uid)
            first_valid_gid = \(owner.gid)
            last_valid_gid = \(owner.gid)
            auth_mechanisms = plain login\(options.oauth == nil ? "" : " xoauth2 oauthbearer")
            auth_failure_delay = \(options.authFailureDelay.components.seconds)s
            passdb {
              driver = passwd-file
              args = scheme=PLAIN \(directory)/users\(options.oauth == nil ? "" : "\n  mechanisms = plain login")
            }
            \(options.oauth.map { Self.oauthPassdb(directory: directory, $0) } ?? "")
            userdb {
              driver = static
              args = uid=\(owner.uid) gid=\(owner.gid) home=\(directory)/mail/%u
            }
            mail_location = maildir:\(directory)/mail/%u
            namespace inbox {
              inbox = yes
              mailbox Sent {
                special_use = \\Sent
                auto = subscribe
              }
            }

            """
        if !options.authPenalty {
            // The documented way to turn the penalty off: nobody may connect to its socket.
            text += """
                service anvil {
                  unix_listener anvil-auth-penalty {
                    mode = 0
                  }
                }

                """
        }
        switch options.tls {
        case .off:
            text += """
                ssl = no
                disable_plaintext_auth = no
                service imap-login {
                  inet_listener imap {
                    address = 127.0.0.1
                    port = \(port)
                  }
                  inet_listener imaps {
                    port = 0
                  }
                }

                """
        case .required:
            text += """
                ssl = required
                ssl_cert = <\(directory)/tls/cert.pem
                ssl_key = <\(directory)/tls/key.pem
                service imap-login {
                  inet_listener imap {
                    address = 127.0.0.1
                    port = \(port)
                  }
                  inet_listener imaps {
                    address = 127.0.0.1
                    port = \(tlsPort ?? 0)
                    ssl = yes
                  }
                }

                """
        }
        return text + options.extraConfig + "\n"
    }
}

/// A failure of the Dovecot fixture; `description` carries Dovecot's own log when it has one.
public struct DovecotError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

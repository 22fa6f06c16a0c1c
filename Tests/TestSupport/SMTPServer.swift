import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server for one test (Debian's `python3-aiosmtpd`), on a free loopback port, with
/// its script, config and received mail in a fresh temporary directory.
///
/// ```swift
/// try await SMTPServer.withServer(options: .init(users: [.init("alice", "s3cret")])) { smtp in
///     // … send to 127.0.0.1:smtp.port as alice …
///     let mail = try smtp.messages()   // envelope, login and the exact DATA bytes, in order
/// }
/// ```
///
/// Every message the server accepts is saved as it arrived after SMTP's dot-unstuffing (RFC 5321
/// §4.5.2): the bytes between `DATA` and the final `.`, so they equal what the client meant to
/// send. `Options.failure` makes the server answer one stage (`AUTH`, `MAIL`, `RCPT`, `DATA`)
/// with a given reply instead, such as Gmail's `535-5.7.8 …` or Microsoft's `554 5.2.252 …`.
///
/// Listens on 127.0.0.1 only. Needs `/usr/bin/python3` with `python3-aiosmtpd`
/// (scripts/install-deps.sh); the environment is not passed on (no pyenv or PYTHONPATH
/// surprises). Always call `stop()` (`withServer` does, also when the body throws): it kills the
/// process and removes the temporary directory.
public actor SMTPServer {
    public struct User: Sendable, Hashable {
        public var name: String
        public var password: String

        public init(_ name: String, _ password: String) {
            self.name = name
            self.password = password
        }
    }

    /// Which SMTP command the server refuses, and with what reply.
    public struct Failure: Sendable, Hashable {
        public enum Stage: String, Sendable {
            case auth = "AUTH", mail = "MAIL", rcpt = "RCPT", data = "DATA"
        }

        public var stage: Stage
        /// The whole reply, lines separated by CRLF (`534-5.7.9 …\r\n534 5.7.9 …`).
        public var reply: String

        public init(_ stage: Stage, _ reply: String) {
            self.stage = stage
            self.reply = reply
        }
    }

    public enum TLS: String, Sendable {
        /// Plain SMTP; `AUTH` allowed without TLS.
        case none
        /// STARTTLS offered and required before `AUTH` and `MAIL`.
        case starttls
        /// TLS from the first byte (smtps).
        case implicit
    }

    public struct Options: Sendable {
        /// Logins the server accepts (AUTH PLAIN and LOGIN).
        public var users: [User]
        /// Whether `MAIL` needs a login first. Default true.
        public var authRequired: Bool
        /// The reply to a wrong login name or password.
        public var authFailureReply: String
        public var failure: Failure?
        public var tls: TLS
        /// Also offer `AUTH XOAUTH2`, accepting an HS256 JWT bearer token signed with this key
        /// whose `exp` (real time) is in the future and whose `email` is the `user=` of the
        /// XOAUTH2 string (the tokens ``OAuthTokenServer`` issues). Nil: passwords only.
        public var oauthKey: [UInt8]?
        /// Whether `EHLO` lists `AUTH` (before and after STARTTLS). False: an open relay that
        /// takes `MAIL` from anyone without a login (`authRequired` is then ignored). Default true.
        public var offersAuth: Bool

        public init(
            users: [User] = [User("alice", "s3cret")], authRequired: Bool = true,
            authFailureReply: String = "535 5.7.8 Username and Password not accepted.", failure: Failure? = nil, tls: TLS = .none,
            oauthKey: [UInt8]? = nil, offersAuth: Bool = true
        ) {
            self.offersAuth = offersAuth
            self.users = users
            self.authRequired = authRequired
            self.authFailureReply = authFailureReply
            self.failure = failure
            self.tls = tls
            self.oauthKey = oauthKey
        }
    }

    /// One accepted message.
    public struct Received: Sendable, Hashable {
        /// The `MAIL FROM` address, without angle brackets.
        public var mailFrom: String
        /// The `RCPT TO` addresses, in order.
        public var recipients: [String]
        /// The login name the client authenticated as, if it did.
        public var login: String?
        /// Whether the session was encrypted (STARTTLS or implicit TLS).
        public var tls: Bool
        /// `MAIL FROM` parameters (`SIZE=1234`).
        public var mailOptions: [String]
        /// The message exactly as received, dot-unstuffed.
        public var data: [UInt8]
    }

    public nonisolated let directory: String
    public nonisolated let port: Int
    public nonisolated let options: Options
    /// The self-signed certificate (PEM) clients must trust; only with TLS.
    public nonisolated var certificatePath: String? { options.tls == .none ? nil : directory + "/cert.pem" }
    /// The server's stderr (Python tracebacks, aiosmtpd's warnings).
    public nonisolated var logPath: String { directory + "/smtpd.log" }

    private var process: ChildProcess?

    static let python = ChildProcess.python

    private init(directory: String, port: Int, options: Options) {
        self.directory = directory
        self.port = port
        self.options = options
    }

    /// Writes the script and config into a new temporary directory, starts the server and returns
    /// once it listens. Throws `SMTPServerError` with the server's log if it does not come up
    /// within `timeout`; a port lost to a race is retried on a new one.
    public static func start(options: Options = Options(), timeout: Duration = .seconds(15)) async throws -> SMTPServer {
        guard FileManager.default.isExecutableFile(atPath: python),
            FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/aiosmtpd")
        else {
            throw SMTPServerError("\(python) with aiosmtpd is missing: run scripts/install-deps.sh (package python3-aiosmtpd)")
        }
        var template = Array(URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mailsync-smtp-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { throw SMTPServerError("mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        do {
            try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: false)
            try Data(script.utf8).write(to: URL(fileURLWithPath: directory + "/smtpd.py"))
            if options.tls != .none { try await OffPool.run { try makeCertificate(in: directory) } }  // openssl req waits
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return try await FreePortLaunch.start(
            directory: directory,
            make: { SMTPServer(directory: directory, port: try DovecotServer.freePort(), options: options) },
            launch: { try await $0.launch(timeout: timeout) },
            stop: { await $0.stop(keepDirectory: $1) },
            noPort: SMTPServerError("no free port"))
    }

    /// Runs `body` with a started server and stops it afterwards, whether `body` returns or throws.
    public static func withServer<Result>(
        options: Options = Options(), isolation: isolated (any Actor)? = #isolation,
        _ body: (SMTPServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(options: options)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Stops the server (SIGTERM, SIGKILL after 5 s) and removes the temporary directory.
    public func stop() async {
        await stop(keepDirectory: false)
    }

    /// Every message accepted so far, in the order they came.
    public nonisolated func messages() throws -> [Received] {
        let out = directory + "/out"
        let names = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let base = out + "/" + String(name.dropLast(".json".count))
            let json = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
            guard let meta = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw SMTPServerError("\(name): not a JSON object")
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: base + ".eml"))
            return Received(
                mailFrom: meta["mail_from"] as? String ?? "", recipients: meta["rcpt_tos"] as? [String] ?? [],
                login: meta["login"] as? String, tls: meta["tls"] as? Bool ?? false,
                mailOptions: meta["mail_options"] as? [String] ?? [], data: Array(data))
        }
    }

    /// The server's log so far.
    public nonisolated func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    // MARK: - Process

    private func launch(timeout: Duration) async throws {
        let config: [String: Any] = [
            "port": port, "out": directory + "/out", "ready": directory + "/ready",
            "users": options.users.map { ["name": $0.name, "password": $0.password] },
            "authRequired": options.authRequired, "authFailureReply": options.authFailureReply,
            "failure": options.failure.map { ["stage": $0.stage.rawValue, "reply": $0.reply] } ?? NSNull(),
            "tls": options.tls.rawValue, "cert": directory + "/cert.pem", "key": directory + "/key.pem",
            "oauthKey": options.oauthKey.map { Data($0).base64EncodedString() } ?? NSNull(),
            "offersAuth": options.offersAuth,
        ]
        process = try await ChildProcess.startPythonServer(
            script: "smtpd.py", config: config, directory: directory, logPath: logPath, port: port, timeout: timeout,
            makeError: { SMTPServerError($0) })
    }

    private func stop(keepDirectory: Bool) async {
        if var process {
            await process.stopGracefully()
            self.process = nil
        }
        if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A self-signed certificate for localhost and 127.0.0.1, valid for two days.
    private static func makeCertificate(in directory: String) throws {
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw SMTPServerError("openssl req failed (\(openssl.terminationStatus))") }
    }

    /// The server: aiosmtpd's SMTP protocol on asyncio, with handlers that save what they accept
    /// or refuse as configured. Writes the `.eml` first and the `.json` last (by rename), so a
    /// listed message is complete.
    static let script = #"""
        import asyncio, base64, hashlib, hmac, json, os, ssl, sys, time
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        config = json.load(open(sys.argv[1]))
        users = {u["name"]: u["password"] for u in config["users"]}
        failure = config["failure"]

        def fails(stage):
            return failure is not None and failure["stage"] == stage

        def authenticator(server, session, envelope, mechanism, auth_data):
            if fails("AUTH"):
                return AuthResult(success=False, handled=False, message=failure["reply"])
            if isinstance(auth_data, LoginPassword):
                name = auth_data.login.decode("utf-8", "replace")
                if users.get(name) == auth_data.password.decode("utf-8", "replace"):
                    return AuthResult(success=True, auth_data=name)
            return AuthResult(success=False, handled=False, message=config["authFailureReply"])

        class Handler:
            def __init__(self):
                self.count = 0

            async def handle_MAIL(self, server, session, envelope, address, mail_options):
                if fails("MAIL"):
                    return failure["reply"]
                envelope.mail_from = address
                envelope.mail_options.extend(mail_options)
                return "250 2.1.0 OK"

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if fails("RCPT"):
                    return failure["reply"]
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 OK"

            async def handle_DATA(self, server, session, envelope):
                if fails("DATA"):
                    return failure["reply"]
                self.count += 1
                base = os.path.join(config["out"], "%04d" % self.count)
                with open(base + ".eml", "wb") as f:
                    f.write(envelope.original_content)
                meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                        "login": session.auth_data if isinstance(session.auth_data, str) else None,
                        "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None,
                        "mail_options": envelope.mail_options}
                with open(base + ".json.tmp", "w") as f:
                    json.dump(meta, f)
                os.rename(base + ".json.tmp", base + ".json")
                return "250 2.0.0 OK queued as %04d" % self.count

        class OAuthHandler(Handler):
            async def auth_XOAUTH2(self, server, args):
                try:
                    raw = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
                    fields = dict(p.split("=", 1) for p in raw.decode().split("\x01") if "=" in p)
                    user, token = fields["user"], fields["auth"].split(" ", 1)[1]
                    head, body, sig = token.split(".")
                    key = base64.b64decode(config["oauthKey"])
                    good = base64.urlsafe_b64encode(hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
                    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
                    if hmac.compare_digest(good, sig) and claims.get("exp", 0) > time.time() and claims.get("email") == user:
                        return AuthResult(success=True, auth_data=user)
                except Exception as e:
                    sys.stderr.write("XOAUTH2: %r\n" % e)
                return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted.")

        class NoAuthSMTP(SMTP):
            # An open relay: EHLO lists no AUTH, before or after STARTTLS.
            async def push(self, status):
                if status.startswith("250-AUTH"):
                    return
                await super().push(status)

        def context():
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(config["cert"], config["key"])
            return ctx

        async def main():
            handler = OAuthHandler() if config["oauthKey"] else Handler()
            kwargs = dict(hostname="mailsync-test-smtp", authenticator=authenticator,
                          auth_required=config["authRequired"] and config["offersAuth"], auth_require_tls=False)
            protocol = SMTP if config["offersAuth"] else NoAuthSMTP
            implicit = None
            if config["tls"] == "starttls":
                kwargs.update(tls_context=context(), require_starttls=True)
            elif config["tls"] == "implicit":
                implicit = context()
            loop = asyncio.get_running_loop()
            server = await loop.create_server(lambda: protocol(handler, **kwargs), host="127.0.0.1",
                                              port=config["port"], ssl=implicit)
            open(config["ready"], "w").close()
            await server.serve_forever()

        asyncio.run(main())
        """#
}

public struct SMTPServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

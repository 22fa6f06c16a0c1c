import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A real OAuth 2.0 authorization server for one test: Python's `http.server` on a free loopback
/// port (plain HTTP), with its script, config and log in a fresh temporary directory.
///
/// - `GET /authorize` stands in for the browser's sign-in: it checks the authorization request
///   (client id, `response_type=code`, S256 challenge, scope) and answers — as text, not a
///   redirect — the redirect URL with a fresh `code` and the `state`; the account signing in is
///   `login_hint`. ``authorize(_:)`` does this and returns code and state.
/// - `POST /token` implements RFC 6749 §4.1.3 (the code, once, with the same redirect URI and
///   the PKCE verifier) and §6 (refresh), authenticating the client by `client_id` and
///   `client_secret` in the body (`invalid_client`, 401, otherwise). Access tokens are HS256 JWTs
///   signed with ``Options/signingKey`` (`sub` and `email` the account, `exp` by the real clock),
///   which a Dovecot with ``DovecotServer/Options/OAuth`` validates. The code answer has an
///   `id_token` naming the account. Refresh tokens can be revoked, and rotate when asked.
/// - ``control(_:)`` changes behaviour while running (revoke all refresh tokens, rotation, the
///   accepted client secret, token lifetime, failing with an HTTP status); ``stats()`` says what
///   the endpoint saw (grants, the scopes sent with refreshes, live refresh tokens).
///
/// Needs `/usr/bin/python3` (standard library only). Always `stop()` (`withServer` does).
public actor OAuthTokenServer {
    public struct Options: Sendable {
        public var clientID: String
        public var clientSecret: String
        /// The HMAC key for HS256 access tokens.
        public var signingKey: [UInt8]
        /// `expires_in` of access tokens, in seconds (the JWT's `exp` is real time + this).
        public var accessTokenLifetime: Int
        /// Issue a new refresh token on every refresh and revoke the old one (Microsoft).
        public var rotateRefreshTokens: Bool

        public init(
            clientID: String = "test-client", clientSecret: String = "test-client-secret",
            signingKey: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }, accessTokenLifetime: Int = 3600,
            rotateRefreshTokens: Bool = false
        ) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.signingKey = signingKey
            self.accessTokenLifetime = accessTokenLifetime
            self.rotateRefreshTokens = rotateRefreshTokens
        }
    }

    /// What the endpoint saw so far.
    public struct Stats: Sendable {
        public var codeGrants: Int
        public var refreshGrants: Int
        /// The `scope` sent with each refresh ("" when none), in order.
        public var refreshScopes: [String]
        /// Refresh tokens issued and not revoked.
        public var liveRefreshTokens: [String]
        /// Every access and refresh token issued, for searching logs and responses.
        public var issuedTokens: [String]
        /// GETs of `/userinfo` with a valid bearer token.
        public var userinfoRequests: Int
    }

    public nonisolated let directory: String
    public nonisolated let port: Int
    public nonisolated let options: Options
    public nonisolated var baseURL: String { "http://127.0.0.1:\(port)" }
    public nonisolated var tokenEndpoint: String { baseURL + "/token" }
    public nonisolated var authorizationEndpoint: String { baseURL + "/authorize" }
    /// OpenID Connect userinfo: `{"sub", "email", "email_verified"}` for a valid bearer access
    /// token, 401 with `WWW-Authenticate` otherwise.
    public nonisolated var userinfoEndpoint: String { baseURL + "/userinfo" }
    public nonisolated var logPath: String { directory + "/server.log" }

    private var process: ChildProcess?

    private init(directory: String, port: Int, options: Options) {
        self.directory = directory
        self.port = port
        self.options = options
    }

    public static func start(options: Options = Options(), timeout: Duration = .seconds(15)) async throws -> OAuthTokenServer {
        var template = Array(URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mailsync-oauth-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { throw OAuthTokenServerError("mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        try Data(script.utf8).write(to: URL(fileURLWithPath: directory + "/server.py"))
        return try await FreePortLaunch.start(
            directory: directory,
            make: { OAuthTokenServer(directory: directory, port: try DovecotServer.freePort(), options: options) },
            launch: { try await $0.launch(timeout: timeout) },
            stop: { await $0.stop(keepDirectory: $1) },
            noPort: OAuthTokenServerError("no free port"))
    }

    /// Stops the server (SIGTERM, then SIGKILL) and removes its directory.
    public func stop() async { await stop(keepDirectory: false) }

    /// Stops the process but keeps the port's number and the directory: later requests are refused
    /// (the endpoint is down). ``restart()`` brings it back with its tokens forgotten.
    public func kill() async { await stop(keepDirectory: true) }

    public func restart(timeout: Duration = .seconds(15)) async throws {
        await stop(keepDirectory: true)
        try await launch(timeout: timeout)
    }

    public nonisolated func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Simulates the browser: opens `authorizationURL` as the account `login_hint` names and
    /// returns the `code` and `state` the redirect would carry.
    /// - Throws: `OAuthTokenServerError` with the server's answer when it refuses the request.
    public nonisolated func authorize(_ authorizationURL: String) async throws -> (code: String, state: String) {
        let (status, body) = try await Self.http("GET", authorizationURL, body: nil)
        guard status == 200, let redirect = URLComponents(string: body),
            let code = redirect.queryItems?.first(where: { $0.name == "code" })?.value,
            let state = redirect.queryItems?.first(where: { $0.name == "state" })?.value
        else { throw OAuthTokenServerError("authorize answered \(status): \(body)") }
        return (code, state)
    }

    /// Changes behaviour: `["revoke_all": true]`, `["rotate": true]`, `["client_secret": "…"]`,
    /// `["lifetime": 60]` (`expires_in` and the JWT's `exp`), `["jwt_lifetime": 3]` (only the JWT's
    /// `exp`, so tokens die before the client expects; 0 ends that), `["expired_jwts": 1]` (the next
    /// token's JWT expired a minute before it was issued, while `expires_in` says it is fresh: a
    /// token that dies early, without waiting for real time), `["fail_status": 503]` (0 stops
    /// failing), `["id_token": false]` (code answers without an ID token), `["userinfo_verified":
    /// false]` (userinfo says the email is not verified), `["userinfo_status": 500]` (0: answer).
    public nonisolated func control(_ settings: [String: any Sendable]) async throws {
        let json = try JSONSerialization.data(withJSONObject: settings)
        let (status, body) = try await Self.http("POST", baseURL + "/test/control", body: json)
        guard status == 200 else { throw OAuthTokenServerError("control answered \(status): \(body)") }
    }

    public nonisolated func stats() async throws -> Stats {
        let (status, body) = try await Self.http("GET", baseURL + "/test/stats", body: nil)
        guard status == 200, let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw OAuthTokenServerError("stats answered \(status): \(body)")
        }
        return Stats(
            codeGrants: object["code_grants"] as? Int ?? -1, refreshGrants: object["refresh_grants"] as? Int ?? -1,
            refreshScopes: object["refresh_scopes"] as? [String] ?? [], liveRefreshTokens: object["live_refresh_tokens"] as? [String] ?? [],
            issuedTokens: object["issued_tokens"] as? [String] ?? [],
            userinfoRequests: object["userinfo_requests"] as? Int ?? -1)
    }

    /// An access token for `email` valid `lifetime` seconds from now by the real clock (negative:
    /// already expired), signed like the ones `/token` issues: for tests that log in directly.
    public nonisolated func mintAccessToken(for email: String, lifetime: Int) async throws -> String {
        let query = "email=\(email.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&lifetime=\(lifetime)"
        let (status, body) = try await Self.http("GET", baseURL + "/test/mint?" + query, body: nil)
        guard status == 200 else { throw OAuthTokenServerError("mint answered \(status): \(body)") }
        return body
    }

    // MARK: - Process

    private func launch(timeout: Duration) async throws {
        let config: [String: Any] = [
            "port": port, "ready": directory + "/ready", "client_id": options.clientID, "client_secret": options.clientSecret,
            "key": Data(options.signingKey).base64EncodedString(), "lifetime": options.accessTokenLifetime,
            "rotate": options.rotateRefreshTokens,
        ]
        process = try await ChildProcess.startPythonServer(
            script: "server.py", config: config, directory: directory, logPath: logPath, port: port, timeout: timeout,
            makeError: { OAuthTokenServerError($0) })
    }

    private func stop(keepDirectory: Bool) async {
        if var process {
            await process.stopGracefully()
            self.process = nil
        }
        if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func http(_ method: String, _ url: String, body: Data?) async throws -> (Int, String) {
        guard let target = URL(string: url) else { throw OAuthTokenServerError("bad URL \(url)") }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    static let script = #"""
        import base64, hashlib, hmac, json, os, secrets, sys, threading, time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlparse, parse_qs, urlencode

        config = json.load(open(sys.argv[1]))
        key = base64.b64decode(config["key"])
        lock = threading.Lock()
        state = {"client_secret": config["client_secret"], "rotate": config["rotate"], "lifetime": config["lifetime"],
                 "fail_status": 0, "codes": {}, "refresh": {}, "code_grants": 0, "refresh_grants": 0,
                 "refresh_scopes": [], "issued": [], "id_token": True, "userinfo_verified": True,
                 "userinfo_status": 0, "userinfo_requests": 0}

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        def jwt(claims):
            head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
            body = b64(json.dumps(claims).encode())
            sig = b64(hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest())
            return head + "." + body + "." + sig

        def tokens(email, scope, refresh=True):
            now = int(time.time())
            exp = now + (state.get("jwt_lifetime") or state["lifetime"])
            if state.get("expired_jwts", 0) > 0:
                state["expired_jwts"] -= 1
                exp = now - 60
            access = jwt({"sub": email, "email": email, "iat": now, "exp": exp, "scope": scope})
            answer = {"access_token": access, "token_type": "Bearer", "expires_in": state["lifetime"], "scope": scope}
            state["issued"].append(access)
            if refresh:
                rt = "rt-" + secrets.token_urlsafe(24)
                state["refresh"][rt] = {"email": email, "scope": scope, "revoked": False}
                state["issued"].append(rt)
                answer["refresh_token"] = rt
            return answer

        def verify(authorization):
            """The claims of a bearer access token this server signed and that has not expired, else None."""
            if not authorization.startswith("Bearer "):
                return None
            parts = authorization[7:].split(".")
            if len(parts) != 3:
                return None
            expected = b64(hmac.new(key, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(expected, parts[2]):
                return None
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            return claims if claims.get("exp", 0) > time.time() else None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                sys.stderr.write("%s %s\n" % (self.command, self.path.split("?")[0]))

            def answer(self, status, obj, content_type="application/json"):
                data = (json.dumps(obj) if content_type == "application/json" else obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def error(self, status, code, description):
                self.answer(status, {"error": code, "error_description": description})

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length).decode()

            def do_GET(self):
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                with lock:
                    if url.path == "/test/stats":
                        live = [t for t, r in state["refresh"].items() if not r["revoked"]]
                        return self.answer(200, {"code_grants": state["code_grants"], "refresh_grants": state["refresh_grants"],
                                                 "refresh_scopes": state["refresh_scopes"], "live_refresh_tokens": live,
                                                 "issued_tokens": state["issued"],
                                                 "userinfo_requests": state["userinfo_requests"]})
                    if url.path == "/userinfo":
                        claims = verify(self.headers.get("Authorization", ""))
                        if claims is None:
                            self.send_response(401)
                            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
                            self.send_header("Content-Length", "0")
                            self.end_headers()
                            return
                        if state["userinfo_status"]:
                            return self.error(state["userinfo_status"], "server_error", "userinfo is failing")
                        state["userinfo_requests"] += 1
                        return self.answer(200, {"sub": "id-" + claims["email"], "email": claims["email"],
                                                 "email_verified": state["userinfo_verified"]})
                    if url.path == "/test/mint":
                        now = int(time.time())
                        token = jwt({"sub": q["email"], "email": q["email"], "iat": now, "exp": now + int(q["lifetime"])})
                        return self.answer(200, token, "text/plain")
                    if url.path != "/authorize":
                        return self.answer(404, {"error": "not_found"})
                    if q.get("client_id") != config["client_id"]:
                        return self.answer(400, "unknown client_id", "text/plain")
                    if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                        return self.answer(400, "response_type=code and an S256 code_challenge are required", "text/plain")
                    if not q.get("redirect_uri") or not q.get("state") or not q.get("scope") or not q.get("login_hint"):
                        return self.answer(400, "redirect_uri, state, scope and login_hint are required", "text/plain")
                    code = "code-" + secrets.token_urlsafe(16)
                    state["codes"][code] = {"email": q["login_hint"], "challenge": q["code_challenge"],
                                            "redirect_uri": q["redirect_uri"], "scope": q["scope"]}
                    sep = "&" if "?" in q["redirect_uri"] else "?"
                    return self.answer(200, q["redirect_uri"] + sep + urlencode({"code": code, "state": q["state"]}), "text/plain")

            def do_POST(self):
                url = urlparse(self.path)
                raw = self.body()
                with lock:
                    if url.path == "/test/control":
                        for k, v in json.loads(raw).items():
                            if k == "revoke_all":
                                for r in state["refresh"].values():
                                    r["revoked"] = True
                            else:
                                state[k] = v
                        return self.answer(200, {"ok": True})
                    if url.path != "/token":
                        return self.answer(404, {"error": "not_found"})
                    if state["fail_status"]:
                        return self.error(state["fail_status"], "temporarily_unavailable", "The service is temporarily unavailable.")
                    f = {k: v[0] for k, v in parse_qs(raw).items()}
                    if f.get("client_id") != config["client_id"] or f.get("client_secret") != state["client_secret"]:
                        return self.error(401, "invalid_client", "The OAuth client was not found.")
                    grant = f.get("grant_type")
                    if grant == "authorization_code":
                        entry = state["codes"].pop(f.get("code", ""), None)
                        if entry is None:
                            return self.error(400, "invalid_grant", "Malformed auth code.")
                        if f.get("redirect_uri") != entry["redirect_uri"]:
                            return self.error(400, "invalid_grant", "redirect_uri_mismatch")
                        verifier = f.get("code_verifier", "")
                        if b64(hashlib.sha256(verifier.encode()).digest()) != entry["challenge"]:
                            return self.error(400, "invalid_grant", "Invalid code verifier.")
                        state["code_grants"] += 1
                        answer = tokens(entry["email"], entry["scope"])
                        if state["id_token"]:
                          answer["id_token"] = jwt({"sub": "id-" + entry["email"], "email": entry["email"], "email_verified": True,
                                                  "aud": config["client_id"], "iat": int(time.time()), "exp": int(time.time()) + 3600})
                        return self.answer(200, answer)
                    if grant == "refresh_token":
                        state["refresh_grants"] += 1
                        state["refresh_scopes"].append(f.get("scope", ""))
                        rt = f.get("refresh_token", "")
                        entry = state["refresh"].get(rt)
                        if entry is None or entry["revoked"]:
                            return self.error(400, "invalid_grant", "Token has been expired or revoked.")
                        if state["rotate"]:
                            entry["revoked"] = True
                            return self.answer(200, tokens(entry["email"], entry["scope"], refresh=True))
                        return self.answer(200, tokens(entry["email"], entry["scope"], refresh=False))
                    return self.error(400, "unsupported_grant_type", "grant_type %s" % grant)

        server = ThreadingHTTPServer(("127.0.0.1", config["port"]), Handler)
        open(config["ready"], "w").close()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        """#
}

/// A failure of the token server fixture; `description` carries its log when it has one.
public struct OAuthTokenServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

import NIOHTTP1

/// What the observability endpoint answers, independent of the connection handling.
///
/// - `GET /metrics`: 200, Prometheus text format 0.0.4.
/// - `GET /healthz`: liveness, 200 `ok` whenever the process can answer at all.
/// - `GET /readyz`: 200 `ready` (or `ready, degraded: <why>`, e.g. backup shipping behind its
///   bound), or 503 with the reason (starting, draining, the control database
///   not answering); see ``Readiness``.
/// - Any other method on those paths: 405 with `Allow: GET`; any other path: 404.
/// The query string is ignored.
struct ObservabilityRoutes: Sendable {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType = "text/plain; charset=utf-8"
        var body: [UInt8]
        var headers: [(String, String)] = []

        init(_ status: HTTPResponseStatus, _ text: String) {
            self.status = status
            self.body = Array(text.utf8)
        }
    }

    static let paths: Set<String> = ["/metrics", "/healthz", "/readyz"]

    /// The metrics in text format, gathered at each scrape.
    let metrics: @Sendable () async -> [UInt8]
    let readiness: Readiness

    func respond(method: HTTPMethod, uri: String) async -> Response {
        let path = String(uri.prefix { $0 != "?" && $0 != "#" })
        guard Self.paths.contains(path) else {
            return Response(.notFound, "not found: this endpoint serves GET /metrics, /healthz and /readyz\n")
        }
        guard method == .GET else {
            var response = Response(.methodNotAllowed, "method not allowed: only GET\n")
            response.headers = [("Allow", "GET")]
            return response
        }
        switch path {
        case "/metrics":
            var response = Response(.ok, "")
            response.contentType = "text/plain; version=0.0.4; charset=utf-8"
            response.body = await metrics()
            return response
        case "/healthz":
            return Response(.ok, "ok\n")
        default:
            let verdict = await readiness.check()
            return Response(verdict.ready ? .ok : .serviceUnavailable, verdict.ready ? "\(verdict.reason)\n" : "not ready: \(verdict.reason)\n")
        }
    }
}

import Foundation
import Logging
import MailSyncClient
import MailSyncRPC
@testable import MailSyncEngine
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import MailSyncWire
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// Metrics, health checks and request ids, over real TCP: the RPC port and the HTTP endpoint.
@Suite("Observability: metrics, health checks, request ids", .timeLimit(.minutes(5)))
struct ObservabilityTests {
    /// A server with its metrics endpoint on a free port, and an operator key.
    struct Running {
        let server: MailSyncServer
        let rpcPort: Int
        let metricsPort: Int
        let operatorKey: String
        let dataDirectory: String

        static func start() async throws -> Running {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-obs-\(UUID().uuidString)").path
            var settings = ServerSettings()
            settings.listen = "127.0.0.1:0"
            settings.metricsListen = "127.0.0.1:0"
            settings.dataDirectory = dir
            var logger = Logger(label: "test.mailsync.observability")
            logger.logLevel = .warning
            let clock = ManualClock(Timestamp(secondsSinceEpoch: 1_790_000_000))
            let server = try MailSyncServer(settings: settings, logger: logger, clock: clock, sync: ServiceHarness.syncSettings())
            let address = try await server.start()
            let (_, secret) = try await server.environment!.control.write { db in
                try APIKeyStore.insert(db, companyID: nil, role: "operator", userID: "", label: "test operator", expiresAt: nil, now: clock.now())
            }
            let metricsPort = try #require(server.observability.endpointAddress?.port)
            return Running(server: server, rpcPort: address.port!, metricsPort: metricsPort, operatorKey: secret, dataDirectory: dir)
        }

        func stop() async {
            await server.shutdown()
            try? FileManager.default.removeItem(atPath: dataDirectory)
        }

        func metrics() async throws -> String {
            let response = try await HTTPProbe.get("/metrics", port: metricsPort)
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            return response.body
        }
    }

    static func method(_ name: String) -> String { "mailsync.v1.MailSync/\(name)" }

    @Test("GET /metrics counts calls and times them per method and status, and shows open connections and tenants")
    func rpcMetrics() async throws {
        let running = try await Running.start()
        let (operatorClient, operatorTransport) = MailSync.connect(host: "127.0.0.1", port: running.rpcPort, apiKey: running.operatorKey)
        let (wrongClient, wrongTransport) = MailSync.connect(host: "127.0.0.1", port: running.rpcPort, apiKey: "msk_wrong_key")

        var company = CreateCompanyRequest()
        company.name = "Metered"
        company.plan = .essential
        company.administrator.id = "admin-1"
        company.administrator.name = "Admin"
        company.administrator.email = "admin-1@metered.example"
        let created = try await operatorClient.createCompany(company)
        _ = try await operatorClient.listPlans(ListPlansRequest())
        _ = try await operatorClient.listPlans(ListPlansRequest())
        for _ in 0..<3 {
            await #expect(throws: RPCError.self) { _ = try await wrongClient.listPlans(ListPlansRequest()) }
        }
        // The operator may not read a company's settings: permission denied, not run.
        await #expect(throws: RPCError.self) { _ = try await operatorClient.getCompanySettings(GetCompanySettingsRequest()) }
        #expect(!created.id.isEmpty)

        let text = try await running.metrics()
        let calls = CallMetrics.callsLabel
        let durations = CallMetrics.durationLabel
        #expect(PrometheusText.value(text, calls, #"method="\#(Self.method("CreateCompany"))",code="ok""#) == 1)
        #expect(PrometheusText.value(text, calls, #"method="\#(Self.method("ListPlans"))",code="ok""#) == 2)
        #expect(PrometheusText.value(text, calls, #"method="\#(Self.method("ListPlans"))",code="unauthenticated""#) == 3)
        #expect(PrometheusText.value(text, calls, #"method="\#(Self.method("GetCompanySettings"))",code="permission_denied""#) == 1)
        #expect(PrometheusText.value(text, durations + "_count", #"method="\#(Self.method("ListPlans"))",code="unauthenticated""#) == 3)
        #expect(PrometheusText.value(text, durations + "_count", #"method="\#(Self.method("ListPlans"))",code="ok""#) == 2)
        let sum = try #require(PrometheusText.value(text, durations + "_sum", #"method="\#(Self.method("CreateCompany"))",code="ok""#))
        #expect(sum > 0 && sum < 10)
        #expect(text.contains(#"\#(durations)_bucket{method="\#(Self.method("ListPlans"))",code="ok",le="+Inf"} 2"#))
        #expect(PrometheusText.value(text, "mailsync_rpc_open_connections") == 2)
        #expect(PrometheusText.value(text, ServiceMetrics.openTenantsLabel) == 1)

        // A connection closed is a connection less.
        wrongTransport.close()
        var open: Double?
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            open = PrometheusText.value(try await running.metrics(), "mailsync_rpc_open_connections")
            if open == 1 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(open == 1)
        operatorTransport.close()
        await running.stop()
    }

    @Test("/healthz is 200, /readyz 200 when ready; another path is 404, another method 405; after shutdown not ready and closed")
    func healthChecks() async throws {
        let running = try await Running.start()
        let health = try await HTTPProbe.get("/healthz", port: running.metricsPort)
        #expect(health.status == 200 && health.body == "ok\n")
        let ready = try await HTTPProbe.get("/readyz?verbose=1", port: running.metricsPort)
        #expect(ready.status == 200 && ready.body == "ready\n")
        #expect(try await HTTPProbe.get("/nothing-here", port: running.metricsPort).status == 404)
        let post = try await HTTPProbe.request("POST", "/metrics", port: running.metricsPort, body: "x=1")
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET")
        #expect(try await HTTPProbe.request("DELETE", "/readyz", port: running.metricsPort).status == 405)

        await running.stop()
        #expect(running.server.observability.readiness.state == .draining)
        #expect(running.server.observability.endpointAddress == nil)
        await #expect(throws: (any Error).self) { _ = try await HTTPProbe.get("/healthz", port: running.metricsPort) }
    }

    @Test("/readyz: 503 while starting, 200 when ready, 503 with the reason when the control database fails or hangs, 503 while draining")
    func readinessStates() async throws {
        let observability = Observability(listen: (host: "127.0.0.1", port: 0), logger: Logger(label: "test"))
        try await observability.startEndpoint()
        let port = try #require(observability.endpointAddress?.port)

        let starting = try await HTTPProbe.get("/readyz", port: port)
        #expect(starting.status == 503 && starting.body == "not ready: starting\n")
        #expect(try await HTTPProbe.get("/healthz", port: port).status == 200, "alive while starting")

        struct Broken: Error, CustomStringConvertible { var description: String { "disk I/O error" } }
        let failing = SharedMode(mode: "ok")
        observability.readiness.markReady {
            switch failing.value {
            case "fail": throw Broken()
            case "hang": try await Task.sleep(for: .seconds(30))
            default: break
            }
        }
        #expect(try await HTTPProbe.get("/readyz", port: port).status == 200)
        failing.value = "fail"
        let broken = try await HTTPProbe.get("/readyz", port: port)
        #expect(broken.status == 503 && broken.body.contains("disk I/O error"), "\(broken.body)")
        failing.value = "hang"
        let started = ContinuousClock.now
        let hung = try await HTTPProbe.get("/readyz", port: port)
        #expect(hung.status == 503 && hung.body.contains("did not answer"), "\(hung.body)")
        // The check gives up after 2 s; the hang would last 30 s: anything well under that shows
        // the timeout worked (20 s leaves room for a loaded machine; 8 s was once not enough).
        #expect(ContinuousClock.now - started < .seconds(20))

        observability.beginDraining()
        let draining = try await HTTPProbe.get("/readyz", port: port)
        #expect(draining.status == 503 && draining.body.hasPrefix("not ready: draining"))
        await observability.stop()
    }

    @Test("a request body over the limit is refused with 413; a malformed request gets 400")
    func boundedRequests() async throws {
        let observability = Observability(listen: (host: "127.0.0.1", port: 0), logger: Logger(label: "test"))
        try await observability.startEndpoint()
        let port = try #require(observability.endpointAddress?.port)
        let big = String(repeating: "x", count: ObservabilityHTTPHandler.maxBodyBytes + 1)
        #expect(try await HTTPProbe.request("POST", "/metrics", port: port, body: big).status == 413)
        #expect(try await HTTPProbe.request("GET", "/he llo", port: port).status == 400)
        await observability.stop()
    }

    @Test("request ids: the client's when sane (request-id, then x-request-id), else the server's own")
    func requestIDs() {
        let made = { "server-made" }
        #expect(RequestID.resolve(["request-id": "abc-123"], fallback: made) == "abc-123")
        #expect(RequestID.resolve(["x-request-id": "trace:42/a+b=c@d_e.f"], fallback: made) == "trace:42/a+b=c@d_e.f")
        #expect(RequestID.resolve(["request-id": "bad id", "x-request-id": "good"], fallback: made) == "good")
        for insane in ["", "two words", "line\nbreak", "quote\"", String(repeating: "a", count: RequestID.maxLength + 1), "é"] {
            #expect(RequestID.resolve(["request-id": insane], fallback: made) == "server-made", "\(insane)")
        }
        #expect(RequestID.resolve([:], fallback: made) == "server-made")
    }

    @Test("every call's STATUS carries its request id in trailing metadata: the client's, or the one the server made up")
    func requestIDEchoed() async throws {
        let running = try await Running.start()
        let connection = try await RawConnection.connect(port: running.rpcPort)
        try await connection.handshake()
        try await connection.send { buffer in
            let method = Self.method("ListPlans")
            FrameEncoder.write(.callStart(streamID: 1, CallStart(method: method, metadata: [(key: "x-request-id", value: "echo-me-1")])), to: &buffer)
            FrameEncoder.write(.endStream(streamID: 1), to: &buffer)
            FrameEncoder.write(.callStart(streamID: 3, CallStart(method: method, metadata: [(key: "request-id", value: "not sane")])), to: &buffer)
            FrameEncoder.write(.endStream(streamID: 3), to: &buffer)
        }
        var statuses: [UInt32: StatusPayload] = [:]
        await connection.wait { connection in
            for case .status(let id, let payload) in (try? connection.frames()) ?? [] { statuses[id] = payload }
            return statuses.count == 2
        }
        await connection.close()
        await running.stop()
        let first = try #require(statuses[1])
        #expect(first.code == StatusCode.unauthenticated.rawValue)
        #expect(first.metadata.map(\.key) == ["request-id"] && first.metadata.first?.value == "echo-me-1")
        let made = try #require(statuses[3]?.metadata.first { $0.key == "request-id" }?.value)
        #expect(made != "not sane" && RequestID.isSane(made), "\(made)")
    }

    @Test("a status code's label is its name in snake case")
    func statusLabels() {
        #expect(CallMetrics.label(.ok) == "ok")
        #expect(CallMetrics.label(.deadlineExceeded) == "deadline_exceeded")
        #expect(CallMetrics.label(StatusCode(rawValue: 99)) == "code_99")
    }
}

/// A mode shared between a test and a probe closure.
final class SharedMode: Sendable {
    private let box: NIOLockedValueBox<String>
    init(mode: String) { box = NIOLockedValueBox(mode) }
    var value: String {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }
}

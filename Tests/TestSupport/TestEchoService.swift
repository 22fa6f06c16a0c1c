import MailSyncCoding
import MailSyncRPC
import NIOConcurrencyHelpers

/// What the test service's handlers did, for tests to assert on.
public final class CallProbe: Sendable {
    private struct State {
        var started = 0
        var cancelled = 0
        var completed = 0
        var itemsWritten = 0
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    public var started: Int { state.withLockedValue { $0.started } }
    public var cancelled: Int { state.withLockedValue { $0.cancelled } }
    public var completed: Int { state.withLockedValue { $0.completed } }
    /// Items an `Expand` handler has handed to `write` and seen accepted.
    public var itemsWritten: Int { state.withLockedValue { $0.itemsWritten } }

    func start() { state.withLockedValue { $0.started += 1 } }
    func cancel() { state.withLockedValue { $0.cancelled += 1 } }
    func complete() { state.withLockedValue { $0.completed += 1 } }
    func wrote() { state.withLockedValue { $0.itemsWritten += 1 } }
}

/// The test schema's service, implemented for protocol tests.
public struct TestEchoService: Echo.Handler {
    public let probe: CallProbe

    public init(probe: CallProbe = CallProbe()) { self.probe = probe }

    public func echo(_ request: EchoRequest, context: ServerContext) async throws -> EchoResponse {
        var response = EchoResponse()
        response.text = request.text
        response.payload = request.payload
        return response
    }

    /// Sleeps, recording whether the sleep ended by cancellation.
    public func sleep(_ request: SleepRequest, context: ServerContext) async throws -> SleepResponse {
        probe.start()
        do {
            try await Task.sleep(for: .milliseconds(request.milliseconds))
        } catch {
            probe.cancel()
            throw error
        }
        probe.complete()
        var response = SleepResponse()
        response.completed = true
        return response
    }

    public func expand(_ request: ExpandRequest, responses: ResponseWriter<ExpandItem>, context: ServerContext) async throws {
        probe.start()
        let payload = [UInt8](repeating: 0xAB, count: Int(request.payloadSize))
        for index in 0..<request.count {
            var item = ExpandItem()
            item.index = index
            item.payload = payload
            do {
                try await responses.write(item)
            } catch {
                // The write ended because the call did (cancelled, reset, deadline): record it.
                probe.cancel()
                throw error
            }
            probe.wrote()
        }
        probe.complete()
    }

    public func collect(_ requests: RequestStream<CollectItem>, context: ServerContext) async throws -> CollectSummary {
        var summary = CollectSummary()
        for try await item in requests {
            summary.count += 1
            summary.bytes += Int64(item.payload.count)
        }
        return summary
    }

    public func whoami(_ request: WhoamiRequest, context: ServerContext) async throws -> WhoamiResponse {
        var response = WhoamiResponse()
        response.role = context.caller?.role ?? "anonymous"
        return response
    }

    public func adminOnly(_ request: WhoamiRequest, context: ServerContext) async throws -> WhoamiResponse {
        try await whoami(request, context: context)
    }

    public func inspect(_ request: AllTypes, context: ServerContext) async throws -> InspectResponse {
        func depth(_ message: AllTypes) -> Int32 { 1 + (message.children.map(depth).max() ?? 0) }
        var response = InspectResponse()
        response.depth = depth(request)
        return response
    }

    public func memberOrAdmin(_ request: WhoamiRequest, context: ServerContext) async throws -> WhoamiResponse {
        try await whoami(request, context: context)
    }
}

/// Accepts the keys `admin-key` and `member-key`; any other key is `unauthenticated`.
public struct TestAuthenticator: Authenticator {
    public struct Caller: CallerIdentity {
        public let role: String
        public var logName: String { "test-\(role)" }
    }

    public init() {}

    public func authenticate(_ metadata: Metadata, method: MethodDescriptor) async throws -> (any CallerIdentity)? {
        guard let key = metadata[Metadata.authorizationKey] else { return nil }
        switch key {
        case "admin-key": return Caller(role: "admin")
        case "member-key": return Caller(role: "member")
        default: throw RPCError(.unauthenticated, "the API key is not valid")
        }
    }
}

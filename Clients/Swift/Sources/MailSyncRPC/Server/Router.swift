public import CoreMetrics
public import Logging
public import MailSyncCoding

/// Finds the method a call names, checks the caller, runs the handler and turns the outcome into the
/// call's final status. The one place where roles are enforced.
///
/// Order of checks: the method must exist (`unimplemented`), credentials must be valid
/// (`unauthenticated`), the caller's role must be among the method's `allowedRoles`
/// (`permission denied`), and the request must decode and lie within the bounds its schema declares
/// (`invalid argument` naming the field: `ServerMethod` calls the generated `Message.validate()` on
/// the request; a client stream's messages are checked as the handler reads each one); only then does
/// the handler run. A handler's `RPCError` becomes the status
/// as is; a cancelled handler becomes `cancelled` (or `deadline exceeded` once the deadline has
/// passed); any other error becomes `internal` with a generic message, and is logged.
///
/// Every call, whatever its outcome, is counted and timed per method and status code
/// (``CallMetrics``), and handlers get a logger carrying the call's request id
/// (``ServerContext/logger``).
public final class Router: Sendable {
    private let methods: [String: ServerMethod]
    private let authenticator: (any Authenticator)?
    /// Bounds applied when decoding requests.
    public let decodingLimits: DecodingLimits
    private let metrics: CallMetrics

    /// - Parameters:
    ///   - methods: every method served; a duplicate name is a programming error.
    ///   - authenticator: resolves callers; nil lets only methods open to `anyone` run.
    ///   - metrics: where call counts and durations go; default swift-metrics' global factory
    ///     (which drops them unless the process bootstrapped one).
    public init(
        methods: [ServerMethod], authenticator: (any Authenticator)?, decodingLimits: DecodingLimits = .default,
        metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        var table: [String: ServerMethod] = [:]
        for method in methods {
            precondition(table[method.descriptor.fullName] == nil, "\(method.descriptor) registered twice")
            table[method.descriptor.fullName] = method
        }
        self.methods = table
        self.authenticator = authenticator
        self.decodingLimits = decodingLimits
        self.metrics = CallMetrics(factory: metrics)
    }

    /// The descriptor for a wire name, if served.
    public func descriptor(for fullName: String) -> MethodDescriptor? {
        methods[fullName]?.descriptor
    }

    /// Runs one call to completion and returns its final status. Never throws.
    public func handle(
        method fullName: String, stream: any ServerCallStream, metadata: Metadata,
        deadline: ContinuousClock.Instant?, requestID: String, peer: String, logger: Logger
    ) async -> Status {
        let started = ContinuousClock.now
        // Only served names are logged or labelled: a client's made-up name is neither trusted
        // in a log line nor allowed to grow the metrics' label set.
        let methodLabel = methods[fullName] == nil ? CallMetrics.unknownMethod : fullName
        // No per-call logger here: the handler's is made when it reads `context.logger`, and the
        // lines below carry the call's metadata themselves (built only if the level lets them out).
        let status = await dispatch(
            method: fullName, methodLabel: methodLabel, stream: stream, metadata: metadata, deadline: deadline,
            requestID: requestID, peer: peer, logger: logger)
        let elapsed = ContinuousClock.now - started
        metrics.record(method: methodLabel, code: status.code, duration: elapsed)
        logger.debug(
            "call finished",
            metadata: [
                "request-id": "\(requestID)", "method": "\(methodLabel)",
                "code": "\(CallMetrics.label(status.code))", "seconds": "\(elapsed)",
            ])
        return status
    }

    private func dispatch(
        method fullName: String, methodLabel: String, stream: any ServerCallStream, metadata: Metadata,
        deadline: ContinuousClock.Instant?, requestID: String, peer: String, logger: Logger
    ) async -> Status {
        guard let method = methods[fullName] else {
            return Status(code: .unimplemented, message: "this server has no method named '\(fullName)'")
        }
        let descriptor = method.descriptor
        do {
            let caller = try await authorize(descriptor, metadata: metadata)
            let context = ServerContext(
                method: descriptor, metadata: metadata, deadline: deadline,
                requestID: requestID, peer: peer, caller: caller, serverLogger: logger, callMethod: methodLabel)
            try await method.run(stream, context, decodingLimits)
            return .ok
        } catch let error as RPCError {
            return Status(error)
        } catch let error as any RPCErrorConvertible {
            return Status(error.rpcError)
        } catch is CancellationError {
            if let deadline, ContinuousClock.now >= deadline {
                return Status(code: .deadlineExceeded, message: "the call's deadline passed")
            }
            return Status(code: .cancelled, message: "the call was cancelled")
        } catch {
            logger.error(
                "handler failed",
                metadata: [
                    "request-id": "\(requestID)", "method": "\(methodLabel)", "error": "\(String(reflecting: error))",
                ])
            return Status(code: .internal, message: "the server failed while handling \(fullName); request id \(requestID)")
        }
    }

    private func authorize(_ method: MethodDescriptor, metadata: Metadata) async throws -> (any CallerIdentity)? {
        let caller = try await authenticator?.authenticate(metadata, method: method)
        if method.allowedRoles.contains(MethodDescriptor.anyoneRole) { return caller }
        guard let caller else {
            throw RPCError(
                .unauthenticated,
                "\(method) needs credentials: send an API key in the '\(Metadata.authorizationKey)' metadata")
        }
        guard method.allowedRoles.contains(caller.role) else {
            throw RPCError(
                .permissionDenied,
                "the role '\(caller.role)' may not call \(method); allowed: \(method.allowedRoles.joined(separator: ", "))")
        }
        return caller
    }
}

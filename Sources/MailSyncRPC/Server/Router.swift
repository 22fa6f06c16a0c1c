public import Logging
public import MailSyncCoding

/// Finds the method a call names, checks the caller, runs the handler and turns the outcome into the
/// call's final status. The one place where roles are enforced.
///
/// Order of checks: the method must exist (`unimplemented`), credentials must be valid
/// (`unauthenticated`), the caller's role must be among the method's `allowedRoles`
/// (`permission denied`); only then does the handler run. A handler's `RPCError` becomes the status
/// as is; a cancelled handler becomes `cancelled` (or `deadline exceeded` once the deadline has
/// passed); any other error becomes `internal` with a generic message, and is logged.
public final class Router: Sendable {
    private let methods: [String: ServerMethod]
    private let authenticator: (any Authenticator)?
    /// Bounds applied when decoding requests.
    public let decodingLimits: DecodingLimits

    /// - Parameters:
    ///   - methods: every method served; a duplicate name is a programming error.
    ///   - authenticator: resolves callers; nil lets only methods open to `anyone` run.
    public init(methods: [ServerMethod], authenticator: (any Authenticator)?, decodingLimits: DecodingLimits = .default) {
        var table: [String: ServerMethod] = [:]
        for method in methods {
            precondition(table[method.descriptor.fullName] == nil, "\(method.descriptor) registered twice")
            table[method.descriptor.fullName] = method
        }
        self.methods = table
        self.authenticator = authenticator
        self.decodingLimits = decodingLimits
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
        guard let method = methods[fullName] else {
            return Status(code: .unimplemented, message: "this server has no method named '\(fullName)'")
        }
        let descriptor = method.descriptor
        do {
            let caller = try await authorize(descriptor, metadata: metadata)
            let context = ServerContext(
                method: descriptor, metadata: metadata, deadline: deadline,
                requestID: requestID, peer: peer, caller: caller)
            try await method.run(stream, context, decodingLimits)
            return .ok
        } catch let error as RPCError {
            return Status(error)
        } catch is CancellationError {
            if let deadline, ContinuousClock.now >= deadline {
                return Status(code: .deadlineExceeded, message: "the call's deadline passed")
            }
            return Status(code: .cancelled, message: "the call was cancelled")
        } catch {
            logger.error(
                "handler failed",
                metadata: ["method": "\(fullName)", "request-id": "\(requestID)", "error": "\(String(reflecting: error))"])
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
